"""Exact dense search over every chunk's vector, with a quarter of the memory of a float matrix.

Chroma stays the store of record, but its filtered queries are slow when a filter is broad, and
its HNSW index is approximate and keeps every float vector in memory.  Here every question scans
int8 codes of the vectors (memory-mapped, a quarter of the floats' size), then rescores a
shortlist with the float vectors read from disk.  The result is exact, not approximate: each
row's scanned score is at most a known bound away from its exact score (the row's quantization
error, stored beside it, plus the question's), so every row that could still beat the k-th exact
score is rescored too, and the ranking is the exact float ranking, ties broken by chunk id.

A filter is a mask over rows: a broad one costs one scan, the same as no filter; a narrow one
scans only its own rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from rag.kernels import exact_scores, quantize_query, scan
from rag.rows import Table

NARROW_SHARE = 0.25  # below this share of rows, scan only the allowed rows
FLOAT_ROWS = 20_000  # up to this many rows the float matrix is held and scanned whole, as before:
# a few MB, a scan of a millisecond or two, and the very ranking (ties included) of the old index
SHORTLIST = 2  # rows rescored per row asked for, before the bound decides whether more are needed
MIN_SHORTLIST = 64
MARGIN = 1e-6  # float rounding of the bound's own arithmetic and of the float32 scanned scores
SAMPLE_STRIDE = 64


class DenseIndex:
    """Unit vectors of all chunks, with each row's decision, for exact filtered search."""

    def __init__(self, table: Table, fp: str = "") -> None:
        self.table = table
        self.fingerprint = fp
        self.by_ref = table.by_ref
        self.float_rows = FLOAT_ROWS
        self._matrix: np.ndarray | None = None
        self._max_error = max((float(np.max(s.error)) for s in table.segments if s.rows), default=0.0)

    def __len__(self) -> int:
        return self.table.count

    @property
    def scans_int8(self) -> bool:
        """Whether a question scans the int8 codes (with the compiled kernels), not the floats."""
        return self.table.count > self.float_rows

    @property
    def ids(self) -> list[str]:
        return self.table.ids

    def _approx(self, codes: np.ndarray, factor: float, rows: np.ndarray | None) -> np.ndarray:
        """Scanned scores, for all rows or for `rows`."""
        t = self.table
        scores = np.empty(t.total if rows is None else len(rows), dtype=np.float32)
        which = None if rows is None else t.segment_of(rows)
        for n, seg in enumerate(t.segments):
            if rows is None:
                scores[int(t.offsets[n]):int(t.offsets[n + 1])] = scan(seg.codes, seg.scale, codes, factor)
            else:
                at = np.flatnonzero(which == n)
                if len(at):
                    scores[at] = scan(seg.codes, seg.scale, codes, factor, rows[at] - t.offsets[n])
        return scores

    def _bounds(self, rows: np.ndarray, q_error: float) -> np.ndarray:
        """How far each row's scanned score may be from its exact one: the row's quantization error
        (the question has norm 1) plus the question's times the codes' norm (at most 1 + error)."""
        t = self.table
        error = np.empty(len(rows), dtype=np.float64)
        which = t.segment_of(rows)
        for n in np.unique(which):
            at = np.flatnonzero(which == n)
            error[at] = t.segments[n].error[rows[at] - t.offsets[n]]
        return error + (1.0 + error) * q_error + MARGIN

    def search(self, vector: Sequence[float], k: int = 40, allowed: Iterable[str] | None = None
               ) -> list[tuple[str, float]]:
        """(chunk id, cosine) best first, restricted to the decisions in `allowed` (None: all)."""
        t = self.table
        if not t.count or k <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32)
        query = query / (float(np.linalg.norm(query)) or 1.0)
        if not self.scans_int8:
            return self._float_search(query, k, allowed)
        codes, q_scale, q_error = quantize_query(query)
        if allowed is not None and self.by_ref.count(allowed) < NARROW_SHARE * t.count:
            rows = self.by_ref.rows(allowed)
            approx = self._approx(codes, q_scale, rows)
        else:
            rows = None
            approx = self._approx(codes, q_scale, None)
            approx[~(t.live if allowed is None else self.by_ref.mask(allowed))] = -np.inf
        count = t.count if rows is None and allowed is None else (len(rows) if rows is not None else
                                                                  self.by_ref.count(allowed))
        if not count:
            return []
        short = min(count, max(SHORTLIST * k, k + MIN_SHORTLIST))
        top = _top(approx, short)
        top = top[np.isfinite(approx[top])]
        row_of = (lambda i: i) if rows is None else (lambda i: rows[i])  # noqa: E731
        exact = dict(zip(top.tolist(), exact_scores(t.vectors(row_of(top)), query).tolist()))
        if len(exact) >= k:
            kth = sorted(exact.values(), reverse=True)[k - 1]
            # every row whose scanned score is within its bound of the k-th exact score may beat it
            widest = self._max_error * (1.0 + q_error) + q_error + MARGIN
            near = np.flatnonzero(approx >= kth - widest)
            near = near[approx[near] + self._bounds(row_of(near), q_error) >= kth]
            more = np.setdiff1d(near, top)
            if len(more):
                exact.update(zip(more.tolist(), exact_scores(t.vectors(row_of(more)), query).tolist()))
        return self._best(exact, k, row_of)

    def _float_search(self, query: np.ndarray, k: int, allowed: Iterable[str] | None) -> list[tuple[str, float]]:
        """The old index's search, step for step, over the live rows' float matrix."""
        if self._matrix is None:
            self._live_rows = np.flatnonzero(self.table.live)
            self._position = np.cumsum(self.table.live) - 1
            every = [seg.all_vectors() for seg in self.table.segments]
            self._matrix = np.ascontiguousarray(np.concatenate(every)[self._live_rows])
        matrix, live_rows = self._matrix, self._live_rows
        if allowed is not None and self.by_ref.count(allowed) < NARROW_SHARE * len(matrix):
            rows = self._position[self.by_ref.rows(allowed)]
            scores = matrix[rows] @ query
        else:
            rows = None
            scores = matrix @ query
            if allowed is not None:  # broad filter: a mask costs no more than the product itself
                scores[~self.by_ref.mask(allowed)[live_rows]] = -np.inf
        k = min(k, len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[np.isfinite(scores[top])]
        found = live_rows[top if rows is None else rows[top]]
        return [(self.table.id_of(int(i)), float(s)) for i, s in zip(found, scores[top])]

    def _best(self, exact: dict[int, float], k: int, row_of) -> list[tuple[str, float]]:  # noqa: ANN001
        """The k best, ties broken by chunk id so that the order never depends on row positions."""
        ranked = sorted(exact.items(), key=lambda item: -item[1])
        if len(ranked) > k:
            kth = ranked[k - 1][1]
            ranked = [item for item in ranked if item[1] >= kth]
        named = [(self.table.id_of(int(row_of(i))), score) for i, score in ranked]
        named.sort(key=lambda item: (-item[1], item[0]))
        return named[:k]

    def ids_of(self, ref: str, kind: str | None = None) -> list[str]:
        """A decision's chunks (of one section kind, if given), in paragraph order."""
        t = self.table
        rows = sorted(int(n) for n in self.by_ref.rows_of(ref)
                      if kind is None or t.kind_names[t.kind[int(n)]] == kind)
        return [t.id_of(n) for n in rows]

    def kind(self, chunk_id: str) -> str:
        row = self.table.find(chunk_id)
        return "other" if row < 0 else self.table.kind_names[self.table.kind[row]]

    def is_reported(self, chunk_id: str) -> bool:
        """Whether the chunk only reports what someone said (see rag.chunk.only_reported)."""
        row = self.table.find(chunk_id)
        return row >= 0 and bool(self.table.reported[row])

    def vector(self, chunk_id: str) -> np.ndarray | None:
        row = self.table.find(chunk_id)
        return None if row < 0 else self.table.vectors(np.asarray([row]))[0]


def _top(scores: np.ndarray, count: int) -> np.ndarray:
    """Positions of the `count` highest scores, unordered.  A strided sample gives a threshold
    that keeps a few times `count` rows, so the partial sort runs over those, not over a million."""
    if count >= len(scores):
        return np.arange(len(scores))
    sample = scores[::SAMPLE_STRIDE]
    keep = 4 * count // SAMPLE_STRIDE + 1
    if len(scores) >= 64 * count and keep < len(sample):
        threshold = np.partition(sample, len(sample) - keep)[len(sample) - keep]
        near = np.flatnonzero(scores >= threshold)
        if len(near) >= count:
            return near[np.argpartition(-scores[near], count - 1)[:count]]
    return np.argpartition(-scores, count - 1)[:count]
