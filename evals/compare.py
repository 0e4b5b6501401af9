"""`python -m evals.compare BEFORE.json AFTER.json`: what a change did, set by set and half by half.

A rule tuned on one set must be checked on the other, and on the two halves of each, before it
lands (docs/evaluation.md).  Save each run's questions with `python -m evals --rows FILE` (before
and after the change, on the same machine), then this prints, for every set in both files, each
figure before and after over the whole set and over each half (the questions split by the parity
of the MD5 of their id, fixed for ever), and the questions whose problems changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from evals.run import SETS, load_questions, summarise

FIGURES = ("cited_decision@3", "cited_paragraph@3", "recall@5", "mrr", "citation_precision",
           "fact_coverage", "abstention_accuracy", "false_abstentions", "set_accuracy")


class CompareError(Exception):
    """A rows file that cannot be read; the message says which and why."""


def half(question_id: str) -> str:
    """'A' or 'B': a fixed split of the questions, independent of their order in the files."""
    return "AB"[int(hashlib.md5(question_id.encode("utf-8")).hexdigest(), 16) % 2]


def load_rows(path: Path) -> dict[str, list[dict]]:
    """{set name: its question rows} from a file written by `python -m evals --rows`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: list(entry["rows"]) for name, entry in data.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CompareError(f"{path}: not a rows file written by `python -m evals --rows` ({exc})") from exc


def _figures(rows: list[dict], questions: list[dict]) -> dict:
    asked = {r["id"] for r in rows}
    summary = summarise(rows, [q for q in questions if q["id"] in asked]) if rows else {}
    return {key: summary.get(key) for key in FIGURES}


def _cell(before, after) -> str:  # noqa: ANN001 - a figure or None
    if before == after:
        return "=" if before is None else f"{before}"
    return f"{before} -> {after}"


def _questions(name: str, rows: list[dict]) -> list[dict]:
    """What the figures need of the questions (which should be refused), from the rows themselves
    (a set of one's own is not registered here), or from the project's set for older rows files."""
    if all("should_abstain" in r for r in rows):
        return [{"id": r["id"], "abstain": r["should_abstain"]} for r in rows]
    if name not in SETS:
        raise CompareError(f"set {name!r}: its rows say not which questions should be refused; "
                           "write them again with this version of `python -m evals --rows`")
    return load_questions(name)


def compare_set(name: str, before: list[dict], after: list[dict]) -> list[str]:
    """The lines for one set: a table of figures (whole, half A, half B), then changed questions."""
    questions = _questions(name, after)
    shared = {r["id"] for r in before} & {r["id"] for r in after}
    before = [r for r in before if r["id"] in shared]
    after = [r for r in after if r["id"] in shared]
    parts = {"whole": (before, after)}
    for h in "AB":
        parts[f"half {h}"] = ([r for r in before if half(r["id"]) == h], [r for r in after if half(r["id"]) == h])
    tables = {label: (_figures(b, questions), _figures(a, questions)) for label, (b, a) in parts.items()}
    lines = [f"{name}: {len(shared)} questions in both files (half A {len(parts['half A'][0])}, "
             f"half B {len(parts['half B'][0])})", f"{'figure':20} " + " | ".join(f"{p:>24}" for p in parts)]
    for key in FIGURES:
        lines.append(f"{key:20} " + " | ".join(f"{_cell(tables[p][0][key], tables[p][1][key]):>24}" for p in parts))
    was = {r["id"]: set(r.get("problems", [])) for r in before}
    for row in after:
        gone, new = was[row["id"]] - set(row.get("problems", [])), set(row.get("problems", [])) - was[row["id"]]
        if gone or new:
            verdict = "better" if gone and not new else "worse" if new and not gone else "changed"
            detail = "; ".join([*(f"no longer: {p}" for p in sorted(gone)), *(f"now: {p}" for p in sorted(new))])
            lines.append(f"  {verdict:7} {row['id']} (half {half(row['id'])}): {detail}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.compare", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    try:
        old, new = load_rows(args.before), load_rows(args.after)
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    names = [n for n in old if n in new]
    if not names:
        print(f"error: {args.before} and {args.after} share no question set", file=sys.stderr)
        return 1
    try:
        for name in names:
            print("\n".join(compare_set(name, old[name], new[name])) + "\n")
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
