"""The evals' own arithmetic, so that a broken metric cannot hide a regression."""

from __future__ import annotations

from evals.baseline import holds
from evals.metrics import chunk_pair, decision_recall_at, gold_pairs, retrieval_scores
from evals.run import check_thresholds

Q = {"refs": ["18 011 812"], "paragraphs": [25, 24]}


def test_retrieval_scores():
    ranked = [{("18 009 360", 75)}, {("18 011 812", 9)}, {("18 011 812", 25)}]
    assert retrieval_scores(ranked, Q) == {"recall@5": 1.0, "mrr": 1 / 3, "decision_recall@3": 1.0}
    assert retrieval_scores([{("18 009 360", 1)}] * 6 + [{("18 011 812", 25)}], Q)["recall@5"] == 0.0
    assert decision_recall_at([{("a", 1)}, {("b", 1)}, {("c", 1)}, {("18 011 812", 1)}], Q) == 0.0


def test_gold_paragraphs_given_per_decision_count_only_in_that_decision():
    q = {"refs": ["18 011 812", "18 009 360"], "paragraphs": {"18 011 812": [13], "18 009 360": [15]}}
    assert gold_pairs(q) == {("18 011 812", 13), ("18 009 360", 15)}
    assert retrieval_scores([{("18 011 812", 15)}, {("18 009 360", 15)}], q)["mrr"] == 0.5
    assert gold_pairs({"refs": ["a", "b"], "paragraphs": [0]}) == {("a", 0), ("b", 0)}


def test_chunk_ids_map_to_paragraphs():
    assert chunk_pair("18-011-812:p025:1") == ("18 011 812", 25)
    assert chunk_pair("18-011-812:summary:0") == ("18 011 812", 0)


def test_baseline_chunk_holds_a_paragraph_only_with_a_whole_sentence():
    paragraph = ("These failures must have been upsetting to Mr C and this was an injustice. However, "
                 "the Council has apologised.")
    assert holds("x. These failures must have been upsetting to Mr C and this was an injustice. However", paragraph)
    assert not holds("... this was an injustice. However, the", paragraph)


def test_thresholds_fail_on_regression():
    thresholds = {"min": {"recall@5": 0.9, "quote_validity": 1.0}, "max": {"false_abstentions": 0}}
    ok = {"recall@5": 0.95, "quote_validity": 1.0, "false_abstentions": 0}
    assert check_thresholds(ok, thresholds) == []
    bad = {"recall@5": 0.85, "quote_validity": 1.0, "false_abstentions": 2}
    failed = check_thresholds(bad, thresholds)
    assert len(failed) == 2 and "recall@5" in failed[0] and "false_abstentions" in failed[1]
    assert check_thresholds({}, thresholds)  # a missing figure fails too


def test_decision_recall_gives_full_marks_when_gold_decisions_outnumber_k():
    # A principle stated in all five decisions: any three of them is a perfect top three (it
    # used to score 3/5, so the figure could never reach its target of 1.0).
    q = {"refs": ["a", "b", "c", "d", "e"], "paragraphs": [3]}
    assert decision_recall_at([{("c", 3)}, {("a", 3)}, {("e", 3)}], q) == 1.0
    assert decision_recall_at([{("c", 3)}, {("x", 3)}, {("e", 3)}], q) == 2 / 3


def _row(qid: str, hit: float, problems: list[str]) -> dict:
    return {"id": qid, "recall@5": hit, "mrr": hit, "decision_recall@3": hit, "cited_decision@3": hit,
            "cited_paragraph@3": hit, "citation_precision": hit, "quotes": [True], "fact_coverage": hit,
            "abstained": False, "forbidden": [], "seconds": 0.01, "problems": problems}


def test_compare_reports_each_half_and_the_questions_that_changed(tmp_path, capsys):
    """`python -m evals.compare` is how a rule is checked on both sets and both halves before it
    lands: figures before -> after for the whole set and each half, and each question that changed."""
    import hashlib
    import json

    from evals.compare import half, main
    from evals.run import load_questions

    ids = [q["id"] for q in load_questions("samples") if not q.get("abstain") and q["kind"] != "set"][:6]
    first_missed = [_row(ids[0], 0.0, ["x"])] + [_row(i, 1.0, []) for i in ids[1:]]
    before = {"samples": {"rows": first_missed}}
    after = {"samples": {"rows": [_row(i, 1.0, []) for i in ids]}}
    (tmp_path / "before.json").write_text(json.dumps(before), encoding="utf-8")
    (tmp_path / "after.json").write_text(json.dumps(after), encoding="utf-8")
    assert main([str(tmp_path / "before.json"), str(tmp_path / "after.json")]) == 0
    out = capsys.readouterr().out
    assert f"samples: {len(ids)} questions in both files" in out
    assert "half A" in out and "half B" in out
    assert f"{round(5 / len(ids), 4)} -> 1.0" in out  # the whole set
    assert f"better  {ids[0]} (half {half(ids[0])}): no longer: x" in out
    assert all(half(i) == "AB"[int(hashlib.md5(i.encode()).hexdigest(), 16) % 2] for i in ids)  # fixed split


def test_compare_names_a_file_it_cannot_read(tmp_path, capsys):
    from evals.compare import main

    bad = tmp_path / "report.md"
    bad.write_text("# not rows", encoding="utf-8")
    assert main([str(bad), str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: not a rows file") and err.count("\n") == 1
