"""What is in the store, held in memory: the registry of decisions and the two search indexes.

Filters are resolved here, exactly, against decision metadata (a few thousand rows at most) into
the set of matching references; the vector and lexical searches are then restricted to that set.

The registry and the indexes are one `State`, replaced whole: a question reads the state that was
current when it asked, while an update is applied beside it (in the ingesting process, or in a
background thread of a serving process that notices the store's change stamp move), so no
question waits for an update.  Only the very first open, with no saved index anywhere, waits.
"""

from __future__ import annotations

import atexit
import bisect
import re
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.bm25 import LexicalIndex
from rag.dense import DenseIndex
from rag.errors import RagError
from rag.filters import Filters, norm
from rag.indexes import Indexes, Updater
from rag.kernels import warm
from rag.lexical import fingerprint
from rag.refs import refs_in
from rag.store import Store

RECHECK_SECONDS = 5.0
EXIT_WAIT_SECONDS = 30.0
MATCHING_CACHE = 256  # filter combinations remembered per registry
TEXT_FIELDS = ("council", "category", "subcategory", "outcome")
_GENERIC = frozenset("county council borough city district metropolitan london royal of the and".split())
_running: list[threading.Thread] = []


def _start(thread: threading.Thread) -> threading.Thread:
    """Start a background thread that the interpreter waits for at exit: one still loading the
    compiled kernels, reading Chroma or updating an index while Python shuts down crashed the
    process (a command that had succeeded ended with a segmentation fault)."""
    if not _running:
        atexit.register(_finish)
    _running[:] = [t for t in _running if t.is_alive()] + [thread]
    thread.start()
    return thread


def _finish() -> None:
    deadline = time.monotonic() + EXIT_WAIT_SECONDS
    for thread in list(_running):
        thread.join(max(0.0, deadline - time.monotonic()))


@dataclass(frozen=True)
class State:
    """The registry and the indexes that reflect it, swapped together."""

    decisions: dict[str, dict[str, Any]]
    indexes: Indexes
    stamp: str | None


