"""`python -m evals [--json] [--backend extractive|openai] [--store DIR] [--no-baseline]`

Runs the question set through the public `rag` API, prints a table (or one JSON object with
`--json`), writes evals/report.md, and exits 1 when any figure falls below evals/thresholds.yaml,
naming the questions that failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from evals.baseline import Baseline
from evals.report import ROWS, render, write
from evals.run import (
    EVALS_DIR,
    THRESHOLDS,
    check_thresholds,
    load_decisions,
    load_questions,
    score_question,
    summarise,
)
from rag import Bot, RagError, Settings
from rag.settings import PROJECT_ROOT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--backend", choices=["extractive", "openai"], default="extractive")
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / "var" / "evals" / "store",
                        help="where to build the evaluation store (kept between runs)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the LangChain baseline")
    parser.add_argument("--report", type=Path, default=EVALS_DIR / "report.md")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(store_dir=args.store, backend=args.backend)
        bot = Bot(settings)
        bot.ingest([settings.data_dir])
        questions = load_questions()
        decisions = load_decisions(settings.data_dir)
        baseline = None if args.no_baseline else Baseline(sorted(settings.data_dir.glob("*.txt")), bot.embedder)
        rows = [score_question(bot, q, decisions, baseline) for q in questions]
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary = summarise(rows, questions)
    if args.backend == "openai":
        from evals.judge import judge

        verdicts = [v for v in (judge(bot, r) for r in rows) if v is not None]
        summary["faithfulness"] = round(sum(verdicts) / len(verdicts), 4) if verdicts else None
    thresholds = yaml.safe_load(THRESHOLDS.read_text(encoding="utf-8")) or {}
    failed = check_thresholds(summary, thresholds)
    command = "python -m evals " + " ".join(argv if argv is not None else sys.argv[1:])
    write(args.report, render(summary, rows, thresholds, command.strip()))
    if args.json:
        print(json.dumps(summary))
    else:
        base = summary.get("baseline", {})
        print(f"{'metric':24} {'project':>10} {'baseline':>10}")
        for key, _ in ROWS:
            print(f"{key:24} {str(summary.get(key)):>10} {str(base.get(key, '')):>10}")
    if failed:
        for line in failed:
            print(f"FAIL {line}", file=sys.stderr)
        for r in rows:
            if r["problems"]:
                print(f"  {r['id']}: {'; '.join(r['problems'])}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
