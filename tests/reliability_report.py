"""docs/reliability.md is written by the tests that measure it: each owns one `## ` section and
replaces only that, so the figures of every test survive the others' runs."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
HEADER = ("<!-- Written by the reliability tests (tests/test_kill_ingest.py, tests/test_load.py); "
          "do not edit by hand. -->\n# Reliability figures\n\n"
          "Each section says which test wrote it, when, and on what machine.\n")


def write_section(title: str, test: str, lines: list[str]) -> None:
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else HEADER
    if not text.startswith("<!-- Written by the reliability tests"):
        text = HEADER  # the old single-test layout: start again
    body = (f"## {title}\n\nMeasured {dt.date.today().isoformat()} by `pytest {test}` "
            f"(Python {sys.version.split()[0]}, {os.cpu_count()} cores).\n\n" + "\n".join(lines) + "\n")
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: body + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + body
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
