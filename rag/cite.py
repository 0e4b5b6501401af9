"""Verify quotes against the decisions: the one check every answer passes through.

A quote counts as verified only when, after normalising white space and typographic quotes and
dashes, it is a substring of the paragraph it cites, and that paragraph was among those
retrieved for the question.  Anything else is never shown to a user as a quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.guard import HIDDEN, visible
from rag.models import Citation
from rag.retrieve import Hit

_TRANSLATE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u00a0": " ", "\u202f": " ",
})
MIN_QUOTE_CHARS = 12


def normalise(text: str) -> str:
    """White space collapsed, typographic quotes and dashes made plain, invisible characters gone."""
    text = HIDDEN.sub("", text.translate(_TRANSLATE))
    return re.sub(r"\s+", " ", text).strip()


def quote_in(quote: str, passage: str) -> bool:
    """Is `quote` (stripped of surrounding quote marks and ellipses) verbatim in `passage`?"""
    core = normalise(quote).strip(" \"'").removesuffix("...").removeprefix("...").strip()
    return len(core) >= MIN_QUOTE_CHARS and core in normalise(passage)


def citation_for(n: int, hit: Hit, quote: str) -> Citation:
    """A citation of `quote` from `hit`, verified against the hit's own text.  Invisible characters
    are dropped from the quote, so it cannot carry text a reader does not see; it stays verbatim,
    since verification ignores them on both sides."""
    meta = hit.metadata
    return Citation(
        n=n, ref=hit.ref, council=meta["council"], category=meta.get("category"),
        subcategory=meta.get("subcategory"), outcome=meta.get("outcome"),
        decision_date=meta.get("decision_date"), section=meta.get("section", ""),
        section_kind=hit.section_kind, paragraph=hit.paragraph,
        paragraph_exact=bool(meta.get("paragraph_exact", True)), quote=visible(quote), url=meta.get("url"),
        verified=quote_in(quote, hit.text), chunk_id=hit.id, synthetic=bool(meta.get("synthetic")),
    )


def verify(citations: Iterable[Citation], retrieved: dict[str, Hit]) -> list[Citation]:
    """Re-check every citation against the retrieved text it names; unknown chunks fail."""
    checked = []
    for c in citations:
        hit = retrieved.get(c.chunk_id)
        c.verified = bool(hit) and quote_in(c.quote, hit.text)
        checked.append(c)
    return checked


_OPENERS = {"\u201c": "\u201d", '"': '"'}
_MARKER = re.compile(r"\[(\d{1,3})\]")
_MARKER_AFTER = re.compile(r"\s*\[(\d{1,3})\]")
_MAYBE_MARKER = re.compile(r"\s*(?:\[\d{0,3})?")
REMOVED = "[quotation removed: not found in the cited passage]"


class QuoteFilter:
    """Checks an LLM's streamed text, releasing each quotation only once it is verified.

    The model cites passages by their position in its context ([n]); the user sees citations
    numbered in the order the answer uses them.  A quotation not found verbatim in the passage it
    cites is replaced by a note; an out-of-range [n] is dropped; a quotation with no marker is
    kept only if it is found in some retrieved passage (and is then cited to it).
    """

    def __init__(self, question: str, hits: list[Hit]) -> None:
        self.question = question
        self.hits = hits
        self.citations: list[Citation] = []
        self.problems: list[str] = []
        self._buffer = ""
        self._first_for_passage: dict[int, int] = {}

    def feed(self, text: str) -> str:
        self._buffer += text
        return self._drain(final=False)

    def finish(self) -> str:
        return self._drain(final=True)

    @property
    def verified(self) -> list[Citation]:
        return [c for c in self.citations if c.verified]

    def numbered(self) -> list[Citation]:
        """Verified citations in the order the text uses them, then the rejected ones."""
        rejected = [c for c in self.citations if not c.verified]
        for i, c in enumerate(rejected, start=len(self.verified) + 1):
            c.n = i
        return self.verified + rejected

    def _passage(self, n: int) -> Hit | None:
        return self.hits[n - 1] if 1 <= n <= len(self.hits) else None

    def _cite(self, n: int, quote: str) -> str:
        hit = self._passage(n)
        if hit is None:
            self.problems.append(f"[{n}] does not name a retrieved passage")
            return REMOVED if quote else ""
        if not quote:  # a bare marker: cite the passage's most relevant sentence, verbatim
            if n in self._first_for_passage:
                return f"[{self._first_for_passage[n]}]"
            from rag.extractive import best_quote

            quote = best_quote(self.question, hit, {})
            bare = True
        else:
            bare = False
        citation = citation_for(len(self.verified) + 1, hit, quote)
        self.citations.append(citation)
        if not citation.verified:
            citation.n = 0  # numbered after the verified ones, which alone appear in the text
            self.problems.append(f"a quotation attributed to [{n}] is not in that passage")
            return REMOVED
        self._first_for_passage.setdefault(n, citation.n)
        return f"[{citation.n}]" if bare else f"\u201c{quote}\u201d [{citation.n}]"

    def _unmarked(self, quote: str) -> str:
        for n, hit in enumerate(self.hits, start=1):
            if quote_in(quote, hit.text):
                return self._cite(n, quote)
        return quote  # not found anywhere: its words stay, without quotation marks

    def _drain(self, final: bool) -> str:
        """The text that is safe to show so far, without invisible characters."""
        out: list[str] = []
        while self._buffer:
            match = re.search(r"[\u201c\"\[]", self._buffer)
            if not match:
                out.append(self._buffer)
                self._buffer = ""
                break
            out.append(self._buffer[: match.start()])
            self._buffer = self._buffer[match.start() :]
            if self._buffer[0] == "[":
                marker = _MARKER.match(self._buffer)
                if marker:
                    out.append(self._cite(int(marker.group(1)), ""))
                    self._buffer = self._buffer[marker.end() :]
                elif _MAYBE_MARKER.fullmatch(self._buffer):
                    if final:  # a marker cut off at the very end: drop it
                        self._buffer = ""
                    break  # otherwise wait: the marker may still be arriving
                else:
                    out.append("[")
                    self._buffer = self._buffer[1:]
                continue
            close = self._buffer.find(_OPENERS[self._buffer[0]], 1)
            if close < 0:
                if not final:
                    break
                out.append(self._buffer[1:])  # an unclosed quotation is never shown as one
                self._buffer = ""
                break
            quote, rest = self._buffer[1:close], self._buffer[close + 1 :]
            marker = _MARKER_AFTER.match(rest)
            if marker:
                out.append(self._cite(int(marker.group(1)), quote))
                self._buffer = rest[marker.end() :]
            elif not final and _MAYBE_MARKER.fullmatch(rest):
                break
            else:
                out.append(self._unmarked(quote))
                self._buffer = rest
        return visible("".join(out))
