"""Metrics for one question and for the whole set.

Retrieval is judged on ranked lists of sets of (ref, paragraph) pairs, so that our chunks (one
paragraph each) and the baseline's (several paragraphs, no numbers) are measured the same way.
Paragraph 0 stands for a decision's summary.
"""

from __future__ import annotations

import statistics
from typing import Any

from rag.cite import normalise, quote_in
from rag.models import Answer, Decision

Ranked = list[set[tuple[str, int]]]


def gold_pairs(q: dict) -> set[tuple[str, int]]:
    """The (decision, paragraph) pairs that count as a right answer.  With more than one gold
    decision the paragraphs are given per decision: a bare list would make paragraph 3 of every
    decision gold, when only one of them says the thing asked."""
    paragraphs = q["paragraphs"]
    if isinstance(paragraphs, dict):
        return {(ref, p) for ref, numbers in paragraphs.items() for p in numbers}
    return {(ref, p) for ref in q["refs"] for p in paragraphs}


def first_gold_rank(ranked: Ranked, q: dict) -> int | None:
    gold = gold_pairs(q)
    return next((i for i, held in enumerate(ranked, start=1) if held & gold), None)


def decision_recall_at(ranked: Ranked, q: dict, k: int = 3) -> float:
    """Share of the gold decisions among the first k distinct decisions retrieved; with more than
    k gold decisions (a principle every decision states), k of them is full marks."""
    seen: list[str] = []
    for held in ranked:
        for ref, _ in sorted(held):
            if ref not in seen:
                seen.append(ref)
    top = set(seen[:k])
    return len(set(q["refs"]) & top) / min(k, len(q["refs"]))


def retrieval_scores(ranked: Ranked, q: dict) -> dict[str, float]:
    rank = first_gold_rank(ranked, q)
    return {
        "recall@5": float(rank is not None and rank <= 5),
        "mrr": 1.0 / rank if rank else 0.0,
        "decision_recall@3": decision_recall_at(ranked, q),
    }


def citation_scores(answer: Answer, q: dict, k: int = 3) -> dict[str, float]:
    """What a reader meets first: is a gold decision, and a gold paragraph, among the first `k`
    verified citations (in the order the answer gives them)?"""
    shown = [c for c in answer.citations if c.verified][:k]
    gold = gold_pairs(q)
    return {
        "cited_decision@3": float(any(c.ref in q["refs"] for c in shown)),
        "cited_paragraph@3": float(any((c.ref, c.paragraph or 0) in gold for c in shown)),
    }


def baseline_citation_scores(ranked: Ranked, sources: list[str | None], q: dict, k: int = 3) -> dict[str, float]:
    """The same for the tutorial pipeline, whose answer rests on its first results in rank order
    (`sources`: the decision each result comes from)."""
    gold = gold_pairs(q)
    return {
        "cited_decision@3": float(any(ref in q["refs"] for ref in sources[:k])),
        "cited_paragraph@3": float(any(held & gold for held in ranked[:k])),
    }


def chunk_pair(chunk_id: str) -> tuple[str, int]:
    """'18-011-812:p025:0' -> ('18 011 812', 25); summaries are paragraph 0."""
    ref_key, where, _ = chunk_id.split(":")
    return ref_key.replace("-", " "), 0 if where == "summary" else int(where[1:])


def quote_checks(answer: Answer, decisions: dict[str, Decision]) -> list[bool]:
    """Re-check each citation against the parsed decision, independently of `verified`."""
    results = []
    for c in answer.citations:
        if not c.verified:
            continue  # never shown as a quote
        d = decisions.get(c.ref)
        source = None
        if d is not None:
            source = d.summary if c.paragraph is None else getattr(d.paragraph(c.paragraph), "text", None)
        results.append(bool(source) and quote_in(c.quote, source))
    return results


def answer_scores(answer: Answer, q: dict, decisions: dict[str, Decision]) -> dict[str, Any]:
    shown = [c for c in answer.citations if c.verified]
    text = normalise(answer.answer)
    facts = [normalise(f) in text for f in q["facts"]]
    forbidden = [f for f in q.get("forbidden", []) if normalise(f).lower() in text.lower()]
    return {
        "abstained": answer.abstained,
        "citation_precision": (sum(c.ref in q["refs"] for c in shown) / len(shown)) if shown else None,
        "quotes": quote_checks(answer, decisions),
        "fact_coverage": (sum(facts) / len(facts)) if facts else None,
        "forbidden": forbidden,
    }


def mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 4) if kept else None


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
