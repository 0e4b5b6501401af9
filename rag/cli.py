"""Command line: `python -m rag ingest|ask ...` and `python ingest.py` are thin shells over `Bot`.

Every user mistake ends as one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.bot import Bot
from rag.cli_fetch import run_fetch, run_probe
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
    parser.add_argument("--rebuild-indexes", action="store_true",
                        help="rebuild the derived search indexes whole from the store (they are otherwise "
                        "updated by the decisions that changed)")
    fetch = parser.add_argument_group("fetching from the LGO website (RAG_LGO_BASE_URL) into the archive")
    fetch.add_argument("--fetch-lgo", action="store_true",
                       help="archive new decisions from the LGO website, then ingest them")
    fetch.add_argument("--since", type=_date_arg, help="first decision date to list (default: a year ago)")
    fetch.add_argument("--until", type=_date_arg, help="last decision date to list (default: today)")
    fetch.add_argument("--category", default="children-s-care-services",
                       help="category slug as in the site's URLs (default: children-s-care-services)")
    fetch.add_argument("--limit", type=int, help="fetch at most this many new decisions")
    fetch.add_argument("--refetch", action="store_true", help="fetch again decisions already archived")
    fetch.add_argument("--probe", action="store_true",
                       help="fetch one listing page and one decision page (of the month of --until), print "
                            "what was read, and stop; writes nothing. Run it first")


def _date_arg(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2025-01-31") from None


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
    if getattr(args, "fetch_lgo", False):
        if args.paths:
            raise InputError("--fetch-lgo takes no paths; it ingests what it archives")
        if args.probe:
            return EXIT_OK if run_probe(args, bot) else EXIT_FAILED
        return EXIT_OK if run_fetch(args, bot, format_report) else EXIT_FAILED
    if getattr(args, "probe", False):
        raise InputError("--probe goes with --fetch-lgo: ingest.py --fetch-lgo --probe")
    if args.rebuild:
        bot.rebuild()
    report = bot.ingest(args.paths or None, prune=args.prune, progress=progress_bar(args.json),
                        rebuild_indexes=getattr(args, "rebuild_indexes", False))
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


def run_info(args: argparse.Namespace, bot: Bot) -> int:
    """For bug reports: the machine's CPU features, the embedding model as built and checked here."""
    info = bot.info()
    if args.json:
        print(json.dumps(info, indent=1))
        return EXIT_OK
    for section, values in info.items():
        print(f"{section}:")
        for key, value in values.items():
            if isinstance(value, dict):
                value = json.dumps(value)
            print(f"  {key}: {value}")
    return EXIT_OK


def run_show(args: argparse.Namespace, bot: Bot) -> int:
    """Decision files as the parser reads them: metadata, then each paragraph with its number
    ('?' after a number the layout lost and we counted)."""
    from rag.parse import parse_decision
    from rag.sources import read_file

    try:
        records = list(read_file(args.file, bot.settings.max_file_bytes))
    except OSError as exc:
        raise InputError(f"{args.file}: {exc.strerror or exc}") from None
    for record in records:
        if record.error:
            raise InputError(f"{record.name}: {record.error}")
        _print_decision(parse_decision(record.text, source=record.name, url=record.url, defaults=record.defaults))
    return EXIT_OK


def _print_decision(decision) -> None:  # noqa: ANN001 - a Decision
    mark = " [synthetic: written for our evaluations, not a real decision]" if decision.synthetic else ""
    print(f"{decision.council} ({decision.ref}){mark}")
    for label, value in (("category", decision.category), ("subcategory", decision.subcategory),
                         ("outcome", decision.outcome), ("date", decision.decision_date),
                         ("url", decision.url), ("summary", decision.summary)):
        print(f"  {label}: {value if value else '-'}")
    for p in decision.paragraphs:
        where = p.section_kind + (f" / {p.heading}" if p.heading else "")
        print(f"\n{p.number if p.exact else f'{p.number}?':>4} [{where}] {p.text}")


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
    info = sub.add_parser("info", help="the CPU features, embedding model build and store, for bug reports")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    show = sub.add_parser("show", help="a decision file as parsed: metadata and numbered paragraphs")
    show.add_argument("file", type=Path)
    return parser


COMMANDS = {"ingest": run_ingest, "ask": run_ask, "info": run_info, "show": run_show}


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
    except BrokenPipeError:
        return _output_closed()


def _output_closed() -> int:
    """The reader of our output went away (`... | head`): stop quietly, as other command-line
    tools do.  Later writes, including the interpreter's last flush, go to the null device."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_FAILED
