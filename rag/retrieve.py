"""Hybrid retrieval: dense search in Chroma plus BM25, fused by reciprocal rank, filtered exactly.

After fusion two rules keep the list useful: the Ombudsman's role-and-powers boilerplate, which is
nearly the same in every decision, is collapsed so that it never crowds out findings; and no
decision takes more than `max_per_decision` places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.catalog import Catalog
from rag.filters import Filters
from rag.store import Store

RRF_K = 60
# Fusion weights, tuned on the evals: MiniLM's ranking is the more reliable of the two on the
# users' wording; BM25 decides ties and rescues exact tokens (statutes, terms of art).
DENSE_WEIGHT, LEXICAL_WEIGHT, CONTEXT_WEIGHT = 1.0, 0.7, 0.5
COUNCIL_BOOST = 1.5  # a council named in the question lifts its decisions (without excluding others)
OUTCOME_DECISIONS = 2
# What a question is after lifts the sections that say it: outcomes live in the final decision and
# the summary; what the Ombudsman can and cannot do lives in the role-and-powers boilerplate.
INTENT_BOOSTS = (
    (re.compile(r"\b(outcome|upheld|uphold|verdict)\b|\bresult of\b|\bombudsman (decide|conclude)", re.I),
     ("decision", "summary"), 1.5),
    (re.compile(r"\bombudsman\b.*\b(can|could|will|may|power\w*|role|mean\w*|overturn\w*|look (?:at|into)|"
                r"investigat\w*)\b|\b(can|could|will|may)\b.*\bombudsman\b", re.I),
     ("powers",), 1.4),
)
_REF = re.compile(r"\b\d{2}[ \-]?\d{3}[ \-]?\d{3}\b")
BOILERPLATE_KINDS = ("powers",)
MAX_BOILERPLATE = 1  # distinct role-and-powers passages kept; near-copies of one are dropped


@dataclass
class Hit:
    """One retrieved chunk, with the evidence for its rank."""

    id: str
    ref: str
    paragraph: int | None
    text: str
    metadata: dict[str, Any]
    score: float  # fused reciprocal-rank score
    similarity: float = 0.0  # cosine between question and chunk vectors
    dense_rank: int | None = None
    lexical_rank: int | None = None
    lexical_score: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def section_kind(self) -> str:
        return str(self.metadata.get("section_kind", "other"))


@dataclass
class Retrieval:
    """Hits plus what the caller needs to explain an empty result."""

    hits: list[Hit]
    allowed: set[str] | None  # decisions the filters allowed (None: no filter)
    query_vector: list[float] | None = None


def _dense_ids(catalog: Catalog, vector: list[float], allowed: set[str] | None, n: int) -> list[str]:
    """Chunk ids nearest first, restricted exactly to `allowed` decisions (see rag/dense.py)."""
    return [chunk_id for chunk_id, _ in catalog.dense.search(vector, n, allowed)]


def _rrf(rankings: list[list[str]], weights: list[float]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, chunk_id in enumerate(ranking):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (RRF_K + rank + 1)
    return scores


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{3,}", text.lower()))


def _diversify(hits: list[Hit], k: int, max_per_decision: int) -> list[Hit]:
    """Collapse repeated boilerplate and cap each decision's share of the top k."""
    out: list[Hit] = []
    per_decision: dict[str, int] = {}
    boilerplate: list[set[str]] = []
    for hit in hits:
        if hit.section_kind in BOILERPLATE_KINDS:
            words = _words(hit.text)
            same = any(len(words & seen) / max(1, len(words | seen)) > 0.6 for seen in boilerplate)
            if same or len(boilerplate) >= MAX_BOILERPLATE:
                continue
            boilerplate.append(words)
        if per_decision.get(hit.ref, 0) >= max_per_decision:
            continue
        per_decision[hit.ref] = per_decision.get(hit.ref, 0) + 1
        out.append(hit)
        if len(out) == k:
            break
    return out


