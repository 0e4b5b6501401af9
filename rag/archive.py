"""The local archive of LGO decision pages, and the run that fills it from the website.

The LGO removes ordinary decisions from its site after about five years, so the archive is often
the only copy users can reach: nothing in it is ever deleted, and a decision is fetched once.
Layout under `RAG_ARCHIVE_DIR`:

    decisions/<yy-nnn-nnn>.html   the page as fetched
    decisions/<yy-nnn-nnn>.txt    its statement as text, official paragraph numbers written in
    decisions/<yy-nnn-nnn>.json   url, fetch time, SHA-256 of the page, category and subcategory
    failed/<yy-nnn-nnn>.html      pages that could not be parsed, with .json saying why
    checkpoints.json              month windows already listed in full, per category

A run is resumable: a window is checkpointed only once every decision listed in it is archived
(or has failed for good), and archived decisions are skipped, so an interrupted run picks up
where it stopped.
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
from rag.fetch import FetchError, Listed, PoliteClient, list_window, month_windows
from rag.lgo_html import html_to_text
from rag.parse import parse_decision

RECENT_DAYS = 90  # windows this close to today are listed again: the site publishes late


@dataclass
class FetchReport:
    """What one fetch run did; `failures` holds (url, reason) pairs."""

    listed: int = 0
    fetched: int = 0
    skipped: int = 0
    disallowed: int = 0  # listed, but robots.txt asks us not to fetch them
    failed: int = 0
    requests: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    new_files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["failures"] = [{"url": u, "reason": r} for u, r in self.failures]
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
        if not plan.refetch and archive.window_done(plan.category, since, until):
            continue
        try:
            listed = list_window(client, since, until, plan.category)
        except FetchError as exc:
            _failure(report, client.url(f"/Decisions/SearchResults?fd={since}&td={until}"), str(exc))
            continue
        report.listed += len(listed)
        complete = _fetch_listed(client, archive, listed, plan, report, tick)
        if complete and (today - until).days > RECENT_DAYS:
            archive.mark_done(plan.category, since, until)
        if plan.limit is not None and report.fetched >= plan.limit:
            break
    report.requests = client.requests
    return report


def _fetch_listed(client: PoliteClient, archive: Archive, listed: list[Listed], plan: FetchPlan,
                  report: FetchReport, tick: Callable[[int], None] | None) -> bool:
    """Archive one window's decisions; True when none is left to do (failures count as left)."""
    complete = True
    for item in listed:
        if not plan.refetch and archive.has(item.ref_key):
            report.skipped += 1
            continue
        if plan.limit is not None and report.fetched >= plan.limit:
            return False
        if not client.allowed(item.url):
            report.disallowed += 1
            continue
        fetched_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        try:
            page = client.get(item.url)
        except FetchError as exc:
            _failure(report, item.url, str(exc).removeprefix(f"{item.url}: "))
            complete = False
            continue
        try:
            text = html_to_text(page, item.url)
            parse_decision(text, source=item.url)
        except RagError as exc:
            archive.save_failed(item, page, str(exc), fetched_at)
            _failure(report, item.url, f"cannot parse the page ({exc}); kept raw in {archive.failed}")
            complete = False
            continue
        report.new_files.append(str(archive.save(item, page, text, fetched_at)))
        report.fetched += 1
        if tick:
            tick(1)
    return complete


def _failure(report: FetchReport, url: str, reason: str) -> None:
    report.failed += 1
    report.failures.append((url, reason))
