"""Command line: `python -m rag ingest|ask ...` and `python ingest.py` are thin shells over `Bot`.

Every user mistake ends as one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.bot import Bot
from rag.errors import InputError, RagError
from rag.filters import Filters
from rag.ingest import Progress
from rag.models import Answer, IngestReport
from rag.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path,
                        help="decision files (.txt, .md, .jsonl) or folders; default: the bundled decisions")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument("--prune", action="store_true",
                        help="remove decisions whose source files are gone")
    parser.add_argument("--rebuild", action="store_true",
                        help="drop the collections first (needed after changing RAG_EMBEDDER)")


def progress_bar(json_output: bool) -> Callable[[int], Progress] | None:
    """A tqdm bar on stderr that appears only on long runs in a terminal."""
    if json_output:
        return None

    def start(total: int) -> Progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="decision", delay=2, disable=None, file=sys.stderr)

        def tick(n: int) -> None:
            bar.update(n)
            if bar.n >= total:
                bar.close()

        return tick

    return start


def format_report(report: IngestReport) -> str:
    return (
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.failed} failed; {report.chunks_written} chunks written; the store holds "
        f"{report.decisions} decisions in {report.chunks} chunks ({report.seconds:.1f} s)"
    )


def run_ingest(args: argparse.Namespace, bot: Bot) -> int:
    if args.rebuild:
        bot.rebuild()
    report = bot.ingest(args.paths or None, prune=args.prune, progress=progress_bar(args.json))
    for name, reason in report.failures:
        print(f"error: {name}: {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(format_report(report) + (f"; {report.pruned} pruned" if report.pruned else ""))
    return EXIT_FAILED if report.failed else EXIT_OK


def resolve_council(name: str | None, councils: list[str]) -> str | None:
    """A council as indexed, from an exact or unambiguous partial name ("Kent")."""
    if not name:
        return None
    exact = [c for c in councils if c.lower() == name.strip().lower()]
    partial = [c for c in councils if name.strip().lower() in c.lower()]
    if exact or len(partial) == 1:
        return (exact or partial)[0]
    choices = ", ".join(partial or councils) or "none indexed"
    raise InputError(f"--council {name!r} matches {'several' if partial else 'no'} indexed councils "
                     f"({choices}); give the full name")


def filters_from_args(args: argparse.Namespace, bot: Bot) -> Filters:
    return Filters.from_dict({
        "council": resolve_council(args.council, bot.catalog.councils()),
        "outcome": args.outcome, "category": args.category, "subcategory": args.subcategory,
        "since": args.since, "until": args.until, "financial_remedy": args.financial_remedy,
    })


def format_answer(answer: Answer) -> str:
    """The answer for a terminal: text, then each verified citation with its link."""
    lines = [answer.answer, ""]
    for notice in answer.notices:
        lines.append(f"Note: {notice}")
    shown = [c for c in answer.citations if c.verified]
    if shown:
        lines.append("Sources:")
    for c in shown:
        lines.append(f"[{c.n}] {c.reference()} ({c.outcome or 'outcome not stated'}; {c.section})")
        if c.url:
            lines.append(f"    {c.url}")
    lines.append(f"(answered by: {answer.backend})")
    return "\n".join(lines)


def run_ask(args: argparse.Namespace, bot: Bot) -> int:
    if bot.store.count_chunks() == 0:
        bot.ingest()
    answer = bot.ask(args.question, filters_from_args(args, bot))
    print(json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else format_answer(answer))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rag", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_ingest_arguments(sub.add_parser("ingest", help="load decision files into the store"))
    ask = sub.add_parser("ask", help="answer a question from the indexed decisions")
    ask.add_argument("question")
    ask.add_argument("--council", help="exact council name, or an unambiguous part of it")
    ask.add_argument("--outcome", help='e.g. "Upheld", "Not upheld", "Closed after initial enquiries"')
    ask.add_argument("--category", help="e.g. \"Children's care services\"")
    ask.add_argument("--subcategory", help='e.g. "Child protection"')
    ask.add_argument("--since", help="decisions on or after this date (YYYY-MM-DD)")
    ask.add_argument("--until", help="decisions on or before this date (YYYY-MM-DD)")
    ask.add_argument("--financial-remedy", action="store_true", help="only decisions with a payment")
    ask.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    return parser


COMMANDS = {"ingest": run_ingest, "ask": run_ask}


def main(argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    command = getattr(args, "command", None) or "ingest"
    try:
        bot = Bot(Settings.from_env())
        return COMMANDS[command](args, bot)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted: the store is consistent; run the same command again to finish",
              file=sys.stderr)
        return EXIT_INTERRUPTED
