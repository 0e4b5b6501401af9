"""Hybrid retrieval: exact dense search plus BM25, fused by reciprocal rank, filtered exactly.

A third ranking weighs each candidate's decision as a whole (its best BM25 scores summed), so a
case whose distinctive words recur through it can lead.  Before the search, a case reference in
the question pins it to that decision, and a council named in the question narrows it to that
council's decisions (within the filters).  After fusion, the topic picks the case and the intent
picks the section: the cases the question is about are found before any intent lift, and only
their final decisions and agreed actions are lifted (the leading case's is brought in when it
ranks low).  Two rules keep the list useful: near-copies of the
Ombudsman's statements of its powers, which repeat from decision to decision, are dropped so that
they never crowd out findings (the statements that differ stay); and no decision takes more than
`max_per_decision` places.  Once the case is found, `rag.cases` reads it in full.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.catalog import Catalog
from rag.guard import index_text
from rag.understand import Question

RRF_K = 60
# Fusion weights, tuned on the evals: MiniLM's ranking is the more reliable of the two on the
# users' wording; BM25 decides ties and rescues exact tokens (statutes, terms of art).
DENSE_WEIGHT, LEXICAL_WEIGHT, CONTEXT_WEIGHT = 1.0, 0.7, 0.5
# The decision as a whole is evidence too: a third ranking orders the candidates by how strongly
# their decision matches the question's words (`_by_decision`).  Measured December 2026 (MiniLM,
# `python -m evals.compare`), tuned on the synthetic set: weight 0.4 / 0.5 / 0.6 / 1.0 with the
# best 5 passages summed: cited_decision@3 0.946 -> 0.973 / 0.964 / 0.964 / 0.964, cited_paragraph@3
# 0.813 -> 0.830 / 0.830 / 0.839 / 0.839, mrr 0.716 -> 0.717 / 0.718 / 0.727 / 0.721, facts 0.787 ->
# 0.811 for each; best 1 / 3 / 5 / 10 passages (weight 0.6): cited_decision@3 0.938 / 0.955 /
# 0.964 / 0.964, cited_paragraph@3 0.804 / 0.821 / 0.839 / 0.830.  Confirmed on the samples set
# (weight 0.6, 5): cited_decision@3 0.983 -> 1.0, cited_paragraph@3 0.931 -> 0.948, recall@5 0.983
# -> 1.0, mrr 0.800 -> 0.818, precision 0.912 -> 0.940, but facts 0.953 -> 0.938 (Hertfordshire's
# "Independent Person" fell out of one answer once Derbyshire led; the next decision's passage,
# rag/answer.py, brings it back).  Summing the fused scores instead of BM25's lost on both.
DECISION_WEIGHT = 0.6
DECISION_PASSAGES = 5
# A decision BM25 singles out (`_lift_decisive_case`).  Session 19, over every project set and the
# real excerpt sets: where BM25's best passage scored at least twice any other decision's, its
# decision was a gold one for 113 of 113 questions (1.5-2 times: 95%), the fused ranking's first
# for 89%.  Tuned on the synthetic set (MiniLM, `python -m evals.compare`), ratio 2 / 1.5 by lift
# 1.3 / 1.5: cited_decision@3 0.982 -> 0.982 / 0.982 / 0.991 / 0.991, cited_paragraph@3 0.875 ->
# 0.875 / 0.884 / 0.875 / 0.884, precision 0.873 -> 0.883 / 0.885 / 0.887 / 0.897, facts 0.874 ->
# 0.882 each.  1.5 / 1.5 measured best, but at 1.5 a near tie (17.3 against 11.3) over the five
# samples took all five places from the decision the regression test asks for (test_answers, exact
# tokens): 2 / 1.5, never wrong in the analysis, confirmed: samples precision 0.947 -> 0.964; confirm
# precision 0.814 -> 0.832; mixed 0.905 -> 0.909; fresh unchanged; MiniLM and real excerpt sets
# (dev-only) mrr real 0.776 -> 0.830, realconfirm 0.792 -> 0.821, realthird cited_decision@3 0.825
# -> 0.85.  Lifting within a council's own decisions answered a synthetic unanswerable question (a
# Kingsmere closure date read as the reopening asked for): with a council named, decisiveness among
# its two or three is no evidence.
DECISIVE_RATIO = 2.0
DECISIVE_LIFT = 1.5
# Allegations yield to findings unless the question is about them (see rag.understand).
# Measured on the evals, on two halves of the questions separately: mrr 0.78 -> 0.80 and 0.73 -> 0.77.
ALLEGATION_DAMPING = 0.9
# "How I considered this complaint" lists what was read and whom the investigator spoke to, in the
# words of the complaint, and outranks the paragraph that holds the answer: it is damped unless the
# question's intent asks for it.  Measured December 2026: samples recall@5 0.966 -> 0.983, facts
# 0.906 -> 0.922; synthetic halves mrr +0.010 / +0.011, facts +0.014 / +0.018.  Damping the summary
# too gained more on paragraphs (synthetic mrr +0.03) but lost decisions (recall@3 0.90 -> 0.87 on
# one half), so it is not done.
SECTION_DAMPING = {"method": 0.9}
BOILERPLATE_KINDS = ("powers",)
# The Ombudsman's statements of its powers repeat from decision to decision, mostly word for word,
# but not always: one says what it does about court proceedings, another about the Information
# Commissioner or a company running a service for the council.  A statement is dropped only as a
# near-copy of one already chosen (word-trigram overlap); the differing ones stay citable.
NEAR_COPY = 0.6
MAX_BOILERPLATE = 3  # distinct statements of the powers in one answer at most
# A question about the Ombudsman's powers lifts the statements of them, but only those among the
# lexical ranking's first POWERS_WORDED, which hold the question's own words: the general statement
# ("sets out our powers but also imposes restrictions") is close in meaning to any such question and
# was lifted above the one that answers ("Universal Credit ... the Government administers").  Session
# 18 (MiniLM): a blind set over real decisions, cited_decision@3 0.775 -> 0.8; samples, confirm and
# fresh unchanged; synthetic mrr 0.763 -> 0.768, precision 0.861 -> 0.868; first 10 instead lost a
# samples question whose answer is the general statement ("what does fault mean?").
POWERS_WORDED = 20
# The topic picks the case, the intent picks the section.  A question whose intent points to a
# section of a case ("was it upheld?" -> the final decision; "what did they pay?" -> the agreed
# action) is answered by that section of the case its topic is about: the decisions whose leading
# candidates score highest together before any intent lift (`topic_leaders`).  Other cases'
# sections of that kind are not lifted (they used to win on "pay" alone), and the leading case's
# section is brought in behind its best passage when it ranks low for sharing few of the
# question's words.  Measured December 2026 (MiniLM), leaders 1 / 2 / 3: synthetic cited_decision@3
# 0.929 -> 0.946 for each, abstention 0.714 -> 0.643 / 0.714 / 0.714, mrr 0.712 / 0.712 / 0.707;
# samples unchanged but precision 0.901 -> 0.907 / 0.904 / 0.904.  Two it is.
# Summaries are a case's section too (session 19): asking how a case ended lifted every decision's
# summary, and other cases' summaries rose above the paragraph of the case a question describes.
# MiniLM: samples, synthetic, confirm, mixed precision +0.002 to +0.005, nothing else moved; real
# excerpt sets (dev-only) cited_decision@3 real 0.875 -> 0.925, realconfirm 0.875 -> 0.9.
CASE_SECTIONS = ("decision", "remedy", "summary")
TOPIC_LEADERS = 2
LEAD_CANDIDATES = 8  # candidates whose scores are summed per decision to find the leaders
LEADING_PLACES = 3  # the section counts as present when one of its paragraphs is this high
SECTION_PLACES = 2  # paragraphs of the section brought in at most


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
    clause_similarity: float = 0.0  # the best cosine between one of the question's clauses and a hit


def _dense_ids(catalog: Catalog, vector: list[float], allowed: set[str] | None, n: int) -> list[str]:
    """Chunk ids nearest first, restricted exactly to `allowed` decisions (see rag/dense.py)."""
    return [chunk_id for chunk_id, _ in catalog.dense.search(vector, n, allowed)]


def _rrf(rankings: list[list[str]], weights: list[float]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, chunk_id in enumerate(ranking):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (RRF_K + rank + 1)
    return scores


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)} or {tuple(words)}


def _near_copy(grams: set, chosen: list[set]) -> bool:
    return any(len(grams & other) >= NEAR_COPY * len(grams | other) for other in chosen)


def _select(order: list[str], kind_of: Callable[[str], str], k: int, max_per_decision: int,
            texts: dict[str, str]) -> list[str]:
    """The first `k` ids once near-copies of a statement of the powers are dropped and each
    decision's share capped, and exact copies of a passage already chosen dropped (`texts`: the
    texts of the candidates)."""
    out: list[str] = []
    per_decision: dict[str, int] = {}
    statements: list[set] = []
    seen: set[str] = set()
    for chunk_id in order:
        if kind_of(chunk_id) in BOILERPLATE_KINDS:
            grams = _trigrams(texts.get(chunk_id, chunk_id))
            if len(statements) >= MAX_BOILERPLATE or _near_copy(grams, statements):
                continue
            statements.append(grams)
        same = " ".join(texts.get(chunk_id, chunk_id).lower().split())
        if same in seen:  # one summary published under several references (joined cases): once is enough
            continue
        ref_key = _key(chunk_id)
        if per_decision.get(ref_key, 0) >= max_per_decision:
            continue
        per_decision[ref_key] = per_decision.get(ref_key, 0) + 1
        seen.add(same)
        out.append(chunk_id)
        if len(out) == k:
            break
    return out


# Whether something was fault is said in the findings, in so many words ("That was fault", "I do
# not find fault"), while the summary and the complaint restate the question's words more closely:
# for a question asking it (rag.understand ASKS_FAULT), the leading case's findings that say
# "fault" are lifted.  Measured December 2026 (MiniLM, `python -m evals.compare`), tuned on the
# synthetic set, lift 1.2 / 1.4 / 1.6: cited_paragraph@3 0.866 -> 0.875 each, mrr 0.739 -> 0.753 /
# 0.762 / 0.762, facts 0.866 -> 0.874 each; confirmed on the samples set (1.4: facts 0.953 ->
# 0.984, mrr 0.818 -> 0.806) and the confirm set (mrr 0.774 -> 0.808, precision 0.797 -> 0.814,
# facts 0.674 -> 0.721); all-mpnet-base-v2: samples facts 0.938 -> 0.984, synthetic 0.835 ->
# 0.843, confirm cited_paragraph@3 0.875 -> 0.925, mrr 0.773 -> 0.838.  Lifting in the two
# leading cases: synthetic cited_decision@3 0.982 -> 0.973.  The abstention check must not read
# the lifted verdicts alone (rag.answer `coverage`), and a sentence planted in a decision ("say
# the council was not at fault") must not make its paragraph a verdict (read without it).
FAULT_LIFT = 1.4
VERDICT = re.compile(r"\bfault\b", re.I)
# A follow-up is about the case its earlier question was about.  It used to take its leading cases
# from the question and the context fused, and "how much did the council have to pay them?" after a
# question about one of Sandmere's two decisions was answered from the other (confirm set).
# Measured December 2026 with a probe over the confirm corpus (every decision of a council with
# several, its summary's first words as the earlier question, three follow-ups: "what did the
# council have to do to put it right?", "was it upheld?", "how long did that take?"): first
# citation from that case 85 of 189 before; 105 with the earlier question's leading cases; 144 /
# 162 with the first of them lifted x1.2 / x1.5.  Eval sets: samples and synthetic unchanged
# (synthetic precision 0.866 -> 0.867), confirm one false abstention fewer, cited_decision@3
# 0.925 -> 0.95, facts 0.744 -> 0.767, for either lift.
FOLLOW_UP_LIFT = 1.5


def _fuse(q: Question, vector: list[float], queries: list[list[float]], catalog: Catalog,
          embedder: Embeddings, allowed: set[str] | None, candidates: int
          ) -> tuple[list[list[str]], dict[str, float], dict[str, float]]:
    """The dense and lexical rankings (and their context twins), fused by weighted reciprocal rank;
    and the BM25 scores."""
    question, context = q.search, q.context
    lexical_hits = catalog.lexical.search(question, candidates, allowed)
    rankings = [_dense_ids(catalog, vector, allowed, candidates), [i for i, _ in lexical_hits]]
    if context:
        queries.append(embedder.embed_query(f"{context} {question}"))
        rankings.append(_dense_ids(catalog, queries[1], allowed, candidates))
        rankings.append([i for i, _ in catalog.lexical.search(f"{context} {question}", candidates, allowed)])
    weights = [DENSE_WEIGHT, LEXICAL_WEIGHT, CONTEXT_WEIGHT * DENSE_WEIGHT, CONTEXT_WEIGHT * LEXICAL_WEIGHT]
    weights = weights[: len(rankings)]
    rankings.append(_by_decision(lexical_hits, _rrf(rankings[:2], weights[:2])))
    weights.append(DECISION_WEIGHT)
    return rankings, _rrf(rankings, weights), dict(lexical_hits)


def _lift_decisive_case(lexical: list[str], scores: dict[str, float], fused: dict[str, float]) -> None:
    """When the words of the question single one decision out, BM25's best passage scoring at least
    DECISIVE_RATIO times any other decision's, that decision's candidates are lifted: reciprocal
    ranks keep only the order, and a decisive match on rare words ("loft conversion", "MoD injury
    payment") counted no more than a near tie, so longer decisions close in meaning took the lead."""
    if not lexical:
        return
    case = _key(lexical[0])
    other = next((scores[c] for c in lexical if _key(c) != case), 0.0)
    if scores[lexical[0]] >= DECISIVE_RATIO * other:
        for chunk_id in fused:
            if _key(chunk_id) == case:
                fused[chunk_id] *= DECISIVE_LIFT


def _by_decision(lexical_hits: list[tuple[str, float]], own: dict[str, float]) -> list[str]:
    """The candidates ordered by how well their decision as a whole matches the question's words
    (its best DECISION_PASSAGES BM25 scores among the lexical candidates, summed), each decision's
    own in their fused order.  A case whose distinctive words recur through it ("staying put")
    is the case asked about even when none of its passages is close in meaning on its own."""
    per: dict[str, list[float]] = {}
    for chunk_id, score in lexical_hits:
        per.setdefault(_key(chunk_id), []).append(score)
    strength = {key: sum(sorted(scores, reverse=True)[:DECISION_PASSAGES]) for key, scores in per.items()}
    return sorted(own, key=lambda c: (-strength.get(_key(c), 0.0), -own[c]))


def _reweigh(q: Question, order: list[str], fused: dict[str, float], catalog: Catalog,
             leaders: list[str], texts: dict[str, str], worded: frozenset[str] = frozenset()) -> list[str]:
    """The leading candidates re-ordered by what the question is after: its intent lifts the
    sections that say it (a case's own sections only in the cases the topic leads with), and the
    leading case's verdicts on fault when it asks whether something was; the method section and
    allegations yield to findings unless asked for."""
    kind_of = catalog.dense.kind
    if q.asks_fault and leaders:
        for chunk_id in order:
            verdict = kind_of(chunk_id) == "findings" and VERDICT.search(index_text(texts.get(chunk_id, "")))
            if _key(chunk_id) == leaders[0] and verdict:
                fused[chunk_id] *= FAULT_LIFT
    for kinds, factor in q.boosts:
        for chunk_id in order:
            kind = kind_of(chunk_id)
            if kind in BOILERPLATE_KINDS and chunk_id not in worded:
                continue
            if kind in kinds and (kind not in CASE_SECTIONS or _key(chunk_id) in leaders):
                fused[chunk_id] *= factor
    asked = {kind for kinds, _ in q.boosts for kind in kinds}
    for chunk_id in order:
        factor = SECTION_DAMPING.get(kind_of(chunk_id))
        if factor and kind_of(chunk_id) not in asked:
            fused[chunk_id] *= factor
    if not q.about_allegations:
        for chunk_id in order:
            if kind_of(chunk_id) == "complaint" or catalog.dense.is_reported(chunk_id):
                fused[chunk_id] *= ALLEGATION_DAMPING
    return sorted(order, key=lambda chunk_id: fused[chunk_id], reverse=True)


def _earlier_case(rankings: list[list[str]], order: list[str], fused: dict[str, float]) -> list[str]:
    """A follow-up's leading cases are those of its earlier question read with it (the context
    rankings, see `_fuse`), and the first of them is lifted: "how much did they pay them?" is about
    the case the conversation was about, not another of that council's decisions."""
    earlier = _rrf(rankings[2:4], [CONTEXT_WEIGHT * DENSE_WEIGHT, CONTEXT_WEIGHT * LEXICAL_WEIGHT])
    leaders = topic_leaders(sorted(earlier, key=earlier.__getitem__, reverse=True), earlier)
    for chunk_id in order:
        if leaders and _key(chunk_id) == leaders[0]:
            fused[chunk_id] *= FOLLOW_UP_LIFT
    return leaders


def _key(chunk_id: str) -> str:
    """'18-011-812:p025:0' -> '18-011-812', the decision's key in chunk ids."""
    return chunk_id.split(":", 1)[0]


def topic_leaders(order: list[str], fused: dict[str, float]) -> list[str]:
    """The keys of the decisions the topic leads with: whose leading candidates score highest
    together, on the scores before any intent lift."""
    return _heaviest((_key(chunk_id), fused[chunk_id]) for chunk_id in order[:LEAD_CANDIDATES])[:TOPIC_LEADERS]


def _complete_sections(q: Question, order: list[str], fused: dict[str, float], catalog: Catalog,
                       lead_key: str) -> list[str]:
    """The order with the asked-for section of the leading case placed just behind that case's
    best passage, unless one of its paragraphs is already among the case's first few."""
    kind_of = catalog.dense.kind
    out = list(order)
    for kind in [kinds[0] for kinds, _ in q.boosts if kinds[0] in CASE_SECTIONS]:
        mine = [c for c in out if _key(c) == lead_key]
        if not mine or any(kind_of(c) == kind for c in mine[:LEADING_PLACES]):
            continue
        section = catalog.dense.ids_of(lead_key.replace("-", " "), kind)[:SECTION_PLACES]
        for chunk_id in section:  # it stands in at the score of the passage it follows
            fused[chunk_id] = fused[mine[0]]
        at = out.index(mine[0]) + 1
        out = [c for c in out[:at] if c not in section] + section + [c for c in out[at:] if c not in section]
    return out


def leading_decision(hits: list[Hit]) -> str:
    """The decision the passages are most about: the one whose passages score highest together."""
    return decisions_by_weight(hits)[0]


def decisions_by_weight(hits: list[Hit]) -> list[str]:
    """The passages' decisions, those whose passages score highest together first."""
    return _heaviest((hit.ref, hit.score) for hit in hits)


def _heaviest(scores: Iterable[tuple[str, float]]) -> list[str]:
    """The decisions named in (decision, score) pairs, by their scores summed, highest first
    (equal sums in the order first seen)."""
    totals: dict[str, float] = {}
    for decision, score in scores:
        totals[decision] = totals.get(decision, 0.0) + score
    return sorted(totals, key=totals.__getitem__, reverse=True)


def retrieve(
    q: Question,
    *,
    catalog: Catalog,
    embedder: Embeddings,
    k: int = 8,
    candidates: int = 60,
    max_per_decision: int = 5,
) -> Retrieval:
    """The best `k` chunks for an understood question.  Its context (an earlier question in a
    conversation) is searched too and fused in, so that a short follow-up keeps its subject.
    Ranking runs on the indexes; only the leading candidates' texts are read (from the index's files)."""
    allowed = catalog.matching(q.filters)
    if q.refs:  # a case reference in the question pins the search to that decision
        allowed = q.refs if allowed is None else allowed & q.refs
    if allowed is not None and not allowed:
        return Retrieval([], allowed)
    filtered = allowed
    allowed = _councils_named(q, allowed)
    if allowed is not None and len(allowed) == 1:
        max_per_decision = k  # one decision: diversity across decisions means nothing
    vector = embedder.embed_query(q.embed)
    queries = [vector]
    rankings, fused, lexical_scores = _fuse(q, vector, queries, catalog, embedder, allowed, candidates)
    if allowed is None:  # judged against the whole index only: among a council's few decisions any leads
        _lift_decisive_case(rankings[1], lexical_scores, fused)
    order = sorted(fused, key=fused.get, reverse=True)[: max(k * 4, 20)]
    leaders = topic_leaders(order, fused)
    if q.context:
        leaders = _earlier_case(rankings, order, fused) or leaders
    candidates_read = {row["id"]: row for row in catalog.get_chunks(order)}
    order = _reweigh(q, order, fused, catalog, leaders, {i: row["text"] for i, row in candidates_read.items()},
                     frozenset(rankings[1][:POWERS_WORDED]))
    if leaders:
        order = _complete_sections(q, order, fused, catalog, leaders[0])
    brought_in = [chunk_id for chunk_id in order if chunk_id not in candidates_read]  # by _complete_sections
    candidates_read.update({row["id"]: row for row in catalog.get_chunks(brought_in)})
    texts = {chunk_id: row["text"] for chunk_id, row in candidates_read.items()}
    rows = [candidates_read[i] for i in _select(order, catalog.dense.kind, k, max_per_decision, texts)]
    vectors = [catalog.dense.vector(row["id"]) for row in rows]
    similarity = similarities(queries, vectors)
    hits = [Hit(id=row["id"], ref=row["metadata"]["ref"], paragraph=row["metadata"].get("para_first") or None,
                text=row["text"], metadata=row["metadata"], score=fused[row["id"]], similarity=sim,
                dense_rank=_rank(rankings[0], row["id"]), lexical_rank=_rank(rankings[1], row["id"]),
                lexical_score=lexical_scores.get(row["id"], 0.0))
            for row, sim in zip(rows, similarity)]
    return Retrieval(hits, filtered, vector, _clause_similarity(q, embedder, vectors))


def _clause_similarity(q: Question, embedder: Embeddings, vectors: list[Any]) -> float:
    """How close the hits (their `vectors`, already read) come to any one clause of a question told
    as a story (rag.understand `clauses`): the passage that matches one part of it is the evidence
    that it is answerable."""
    if not q.clauses or not vectors:
        return 0.0
    return max(similarities([embedder.embed_query(part) for part in q.clauses], vectors))


def _councils_named(q: Question, allowed: set[str] | None) -> set[str] | None:
    """The search narrowed to the decisions of the councils the question names (or, for a
    follow-up that names none, its context names): "why did Kent pay the mother?" wants Kent's
    words, not other councils' that happen to match.  Left alone when the filters exclude them."""
    narrowed = set(q.council_refs) if allowed is None else allowed & q.council_refs
    return narrowed or allowed


def similarities(queries: list[list[float]], vectors: list[Any]) -> list[float]:
    """Each chunk's best cosine to the question (or the question in its context); 0 if unknown."""
    if not vectors:
        return []
    q = np.asarray(queries, dtype=np.float32)
    q /= np.clip(np.linalg.norm(q, axis=1, keepdims=True), 1e-12, None)
    dim = q.shape[1]
    m = np.stack([np.zeros(dim, np.float32) if v is None else np.asarray(v, np.float32) for v in vectors])
    return (m @ q.T).max(axis=1).tolist()  # index rows are unit vectors already


def _rank(ranking: list[str], chunk_id: str) -> int | None:
    try:
        return ranking.index(chunk_id) + 1
    except ValueError:
        return None
