"""Which rows of an in-memory index belong to which decision, so that a filter (a set of allowed
decisions) becomes a row list or a row mask in a few vectorised steps, however many decisions
it names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


class RowsByRef:
    def __init__(self, refs: Sequence[str]) -> None:
        self.names = sorted(set(refs))
        self.number = {ref: n for n, ref in enumerate(self.names)}
        self.of_row = np.fromiter((self.number[r] for r in refs), dtype=np.int32, count=len(refs))
        self._order = np.argsort(self.of_row, kind="stable")
        self._bounds = np.searchsorted(self.of_row[self._order], np.arange(len(self.names) + 1))
        self._last: tuple[object, np.ndarray] | None = None


    def __len__(self) -> int:
        return len(self.of_row)

    def _numbers(self, allowed: Iterable[str]) -> np.ndarray:
        """Decision numbers of `allowed`; the last answer is kept, as one question asks several
        indexes about the same set."""
        if self._last is not None and self._last[0] is allowed:
            return self._last[1]
        numbers = np.fromiter((self.number[r] for r in allowed if r in self.number), dtype=np.int64)
        self._last = (allowed, numbers)
        return numbers

    def rows_of(self, ref: str) -> np.ndarray:
        n = self.number.get(ref)
        return np.zeros(0, dtype=np.int64) if n is None else self._order[self._bounds[n]:self._bounds[n + 1]]

    def count(self, allowed: Iterable[str]) -> int:
        numbers = self._numbers(allowed)
        return int((self._bounds[numbers + 1] - self._bounds[numbers]).sum())

    def rows(self, allowed: Iterable[str]) -> np.ndarray:
        """Row numbers of the allowed decisions (best when they are few)."""
        parts = [self._order[self._bounds[n]:self._bounds[n + 1]] for n in self._numbers(allowed)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def mask(self, allowed: Iterable[str]) -> np.ndarray:
        """A boolean per row (best when the allowed decisions are many)."""
        chosen = np.zeros(len(self.names), dtype=bool)
        chosen[self._numbers(allowed)] = True
        return chosen[self.of_row]
