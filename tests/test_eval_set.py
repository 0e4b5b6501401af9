"""The evaluation sets themselves: well formed, varied, and every gold paragraph and fact is really in
the decision it names (so a metric can never reward an answer the decision does not support).
Every set of `evals.run.SETS` is checked, each over its own corpus."""

from __future__ import annotations

from collections import Counter

import pytest

from evals.metrics import gold_pairs
from evals.run import SETS, corpus_files, load_decisions, load_questions
from rag.cite import normalise

KINDS = {"lookup", "principle", "remedy", "outcome", "filtered", "follow-up", "set",
         "unanswerable", "adversarial", "powers", "council", "fact"}
FIELDS = {"id", "kind", "question", "refs", "paragraphs", "facts", "answer"}
OPTIONAL = {"filters", "history", "abstain", "forbidden"}
# What each set must hold at least: questions, refusals expected, and questions of each kind.
MINIMUM = {
    "samples": (60, 8, {k: 3 for k in KINDS - {"powers", "council", "fact"}}),
    "synthetic": (80, 10, {"lookup": 10, "principle": 5, "powers": 8, "remedy": 5, "outcome": 5, "set": 10,
                           "council": 5, "fact": 5, "unanswerable": 10, "follow-up": 3, "filtered": 3,
                           "adversarial": 3}),
    "confirm": (40, 6, {"lookup": 8, "powers": 2, "council": 4, "fact": 2, "unanswerable": 6,
                        "follow-up": 2, "set": 2}),
    "mixed": (30, 4, {"lookup": 10, "powers": 4, "remedy": 3, "outcome": 3, "set": 4, "unanswerable": 4,
                      "follow-up": 1}),
    "fresh": (30, 8, {"set": 12, "unanswerable": 8, "fact": 6}),
}


@pytest.fixture(scope="module", params=list(SETS))
def evalset(request) -> tuple[str, list[dict], dict]:
    name = request.param
    return name, load_questions(name), load_decisions(corpus_files(name))


def test_eval_set_is_well_formed_and_varied(evalset):
    name, questions, _ = evalset
    least, refusals, per_kind = MINIMUM[name]
    assert len(questions) >= least
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)), "ids must be unique"
    for q in questions:
        assert FIELDS <= set(q) and set(q) <= FIELDS | OPTIONAL, q["id"]
        assert q["kind"] in KINDS, q["id"]
        assert q["question"].strip() and q["answer"].strip(), q["id"]
        if q.get("abstain"):
            assert not q["paragraphs"] and not q["facts"], q["id"]
        else:
            assert q["refs"] and q["facts"], q["id"]
    kinds = Counter(q["kind"] for q in questions)
    assert sum(1 for q in questions if q.get("abstain")) >= refusals
    for kind, least_of_kind in per_kind.items():
        assert kinds[kind] >= least_of_kind, f"too few {kind} questions: {kinds[kind]}"


def test_questions_are_not_copied_from_the_decisions(evalset):
    _, questions, decisions = evalset
    text = " ".join(normalise(d.text).lower() for d in decisions.values())
    for q in questions:
        words = normalise(q["question"]).lower().rstrip("?").split()
        for i in range(max(0, len(words) - 11)):
            window = " ".join(words[i : i + 12])
            assert window not in text, f"{q['id']} copies the decision: {window!r}"


def test_gold_paragraphs_and_facts_are_in_the_decisions(evalset):
    _, questions, decisions = evalset
    for q in questions:
        if q.get("abstain"):
            continue
        for ref in q["refs"]:
            assert ref in decisions, f"{q['id']}: unknown decision {ref}"
        gold_texts = []
        for ref, number in sorted(gold_pairs(q)):
            d = decisions[ref]
            text = d.summary if number == 0 else getattr(d.paragraph(number), "text", None)
            assert text or q["kind"] == "set", f"{q['id']}: {ref} has no paragraph {number}"
            gold_texts.append(text or "")
        whole = " ".join(normalise(decisions[r].text) for r in q["refs"])
        for fact in q["facts"]:
            assert normalise(fact) in whole, f"{q['id']}: fact {fact!r} is not in {q['refs']}"
        if q["kind"] not in ("set",):
            joined = " ".join(normalise(t) for t in gold_texts)
            assert any(normalise(f) in joined for f in q["facts"]), \
                f"{q['id']}: no fact is in a gold paragraph"


def test_gold_paragraphs_are_given_per_decision_when_there_are_several(evalset):
    """A bare list with several gold decisions would make, say, paragraph 3 of each of them gold,
    though only one decision's paragraph 3 answers (the others are allegations or background)."""
    _, questions, _ = evalset
    for q in questions:
        if len(q["refs"]) > 1 and q["kind"] != "set":
            assert isinstance(q["paragraphs"], dict), f"{q['id']}: give the paragraphs per decision"
            assert set(q["paragraphs"]) == set(q["refs"]), f"{q['id']}: paragraphs for each gold decision"


def test_synthetic_decisions_are_marked_in_name_and_text():
    files = corpus_files("synthetic")
    decisions = load_decisions(files)
    synthetic = [d for d in decisions.values() if d.synthetic]
    assert len(synthetic) >= 40
    confirm = load_decisions(corpus_files("confirm"))
    added = [d for ref, d in confirm.items() if ref not in decisions]
    assert len(added) == 15 and all(d.synthetic for d in added)
    mixed = load_decisions(corpus_files("mixed"))
    other = [d for ref, d in mixed.items() if ref not in confirm]
    assert len(other) == 8 and all(d.synthetic for d in other)
    assert all(d.category != "Children's care services" for d in other)
    for d in synthetic + list(mixed.values()):
        if not d.synthetic:
            continue
        assert d.url is None, f"{d.ref}: a synthetic decision must not link to the LGO website"
        assert "syn-" in (d.source or ""), f"{d.ref}: its file name must say it is synthetic"
        assert d.ref.split()[1].startswith("9"), f"{d.ref}: synthetic references use a 9 in the middle group"
    assert len({d.council for d in synthetic}) >= 12
    assert {d.subcategory for d in synthetic} >= {"Adoption", "Child protection", "Disabled children", "Fostering",
                                                 "Friends and family carers", "Looked after children", "Other"}
    assert {d.decision_date.year for d in synthetic if d.decision_date} >= set(range(2016, 2026))
