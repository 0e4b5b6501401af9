"""The question log: off by default, and when on, kept only for its retention period.

Questions can be sensitive (a parent describing their own case), so nothing is written unless
RAG_QUESTION_LOG_DAYS is set; entries older than that many days are removed whenever the log is
opened and every few hundred entries after.  No IP addresses or session ids are recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path

from rag.models import Answer

PURGE_EVERY = 500


class QuestionLog:
    def __init__(self, path: Path, days: int, now=lambda: dt.datetime.now(dt.timezone.utc)) -> None:  # noqa: ANN001
        self.path = path
        self.days = days
        self.now = now
        self._lock = threading.Lock()
        self._written = 0
        self.purge()

    def record(self, answer: Answer, filters: dict) -> None:
        entry = {"time": self.now().isoformat(timespec="seconds"), "question": answer.question,
                 "filters": filters, "abstained": answer.abstained, "backend": answer.backend,
                 "cited": sorted({c.ref for c in answer.citations if c.verified})}
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._written += 1
            if self._written % PURGE_EVERY == 0:
                self._purge()

    def purge(self) -> None:
        with self._lock:
            self._purge()

    def _purge(self) -> None:
        """Keep only entries younger than the retention period (rewritten atomically)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        cutoff = self.now() - dt.timedelta(days=self.days)
        kept = [line for line in lines if _younger(line, cutoff)]
        if len(kept) == len(lines):
            return
        tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        tmp.replace(self.path)


def _younger(line: str, cutoff: dt.datetime) -> bool:
    try:
        return dt.datetime.fromisoformat(json.loads(line)["time"]) >= cutoff
    except (ValueError, KeyError, TypeError):
        return False  # an unreadable entry is dropped rather than kept forever
