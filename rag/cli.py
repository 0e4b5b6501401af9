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
from rag.errors import RagError
from rag.ingest import Progress
from rag.models import IngestReport
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


def _progress_bar(json_output: bool) -> Callable[[int], Progress] | None:
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
    report = bot.ingest(args.paths or None, prune=args.prune, progress=_progress_bar(args.json))
    for name, reason in report.failures:
        print(f"error: {name}: {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(format_report(report) + (f"; {report.pruned} pruned" if report.pruned else ""))
    return EXIT_FAILED if report.failed else EXIT_OK


def run_ask(args: argparse.Namespace, bot: Bot) -> int:
    if bot.store.count_chunks() == 0:
        bot.ingest()
    hits = bot.search(args.question, k=args.k)
    if args.json:
        print(json.dumps({"question": args.question, "passages": hits}, default=str))
        return EXIT_OK
    print(f"Q: {args.question}\n")
    for n, hit in enumerate(hits, start=1):
        meta = hit["metadata"]
        where = f"paragraph {meta['para_first']}" if meta.get("para_first") else "summary"
        print(f"[{n}] {meta['council']} ({meta['ref']}), {meta.get('decision_date', 'date unknown')}, "
              f"{meta.get('outcome', 'outcome unknown')} - {meta['section']}, {where}")
        print(f"    \u201c{hit['text']}\u201d")
        if meta.get("url"):
            print(f"    {meta['url']}")
        print()
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rag", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_ingest_arguments(sub.add_parser("ingest", help="load decision files into the store"))
    ask = sub.add_parser("ask", help="answer a question from the indexed decisions")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=3, help="passages to show")
    ask.add_argument("--json", action="store_true")
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
