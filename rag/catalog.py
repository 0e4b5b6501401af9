"""What is in the store, held in memory: the registry of decisions and the lexical index.

Filters are resolved here, exactly, against decision metadata (a few thousand rows at most) into
the set of matching references; the vector and lexical searches are then restricted to that set.
The snapshot is refreshed after an ingest by this process, and re-checked every few seconds so
that a store shared through a Chroma server shows other processes' changes.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rag.filters import Filters
from rag.lexical import LexicalIndex, fingerprint
from rag.store import Store

RECHECK_SECONDS = 5.0
_REF = re.compile(r"\b(\d{2})[ \-]?(\d{3})[ \-]?(\d{3})\b")
_GENERIC = frozenset("county council borough city district metropolitan london royal of the and".split())


def lexical_text(meta: dict[str, Any], text: str) -> str:
    """What BM25 indexes: the words plus who said them, so references and councils match."""
    return " ".join(
        str(meta.get(key, "")) for key in ("council", "ref", "section", "heading")
    ) + " " + text


class Catalog:
    """A cached view of the store's decisions and the BM25 index beside it."""

    def __init__(self, store: Store, lexical_dir: Path, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self.store = store
        self.lexical_dir = lexical_dir
        self.recheck_seconds = recheck_seconds
        self._decisions: dict[str, dict[str, Any]] = {}
        self._lexical: LexicalIndex | None = None
        self._checked = float("-inf")

    def refresh(self, force: bool = False) -> None:
        """Reload the registry, and rebuild the lexical index if the store changed under it."""
        if not force and time.monotonic() - self._checked < self.recheck_seconds:
            return
        self._decisions = self.store.registry()
        fp = fingerprint(self._decisions, self.store.embedder)
        if self._lexical is None or self._lexical.fingerprint != fp:
            index = LexicalIndex.load(self.lexical_dir)
            if index is None or index.fingerprint != fp:
                index = LexicalIndex.build(
                    ((c["id"], c["metadata"]["ref"], lexical_text(c["metadata"], c["text"]))
                     for c in self.store.iter_chunks()),
                    fp,
                )
                try:
                    index.save(self.lexical_dir)
                except OSError:
                    pass  # a read-only store still answers; the index lives in memory
            self._lexical = index
        self._checked = time.monotonic()

    @property
    def decisions(self) -> dict[str, dict[str, Any]]:
        self.refresh()
        return self._decisions

    @property
    def lexical(self) -> LexicalIndex:
        self.refresh()
        assert self._lexical is not None
        return self._lexical

    def matching(self, filters: Filters | None) -> set[str] | None:
        """References of the decisions the filters allow; None when nothing is filtered."""
        if filters is None or not filters.active:
            return None
        return {ref for ref, meta in self.decisions.items() if filters.matches(meta)}

    def chunk_share(self, refs: set[str]) -> float:
        """The share of all chunks that belong to `refs` (to choose how to run a filtered search)."""
        total = sum(int(m.get("chunks", 0)) for m in self.decisions.values()) or 1
        return sum(int(self.decisions[r].get("chunks", 0)) for r in refs if r in self.decisions) / total

    def refs_in(self, text: str) -> set[str]:
        """Indexed decisions whose case reference the text mentions, in any spelling."""
        return {" ".join(m) for m in _REF.findall(text)} & set(self.decisions)

    def council_refs_in(self, text: str) -> set[str]:
        """Decisions of the councils the text names ("Kent", "Derbyshire County Council")."""
        words = set(re.findall(r"[a-z]+", text.lower()))
        refs = set()
        for ref, meta in self.decisions.items():
            own = [w for w in re.findall(r"[a-z]+", meta["council"].lower()) if w not in _GENERIC]
            if own and all(w in words for w in own):
                refs.add(ref)
        return refs

    def councils(self) -> list[str]:
        return sorted({m["council"] for m in self.decisions.values()})

    def outcomes(self) -> Counter:
        return Counter(m.get("outcome") or "Unknown" for m in self.decisions.values())
