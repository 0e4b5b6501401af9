"""The dense index held in memory: every chunk's vector in one matrix, searched exactly.

Chroma stays the store of record, but its filtered queries are slow when a filter is broad (a
`where` that matches most rows costs 35 times an unfiltered query).  Here a filter is a mask over
rows: a broad one costs one matrix product, the same as no filter; a narrow one multiplies only its
own rows.  Exact search over float32 vectors also means no approximate-neighbour misses.

Like the lexical index, this is derived data: saved beside the store as a NumPy file and rebuilt
from Chroma whenever the registry's fingerprint no longer matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from rag.folders import replace_folder
from rag.rows import RowsByRef

NARROW_SHARE = 0.25  # below this share of rows, multiply only the allowed rows


class DenseIndex:
    """Unit vectors of all chunks, with each row's decision, for exact filtered search."""

    def __init__(self, ids: Sequence[str], refs: Sequence[str], kinds: Sequence[str], matrix: np.ndarray,
                 fp: str = "", reported: Sequence[bool] | None = None) -> None:
        self.ids = list(ids)
        self.kinds = list(kinds)  # each chunk's section kind, so ranking needs no trip to the store
        self.reported = list(reported) if reported is not None else [False] * len(self.ids)
        self.fingerprint = fp
        self.matrix = matrix
        self._row = {chunk_id: n for n, chunk_id in enumerate(self.ids)}
        self.by_ref = RowsByRef(refs)

    @classmethod
    def build(cls, entries: Iterable[tuple[str, str, str, bool, Sequence[float]]], fp: str = "") -> "DenseIndex":
        """From (chunk id, decision ref, section kind, only reported speech, vector); vectors are
        normalised here."""
        ids, refs, kinds, reported, vectors = [], [], [], [], []
        for chunk_id, ref, kind, hearsay, vector in entries:
            ids.append(chunk_id)
            refs.append(ref)
            kinds.append(kind)
            reported.append(bool(hearsay))
            vectors.append(np.asarray(vector, dtype=np.float32))
        matrix = np.vstack(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix /= np.where(norms == 0, 1.0, norms)
        return cls(ids, refs, kinds, matrix, fp, reported)

    @classmethod
    def from_chunks(cls, rows: Iterable[dict], fp: str = "") -> "DenseIndex":
        """From the store's chunk rows (id, metadata, vector), as `Store.iter_chunks` gives them."""
        return cls.build(((c["id"], c["metadata"]["ref"], c["metadata"].get("section_kind", "other"),
                           bool(c["metadata"].get("reported")), c["vector"]) for c in rows), fp)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, vector: Sequence[float], k: int = 40, allowed: Iterable[str] | None = None
               ) -> list[tuple[str, float]]:
        """(chunk id, cosine) best first, restricted to the decisions in `allowed` (None: all)."""
        if not self.ids:
            return []
        query = np.asarray(vector, dtype=np.float32)
        query = query / (float(np.linalg.norm(query)) or 1.0)
        if allowed is not None and self.by_ref.count(allowed) < NARROW_SHARE * len(self.ids):
            rows = self.by_ref.rows(allowed)
            scores = self.matrix[rows] @ query
        else:
            rows = None
            scores = self.matrix @ query
            if allowed is not None:  # broad filter: a mask costs no more than the product itself
                scores[~self.by_ref.mask(allowed)] = -np.inf
        k = min(k, len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[np.isfinite(scores[top])]
        found = top if rows is None else rows[top]
        return [(self.ids[int(i)], float(s)) for i, s in zip(found, scores[top])]

    def section_ids(self, ref: str, kind: str) -> list[str]:
        """A decision's chunks of one section kind, in paragraph order."""
        rows = sorted(int(n) for n in self.by_ref.rows_of(ref) if self.kinds[int(n)] == kind)
        return [self.ids[n] for n in rows]

    def kind(self, chunk_id: str) -> str:
        row = self._row.get(chunk_id)
        return "other" if row is None else self.kinds[row]

    def is_reported(self, chunk_id: str) -> bool:
        """Whether the chunk only reports what someone said (see rag.chunk.only_reported)."""
        row = self._row.get(chunk_id)
        return row is not None and self.reported[row]

    def vector(self, chunk_id: str) -> np.ndarray | None:
        row = self._row.get(chunk_id)
        return None if row is None else self.matrix[row]

    def save(self, folder: Path) -> None:
        """Write to a sibling folder, then swap it in, so a crash never leaves half an index."""
        meta = {"fingerprint": self.fingerprint, "ids": self.ids, "kinds": self.kinds, "reported": self.reported,
                "refs": [self.by_ref.names[n] for n in self.by_ref.of_row.tolist()]}

        def write(tmp: Path) -> None:
            np.save(tmp / "vectors.npy", self.matrix)
            (tmp / "chunks.json").write_text(json.dumps(meta), encoding="utf-8")

        replace_folder(folder, write)

    @classmethod
    def load(cls, folder: Path) -> "DenseIndex | None":
        """The saved index, or None when there is none or it cannot be read (it is then rebuilt)."""
        try:
            meta = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
            matrix = np.load(folder / "vectors.npy")
            if matrix.shape[0] != len(meta["ids"]):
                return None
            return cls(meta["ids"], meta["refs"], meta["kinds"], matrix, meta["fingerprint"], meta["reported"])
        except (OSError, ValueError, KeyError):
            return None
