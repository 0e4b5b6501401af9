"""Find the remedies a decision records: payments in pounds, apologies, training, procedure reviews.

Only the agreed action and the final decision are read: the complaint section lists what the
complainant *wanted*, which is not a remedy, and findings often discuss remedies the investigator
then rejects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.models import Paragraph, Remedy

REMEDY_SECTION_KINDS = ("remedy", "decision")

_AMOUNT_RE = re.compile(r"£\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?")
_KIND_PATTERNS = {
    "apology": re.compile(r"\bapolog(?:y|ies|ise|ize|ised|ized|ising|izing)\b", re.I),
    "training": re.compile(
        r"\btraining\b|\btrain (?:its |relevant )?staff\b|\bfamiliar with\b|\bremind(?:ed)? "
        r"(?:its |all |relevant )?(?:staff|officers|social workers)\b|\bguidance to (?:all )?staff\b",
        re.I,
    ),
    "procedure_review": re.compile(
        r"\breview(?:s|ed)? (?:of )?(?:its|the|their) (?:\w+ )?(?:procedures?|polic(?:y|ies)|"
        r"practices?|processes)\b|\b(?:update|amend|change)s? (?:its|the) (?:\w+ )?"
        r"(?:procedures?|polic(?:y|ies)|processes)\b",
        re.I,
    ),
}


def _amounts(text: str) -> list[float]:
    values = []
    for pounds, pence in _AMOUNT_RE.findall(text):
        values.append(int(pounds.replace(",", "")) + (int(pence) / 100 if pence else 0))
    return values


def find_remedies(paragraphs: Iterable[Paragraph]) -> list[Remedy]:
    """Remedies in order of first mention, one per kind and amount."""
    found: list[Remedy] = []
    seen: set[tuple[str, float | None]] = set()

    def add(kind: str, amount: float | None, number: int) -> None:
        if (kind, amount) not in seen:
            seen.add((kind, amount))
            found.append(Remedy(kind=kind, amount=amount, paragraph=number))

    for para in paragraphs:
        if para.section_kind not in REMEDY_SECTION_KINDS:
            continue
        for amount in _amounts(para.text):
            add("payment", amount, para.number)
        for kind, pattern in _KIND_PATTERNS.items():
            if pattern.search(para.text):
                add(kind, None, para.number)
    return found
