"""Run a question set through the public `rag` API and the baseline, and score both.

There are five sets, each asked over its own corpus and reported apart (a rule tuned on one must
hold on the others): `samples`, written about the five bundled real decisions; `synthetic`,
written blind (by someone who had not seen the retrieval rules) over 46 synthetic decisions in
data/synthetic plus the five samples as distractors; `confirm`, written blind in session 15
over 15 more synthetic decisions in data/confirm, asked over all 66 (first measured before any
rule was tuned to it: a check of how the rules carry to decisions nobody tuned for); and `mixed`,
written blind in session 16 over 8 more synthetic decisions filed under other categories than
children's care (data/mixed: adult care, health, education, housing, council tax), asked over
all 74, as an index of more than one category is; and `fresh`, written blind in session 17 over the
same 74 (set questions in everyday words, unanswerable questions close to what the decisions cover,
specific facts in the user's own words), first run before any change it led to.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from evals.baseline import MAX_FILE_BYTES, Baseline, ranked_decisions, ranked_paragraphs
from evals.metrics import (
    answer_scores,
    baseline_citation_scores,
    chunk_pair,
    citation_scores,
    mean,
    median,
    percentile,
    retrieval_scores,
)
from rag import Bot, Decision, parse_decision
from rag.errors import InputError
from rag.models import Answer
from rag.settings import PROJECT_ROOT
from rag.sources import find_files, read_file

EVALS_DIR = Path(__file__).resolve().parent
QUESTION_FILES = "questions*.yaml"
THRESHOLDS = EVALS_DIR / "thresholds.yaml"
DATA = PROJECT_ROOT / "data"
# Each set: the folder of its questions and the folders of decisions it is asked over.
SETS = {
    "samples": (EVALS_DIR / "sets" / "samples", (DATA / "decisions",)),
    "synthetic": (EVALS_DIR / "sets" / "synthetic", (DATA / "decisions", DATA / "synthetic")),
    "confirm": (EVALS_DIR / "sets" / "confirm", (DATA / "decisions", DATA / "synthetic", DATA / "confirm")),
    "mixed": (EVALS_DIR / "sets" / "mixed",
              (DATA / "decisions", DATA / "synthetic", DATA / "confirm", DATA / "mixed")),
    "fresh": (EVALS_DIR / "sets" / "fresh",
              (DATA / "decisions", DATA / "synthetic", DATA / "confirm", DATA / "mixed")),
}


def store_name(name: str) -> str:
    """The first set asked over the same decisions: sets sharing a corpus share its store, so it is
    built (and its model run over the decisions) once."""
    return next(other for other in SETS if SETS[other][1] == SETS[name][1])


def load_questions(name: str = "samples") -> list[dict]:
    """Every question file of a set (questions.yaml, questions_more.yaml...), in name order."""
    questions: list[dict] = []
    for path in sorted(SETS[name][0].glob(QUESTION_FILES)):
        questions += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return questions


def add_set(questions: Path, decisions: list[Path]) -> str:
    """Register a set kept outside the project (`python -m evals --questions DIR --decisions DIR...`):
    its questions*.yaml files in `questions`, asked over the decision files under `decisions` (any
    format `ingest` reads).  Named after its questions folder; a held-out set is run this way without
    copying it into evals/sets."""
    for path in [questions, *decisions]:
        if not path.exists():
            raise InputError(f"{path}: no such folder; give the folder of questions*.yaml files and the "
                             "folders (or files) of the decisions they are asked over")
    if not sorted(questions.glob(QUESTION_FILES)):
        raise InputError(f"{questions}: no {QUESTION_FILES} file in this folder")
    name = questions.resolve().name
    if name in SETS and SETS[name][0] != questions:
        raise InputError(f"{questions}: a set called {name!r} is part of the project; rename the folder")
    SETS[name] = (questions, tuple(decisions))
    return name


def corpus_files(name: str) -> list[Path]:
    """The set's decision files, in the order and formats `ingest` reads them."""
    files, problems = find_files(SETS[name][1])
    if problems:
        raise InputError(f"{problems[0][0]}: {problems[0][1]}")
    return files


def load_decisions(files: list[Path]) -> dict[str, Decision]:
    """Every decision in the files by reference, parsed as `ingest` parses them (page copies,
    dataset records with their metadata)."""
    decisions = {}
    for path in files:
        for record in read_file(path, MAX_FILE_BYTES):
            if record.error:
                raise InputError(f"{record.name}: {record.error}")
            d = parse_decision(record.text, source=record.name, url=record.url, defaults=record.defaults)
            decisions[d.ref] = d
    return decisions


def retrieval_applies(q: dict) -> bool:
    """Paragraph retrieval is scored on questions with a gold paragraph (not sets, not abstentions)."""
    return not q.get("abstain") and q["kind"] != "set"


def ask(bot: Bot, q: dict) -> tuple[Answer, float]:
    """The bot's answer to the question (after its conversation history), and seconds taken."""
    if q.get("history"):
        chat = bot.chat(q.get("filters"))
        for earlier in q["history"]:
            chat.ask(earlier)
        started = time.perf_counter()
        return chat.ask(q["question"]), time.perf_counter() - started
    started = time.perf_counter()
    return bot.ask(q["question"], q.get("filters")), time.perf_counter() - started