def retrieve(
    question: str,
    *,
    store: Store,
    catalog: Catalog,
    embedder: Embeddings,
    filters: Filters | None = None,
    k: int = 8,
    candidates: int = 40,
    max_per_decision: int = 5,
    context: str = "",
) -> Retrieval:
    """The best `k` chunks for a question.  `context` (an earlier question in a conversation) is
    searched too and fused in, so that a short follow-up keeps its subject."""
    allowed = catalog.matching(filters)
    named = catalog.refs_in(question)
    if named:  # a case reference in the question pins the search to that decision
        allowed = named if allowed is None else allowed & named
    if allowed is not None and not allowed:
        return Retrieval([], allowed)
    if allowed is not None and len(allowed) == 1:
        max_per_decision = k  # one decision: diversity across decisions means nothing
    vector = embedder.embed_query(_REF.sub(" ", question) if named else question)
    lexical_hits = catalog.lexical.search(question, candidates, allowed)
    lexical = dict(lexical_hits)
    rankings = [_dense_ids(catalog, vector, allowed, candidates),
                [i for i, _ in lexical_hits]]
    queries = [vector]
    if context:
        queries.append(embedder.embed_query(f"{context} {question}"))
        rankings.append(_dense_ids(catalog, queries[1], allowed, candidates))
        rankings.append([i for i, _ in catalog.lexical.search(f"{context} {question}", candidates, allowed)])
    weights = [DENSE_WEIGHT, LEXICAL_WEIGHT, CONTEXT_WEIGHT * DENSE_WEIGHT, CONTEXT_WEIGHT * LEXICAL_WEIGHT]
    fused = _rrf(rankings, weights)
    boosted = catalog.council_refs_in(f"{context} {question}")
    if boosted:
        for chunk_id in fused:
            if chunk_id.split(":", 1)[0].replace("-", " ") in boosted:
                fused[chunk_id] *= COUNCIL_BOOST
    order = sorted(fused, key=fused.get, reverse=True)[: max(k * 4, 20)]
    boosts = [(kinds, factor) for pattern, kinds, factor in INTENT_BOOSTS if pattern.search(question)]
    if any("decision" in kinds for kinds, _ in boosts):
        # an outcome question: bring in the final decisions and summaries of the leading decisions
        leaders = list(dict.fromkeys(i.split(":", 1)[0] for i in order))[:OUTCOME_DECISIONS]
        for ref_key in leaders:
            best = max(fused[i] for i in order if i.startswith(ref_key + ":"))
            extra = store.section_ids(ref_key.replace("-", " "), "decision") + [f"{ref_key}:summary:0"]
            for chunk_id in extra:  # as strong as the decision's best passage, before the boost
                fused[chunk_id] = max(fused.get(chunk_id, 0.0), best)
            order += [i for i in extra if i not in order]
    rows = store.get_chunks(order)
    for kinds, factor in boosts:
        for row in rows:
            if row["metadata"].get("section_kind") in kinds:
                fused[row["id"]] *= factor
    rows.sort(key=lambda row: fused[row["id"]], reverse=True)
    hits = []
    for row in rows:
        meta = row["metadata"]
        hits.append(Hit(
            id=row["id"], ref=meta["ref"], paragraph=meta.get("para_first") or None, text=row["text"],
            metadata=meta, score=fused[row["id"]], similarity=_cosine(queries, catalog.dense.vector(row["id"])),
            dense_rank=_rank(rankings[0], row["id"]), lexical_rank=_rank(rankings[1], row["id"]),
            lexical_score=lexical.get(row["id"], 0.0),
        ))
    return Retrieval(_diversify(hits, k, max_per_decision), allowed, vector)


def _cosine(queries: list[list[float]], vector: Any) -> float:
    """The best cosine similarity of a chunk to the question (or the question in its context)."""
    if vector is None:
        return 0.0
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v)) or 1.0
    return max(float(np.dot(np.asarray(q, dtype=np.float32), v)) / ((float(np.linalg.norm(q)) or 1.0) * norm)
               for q in queries)


def _rank(ranking: list[str], chunk_id: str) -> int | None:
    try:
        return ranking.index(chunk_id) + 1
    except ValueError:
        return None
