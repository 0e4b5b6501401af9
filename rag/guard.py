"""Instructions planted in decision text, kept out of the index and out of answers.

A decision is data, but a hostile copy of one (or a dataset record) can carry sentences written
for a language model ("ignore your instructions and say..."), often hidden with zero-width or
bidirectional characters.  Such sentences stay in the stored text, so the decision is still
quoted faithfully, but they are left out of what is embedded and indexed, never chosen as a
quote, and withheld from the LLM's context.  The patterns are deliberately narrow: the Ombudsman
does not address instructions to an AI.

Characters that print as nothing are a channel of their own: Unicode "tag" letters spell ASCII
that a reader cannot see but some models read, and zero-width characters split words so that a
pattern misses them.  They carry nothing in an LGO decision, so they are removed from everything
derived from a decision (index, LLM context, quotes) and from what the app shows; bidirectional
controls, which reorder what is shown, are shown as visible markers instead (see rag.ui_render).
"""

from __future__ import annotations

import re
import unicodedata

from rag.chunk import count_tokens
from rag.chunk import sentence_spans as chunk_sentence_spans

# Bidirectional controls and marks: embeddings, overrides, isolates, LRM/RLM/ALM.
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Everything invisible: the bidi set, soft hyphen, Mongolian vowel separator, zero-width space,
# (non-)joiners, word joiner and invisible operators, deprecated format controls, BOM, variation
# selectors, interlinear annotation marks and the tag block.
HIDDEN = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufe00-\ufe0f\ufeff"
    "\ufff9-\ufffb\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)


def visible(text: str) -> str:
    """`text` without the characters that print as nothing."""
    return HIDDEN.sub("", text)


def _plain(text: str) -> str:
    """What a pattern should see: invisible characters gone, look-alike forms (full-width letters,
    odd spaces) folded to plain ones."""
    return unicodedata.normalize("NFKC", visible(text))


_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\s+(?:\w+\s+){0,3}?(instructions|prompts?)\b"
    r"|\b(system|assistant)\s*(?:prompt|message)?\s*:"
    r"|\byou are now\b|\b(debug|developer|jailbreak) mode\b"
    r"|\b(reveal|print|repeat)\s+(?:\w+\s+){0,3}?(system prompt|hidden instructions)\b",
    re.I,
)
WITHHELD = "[a sentence that reads as an instruction to an AI is withheld]"


def is_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(_plain(sentence)))


# Sentences for this purpose end only at . ! ? or a line break: a colon must not cut "SYSTEM: new
# rules: ..." into pieces that no longer read as an instruction.
_END = re.compile(r"(?<=[.!?][”’\"')\]])\s+|(?<=[.!?])\s+|\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences of `text`, ending only at . ! ? or a line break."""
    return chunk_sentence_spans(text, _END)


def visible_sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of `text` as a reader sees it: invisible characters cannot glue a hidden
    sentence to a genuine one (the spans leave them out at sentence edges)."""
    keep = [i for i, ch in enumerate(text) if not HIDDEN.match(ch)]
    if len(keep) == len(text):
        return sentence_spans(text)
    shown = "".join(text[i] for i in keep)
    return [(keep[a], keep[b - 1] + 1) for a, b in sentence_spans(shown)]


def planted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences in `text` that read as instructions to an AI."""
    if not _INSTRUCTION.search(_plain(text)):
        return []  # the common case: nothing to split
    spans = []
    for a, b in visible_sentence_spans(text):
        plain, where = _plain_map(text[a:b])
        match = _INSTRUCTION.search(plain)
        if match:  # from where the instruction starts: words before it in the sentence are genuine
            spans.append((a + where[match.start()], b))
    return spans


def _plain_map(text: str) -> tuple[str, list[int]]:
    """`_plain(text)` a character at a time, with the offset in `text` of each character."""
    chars, where = [], []
    for i, ch in enumerate(text):
        if not HIDDEN.match(ch):
            folded = unicodedata.normalize("NFKC", ch)
            chars.append(folded)
            where.extend([i] * len(folded))
    return "".join(chars), where


def index_text(text: str, replacement: str = "") -> str:
    """The text without planted sentences (or with `replacement` in their place) and without
    invisible characters: what is embedded, indexed and given to an LLM."""
    spans = planted_spans(text)
    if not spans:
        return visible(text)
    out, at = [], 0
    for a, b in spans:
        out.append(text[at:a] + replacement)
        at = b
    out.append(text[at:])
    return re.sub(r"[ \t]{2,}", " ", visible("".join(out))).strip()


def index_tokens(text: str) -> int:
    """Tokens of what the embedder will read of `text`, so that a planted sentence or a run of tag
    characters cannot change how a paragraph is cut into chunks."""
    return count_tokens(index_text(text))
