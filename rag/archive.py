"""The local archive of LGO decision pages, and the run that fills it from the website.

The LGO removes ordinary decisions from its site after about five years, so the archive is often
the only copy users can reach: nothing in it is ever deleted, and a decision is fetched once.
Layout under `RAG_ARCHIVE_DIR`:

    decisions/<yy-nnn-nnn>.html   the page as fetched
    decisions/<yy-nnn-nnn>.txt    its statement as text, official paragraph numbers written in
    decisions/<yy-nnn-nnn>.json   url, fetch time, SHA-256 of the page, category and subcategory
    failed/<yy-nnn-nnn>.html      pages that could not be parsed, with .json saying why
    checkpoints.json              month windows already listed in full, per category

A run is resumable: archived decisions are skipped, so an interrupted run picks up where it
stopped.  A month is checkpointed (never listed again) only when the site's result count was read,
as many decisions were listed as it says, and every one of them in the category is archived:
none failed, none was left by `--limit` or refused by robots.txt.  Anything else is reported and
the month is listed again by the next run.  Months with no results, and months within
RECENT_DAYS of today (the site publishes late), are never checkpointed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.errors import RagError
from rag.fetch import FetchError, PoliteClient
from rag.lgo_html import html_to_text
from rag.listing import Listed, list_window, listing_path, month_windows
from rag.parse import parse_decision

RECENT_DAYS = 90  # windows this close to today are listed again: the site publishes late


@dataclass
class FetchReport:
    """What one fetch run did; `failures` holds (url, reason) pairs, `incomplete` (month, reason)
    for months listed but not in full, which the next run lists again."""

    listed: int = 0
    fetched: int = 0
    skipped: int = 0
    disallowed: int = 0  # listed, but robots.txt asks us not to fetch them
    failed: int = 0
    months: int = 0  # months listed by this run
    months_complete: int = 0  # listed in full, every decision archived
    months_empty: int = 0  # the site listed no decisions (not checkpointed)
    requests: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    incomplete: list[tuple[str, str]] = field(default_factory=list)
    new_files: list[str] = field(default_factory=list)

    @property
    def lost(self) -> bool:
        """Did anything listed, or listable, not reach the archive (apart from --limit)?"""
        return bool(self.failed or self.disallowed or self.incomplete)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["failures"] = [{"url": u, "reason": r} for u, r in self.failures]
        out["incomplete"] = [{"month": m, "reason": r} for m, r in self.incomplete]
        return out


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)


class Archive:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.decisions = folder / "decisions"
        self.failed = folder / "failed"
        self._checkpoints = folder / "checkpoints.json"

    def page_path(self, ref_key: str) -> Path:
        return self.decisions / f"{ref_key}.html"

    def pages(self) -> list[Path]:
        """Every archived decision page (those whose record was written)."""
        return sorted(p.with_suffix(".html") for p in self.decisions.glob("*.json")
                      if p.with_suffix(".html").exists())

    def has(self, ref_key: str) -> bool:
        """Archived already: its record (written last) is there."""
        return (self.decisions / f"{ref_key}.json").exists()

    def save(self, item: Listed, page: str, text: str, fetched_at: str) -> Path:
        """Page, text, then the record, so a half-written decision is fetched again."""
        self.decisions.mkdir(parents=True, exist_ok=True)
        raw = page.encode("utf-8")
        _write_atomic(self.page_path(item.ref_key), raw)
        _write_atomic(self.decisions / f"{item.ref_key}.txt", text.encode("utf-8"))
        record = {"url": item.url, "fetched_at": fetched_at, "sha256": hashlib.sha256(raw).hexdigest(),
                  "category": item.category, "subcategory": item.subcategory}
        _write_atomic(self.decisions / f"{item.ref_key}.json", json.dumps(record, indent=1).encode("utf-8"))
        return self.page_path(item.ref_key)

    def save_failed(self, item: Listed, page: str, reason: str, fetched_at: str) -> None:
        """Keep a page that could not be parsed, raw, for a later retry or a parser fix."""
        self.failed.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.failed / f"{item.ref_key}.html", page.encode("utf-8"))
        record = {"url": item.url, "fetched_at": fetched_at, "reason": reason}
        _write_atomic(self.failed / f"{item.ref_key}.json", json.dumps(record, indent=1).encode("utf-8"))

    def _windows(self) -> dict:
        try:
            return json.loads(self._checkpoints.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def window_done(self, category: str, since: dt.date, until: dt.date) -> bool:
        return f"{since}..{until}" in self._windows().get(category, [])

    def mark_done(self, category: str, since: dt.date, until: dt.date) -> None:
        windows = self._windows()
        done = set(windows.get(category, [])) | {f"{since}..{until}"}
        windows[category] = sorted(done)
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(self._checkpoints, json.dumps(windows, indent=1).encode("utf-8"))


@dataclass
class FetchPlan:
    since: dt.date
    until: dt.date
    category: str = "children-s-care-services"
    limit: int | None = None
    refetch: bool = False


def fetch_archive(client: PoliteClient, archive: Archive, plan: FetchPlan, today: dt.date,
                  tick: Callable[[int], None] | None = None) -> FetchReport:
    """List the plan's month windows, archive each decision not archived yet, and report."""
    report = FetchReport()
    for since, until in month_windows(plan.since, plan.until):
        if plan.limit is not None and report.fetched >= plan.limit:
            break
        if not plan.refetch and archive.window_done(plan.category, since, until):
            continue
        report.months += 1
        if _archive_month(client, archive, plan, since, until, report, tick) and (today - until).days > RECENT_DAYS:
            archive.mark_done(plan.category, since, until)
    report.requests = client.requests
    return report


