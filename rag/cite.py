"""Verify quotes against the decisions: the one check every answer passes through.

A quote counts as verified only when, after normalising white space and typographic quotes and
dashes, it is a substring of the paragraph it cites, and that paragraph was among those
retrieved for the question.  Anything else is never shown to a user as a quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.models import Citation
from rag.retrieve import Hit

_TRANSLATE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u00a0": " ", "\u202f": " ",
})
# Zero-width and other invisible characters, which could hide text inside a quote.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
MIN_QUOTE_CHARS = 12


def normalise(text: str) -> str:
    """White space collapsed, typographic quotes and dashes made plain, invisible characters gone."""
    text = _INVISIBLE.sub("", text.translate(_TRANSLATE))
    return re.sub(r"\s+", " ", text).strip()


def quote_in(quote: str, passage: str) -> bool:
    """Is `quote` (stripped of surrounding quote marks and ellipses) verbatim in `passage`?"""
    core = normalise(quote).strip(" \"'").removesuffix("...").removeprefix("...").strip()
    return len(core) >= MIN_QUOTE_CHARS and core in normalise(passage)


def citation_for(n: int, hit: Hit, quote: str) -> Citation:
    """A citation of `quote` from `hit`, verified against the hit's own text."""
    meta = hit.metadata
    return Citation(
        n=n, ref=hit.ref, council=meta["council"], category=meta.get("category"),
        subcategory=meta.get("subcategory"), outcome=meta.get("outcome"),
        decision_date=meta.get("decision_date"), section=meta.get("section", ""),
        section_kind=hit.section_kind, paragraph=hit.paragraph,
        paragraph_exact=bool(meta.get("paragraph_exact", True)), quote=quote, url=meta.get("url"),
        verified=quote_in(quote, hit.text), chunk_id=hit.id,
    )


def verify(citations: Iterable[Citation], retrieved: dict[str, Hit]) -> list[Citation]:
    """Re-check every citation against the retrieved text it names; unknown chunks fail."""
    checked = []
    for c in citations:
        hit = retrieved.get(c.chunk_id)
        c.verified = bool(hit) and quote_in(c.quote, hit.text)
        checked.append(c)
    return checked
