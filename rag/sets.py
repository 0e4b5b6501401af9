"""Questions about sets of decisions: "how many were closed after initial enquiries?", "which
upheld decisions are about special guardianship allowance?".

These are answered from the decisions' metadata (outcome, council, year and money named in the
question, on top of any filters the user set) and, when the question also names a topic, from
retrieval within that set.  Every decision listed is cited by a verified quote.
"""

from __future__ import annotations

import dataclasses
import re

from rag.catalog import Catalog
from rag.cite import citation_for
from rag.extractive import best_quote, decision_line
from rag.filters import Filters
from rag.lexical import stems
from rag.models import Answer, Citation
from rag.retrieve import Hit, Retrieval
from rag.store import Store

_SET_QUESTION = re.compile(
    r"^\s*(?:how many\b|(?:which|what|list|show(?: me)?|are there|find)\b.*\b(?:decisions|cases)\b)",
    re.I,
)
_MONEY = re.compile(r"\b(?:paid|pay|payments?|compensation|financial remedy|money)\b", re.I)
_YEAR = re.compile(r"\b(in|since|from|after|before|until)\s+((?:19|20)\d{2})\b", re.I)
_SET_WORDS = set(stems(
    "how many which what list show me are there find decisions decision cases case complaints "
    "complaint were was been have has about involve involving concern concerning the ombudsman "
    "council councils indexed index paid pay payment payments compensation financial remedy money "
    "closed after initial enquiries upheld not in since from before until "
    # everyday words that say nothing about a topic
    "ended end ending made make being family families child children parent parents people person "
    "involved anything something any some all every did does do"
))
GENERIC_SHARE = 0.08  # a word in more than this share of passages names no topic
TOPIC_SIMILARITY = 0.35
STRONG_SIMILARITY = 0.55


def is_set_question(question: str) -> bool:
    return bool(_SET_QUESTION.search(question))


def parse_set_filters(question: str, catalog: Catalog, base: Filters | None) -> Filters:
    """The filters the question's own words add to the user's."""
    base = base or Filters()
    lowered = question.lower()
    changes: dict = {}
    outcomes = sorted({m.get("outcome") for m in catalog.decisions.values() if m.get("outcome")},
                      key=len, reverse=True)
    for outcome in outcomes:  # longest first: "not upheld" before "upheld"
        if outcome.lower() in lowered:
            changes["outcome"] = outcome
            break
    else:
        if re.search(r"\bclosed\b|\bnot investigated\b", lowered):
            closed = [o for o in outcomes if o.lower().startswith("closed")]
            changes["outcome"] = closed[0] if closed else "Closed after initial enquiries"
    councils = {catalog.decisions[r]["council"] for r in catalog.council_refs_in(question)}
    if len(councils) == 1:
        changes["council"] = councils.pop()
    for word, year in _YEAR.findall(question):
        word = word.lower()
        if word in ("in", "since", "from", "after"):
            changes["since"] = _day(year, 1, 1) if word != "after" else _day(str(int(year) + 1), 1, 1)
        if word in ("in", "from", "before", "until"):
            changes["until"] = _day(year, 12, 31) if word != "before" else _day(str(int(year) - 1), 12, 31)
    if _MONEY.search(question):
        changes["financial_remedy"] = True
    for key, value in changes.items():  # the user's own filters win; a clash matches nothing
        if getattr(base, key) not in (None, False) and getattr(base, key) != value:
            changes[key] = getattr(base, key)
    return dataclasses.replace(base, **changes)


def _day(year: str, month: int, day: int):  # noqa: ANN202
    import datetime as dt

    return dt.date(int(year), month, day)


def topic_of(question: str, catalog: Catalog) -> str:
    """What is left of the question once set words, council names and words found in most
    passages are taken out."""
    councils = {w for c in catalog.councils() for w in stems(c)}
    lexical = catalog.lexical
    common = {w for w, n in lexical.doc_freq.items() if n > GENERIC_SHARE * max(1, len(lexical))}
    words = re.findall(r"[A-Za-z][A-Za-z'\u2019-]+", question)
    kept = [w for w in words if stems(w) and stems(w)[0] not in _SET_WORDS | councils | common]
    return " ".join(kept)


def _about(hit: Hit, topic: str) -> bool:
    """Does a passage really concern the topic?  Close in meaning, or sharing most of its words."""
    wanted = set(stems(topic))
    shared = wanted & set(stems(hit.text))
    return hit.similarity >= TOPIC_SIMILARITY and (
        hit.similarity >= STRONG_SIMILARITY or len(shared) * 2 >= len(wanted)
    )


def _summary_hit(store: Store, ref: str, meta: dict) -> Hit | None:
    key = ref.replace(" ", "-")
    rows = store.get_chunks([f"{key}:summary:0", f"{key}:p001:0"])
    if not rows:
        return None
    row = rows[0]
    return Hit(id=row["id"], ref=ref, paragraph=row["metadata"].get("para_first") or None,
               text=row["text"], metadata=row["metadata"], score=0.0)


def answer_set(question: str, filters: Filters, catalog: Catalog, store: Store,
               retrieve_topic) -> Answer:  # noqa: ANN001 - callable(question, filters) -> Retrieval
    """List (and count) the decisions the question describes, each cited."""
    matched = catalog.matching(filters) if filters.active else set(catalog.decisions)
    topic = topic_of(question, catalog)
    evidence: dict[str, Hit] = {}
    if topic and matched:
        retrieval: Retrieval = retrieve_topic(topic, filters)
        for hit in retrieval.hits:
            if hit.ref not in evidence and _about(hit, topic):
                evidence[hit.ref] = hit
        matched = {r for r in matched if r in evidence}
    decisions = sorted(matched, key=lambda r: catalog.decisions[r].get("decision_date") or "", reverse=True)
    scope = f" ({filters.describe()})" if filters.active else ""
    about = f" about \u201c{topic}\u201d" if topic else ""
    if not decisions:
        return Answer(question=question, abstained=True,
                      answer=f"No indexed decision{scope} is{about or ' a match'}. Nothing outside "
                      "the filters was searched.")
    total = len(catalog.decisions)
    verb = "matches" if len(decisions) == 1 else "match"
    lines = [f"{len(decisions)} of the {total} indexed decisions {verb}{scope}{about}:"]
    citations: list[Citation] = []
    for ref in decisions:
        meta = catalog.decisions[ref]
        hit = evidence.get(ref) or _summary_hit(store, ref, meta)
        if hit is None:
            lines.append(f"- {decision_line(meta)}")
            continue
        quote = best_quote(question, hit, {}) if topic and ref in evidence else hit.text  # a summary, whole
        citation = citation_for(len(citations) + 1, hit, quote)
        citations.append(citation)
        lines.append(f"- {decision_line(meta)}: \u201c{citation.quote}\u201d [{citation.n}]")
    return Answer(question=question, answer="\n".join(lines), citations=citations)