def _archive_month(client: PoliteClient, archive: Archive, plan: FetchPlan, since: dt.date, until: dt.date,
                   report: FetchReport, tick: Callable[[int], None] | None) -> bool:
    """List one month and archive its decisions; True when it may be checkpointed."""
    month = f"{since}..{until}"
    try:
        window = list_window(client, since, until)
    except FetchError as exc:
        url = client.url(listing_path(since, until, 1))
        _failure(report, url, str(exc).removeprefix(f"{url}: "))
        report.incomplete.append((month, "its listing could not be read"))
        return False
    for url, reason in window.errors:
        _failure(report, url, reason)
    listed = window.listed(plan.category)
    report.listed += len(listed)
    left = _fetch_listed(client, archive, listed, plan, report, tick)
    if window.shortfall:
        report.incomplete.append((month, window.shortfall))
        return False
    if window.count == 0:
        report.months_empty += 1
        return False
    if left:
        return False  # failures and refusals are reported where they happen; --limit is not a loss
    report.months_complete += 1
    return True


def _fetch_listed(client: PoliteClient, archive: Archive, listed: list[Listed], plan: FetchPlan,
                  report: FetchReport, tick: Callable[[int], None] | None) -> int:
    """Archive one window's decisions; returns how many are left not archived (failed, refused by
    robots.txt, or beyond --limit)."""
    left = 0
    for item in listed:
        if not plan.refetch and archive.has(item.ref_key):
            report.skipped += 1
            continue
        if plan.limit is not None and report.fetched >= plan.limit:
            left += 1
            continue
        if not client.allowed(item.url):
            report.disallowed += 1
            left += 1
            continue
        fetched_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        try:
            page = client.get(item.url)
        except FetchError as exc:
            _failure(report, item.url, str(exc).removeprefix(f"{item.url}: "))
            left += 1
            continue
        try:
            text = html_to_text(page, item.url)
            parse_decision(text, source=item.url)
        except RagError as exc:
            archive.save_failed(item, page, str(exc), fetched_at)
            _failure(report, item.url, f"cannot parse the page ({exc}); kept raw in {archive.failed}")
            left += 1
            continue
        report.new_files.append(str(archive.save(item, page, text, fetched_at)))
        report.fetched += 1
        if tick:
            tick(1)
    return left


def _failure(report: FetchReport, url: str, reason: str) -> None:
    report.failed += 1
    report.failures.append((url, reason))
