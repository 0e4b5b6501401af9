"""What is in the store, held in memory: the registry of decisions and the lexical index.

Filters are resolved here, exactly, against decision metadata (a few thousand rows at most) into
the set of matching references; the vector and lexical searches are then restricted to that set.
The snapshot is refreshed after an ingest by this process, and re-checked every few seconds so
that a store shared through a Chroma server shows other processes' changes.
"""

from __future__ import annotations

import bisect
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rag.dense import DenseIndex
from rag.filters import Filters, norm
from rag.guard import index_text
from rag.lexical import LexicalIndex, fingerprint
from rag.refs import refs_in
from rag.store import Store

RECHECK_SECONDS = 5.0
MATCHING_CACHE = 256  # filter combinations remembered per registry
TEXT_FIELDS = ("council", "category", "subcategory", "outcome")
_GENERIC = frozenset("county council borough city district metropolitan london royal of the and".split())


def _current(index: Any, fp: str) -> Any:
    """The index if it matches the store's fingerprint, else None (to be rebuilt)."""
    return index if index is not None and index.fingerprint == fp else None


def lexical_text(meta: dict[str, Any], text: str) -> str:
    """What BM25 indexes: the words plus who said them, so references and councils match."""
    return " ".join(
        str(meta.get(key, "")) for key in ("council", "ref", "section", "heading")
    ) + " " + index_text(text)


class Catalog:
    """A cached view of the store's decisions and the two search indexes beside it."""

    def __init__(self, store: Store, lexical_dir: Path, dense_dir: Path | None = None,
                 recheck_seconds: float = RECHECK_SECONDS) -> None:
        self.store = store
        self.lexical_dir = lexical_dir
        self.dense_dir = dense_dir or lexical_dir.parent.parent / "dense" / lexical_dir.name
        self.recheck_seconds = recheck_seconds
        self._decisions: dict[str, dict[str, Any]] = {}
        self._lexical: LexicalIndex | None = None
        self._dense: DenseIndex | None = None
        self._council_words: dict[frozenset[str], set[str]] = {}
        self._councils_of: dict | None = None
        self._index: dict[str, Any] = {}
        self._index_of: dict | None = None
        self._checked = float("-inf")

    def refresh(self, force: bool = False) -> None:
        """Reload the registry, and rebuild the indexes if the store changed under them."""
        if not force and time.monotonic() - self._checked < self.recheck_seconds:
            return
        registry = self.store.registry()
        if registry != self._decisions:  # keep the old object when nothing changed: caches key on it
            self._decisions = registry
        fp = fingerprint(self._decisions, self.store.embedder)
        if self._lexical is None or self._lexical.fingerprint != fp:
            self._lexical = _current(LexicalIndex.load(self.lexical_dir), fp)
        if self._dense is None or self._dense.fingerprint != fp:
            self._dense = _current(DenseIndex.load(self.dense_dir), fp)
        if self._lexical is None or self._dense is None:
            self._rebuild(fp)
        self._checked = time.monotonic()

    def _rebuild(self, fp: str) -> None:
        """One pass over the store's chunks builds whichever index is missing or stale."""
        need_dense = self._dense is None
        rows = list(self.store.iter_chunks(vectors=need_dense))
        built: list[tuple[Any, Path]] = []
        if self._lexical is None:
            self._lexical = LexicalIndex.build(
                ((c["id"], c["metadata"]["ref"], lexical_text(c["metadata"], c["text"])) for c in rows), fp)
            built.append((self._lexical, self.lexical_dir))
        if need_dense:
            self._dense = DenseIndex.from_chunks(rows, fp)
            built.append((self._dense, self.dense_dir))
        for index, folder in built:
            try:
                index.save(folder)
            except OSError:
                pass  # a read-only store still answers; the index lives in memory

    @property
    def decisions(self) -> dict[str, dict[str, Any]]:
        self.refresh()
        return self._decisions

    @property
    def lexical(self) -> LexicalIndex:
        self.refresh()
        assert self._lexical is not None
        return self._lexical

    @property
    def dense(self) -> DenseIndex:
        self.refresh()
        assert self._dense is not None
        return self._dense

    def matching(self, filters: Filters | None) -> frozenset[str] | None:
        """References of the decisions the filters allow; None when nothing is filtered.  Exactly
        `Filters.matches` over the registry, through per-field indexes so that it stays fast with
        thousands of decisions."""
        if filters is None or not filters.active:
            return None
        index = self._field_index()
        cached = index["matching"].get(filters)
        if cached is None:  # the same object for the same filters lets the indexes reuse their masks
            if len(index["matching"]) >= MATCHING_CACHE:
                index["matching"].clear()
            cached = index["matching"][filters] = frozenset(self._match(filters, index))
        return cached

    def _match(self, filters: Filters, index: dict[str, Any]) -> set[str]:
        sets = [index[key].get(norm(getattr(filters, key)), set())
                for key in TEXT_FIELDS if getattr(filters, key)]
        if filters.since or filters.until:
            dates, refs = index["dates"]
            low = bisect.bisect_left(dates, filters.since.isoformat()) if filters.since else 0
            high = bisect.bisect_right(dates, filters.until.isoformat()) if filters.until else len(dates)
            sets.append(set(refs[low:high]))
        if filters.financial_remedy:
            sets.append(index["money"])
        return set.intersection(*sets) if sets else set(self.decisions)

    def _field_index(self) -> dict[str, Any]:
        decisions = self.decisions
        if self._index_of is not decisions:
            index: dict[str, Any] = {key: {} for key in TEXT_FIELDS}
            for ref, meta in decisions.items():
                for key in TEXT_FIELDS:
                    index[key].setdefault(norm(meta.get(key)), set()).add(ref)
            dated = sorted((str(m["decision_date"]), ref) for ref, m in decisions.items() if m.get("decision_date"))
            index["dates"] = ([d for d, _ in dated], [r for _, r in dated])
            index["matching"] = {}
            index["councils"] = sorted({m["council"] for m in decisions.values()})
            index["money"] = {ref for ref, m in decisions.items() if m.get("has_financial_remedy")}
            self._index, self._index_of = index, decisions
        return self._index

    def refs_in(self, text: str) -> set[str]:
        """Indexed decisions whose case reference the text mentions, in any spelling."""
        return refs_in(text) & set(self.decisions)

    def council_refs_in(self, text: str) -> set[str]:
        """Decisions of the councils the text names ("Kent", "Derbyshire County Council")."""
        words = set(re.findall(r"[a-z]+", text.lower()))
        refs: set[str] = set()
        for own, council_refs in self._by_council().items():
            if own and own <= words:
                refs |= council_refs
        return refs

    def _by_council(self) -> dict[frozenset[str], set[str]]:
        """Each council's distinctive words and its decisions, worked out once per registry."""
        decisions = self.decisions
        if self._councils_of is not decisions:
            grouped: dict[frozenset[str], set[str]] = {}
            for ref, meta in decisions.items():
                own = frozenset(re.findall(r"[a-z]+", meta["council"].lower())) - _GENERIC
                grouped.setdefault(own, set()).add(ref)
            self._council_words, self._councils_of = grouped, decisions
        return self._council_words

    def councils(self) -> list[str]:
        return self._field_index()["councils"]

    def outcomes(self) -> Counter:
        return Counter(m.get("outcome") or "Unknown" for m in self.decisions.values())
