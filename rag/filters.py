"""Exact filters over decision metadata: council, category, subcategory, outcome, dates, money.

Text filters compare case-insensitively and ignore spacing and apostrophe style, but otherwise
exactly: "Lancashire" does not match "Lancashire County Council" (the CLI resolves partial
council names against the index before building a Filters).  A filter is never widened.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from typing import Any

from rag.errors import InputError


def norm(value: Any) -> str:
    """Case, spacing and apostrophe style do not matter in a text filter."""
    text = str(value or "").replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text).strip().lower()


def _date(field: str, value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"filter {field}: {value!r} is not a date like 2019-03-28") from None


@dataclass(frozen=True)
class Filters:
    council: str | None = None
    category: str | None = None
    subcategory: str | None = None
    outcome: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    financial_remedy: bool = False

    @property
    def active(self) -> bool:
        return any(v not in (None, "", False) for v in asdict(self).values())

    def matches(self, meta: dict[str, Any]) -> bool:
        """Does a decision's registry metadata pass every filter that is set?"""
        for key in ("council", "category", "subcategory", "outcome"):
            wanted = getattr(self, key)
            if wanted and norm(meta.get(key)) != norm(wanted):
                return False
        if self.since or self.until:
            date = meta.get("decision_date")
            if not date:
                return False  # an undated decision cannot be placed in a date range
            day = dt.date.fromisoformat(date)
            if (self.since and day < self.since) or (self.until and day > self.until):
                return False
        return not self.financial_remedy or bool(meta.get("has_financial_remedy"))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Filters":
        """From JSON-ish input (dates as ISO text); unknown keys and bad dates raise InputError."""
        data = dict(data or {})
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise InputError(f"unknown filter {sorted(unknown)[0]!r}; use one of "
                             + ", ".join(cls.__dataclass_fields__))
        for key in ("since", "until"):
            data[key] = _date(key, data.get(key))
        data["financial_remedy"] = bool(data.get("financial_remedy"))
        filters = cls(**{k: (v if v != "" else None) for k, v in data.items()})
        if filters.since and filters.until and filters.since > filters.until:
            raise InputError("filter since is after until")
        return filters

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v not in (None, "", False)}
        for key in ("since", "until"):
            if key in out:
                out[key] = out[key].isoformat()
        return out

    def describe(self) -> str:
        """Human words for notices: 'council Kent County Council, outcome Upheld'."""
        return ", ".join("with a financial remedy" if k == "financial_remedy" else f"{k} {v}"
                         for k, v in self.to_dict().items())