def _problems(q: dict, row: dict) -> list[str]:
    out = []
    if q.get("abstain"):
        if not row["abstained"]:
            out.append("should have abstained")
    elif row["abstained"]:
        out.append("abstained on an answerable question")
    if row.get("recall@5") == 0.0:
        out.append("no gold paragraph in the first five retrieved")
    if row.get("decision_recall@3", 1.0) < 1.0:
        out.append("gold decision not among the first three")
    if row.get("cited_decision@3") == 0.0:
        out.append("no gold decision in the first three citations")
    if row["fact_coverage"] is not None and row["fact_coverage"] < 1.0:
        out.append("a key fact is missing from the answer")
    if not all(row["quotes"]):
        out.append("a quote is not verbatim in its paragraph")
    if row["forbidden"]:
        out.append(f"said what it must not: {row['forbidden']}")
    if q["kind"] == "set" and not q.get("abstain") and not row["set_exact"]:
        out.append("listed the wrong decisions")
    return out


def score_question(bot: Bot, q: dict, decisions: dict[str, Decision], baseline: Baseline | None) -> dict:
    answer, seconds = ask(bot, q)
    row: dict[str, Any] = {"id": q["id"], "kind": q["kind"], "question": q["question"],
                           "should_abstain": bool(q.get("abstain")), "seconds": seconds, "answer": answer.to_dict()}
    row.update(answer_scores(answer, q, decisions))
    if q["kind"] == "set":
        row["set_exact"] = {c.ref for c in answer.citations if c.verified} == set(q["refs"])
    if retrieval_applies(q):
        row.update(retrieval_scores([{chunk_pair(i)} for i in answer.retrieved], q))
        if not answer.abstained:
            row.update(citation_scores(answer, q))
        if baseline is not None:
            docs = baseline.search(q["question"])
            ranked = ranked_paragraphs(docs, decisions)
            row["baseline"] = {**retrieval_scores(ranked, q),
                               **baseline_citation_scores(ranked, ranked_decisions(docs, decisions), q)}
    row["problems"] = _problems(q, row)
    return row


def summarise(rows: list[dict], questions: list[dict]) -> dict[str, Any]:
    by_id = {q["id"]: q for q in questions}
    retrieval = [r for r in rows if "recall@5" in r]
    abstain = [r for r in rows if by_id[r["id"]].get("abstain")]
    answerable = [r for r in rows if not by_id[r["id"]].get("abstain")]
    sets = [r for r in rows if "set_exact" in r]
    quotes = [ok for r in rows for ok in r["quotes"]]
    latencies = [r["seconds"] * 1000 for r in rows]
    summary = {
        "questions": len(rows),
        "recall@5": mean([r["recall@5"] for r in retrieval]),
        "mrr": mean([r["mrr"] for r in retrieval]),
        "decision_recall@3": mean([r["decision_recall@3"] for r in retrieval]),
        # an answer the user reads: what its first three citations are (abstentions count as misses)
        "cited_decision@3": mean([r.get("cited_decision@3", 0.0) for r in retrieval]),
        "cited_paragraph@3": mean([r.get("cited_paragraph@3", 0.0) for r in retrieval]),
        "citation_precision": mean([r["citation_precision"] for r in rows]),
        "quote_validity": round(sum(quotes) / len(quotes), 4) if quotes else 1.0,
        "fact_coverage": mean([r["fact_coverage"] for r in answerable]),
        "abstention_accuracy": mean([float(r["abstained"]) for r in abstain]),
        "false_abstentions": sum(1 for r in answerable if r["abstained"]),
        "forbidden_violations": sum(1 for r in rows if r["forbidden"]),
        "set_accuracy": mean([float(r["set_exact"]) for r in sets]),
        "latency_p50_ms": round(median(latencies), 1),
        "latency_p95_ms": round(percentile(latencies, 95), 1),
    }
    with_baseline = [r for r in retrieval if "baseline" in r]
    if with_baseline:
        summary["baseline"] = {key: mean([r["baseline"][key] for r in with_baseline])
                               for key in ("recall@5", "mrr", "decision_recall@3", "cited_decision@3",
                                           "cited_paragraph@3")}
        summary["recall_gain_over_baseline"] = round(summary["recall@5"] - summary["baseline"]["recall@5"], 4)
        summary["cited_decision_gain_over_baseline"] = round(
            summary["cited_decision@3"] - summary["baseline"]["cited_decision@3"], 4)
    return summary


def check_thresholds(summary: dict, thresholds: dict, skip: str | None = None) -> list[str]:
    """One line per figure outside its threshold (figures whose name holds `skip` left out: the
    gains over the baseline when it did not run)."""
    failed = []
    for key, floor in (thresholds.get("min") or {}).items():
        if skip and skip in key:
            continue
        value = summary.get(key)
        if value is None or value < floor:
            failed.append(f"{key} = {value} is below the threshold {floor}")
    for key, ceiling in (thresholds.get("max") or {}).items():
        value = summary.get(key)
        if value is None or value > ceiling:
            failed.append(f"{key} = {value} is above the threshold {ceiling}")
    return failed
