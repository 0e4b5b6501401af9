"""Plain dataclasses that every stage passes along.

LangChain and Chroma objects are converted into these at the module boundaries so the rest of
the code (and the tests) never depend on a third-party object's shape.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# The kinds of section a decision statement is made of.  Users must be able to tell what the
# complainant alleged from what the Ombudsman found, so the kind travels with every paragraph.
SECTION_KINDS = (
    "summary",  # the published summary at the top
    "complaint",  # "The complaint": the complainant's allegations, never findings
    "scope",  # "What I have (not) investigated"
    "powers",  # "The Ombudsman's role and powers": boilerplate in nearly every decision
    "method",  # "How I considered this complaint"
    "findings",  # "What I found", "Assessment", "Analysis", "Findings" ...
    "remedy",  # "Agreed action", "Recommended action"
    "decision",  # "Final decision"
    "notice",  # "we will share this decision with Ofsted": the same line ends nearly every upheld decision
    "other",
)


# How a synthetic decision (data/synthetic, written for our evaluations) is labelled wherever it is
# named, so that it can never pass for a real one.
SYNTHETIC_NOTE = "synthetic: not a real decision"  # beside every citation of a synthetic decision
SYNTHETIC_MARK = f", {SYNTHETIC_NOTE}"


@dataclass(frozen=True)
class Paragraph:
    """One official numbered paragraph, nested items included, in the decision's own words."""

    number: int
    section: str
    section_kind: str
    text: str
    exact: bool  # False where the layout lost the numbers and `number` is our count
    heading: str | None = None  # the sub-heading inside the section, e.g. "What happened"


@dataclass(frozen=True)
class Remedy:
    """A remedy the council agreed or gave: its kind, an amount in pounds, and where it is said."""

    kind: str  # apology, payment, training, procedure_review
    amount: float | None = None
    paragraph: int | None = None


@dataclass
class Decision:
    """A parsed decision statement with its metadata and numbered paragraphs."""

    ref: str  # canonical "18 011 812"
    council: str
    category: str | None
    subcategory: str | None
    outcome: str | None
    decision_date: dt.date | None
    summary: str | None
    url: str | None
    remedies: list[Remedy]
    paragraphs: list[Paragraph]
    content_hash: str
    text: str  # the statement as published (page furniture dropped), for display and checks
    source: str | None = None
    synthetic: bool = False  # written for our evaluations (data/synthetic), never a real decision

    @property
    def ref_key(self) -> str:
        """The reference with dashes, as used in file names, URLs and chunk ids."""
        return self.ref.replace(" ", "-")

    @property
    def financial_remedy(self) -> float:
        return sum(r.amount or 0 for r in self.remedies)

    @property
    def has_financial_remedy(self) -> bool:
        return any(r.amount for r in self.remedies)

    @property
    def numbering_exact(self) -> bool:
        return all(p.exact for p in self.paragraphs)

    def paragraph(self, number: int) -> Paragraph | None:
        return next((p for p in self.paragraphs if p.number == number), None)


@dataclass(frozen=True)
class Chunk:
    """A piece of one paragraph (or the summary) as stored: verbatim text plus filterable metadata."""

    id: str
    ref: str
    text: str  # verbatim: what is embedded, stored and quoted
    paragraph: int | None
    part: int
    parts: int
    char_start: int  # offset of `text` inside the paragraph (or summary) text
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestReport:
    """What one ingest run did; `failures` holds one (file, reason) line per bad input."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    pruned: int = 0
    decisions: int = 0  # total in the store after the run
    chunks: int = 0  # total in the store after the run
    seconds: float = 0.0
    chunks_written: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "pruned": self.pruned,
            "decisions": self.decisions,
            "chunks": self.chunks,
            "chunks_written": self.chunks_written,
            "seconds": round(self.seconds, 3),
            "failures": [{"file": f, "reason": r} for f, r in self.failures],
        }


@dataclass
class Citation:
    """A quoted passage pinned to a decision and paragraph; `verified` is set by code, never trusted."""

    n: int
    ref: str
    council: str
    category: str | None
    subcategory: str | None
    outcome: str | None
    decision_date: str | None  # ISO date
    section: str
    section_kind: str
    paragraph: int | None  # None for the summary
    paragraph_exact: bool
    quote: str
    url: str | None
    verified: bool = False
    chunk_id: str = ""
    synthetic: bool = False  # from our own evaluation corpus, never a real decision: always labelled

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n, "ref": self.ref, "council": self.council, "category": self.category,
            "subcategory": self.subcategory, "outcome": self.outcome,
            "decision_date": self.decision_date, "section": self.section,
            "section_kind": self.section_kind, "paragraph": self.paragraph,
            "paragraph_exact": self.paragraph_exact, "quote": self.quote, "url": self.url,
            "synthetic": self.synthetic,
            "verified": self.verified,
        }

    def reference(self) -> str:
        """Ready to paste into a letter: 'Derbyshire County Council (18 011 812), 28 March 2019, paragraph 25'."""
        parts = [f"{self.council} ({self.ref}{SYNTHETIC_MARK if self.synthetic else ''})"]
        if self.decision_date:
            day = dt.date.fromisoformat(self.decision_date)
            parts.append(f"{day.day} {day:%B %Y}")
        parts.append(f"paragraph {self.paragraph}" if self.paragraph is not None else "summary")
        return ", ".join(parts)


@dataclass
class Answer:
    """What every interface returns; `to_dict()` is the JSON of the CLI, the API and the app."""

    question: str
    answer: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    backend: str = "extractive"
    notices: list[str] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)  # chunk ids, best first (for evals)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "backend": self.backend,
            "notices": list(self.notices),
            "citations": [c.to_dict() for c in self.citations],
        }
