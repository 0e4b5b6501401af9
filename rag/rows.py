"""The rows of the derived indexes: which chunk, which decision, which section kind, and whether
still live, numbered one after another across the segments (rag/segment.py).

Which rows belong to which decision is what turns a filter (a set of allowed decisions) into a
row list or a row mask in a few vectorised steps, however many decisions it names.  Deleted rows
belong to no decision, so no filter and no search can reach them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from rag.segment import Segment

REMEMBERED = 200_000  # chunk ids and rows whose lookups are kept, per index


class RowsByRef:
    def __init__(self, refs: Sequence[str]) -> None:
        names = sorted(set(refs))
        number = {ref: n for n, ref in enumerate(names)}
        self._setup(names, np.fromiter((number[r] for r in refs), dtype=np.int32, count=len(refs)))

    @classmethod
    def from_numbers(cls, names: list[str], of_row: np.ndarray) -> "RowsByRef":
        """From each row's decision number (len(names) for a row of no decision)."""
        rows = cls.__new__(cls)
        rows._setup(names, of_row.astype(np.int32, copy=False))
        return rows

    def _setup(self, names: list[str], of_row: np.ndarray) -> None:
        self.names = names
        self.number = {ref: n for n, ref in enumerate(names)}
        self.of_row = of_row
        self._order = np.argsort(self.of_row, kind="stable")
        self._bounds = np.searchsorted(self.of_row[self._order], np.arange(len(self.names) + 1))
        self._last: tuple[object, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.of_row)

    def _numbers(self, allowed: Iterable[str]) -> np.ndarray:
        """Decision numbers of `allowed`; the last answer is kept, as one question asks several
        indexes about the same set."""
        last = self._last
        if last is not None and last[0] is allowed:
            return last[1]
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
        chosen = np.zeros(len(self.names) + 1, dtype=bool)
        chosen[self._numbers(allowed)] = True
        return chosen[self.of_row]


class Table:
    """The live rows of some segments, with the columns every index shares."""

    def __init__(self, segments: Sequence[Segment], deleted: Sequence[np.ndarray]) -> None:
        self.segments = list(segments)
        sizes = [s.rows for s in self.segments]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.total = int(self.offsets[-1])
        self.live = np.ones(self.total, dtype=bool)
        for offset, rows in zip(self.offsets, deleted):
            self.live[offset + np.asarray(rows, dtype=np.int64)] = False
        self.count = int(self.live.sum())
        names = sorted({r for s in self.segments for r in s.ref_names})
        kinds = sorted({k for s in self.segments for k in s.kind_names})
        self.kind_names = kinds
        of_row = np.empty(self.total, dtype=np.int32)
        self.kind = np.empty(self.total, dtype=np.uint8)
        self.reported = np.empty(self.total, dtype=bool)
        for s, offset in zip(self.segments, self.offsets):
            part = slice(int(offset), int(offset) + s.rows)
            of_row[part] = np.searchsorted(names, s.ref_names).astype(np.int32)[s.ref_no] if s.rows else []
            self.kind[part] = np.searchsorted(kinds, s.kind_names).astype(np.uint8)[s.kind] if s.rows else []
            self.reported[part] = np.asarray(s.reported, dtype=bool)
        of_row[~self.live] = len(names)
        self.by_ref = RowsByRef.from_numbers(names, of_row)
        self._ids: list[str] | None = None
        self._rows: dict[str, int] = {}
        self._names: dict[int, str] = {}

    def segment_of(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, rows, side="right") - 1

    def find(self, chunk_id: str) -> int:
        """The live row of a chunk id, or -1 (newest segment first: a replaced chunk's old row is
        deleted).  Answers are remembered: a question asks about the same few dozen chunks often."""
        row = self._rows.get(chunk_id)
        if row is None:
            row, key = -1, chunk_id.encode("utf-8")
            for n in range(len(self.segments) - 1, -1, -1):
                local = self.segments[n].find(key)
                if local >= 0 and self.live[self.offsets[n] + local]:
                    row = int(self.offsets[n] + local)
                    break
            self._remember(self._rows, chunk_id, row)
        return row

    def _locate(self, row: int) -> tuple[Segment, int]:
        """The segment a row lives in, and its row number there."""
        n = int(np.searchsorted(self.offsets, row, side="right")) - 1
        return self.segments[n], row - int(self.offsets[n])

    def id_of(self, row: int) -> str:
        name = self._names.get(row)
        if name is None:
            segment, local = self._locate(row)
            name = segment.ids[local].decode("utf-8")
            self._remember(self._names, row, name)
        return name

    @staticmethod
    def _remember(cache: dict, key: object, value: object) -> None:
        if len(cache) >= REMEMBERED:
            cache.clear()
        cache[key] = value

    def chunks(self, ids: Sequence[str]) -> list[dict]:
        """The live chunks of these ids (id, text, metadata), in the order asked; ids with no live
        row are left out.  Read from the segments' files: an answer never waits for the store."""
        out = []
        for chunk_id in ids:
            row = self.find(chunk_id)
            if row >= 0:
                segment, local = self._locate(row)
                text, metadata = segment.doc(local)
                out.append({"id": chunk_id, "text": text, "metadata": metadata})
        return out

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """Float rows from disk, in the order asked."""
        out = np.empty((len(rows), self.segments[0].dim if self.segments else 0), dtype=np.float32)
        which = self.segment_of(rows)
        for n in np.unique(which):
            at = np.flatnonzero(which == n)
            out[at] = self.segments[n].vectors(rows[at] - self.offsets[n])
        return out

    @property
    def ids(self) -> list[str]:
        """Every live chunk id (built on first use: tests and tools, not questions, need it)."""
        if self._ids is None:
            every = [b.decode("utf-8") for s in self.segments for b in np.asarray(s.ids).tolist()]
            self._ids = [i for i, live in zip(every, self.live.tolist()) if live]
        return self._ids
