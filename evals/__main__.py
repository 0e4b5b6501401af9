"""`python -m evals [--set NAME|all] [--json] [--backend extractive|openai] [--no-baseline] [--rows FILE]`
`python -m evals --questions DIR --decisions DIR... [...]`: a set of your own (a held-out set, say)

Runs each question set over its own corpus through the public `rag` API, beside LangChain's
tutorial pipeline on the same corpus; prints a table per set (or one JSON object with `--json`),
writes evals/report.md (with the machine's CPU features and the embedder build), and exits 1 when
any figure falls below its set's limits in evals/thresholds.yaml, naming the questions that failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from evals.baseline import Baseline
from evals.report import ROWS, render, write
from evals.run import (
    EVALS_DIR,
    SETS,
    THRESHOLDS,
    add_set,
    check_thresholds,
    corpus_files,
    load_decisions,
    load_questions,
    score_question,
    store_name,
    summarise,
)
from rag import Bot, RagError, Settings
from rag.embed import MINILM_NAME
from rag.settings import PROJECT_ROOT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all", dest="which")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--backend", choices=["extractive", "openai"], default="extractive")
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / "var" / "evals",
                        help="where to build the evaluation stores, one folder per set (kept between runs)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the LangChain baseline")
    parser.add_argument("--report", type=Path, help="where to write the report (default evals/report.md; "
                        "for a set of your own, report.md in its questions folder)")
    parser.add_argument("--questions", type=Path, help="a set of your own: the folder of its questions*.yaml "
                        "files (same fields as evals/sets), asked over --decisions; it has no floors")
    parser.add_argument("--decisions", type=Path, nargs="+", default=[],
                        help="the folders or files of decisions the --questions set is asked over")
    parser.add_argument("--rows", type=Path, help="also save every question's result to this JSON file "
                        "(compare two with `python -m evals.compare BEFORE AFTER`)")
    return parser


def run_set(name: str, store: Path, backend: str = "extractive", with_baseline: bool = True,
            embedder: Any = None) -> dict:
    """Ingest the set's corpus into its own store, ask every question, score ours and the baseline's.
    `embedder`: the settings' own unless given (the tests compare the ONNX and PyTorch models)."""
    settings = Settings.from_env(store_dir=store / store_name(name) / "store", backend=backend)
    bot = Bot(settings, embedder=embedder)
    files = corpus_files(name)
    bot.ingest(files, prune=True)
    questions = load_questions(name)
    decisions = load_decisions(files)
    baseline = _baseline(files, bot) if with_baseline else None
    rows = [score_question(bot, q, decisions, baseline) for q in questions]
    summary = summarise(rows, questions)
    if backend == "openai":
        from evals.judge import judge

        verdicts = [v for v in (judge(bot, r) for r in rows) if v is not None]
        summary["faithfulness"] = round(sum(verdicts) / len(verdicts), 4) if verdicts else None
    return {"name": name, "decisions": len(decisions), "summary": summary, "rows": rows,
            "limits": limits_key(name, bot.embedder_name),
            "embedder": {"name": bot.embedder_name, "build": getattr(bot.embedder, "build", "?")}}


_BASELINES: dict[tuple, Baseline] = {}


def _baseline(files: list[Path], bot: Bot) -> Baseline:
    """The tutorial pipeline over these files with this model, built once for the sets that share them."""
    key = (tuple(files), bot.embedder_name)
    if key not in _BASELINES:
        _BASELINES[key] = Baseline(files, bot.embedder)
    return _BASELINES[key]


def limits_key(name: str, embedder: str) -> str:
    """The section of evals/thresholds.yaml for this set and embedder: another model has floors of
    its own (its figures differ), MiniLM's the plain set name."""
    return name if embedder == MINILM_NAME else f"{name}@{embedder.rsplit('/', 1)[-1]}"


def _print_table(result: dict) -> None:
    summary, base = result["summary"], result["summary"].get("baseline", {})
    print(f"\n{result['name']} set: {summary['questions']} questions over {result['decisions']} decisions")
    print(f"{'metric':34} {'project':>10} {'baseline':>10}")
    for key, _ in ROWS:
        print(f"{key:34} {str(summary.get(key)):>10} {str(base.get(key, '')):>10}")


def save_rows(path: Path, results: list[dict]) -> None:
    """Every question's result, per set, for `python -m evals.compare`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {r["name"]: {"embedder": r["embedder"], "summary": r["summary"], "rows": r["rows"]} for r in results}
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if bool(args.questions) != bool(args.decisions):
        print("error: --questions and --decisions go together: the folder of a set's questions*.yaml "
              "and the decisions it is asked over", file=sys.stderr)
        return 2
    report = args.report or (args.questions / "report.md" if args.questions else EVALS_DIR / "report.md")
    names = list(SETS) if args.which == "all" else [args.which]
    try:
        if args.questions:
            names = [add_set(args.questions, args.decisions)]
        results = [run_set(n, args.store, args.backend, not args.no_baseline) for n in names]
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    thresholds = yaml.safe_load(THRESHOLDS.read_text(encoding="utf-8")) or {}
    failed = {r["name"]: check_thresholds(r["summary"], thresholds.get(r["limits"]) or {},
                                          skip="baseline" if args.no_baseline else None) for r in results}
    command = "python -m evals " + " ".join(argv if argv is not None else sys.argv[1:])
    write(report, render(results, thresholds, command.strip()))
    if args.rows:
        save_rows(args.rows, results)
    if args.json:
        print(json.dumps({r["name"]: r["summary"] for r in results}))
    else:
        for result in results:
            _print_table(result)
    status = 0
    for result in results:
        if not failed[result["name"]]:
            continue
        status = 1
        for line in failed[result["name"]]:
            print(f"FAIL {result['name']}: {line}", file=sys.stderr)
        for r in result["rows"]:
            if r["problems"]:
                print(f"  {r['id']}: {'; '.join(r['problems'])}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
