"""The command line of the fetcher: `ingest.py --fetch-lgo [--probe]`, its summary and exit status.

Nothing the site listed is lost without a word: every failed page is an `error:` line naming its
URL, every month not listed in full an `incomplete:` line, and the run ends unsuccessfully.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable

from rag.bot import Bot
from rag.errors import InputError
from rag.models import IngestReport


def _plan(args: argparse.Namespace, today: dt.date):  # noqa: ANN202 - a rag.archive.FetchPlan
    from rag.archive import FetchPlan

    plan = FetchPlan(since=args.since or today - dt.timedelta(days=365), until=args.until or today,
                     category=args.category, limit=args.limit, refetch=args.refetch)
    if plan.since > plan.until:
        raise InputError("--since is after --until")
    return plan


def run_fetch(args: argparse.Namespace, bot: Bot, format_ingest: Callable[[IngestReport], str]) -> bool:
    """Archive and ingest; True when every decision listed reached the archive and every month was
    listed in full (or the run stopped at --limit)."""
    today = dt.date.today()
    plan = _plan(args, today)
    bar = None if args.json else _fetch_bar()  # tqdm refuses bool() without a total: compare with None
    try:
        report, ingested = bot.fetch_lgo(plan, today, bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    for url, reason in report.failures:
        print(f"error: {url}: {reason}", file=sys.stderr)
    for month, reason in report.incomplete:
        print(f"incomplete: {month}: {reason}; it will be listed again", file=sys.stderr)
    if ingested:
        for name, reason in ingested.failures:
            print(f"error: {name}: {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps({"fetch": report.to_dict(), **(ingested.to_dict() if ingested else {})}))
    else:
        print(f"{report.listed} listed, {report.fetched} fetched, {report.skipped} skipped (archived before), "
              f"{report.disallowed} disallowed by robots.txt, {report.failed} failed; months: {report.months} "
              f"listed, {report.months_complete} complete, {report.months_empty} empty, {len(report.incomplete)} "
              f"incomplete; {report.requests} requests in {report.seconds:.1f} s; archive: "
              f"{bot.settings.archive_dir}")
        if ingested:
            print(format_ingest(ingested))
    return not (report.lost or (ingested and ingested.failed))


def run_probe(args: argparse.Namespace, bot: Bot) -> bool:
    """Print what one listing page and one decision page give today; True when nothing is amiss."""
    from rag.probe import format_probe

    today = dt.date.today()
    if args.until is None:  # the last full month: the current one may have no decisions yet
        args.until = today.replace(day=1) - dt.timedelta(days=1)
    plan = _plan(args, today)
    report = bot.probe_lgo(plan)
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else format_probe(report))
    for problem in report.problems:
        print(f"error: {problem}", file=sys.stderr)
    return not report.problems


def _fetch_bar():  # noqa: ANN202 - a tqdm bar
    from tqdm import tqdm

    return tqdm(unit="decision", desc="fetching", delay=2, disable=None, file=sys.stderr)