class Catalog:
    """A cached view of the store's decisions and the two search indexes beside it."""

    def __init__(self, store: Store, folder: Path, snapshot: Path | None = None,
                 recheck_seconds: float = RECHECK_SECONDS) -> None:
        self.store = store
        self.updater = Updater(store, folder, snapshot)
        self.recheck_seconds = recheck_seconds
        self._state: State | None = None
        self._lock = threading.Lock()  # one update at a time; questions never take it
        self._poller: threading.Thread | None = None
        self._watching = threading.Event()
        self.last_error: RagError | None = None
        self._council_words: dict[frozenset[str], set[str]] = {}
        self._council_vocabulary: frozenset[str] = frozenset()
        self._councils_of: dict | None = None
        self._index: dict[str, Any] = {}
        self._index_of: dict | None = None
        self._checked = float("-inf")

    # -- the current state ---------------------------------------------------------------------
    @property
    def state(self) -> State:
        """The current state; the first call opens (or builds) it, later ones never wait: a due
        check of the store runs in the background."""
        state = self._state
        if state is None:
            self.refresh(force=True)
            state = self._state
            assert state is not None
        elif time.monotonic() - self._checked >= self.recheck_seconds:
            self._check_in_background()
        return state

    def refresh(self, force: bool = False, rebuild: bool = False) -> None:
        """Bring the state in step with the store, in this thread (questions in other threads go
        on with the previous state).  Without `force`, only when a check is due."""
        if not force and not rebuild and time.monotonic() - self._checked < self.recheck_seconds:
            return
        with self._lock:
            self._refresh(rebuild)

    def _refresh(self, rebuild: bool) -> None:
        stamp = self.store.change_stamp()  # before the registry: a change between them is seen next time
        state = self._state
        if state is not None and not rebuild and stamp is not None and stamp == state.stamp:
            self._checked = time.monotonic()
            return
        registry = None if state is not None or rebuild else self.updater.saved_registry(stamp)
        if registry is None:
            registry = self.store.registry()
        if state is not None and not rebuild and registry == state.decisions:
            self._state = State(state.decisions, state.indexes, stamp)  # keep the object: caches key on it
            self.updater.remember_registry(stamp, state.decisions)
            self._checked = time.monotonic()
            return
        fp = fingerprint(registry, self.store.embedder)
        indexes = self.updater.update(registry, state.indexes if state else None, fp, rebuild)
        self.updater.remember_registry(stamp, registry)
        self._state = State(registry, indexes, stamp)
        self._checked = time.monotonic()
        if state is None:
            self._warm(indexes)

    def _warm(self, indexes: Indexes) -> None:
        """On the first open, while the caller goes on (loading the model, most often), load the
        compiled kernels: the first answer after a restart does not wait for them in turn.  The
        store is not read at all: answers quote the index's own copy of each chunk."""
        if indexes.dense.scans_int8:  # a store searched as a float matrix never loads Numba
            _start(threading.Thread(target=warm, name="rag-warm", daemon=True))

    def _check_in_background(self) -> None:
        self._checked = time.monotonic()  # one check per interval, however many questions ask
        if self._poller is None or not self._poller.is_alive():
            self._poller = _start(threading.Thread(target=self._poll, name="rag-index-update", daemon=True))

    def _poll(self) -> None:
        try:
            with self._lock:
                self._refresh(False)
            self.last_error = None
        except RagError as exc:  # the store is unreachable: keep answering from the last state
            self.last_error = exc

    def watch(self) -> None:
        """Check the store every `recheck_seconds` in a background thread, questions or not, so
        that another process's ingest is searchable here within seconds (the app calls this)."""
        if self._watching.is_set():
            return
        self._watching.set()

        def loop() -> None:
            while self._watching.is_set():
                time.sleep(self.recheck_seconds)
                self._poll()

        threading.Thread(target=loop, name="rag-index-watch", daemon=True).start()

    def stop_watching(self) -> None:
        self._watching.clear()

    @property
    def decisions(self) -> dict[str, dict[str, Any]]:
        return self.state.decisions

    @property
    def lexical(self) -> LexicalIndex:
        return self.state.indexes.lexical

    @property
    def dense(self) -> DenseIndex:
        return self.state.indexes.dense

    def get_chunks(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Chunks by id (in the order asked) from the index's own copy, not the store."""
        return self.state.indexes.table.chunks(ids)

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
            normed: dict[Any, str] = {}  # a few hundred distinct values among tens of thousands
            for ref, meta in decisions.items():
                for key in TEXT_FIELDS:
                    value = meta.get(key)
                    name = normed.get(value)
                    if name is None:
                        name = normed[value] = norm(value)
                    index[key].setdefault(name, set()).add(ref)
            dated = sorted((str(m["decision_date"]), ref) for ref, m in decisions.items() if m.get("decision_date"))
            index["dates"] = ([d for d, _ in dated], [r for _, r in dated])
            index["matching"] = {}
            index["councils"] = sorted({m["council"] for m in decisions.values()})
            index["values"] = {key: sorted({str(m[key]) for m in decisions.values() if m.get(key)})
                               for key in TEXT_FIELDS}
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
            words_of: dict[str, frozenset[str]] = {}
            for ref, meta in decisions.items():
                council = meta["council"]
                own = words_of.get(council)
                if own is None:
                    own = words_of[council] = frozenset(re.findall(r"[a-z]+", council.lower())) - _GENERIC
                grouped.setdefault(own, set()).add(ref)
            self._council_vocabulary = frozenset(word for own in grouped for word in own)
            self._council_words, self._councils_of = grouped, decisions
        return self._council_words

    def is_council(self, name: str) -> bool:
        """Is this council name, as a user writes it, an indexed council's?  Its own words (less
        "County", "Borough", "Council"...) must all be in one council's: "Bromley Council" is the
        London Borough of Bromley, "Derbyshire Council" Derbyshire County Council.  A name with no
        words of its own ("the County Council") could be any of them."""
        own = frozenset(re.findall(r"[a-z]+", name.lower())) - _GENERIC
        return not own or any(own <= words for words in self._by_council())

    def council_words(self) -> frozenset[str]:
        """Every council's distinctive words ("greyfriars", "derbyshire"), to read a misspelt one;
        worked out once per registry with the councils' words (asked for on every question)."""
        self._by_council()
        return self._council_vocabulary

    def values(self, key: str) -> list[str]:
        """The distinct values of one text field (category, subcategory, outcome, council) that
        the indexed decisions hold, worked out once per registry."""
        return self._field_index()["values"][key]

    def councils(self) -> list[str]:
        return self._field_index()["councils"]

    def outcomes(self) -> Counter:
        return Counter(m.get("outcome") or "Unknown" for m in self.decisions.values())
