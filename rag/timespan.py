"""The dates a question names, as filters: "in 2019", "since March 2022", "between July and
December 2021", "the first half of 2023", "in 2024 or 2025", "since the start of 2020".

Read for set questions (`rag.set_question`), whose dates are filters and never part of the topic.
"""

from __future__ import annotations

import datetime as dt
import re

_YEAR = re.compile(r"\b(in|since|from|after|before|until|during)?\s*((?:19|20)\d{2})(?:\s+(or|and)\s+"
                   r"(later|after|since|onwards|earlier|before))?\b", re.I)
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_YEAR_NUMBER = r"((?:19|20)\d{2})"
_MONTH_RANGE = re.compile(rf"\b(?:between|from)\s+{_MONTH}(?:\s+{_YEAR_NUMBER})?\s+(?:and|to|until|till|-)\s+"
                          rf"{_MONTH}\s+{_YEAR_NUMBER}\b", re.I)
_ONE_MONTH = re.compile(rf"\b(in|during|since|from|after|before|until|by)?\s*{_MONTH}\s+{_YEAR_NUMBER}\b", re.I)
_HALF_YEAR = re.compile(rf"\b(?:in\s+)?the\s+(first|second|1st|2nd|last)\s+(?:half|six months)\s+of\s+{_YEAR_NUMBER}\b",
                        re.I)
# "since the start of 2020", "by the end of 2021": the year's first or last day.
_YEAR_EDGE = re.compile(rf"\b(since|from|after|until|till|by|before)\s+the\s+(?:very\s+)?(start|beginning|end)\s+of\s+"
                        rf"{_YEAR_NUMBER}\b", re.I)
# "in 2024 or 2025", "2019 and 2020", "2019-2021": every year between.
_YEAR_SPAN = re.compile(rf"\b{_YEAR_NUMBER}\s*(?:or|and|to|-|\u2013)\s*{_YEAR_NUMBER}\b", re.I)


def _month(name: str) -> int:
    return next(i for i, m in enumerate(_MONTHS, 1) if m.startswith(name.lower()[:3]))


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def dates_named(text: str) -> dict:
    """Date filters from the months and years the question names: "between July and December
    2021", "since March 2022", "in the first half of 2023", "in 2024 or 2025", "since the start
    of 2020", then the years of what is left."""
    out: dict = {}
    for m in _MONTH_RANGE.finditer(text):
        first, year, last, end = _month(m[1]), int(m[2] or m[4]), _month(m[3]), int(m[4])
        out["since"], out["until"] = dt.date(year, first, 1), _month_end(end, last)
    for m in _HALF_YEAR.finditer(text):
        year, first = int(m[2]), m[1].lower() in ("first", "1st")
        out["since"], out["until"] = dt.date(year, 1 if first else 7, 1), _month_end(year, 6 if first else 12)
    for m in _YEAR_SPAN.finditer(text):
        first, last = sorted((int(m[1]), int(m[2])))
        out["since"], out["until"] = dt.date(first, 1, 1), dt.date(last, 12, 31)
    for m in _YEAR_EDGE.finditer(text):
        word, edge, year = m[1].lower(), m[2].lower(), int(m[3])
        day = dt.date(year, 12, 31) if edge == "end" else dt.date(year, 1, 1)
        if word in ("since", "from", "after"):
            out["since"] = day + dt.timedelta(days=1) if edge == "end" else day
        else:
            out["until"] = day - dt.timedelta(days=1) if word == "before" and edge != "end" else day
    for m in _ONE_MONTH.finditer(_MONTH_RANGE.sub(" ", text)):
        word, month, year = (m[1] or "in").lower(), _month(m[2]), int(m[3])
        if word in ("in", "during"):
            out["since"], out["until"] = dt.date(year, month, 1), _month_end(year, month)
        elif word in ("since", "from", "after"):
            start = dt.date(year, month, 1)
            out["since"] = _month_end(year, month) + dt.timedelta(days=1) if word == "after" else start
        else:  # until, by, before
            end = _month_end(year, month)
            out["until"] = dt.date(year, month, 1) - dt.timedelta(days=1) if word == "before" else end
    return {**_years(without_dates(text)), **out}


def without_dates(text: str) -> str:
    """The text with its months, half-years, spans and edges of years taken out (they are filters,
    not a topic)."""
    for pattern in (_MONTH_RANGE, _HALF_YEAR, _YEAR_SPAN, _YEAR_EDGE, _ONE_MONTH):
        text = pattern.sub(" ", text)
    return text


def _years(text: str) -> dict:
    """Date filters from years the question names: "in 2019" (or a bare 2019), "since", "from",
    "after", "until", "before"."""
    out: dict = {}
    for word, year, _, tail in _YEAR.findall(text):
        word, y = (word or "in").lower(), int(year)
        if tail:  # "2022 or later", "2019 and earlier"
            word = "since" if tail.lower() in ("later", "after", "since", "onwards") else "until"
        if word in ("in", "during"):
            out["since"], out["until"] = dt.date(y, 1, 1), dt.date(y, 12, 31)
        elif word in ("since", "from", "after"):
            out["since"] = dt.date(y + (word == "after"), 1, 1)
        else:  # until, before
            out["until"] = dt.date(y - (word == "before"), 12, 31)
    return out
