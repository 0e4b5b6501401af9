"""A question set kept outside the project (a held-out set) runs through `python -m evals
--questions DIR --decisions DIR...`, over decisions in any format `ingest` reads, beside the baseline."""

from __future__ import annotations

import json

import pytest
import yaml

from evals import run
from evals.__main__ import main
from evals.compare import main as compare
from tests.conftest import DECISIONS_DIR

QUESTIONS = [
    {"id": "held-father", "kind": "lookup", "refs": ["18 011 812"], "paragraphs": [25, 24, 22],
     "question": "Did the council accept that it should have brought the children's father into the assessment?",
     "facts": ["contact those with parental responsibility"], "answer": "Yes."},
    {"id": "held-none", "kind": "unanswerable", "abstain": True, "refs": [], "paragraphs": [], "facts": [],
     "question": "How much does a council pay to park in its town centre car parks?", "answer": "Not said."},
]


@pytest.fixture
def own_sets(monkeypatch):
    """Registering a set must not leak into the project's own sets."""
    monkeypatch.setattr(run, "SETS", dict(run.SETS))


def test_a_held_out_set_runs_over_its_own_decisions(tmp_path, own_sets, capsys):
    held = tmp_path / "held"
    held.mkdir()
    (held / "questions.yaml").write_text(yaml.safe_dump(QUESTIONS), encoding="utf-8")
    decisions = tmp_path / "decisions"
    decisions.mkdir()
    (decisions / "derbyshire.txt").write_text((DECISIONS_DIR / "18-011-812.txt").read_text(encoding="utf-8"),
                                              encoding="utf-8")
    record = {"text": (DECISIONS_DIR / "19-012-512.txt").read_text(encoding="utf-8"), "url": "https://example.org/x"}
    (decisions / "more.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    status = main(["--questions", str(held), "--decisions", str(decisions), "--store", str(tmp_path / "store"),
                   "--rows", str(tmp_path / "rows.json")])
    assert status == 0, capsys.readouterr().err
    result = json.loads((tmp_path / "rows.json").read_text(encoding="utf-8"))["held"]
    assert result["summary"]["questions"] == 2
    assert result["summary"]["cited_decision@3"] == 1.0 and result["summary"]["abstention_accuracy"] == 1.0
    assert 0 < result["summary"]["baseline"]["decision_recall@3"] <= 1.0  # the baseline read the JSONL record too
    assert "held set" in (held / "report.md").read_text(encoding="utf-8")
    assert "held set: 2 questions over 2 decisions" in capsys.readouterr().out
    # and compared run against run, though the project does not know the set
    assert compare([str(tmp_path / "rows.json"), str(tmp_path / "rows.json")]) == 0
    assert "held: 2 questions in both files" in capsys.readouterr().out


def test_a_held_out_set_is_refused_in_one_line_when_its_folders_are_wrong(tmp_path, own_sets, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--questions", str(empty), "--decisions", str(DECISIONS_DIR)]) == 1
    assert capsys.readouterr().err.strip() == f"error: {empty}: no questions*.yaml file in this folder"
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "questions.yaml").write_text(yaml.safe_dump(QUESTIONS), encoding="utf-8")
    assert main(["--questions", str(samples), "--decisions", str(DECISIONS_DIR)]) == 1
    assert "is part of the project; rename the folder" in capsys.readouterr().err
    assert main(["--questions", str(samples)]) == 2
