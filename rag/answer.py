"""From retrieved passages to an `Answer`: abstain, answer extractively, or say nothing matched.

Abstaining is part of being trustworthy: when no retrieved paragraph is close enough to the
question (a threshold calibrated on the evals' unanswerable questions), the user is told plainly
that the indexed decisions do not address it, and shown the closest decisions instead.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import replace

from langchain_core.language_models import BaseChatModel

from rag.cases import case_conclusion, case_passages, unsaid_word
from rag.catalog import Catalog
from rag.cite import QuoteFilter
from rag.errors import InputError
from rag.extractive import choose_passages, decision_line, extractive_answer
from rag.filters import Filters
from rag.guard import index_text, visible
from rag.lexical import DOMAIN_WORDS, EQUIVALENTS, FUNCTION_WORDS, stems
from rag.llm import INSTEAD, LLMFailure, stream_llm
from rag.models import Answer
from rag.mpnet import NAME as MPNET_NAME
from rag.retrieve import Hit, Retrieval, decisions_by_weight, leading_decision
from rag.understand import Question, states_fact

MAX_QUESTION_CHARS = 1000
NOT_ADDRESSED = "The indexed decisions do not address this question"

# Abstention.  A question is answered when the best passage's cosine similarity (MiniLM) plus
# COVERAGE_WEIGHT times the rarity-weighted share of the question's words found in the top passages
# reaches SUPPORT_THRESHOLD; or NAMED_SUPPORT_THRESHOLD when the question names a council whose
# decisions are indexed, because such a question is about those decisions and a looser match to
# their words is still on its subject.  A named council lowers the bar for being on the subject,
# never for stating a fact: a question asking for an amount, a rate or a date is answered only when
# a leading passage states one (see `states_the_fact`).  Calibrated December 2026 on the float
# MiniLM over both eval sets (non-set questions naming no council, once the fact, current-figure
# and advice checks have run): unanswerable up to 0.631 (synthetic; samples up to 0.597), answerable
# from 0.644 but for two outliers at 0.597 and 0.61; naming an indexed council, unanswerable 0.27
# (samples) and answerable from 0.36.  Recalibrate whenever the embedder or the retrieval changes.
# Checked again when words of grammar left the coverage (session 18, `python -m evals.calibrate`):
# no council named, samples unanswerable up to 0.601 and answerable from 0.714; synthetic, confirm
# answerable from 0.64; mixed unanswerable refused 6 -> 8 of 12 (the words they shared with passages
# were "how", "down", "much", "off"); the thresholds stand.
# A question told as a story is judged on its closest clause too (rag.understand `clauses`).  Session
# 19 (MiniLM, `python -m evals.compare`): confirm answerable refused 1 -> 0 (its support 0.640 -> 0.691);
# samples, synthetic, mixed, fresh unchanged, no unanswerable question newly answered; all-mpnet-base-v2
# unchanged on every set; blind questions over real decision excerpts (dev-only): answerable refused
# real 2 -> 1, realthird 5 -> 3, realconfirm 0 -> 0, unanswerable refused unchanged on all three.
SUPPORT_THRESHOLD = 0.64
NAMED_SUPPORT_THRESHOLD = 0.32
# all-mpnet-base-v2 (`python -m evals.calibrate`, December 2026; no council named / named):
# samples unanswerable up to 0.638 but for one at 0.688, answerable from 0.671 / 0.388 and 0.587;
# synthetic unanswerable 0.579 and three off-topic ones at 0.70-0.80, answerable from 0.647 / 0.616.
# Only 0.639-0.646 errs least on both sets together (so 0.64); 0.45 sits in the samples' gap with room.
MPNET_SUPPORT_THRESHOLD = 0.64
MPNET_NAMED_SUPPORT_THRESHOLD = 0.45
# A question naming one of the Ombudsman's subjects that the index does not cover (rag.subjects),
# and no council or case, is answered only when the passages bear on it as strongly as most
# answered questions do: the bar is the lower quartile of the scores of the answerable questions
# naming no council, rounded down to 0.05 (MiniLM, December 2026: synthetic 0.756, samples 0.758;
# all-mpnet-base-v2: 0.824 and 0.810).  The off-topic questions that name such a subject score
# 0.57-0.70 (MiniLM; MPNet 0.52-0.76): school transport in both sets, council tax banding and adult
# care charging in the synthetic one.  No answerable question of either set names such a subject,
# but children's questions can ("special educational needs", "residential care", a care leaver's
# "council tax"): the median (0.8 / 0.85) would refuse half of those, the lower quartile a quarter.
# A subject the passages hardly ever mention (rag.subjects UNHEARD_SHARE) meets this bar even when
# the question names a council: "How do I appeal a parking ticket Oakhurst gave me?" scored 0.35 and
# 0.41 (confirm set) against the named-council bar of 0.32 and was answered from Oakhurst's decisions.
OUTSIDE_SUPPORT_THRESHOLD = 0.75
MPNET_OUTSIDE_SUPPORT_THRESHOLD = 0.8
# Each embedder's cosines have their own scale, so each has its own thresholds (`python -m
# evals.calibrate` prints the scores on both sets).  all-mpnet-base-v2: see docs/evaluation.md.
CALIBRATED = {MPNET_NAME: (MPNET_SUPPORT_THRESHOLD, MPNET_NAMED_SUPPORT_THRESHOLD, MPNET_OUTSIDE_SUPPORT_THRESHOLD)}
COVERAGE_WEIGHT = 0.3
NARROW_FILTER_DECISIONS = 2  # a user who filtered down to this few decisions is asking about them
NARROW_MIN_SIMILARITY = 0.15


def closest_decisions(hits: list[Hit], limit: int = 3) -> list[str]:
    seen: dict[str, str] = {}
    for hit in hits:
        if hit.ref not in seen:
            seen[hit.ref] = decision_line(hit.metadata)
    return list(seen.values())[:limit]


def abstain(question: str, hits: list[Hit], reason: str | None = None) -> Answer:
    lines = [reason or "The indexed decisions do not address this question, so I cannot answer it "
             "from the Ombudsman's words."]
    closest = closest_decisions(hits)
    if closest:
        lines.append("The closest decisions in the index, which may still help, are:")
        lines += [f"- {label}" for label in closest]
    return Answer(question=question, answer="\n".join(lines), abstained=True,
                  retrieved=[h.id for h in hits])


def nothing_matches(question: str, filters: Filters | None) -> Answer:
    what = f" ({filters.describe()})" if filters is not None and filters.active else ""
    return Answer(
        question=question, abstained=True,
        answer=f"No indexed decision matches the filters{what}. Nothing outside them was searched; "
        "widen or clear the filters to search more decisions.",
    )


def coverage(question: str, hits: list[Hit], rarity: Callable[[str], float]) -> float:
    """Rarity-weighted share of the question's distinctive words found in the top passages (or
    their councils' names); 1.0 for a question with none.  A word the decisions never use weighs most.
    Words of grammar (FUNCTION_WORDS) are not the question's subject and are left out; a word the
    search reads as others ("kids" as "children", EQUIVALENTS) is found where those are.
    The top passages are the first three and the three closest in meaning: a verdict the ranking
    lifts to the top ("That was fault.") shares few of the question's words (session 15: on the
    first three alone, lifting verdicts refused a question the lifted paragraph answers; with both,
    samples and synthetic unchanged, confirm one false abstention fewer)."""
    wanted = set(stems(question)) - DOMAIN_WORDS - FUNCTION_WORDS
    if not wanted:
        return 1.0
    closest = {h.id: h for h in hits[:3] + sorted(hits, key=lambda h: -h.similarity)[:3]}.values()
    seen = set(stems(" ".join(f"{h.metadata.get('council', '')} {index_text(h.text)}" for h in closest)))
    total = sum(rarity(w) for w in wanted)
    found = [w for w in wanted if w in seen or EQUIVALENTS.get(w, frozenset()) & seen]
    return sum(rarity(w) for w in found) / total if total else 1.0


def support(question: str, hits: list[Hit], rarity: Callable[[str], float], clause_similarity: float = 0.0) -> float:
    """How well the passages bear on the question (see SUPPORT_THRESHOLD): the closest passage's
    similarity to the question, or to one of its clauses when the question is told as a story,
    and how many of its distinctive words the passages hold."""
    if not hits:
        return 0.0
    closest = max(max(h.similarity for h in hits), clause_similarity)
    return closest + COVERAGE_WEIGHT * coverage(question, hits, rarity)


def thresholds(embedder: str) -> tuple[float, float, float]:
    """(threshold, when a council is named, when a subject the index does not cover is named)
    for the store's embedder; MiniLM's by default."""
    return CALIBRATED.get(embedder, (SUPPORT_THRESHOLD, NAMED_SUPPORT_THRESHOLD, OUTSIDE_SUPPORT_THRESHOLD))


def off_subject(q: Question) -> bool:
    """The question names a subject the index does not cover, and no council or case of its own;
    or one the passages hardly ever mention, whatever it names (rag.subjects)."""
    return bool(q.unheard_subjects) or (bool(q.outside_subjects) and not (q.council_refs or q.refs))


def outside_reason(q: Question) -> str | None:
    """What a question about a subject the index does not cover is told (None for any other)."""
    if not off_subject(q):
        return None
    subject = (q.unheard_subjects or q.outside_subjects)[0]
    return (f"The indexed decisions do not cover {subject[:1].lower()}{subject[1:]}: none is filed under that "
            "subject and they hardly mention it, so I cannot answer this from the Ombudsman's words.")


def narrowed(retrieval: Retrieval) -> bool:
    """The user filtered down to a few decisions: a looser check applies (see `supported`)."""
    return retrieval.allowed is not None and len(retrieval.allowed) <= NARROW_FILTER_DECISIONS


def support_score(q: Question, retrieval: Retrieval, catalog: Catalog) -> float:
    """The score `supported` compares with the embedder's threshold (`python -m evals.calibrate`
    prints it for every eval question)."""
    return support(f"{q.search} {q.context}".strip(), retrieval.hits, catalog.lexical.rarity,
                   retrieval.clause_similarity)


def supported(q: Question, retrieval: Retrieval, catalog: Catalog) -> bool:
    if not retrieval.hits:
        return False
    if narrowed(retrieval):
        return max(h.similarity for h in retrieval.hits) >= NARROW_MIN_SIMILARITY
    plain, named, outside = thresholds(catalog.store.embedder)
    bar = outside if off_subject(q) else named if q.council_refs else plain
    return support_score(q, retrieval, catalog) >= bar


FACT_WORDS = {"amount": "amount", "rate": "rate", "date": "date", "duration": "length of time or number",
              "name": "name"}
# A question naming no council or case is searched in the answer's next decision too, for one
# passage.  Measured December 2026 (MiniLM, `python -m evals.compare`), tuned on the samples set:
# facts 0.938 -> 0.953, precision 0.940 -> 0.943; confirmed on the synthetic set: facts 0.819 ->
# 0.827, precision 0.864 -> 0.846 (the next decision is often not one the question is about);
# nothing else moved.  Two passages: the same facts, synthetic precision 0.834.  Naming a council
# and still searching another decision: the same facts, samples precision 0.940, synthetic 0.843.
OTHER_CASE_PASSAGES = 1
FACT_PASSAGES = 3  # the fact must be in one of the passages an answer would lead with


def states_the_fact(q: Question, hits: list[Hit]) -> bool:
    """A question asking for a specific fact (an amount, a rate, a date...) is answered only when
    one of the leading passages states a fact of that kind, council named or not.  When a council
    is named the question is about one of its cases, so the fact must come from the case the
    passages are most about: another of that council's decisions that happens to state an amount
    does not answer "how much did Westshire pay Mrs E for ...?"."""
    if q.fact_kind is None:
        return True
    lead = hits[:FACT_PASSAGES]
    if q.council_refs and hits:
        case = leading_decision(hits)
        lead = [h for h in lead if h.ref == case]
    return any(states_fact(q.fact_kind, h.text, q.fact_unit, q.sums) for h in lead)


def _not_upheld(hit: Hit) -> bool:
    return (hit.metadata.get("outcome") or "").strip().lower() == "not upheld"


def _no_payment(q: Question, retrieval: Retrieval, catalog: Catalog) -> Answer:
    """'How much did they get?' about a decision that upheld nothing: the answer is that it records
    no payment, in the words of that decision (its outcome passages first, its final decision read
    from the store when the ranking left it out).  Only for a question asking what was paid
    (`Question.asks_payment`): asked for a fee or a cost the decision never states, "no payment"
    would answer another question (confirm set: a foster carer's weekly skills fee), and asked
    what a council pays by the night or the week, a price, not a remedy (mixed set)."""
    hits = retrieval.hits
    lead = [h for h in hits if h.ref == hits[0].ref]
    lead += case_conclusion(hits[0].ref, retrieval, {h.id for h in lead}, catalog)
    lead.sort(key=lambda h: h.section_kind not in ("decision", "summary"))
    text, citations = extractive_answer(q.search, lead)
    intro = ("The closest decision records no payment: the Ombudsman did not uphold the complaint. "
             "Its words are below; they may not be about the matter you mean.")
    retrieved = list(dict.fromkeys([h.id for h in hits] + [h.id for h in lead]))
    return Answer(question=q.asked, answer=intro + "\n" + text, citations=citations, retrieved=retrieved)


def case_extras(q: Question, retrieval: Retrieval, catalog: Catalog) -> list[Hit]:
    """The passages an answer adds after its own, which the extractive answer quotes last and an
    LLM is given too: the leading case's passages where the question's words recur and how it
    ended (see rag.cases); and, for a question that names no council or case, the passage of the
    answer's next decision where they recur most: a general question is answered across decisions
    ("who looks into a complaint at stage two?" is said in one decision's words about its
    Independent Person, in another's about its procedure)."""
    if not retrieval.hits:
        return []
    chosen = choose_passages(retrieval.hits)
    quoted = {h.id for h in chosen}
    case = leading_decision(retrieval.hits)
    extras = case_passages(q, retrieval, quoted, catalog, case)
    extras += case_conclusion(case, retrieval, quoted | {h.id for h in extras}, catalog)
    others = [ref for ref in decisions_by_weight(chosen) if ref != case]
    if others and not (q.council_refs or q.refs):
        extras += case_passages(q, retrieval, quoted | {h.id for h in extras}, catalog, others[0],
                                OTHER_CASE_PASSAGES)
    return extras


def answer_from(q: Question, retrieval: Retrieval, catalog: Catalog, also: list[Hit] | None = None) -> Answer:
    """The extractive answer, or an abstention, for one retrieval."""
    question = q.asked
    if retrieval.allowed is not None and not retrieval.allowed:
        return nothing_matches(question, q.filters)
    hits = retrieval.hits
    if q.unknown_councils:
        return abstain(question, hits, f"No decision about {q.unknown_councils[0]} is in the index, so I "
                       "cannot answer this from the Ombudsman's words about it.")
    if q.asks_advice:
        return abstain(question, hits, "The decisions cannot predict how a complaint of your own would end or "
                       "advise you on it: each turns on its own facts. For advice, ask an advice service or a "
                       "solicitor; what the Ombudsman decided in similar cases may still help.")
    if q.asks_current:
        return abstain(question, hits, f"The decisions record what happened in each case at the time; they "
                       f"cannot tell you the {FACT_WORDS.get(q.fact_kind, 'figure')} as it stands today or across "
                       "cases. Ask the council (or the Ombudsman, for its own statistics) for current figures.")
    if not supported(q, retrieval, catalog):
        return abstain(question, hits, outside_reason(q))
    if not states_the_fact(q, hits):
        if q.fact_kind == "amount" and not q.fact_unit and q.asks_payment and _not_upheld(hits[0]):
            return _no_payment(q, retrieval, catalog)
        return abstain(question, hits, f"The closest passages do not state the {FACT_WORDS[q.fact_kind]} asked "
                       "for, so I cannot answer this from the Ombudsman's words.")
    named = sorted(q.refs or q.council_refs)
    unsaid = unsaid_word(q.claim, named, catalog) if q.claim and named else None
    if unsaid:
        return abstain(question, hits, f'The decisions named do not say that: none uses the word "{unsaid}", '
                       "so no passage of them can be quoted saying so.")
    also = case_extras(q, retrieval, catalog) if also is None else also  # given when an LLM needs them too
    text, citations = extractive_answer(q.search, hits, also)
    retrieved = [h.id for h in hits] + [h.id for h in also]
    return Answer(question=question, answer=text, citations=citations, retrieved=retrieved)


def spelling_noted(answer: Answer, q: Question) -> Answer:
    """The answer with a notice of the words read in the decisions' spelling ("Greyfriers" as
    "Greyfriars"), so that a user whose word was misread can see it and ask again."""
    if not q.respelled:
        return answer
    read = ", ".join(f'"{typed}" as "{spelled}"' for typed, spelled in q.respelled)
    return replace(answer, notices=[f"Read {read}, as the decisions spell it.", *answer.notices])


def check_question(question: str, limit: int = MAX_QUESTION_CHARS) -> str:
    """The question stripped of surrounding space and invisible characters (nothing a user meant to
    type, and a way to hide words from a reader of the log), or InputError for an empty or
    oversize one."""
    text = visible(question or "").strip()
    if not text:
        raise InputError("the question is empty; type a question about the decisions")
    if len(text) > limit:
        raise InputError(f"the question is {len(text):,} characters long; the limit is {limit:,}. "
                         "Shorten it to the point you want answered")
    return text


def stream_with_llm(model: BaseChatModel, question: str, hits: list[Hit], offline: Answer,
                    deadline: float) -> Generator[str, None, Answer]:
    """Stream the LLM's verified text; return its Answer, or `offline` with a notice if it failed
    or nothing it quoted could be verified."""
    checker = QuoteFilter(question, hits)
    pieces: list[str] = []
    try:
        for piece in stream_llm(model, question, hits, deadline):
            safe = checker.feed(piece)
            if safe:
                pieces.append(safe)
                yield safe
        pieces.append(checker.finish())
        if pieces[-1]:
            yield pieces[-1]
    except LLMFailure as exc:
        return replace(offline, notices=[*offline.notices, str(exc)])
    text = "".join(pieces).strip()
    if not checker.verified:
        if NOT_ADDRESSED.lower() in text.lower():
            return replace(abstain(question, hits), backend="openai")
        notice = f"The language model's answer had no quotation that could be verified; {INSTEAD}"
        return replace(offline, notices=[*offline.notices, notice])
    notices = []
    if checker.problems:
        notices.append(f"{len(checker.problems)} quotation(s) or reference(s) from the language model "
                       "could not be verified against the decisions and were removed.")
    return Answer(question=question, answer=text, citations=checker.numbered(), backend="openai",
                  notices=notices, retrieved=offline.retrieved)
