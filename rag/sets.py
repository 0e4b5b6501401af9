"""Questions about sets of decisions: "how many were closed after initial enquiries?", "which
upheld decisions are about special guardianship allowance?".

These are answered from the decisions' metadata (outcome, council, year and money named in the
question, on top of any filters the user set) and, when the question also names a topic, from
retrieval within that set.  Every decision listed is cited by a verified quote.
"""

from __future__ import annotations

from rag.catalog import Catalog
from rag.cite import citation_for
from rag.extractive import best_quote, decision_line
from rag.lexical import stems
from rag.models import Answer, Citation
from rag.retrieve import Hit, Retrieval
from rag.understand import Question

TOPIC_SIMILARITY = 0.35
STRONG_SIMILARITY = 0.55


def _about(hit: Hit, topic: str) -> bool:
    """Does a passage really concern the topic?  Close in meaning, or sharing most of its words."""
    wanted = set(stems(topic))
    shared = wanted & set(stems(hit.text))
    return hit.similarity >= TOPIC_SIMILARITY and (
        hit.similarity >= STRONG_SIMILARITY or len(shared) * 2 >= len(wanted)
    )


def _summary_hit(catalog: Catalog, ref: str, meta: dict) -> Hit | None:
    key = ref.replace(" ", "-")
    rows = catalog.get_chunks([f"{key}:summary:0", f"{key}:p001:0"])
    if not rows:
        return None
    row = rows[0]
    return Hit(id=row["id"], ref=ref, paragraph=row["metadata"].get("para_first") or None,
               text=row["text"], metadata=row["metadata"], score=0.0)


def answer_set(q: Question, catalog: Catalog, retrieve_topic) -> Answer:  # noqa: ANN001 - callable(topic) -> Retrieval
    """List (and count) the decisions the question describes, each cited."""
    question, filters, topic = q.asked, q.filters, q.topic
    matched = catalog.matching(filters) if filters.active else set(catalog.decisions)
    matched = {r for r in matched if all(catalog.decisions[r].get(k) != v for k, v in q.set_aside)}
    evidence: dict[str, Hit] = {}
    if topic and matched:
        retrieval: Retrieval = retrieve_topic(topic)
        for hit in retrieval.hits:
            if hit.ref not in evidence and _about(hit, topic):
                evidence[hit.ref] = hit
        matched = {r for r in matched if r in evidence}
    decisions = sorted(matched, key=lambda r: catalog.decisions[r].get("decision_date") or "", reverse=True)
    described = [filters.describe()] if filters.active else []
    described += [f"not {value}" for _, value in q.set_aside]
    scope = f" ({', '.join(described)})" if described else ""
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
        # The summary says what the decision was about and how it ended; where the topic was found
        # in another passage, that passage follows as the evidence.
        quoted = []
        summary = _summary_hit(catalog, ref, meta)
        if summary is not None:
            quoted.append((summary, summary.text))
        hit = evidence.get(ref)
        if hit is not None and (summary is None or hit.id != summary.id):
            quoted.append((hit, best_quote(topic, hit, {})))
        if not quoted:
            lines.append(f"- {decision_line(meta)}")
            continue
        parts = []
        for passage, quote in quoted:
            citations.append(citation_for(len(citations) + 1, passage, quote))
            parts.append(f"\u201c{citations[-1].quote}\u201d [{citations[-1].n}]")
        lines.append(f"- {decision_line(meta)}: " + " ".join(parts))
    return Answer(question=question, answer="\n".join(lines), citations=citations)
