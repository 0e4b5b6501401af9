"""The abstention check's scores on both eval sets, to set its thresholds for an embedder.

    python -m evals.calibrate [--store DIR]      (RAG_EMBEDDER chooses the embedder, as everywhere)

For every question that reaches the support check (not a set question, no unknown council, no
request for advice or a current figure), prints the support score that `rag.answer.supported`
compares with its threshold, split by set, by whether the question should be answered, and by
whether it names a council (which has its own, lower threshold) or a subject the index does not
cover (which has its own, higher one).  A threshold is chosen on one set
and confirmed on the other: the report shows where each set's unanswerable questions end and its
answerable ones begin, and what the thresholds now in force do on each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evals.run import SETS, corpus_files, load_questions
from rag.answer import narrowed, off_subject, support_score, thresholds
from rag.bot import Bot
from rag.embed import embedder_name
from rag.errors import RagError
from rag.settings import PROJECT_ROOT, Settings

GROUPS = ("no council named", "naming a council", "naming a subject the index does not cover")


def scores(name: str, store: Path) -> list[tuple[bool, int, float, str]]:
    """(should abstain, its group in GROUPS, support score, question id) for each checked question."""
    settings = Settings.from_env()
    bot = Bot(settings.model_copy(update={"store_dir": store / settings.embedder / name / "store"}))
    bot.ingest(corpus_files(name), prune=True)
    out = []
    for item in load_questions(name):
        context = item["history"][-1] if item.get("history") else ""  # as `Chat` passes it on, offline
        q = bot.understand(item["question"], item.get("filters"), context)
        if q.is_set or q.unknown_councils or q.asks_advice or q.asks_current:
            continue
        retrieval = bot.retrieve(q)
        if not retrieval.hits or narrowed(retrieval):
            continue
        value = support_score(q, retrieval, bot.catalog)
        group = 2 if off_subject(q) else 1 if q.council_refs else 0
        out.append((bool(item.get("abstain")), group, round(value, 3), item["id"]))
    return out


def report(name: str, rows: list[tuple[bool, int, float, str]], bars: tuple[float, float, float]) -> list[str]:
    lines = [f"{name}:"]
    for number, threshold in enumerate(bars):
        group = [r for r in rows if r[1] == number]
        no = sorted(r[2] for r in group if r[0])
        yes = sorted(r[2] for r in group if not r[0])
        wrong = [r[3] for r in group if (r[2] >= threshold) == r[0]]
        lines.append(f"  {GROUPS[number]} (threshold {threshold}): "
                     f"unanswerable {no[-5:]} ... answerable {yes[:5]} ...; {len(wrong)} on the wrong side"
                     + (f": {' '.join(wrong)}" if wrong else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / "var" / "calibrate")
    args = parser.parse_args(argv)
    name = embedder_name(Settings.from_env())
    bars = thresholds(name)
    print(f"embedder: {name}")
    try:
        for name in SETS:
            print("\n".join(report(name, scores(name, args.store), bars)))
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
