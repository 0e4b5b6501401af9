"""The evaluation set itself: well formed, varied, and every gold paragraph and fact is really in
the decision it names (so a metric can never reward an answer the decision does not support)."""

from __future__ import annotations

from collections import Counter

from evals.metrics import gold_pairs
from rag.cite import normalise

KINDS = {"lookup", "principle", "remedy", "outcome", "filtered", "follow-up", "set",
         "unanswerable", "adversarial"}
FIELDS = {"id", "kind", "question", "refs", "paragraphs", "facts", "answer"}
OPTIONAL = {"filters", "history", "abstain", "forbidden"}


def test_eval_set_is_well_formed_and_varied(eval_questions):
    assert len(eval_questions) >= 60
    ids = [q["id"] for q in eval_questions]
    assert len(ids) == len(set(ids)), "ids must be unique"
    for q in eval_questions:
        assert FIELDS <= set(q) and set(q) <= FIELDS | OPTIONAL, q["id"]
        assert q["kind"] in KINDS, q["id"]
        assert q["question"].strip() and q["answer"].strip(), q["id"]
        if q.get("abstain"):
            assert not q["paragraphs"] and not q["facts"], q["id"]
        else:
            assert q["refs"] and q["facts"], q["id"]
    kinds = Counter(q["kind"] for q in eval_questions)
    assert sum(1 for q in eval_questions if q.get("abstain")) >= 8
    for kind in KINDS:
        assert kinds[kind] >= 3, f"too few {kind} questions: {kinds[kind]}"


def test_questions_are_not_copied_from_the_decisions(eval_questions, seeds):
    text = " ".join(normalise(d.text).lower() for d in seeds.values())
    for q in eval_questions:
        words = normalise(q["question"]).lower().rstrip("?").split()
        for i in range(max(0, len(words) - 11)):
            window = " ".join(words[i : i + 12])
            assert window not in text, f"{q['id']} copies the decision: {window!r}"


def test_gold_paragraphs_and_facts_are_in_the_decisions(eval_questions, seeds):
    for q in eval_questions:
        if q.get("abstain"):
            continue
        for ref in q["refs"]:
            assert ref in seeds, f"{q['id']}: unknown decision {ref}"
        gold_texts = []
        for ref, number in sorted(gold_pairs(q)):
            d = seeds[ref]
            text = d.summary if number == 0 else getattr(d.paragraph(number), "text", None)
            assert text or q["kind"] == "set", f"{q['id']}: {ref} has no paragraph {number}"
            gold_texts.append(text or "")
        whole = " ".join(normalise(seeds[r].text) for r in q["refs"])
        for fact in q["facts"]:
            assert normalise(fact) in whole, f"{q['id']}: fact {fact!r} is not in {q['refs']}"
        if q["kind"] not in ("set",):
            joined = " ".join(normalise(t) for t in gold_texts)
            assert any(normalise(f) in joined for f in q["facts"]), \
                f"{q['id']}: no fact is in a gold paragraph"


def test_gold_paragraphs_are_given_per_decision_when_there_are_several(eval_questions):
    """A bare list with several gold decisions would make, say, paragraph 3 of each of them gold,
    though only one decision's paragraph 3 answers (the others are allegations or background)."""
    for q in eval_questions:
        if len(q["refs"]) > 1 and q["kind"] != "set":
            assert isinstance(q["paragraphs"], dict), f"{q['id']}: give the paragraphs per decision"
            assert set(q["paragraphs"]) == set(q["refs"]), f"{q['id']}: paragraphs for each gold decision"
