"""Load decision files into the store: parse, chunk, embed and write, idempotently.

A decision whose content hash is already registered is skipped without loading the model, so a
second run over the same files is fast and changes nothing.  Bad files are reported one line each
and the run goes on.  Decisions are embedded in batches across files, which is what keeps the
small CPU model busy.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.chunk import chunk_decision, is_stored_current, text_hash
from rag.errors import InputError
from rag.guard import index_text, index_tokens
from rag.models import Chunk, Decision, IngestReport
from rag.parse import parse_decision
from rag.settings import Settings
from rag.sources import find_files, read_file
from rag.store import Store, WriteItem

EMBED_BATCH_CHUNKS = 512  # chunks gathered across decisions before one embedding call

Progress = Callable[[int], None]


@dataclass
class _Plan:
    """What a run will write, gathered before any model is loaded."""

    pending: list[tuple[Decision, str]] = field(default_factory=list)  # (decision, added|updated)
    seen: dict[str, str] = field(default_factory=dict)  # ref -> source name
    files_read: set[str] = field(default_factory=set)


def _plan(paths: Iterable[Path], store: Store, settings: Settings, report: IngestReport) -> _Plan:
    files, problems = find_files(paths)
    for name, reason in problems:
        _fail(report, name, reason)
    registry = store.registry()
    plan = _Plan()
    for path in files:
        try:
            records = list(read_file(path, settings.max_file_bytes))
        except InputError as exc:
            _fail(report, str(path), str(exc))
            continue
        except OSError as exc:
            _fail(report, str(path), exc.strerror or str(exc))
            continue
        for record in records:
            if record.error:
                _fail(report, record.name, record.error)
                continue
            try:
                decision = parse_decision(record.text, source=record.name, url=record.url,
                                          defaults=record.defaults)
            except InputError as exc:
                _fail(report, record.name, str(exc))
                continue
            plan.files_read.add(str(path))  # only a file that still holds a decision can prune
            _plan_decision(decision, plan, registry, report)
    return plan


def _plan_decision(decision: Decision, plan: _Plan, registry: dict, report: IngestReport) -> None:
    name = decision.source or "?"
    if not decision.paragraphs:
        _fail(report, name, f"decision {decision.ref} has no paragraphs after its header")
        return
    if decision.ref in plan.seen:
        _fail(report, name, f"same decision {decision.ref} as {plan.seen[decision.ref]}; skipped")
        return
    plan.seen[decision.ref] = name
    old = registry.get(decision.ref)
    if is_stored_current(old, decision):
        report.unchanged += 1
    else:
        plan.pending.append((decision, "updated" if old else "added"))


def _fail(report: IngestReport, name: str, reason: str) -> None:
    report.failed += 1
    report.failures.append((name, reason))


def _centroid(vectors: Sequence[Sequence[float]]) -> list[float]:
    """A decision's own vector: the normalised mean of its chunks' (free, unlike embedding it)."""
    mean = np.mean(np.asarray(vectors, dtype=np.float32), axis=0)
    return (mean / (float(np.linalg.norm(mean)) or 1.0)).tolist()


def _batches(pending: Sequence[tuple[Decision, str]], settings: Settings, embedder_name: str):
    """Groups of (decision, status, chunks) holding about EMBED_BATCH_CHUNKS chunks each."""
    batch: list[tuple[Decision, str, list[Chunk]]] = []
    size = 0
    for decision, status in pending:
        chunks = chunk_decision(decision, settings.chunk_max_tokens, embedder_name, count=index_tokens)
        batch.append((decision, status, chunks))
        size += len(chunks)
        if size >= EMBED_BATCH_CHUNKS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class _VectorCache:
    """Vectors by text hash, so that no text is embedded twice: the role-and-powers boilerplate
    recurs word for word across decisions, and an edited decision keeps most of its paragraphs."""

    def __init__(self, embedder: Embeddings, limit: int = 50_000) -> None:
        self.embedder = embedder
        self.limit = limit
        self._by_hash: OrderedDict[str, Sequence[float]] = OrderedDict()

    def remember(self, pairs: Iterable[tuple[str, Sequence[float]]]) -> None:
        for key, vector in pairs:
            self._by_hash[key] = vector
        while len(self._by_hash) > self.limit:
            self._by_hash.popitem(last=False)

    def vectors(self, texts: Sequence[str]) -> list[Sequence[float]]:
        keys = [text_hash(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts) if k not in self._by_hash}
        if missing:
            self.remember(zip(missing, self.embedder.embed_documents(list(missing.values()))))
        found = [self._by_hash.get(k) for k in keys]
        if any(v is None for v in found):  # more new texts than the cache holds: embed them all
            return self.embedder.embed_documents(list(texts))
        return found


def _write(plan: _Plan, store: Store, embedder: Embeddings, settings: Settings,
           report: IngestReport, progress: Progress | None) -> None:
    cache = _VectorCache(embedder)
    for batch in _batches(plan.pending, settings, store.embedder):
        for decision, status, _ in batch:
            if status == "updated":  # reuse the vectors of paragraphs that did not change
                cache.remember(store.chunk_vectors(decision.ref))
        texts = [index_text(c.text) for _, _, chunks in batch for c in chunks]  # planted instructions out
        vectors = cache.vectors(texts)
        offset = 0
        items = []
        for decision, _, chunks in batch:
            own = vectors[offset : offset + len(chunks)]
            items.append(WriteItem(decision, chunks, own, _centroid(own)))
            offset += len(chunks)
        store.write_decisions(items)
        for _, status, chunks in batch:
            report.chunks_written += len(chunks)
            setattr(report, status, getattr(report, status) + 1)
        if progress:
            progress(len(batch))


def _prune(plan: _Plan, store: Store, report: IngestReport) -> None:
    """Remove decisions whose source file is gone, or was read and no longer holds them."""
    for ref, meta in store.registry().items():
        if ref in plan.seen:
            continue
        source = str(meta.get("source") or "")
        file_name = source.split("#", 1)[0]
        if not file_name or not Path(file_name).exists() or file_name in plan.files_read:
            store.delete_decision(ref)
            report.pruned += 1
    for ref in store.orphan_refs() - set(plan.seen):
        store.delete_decision(ref)


def ingest(
    paths: Iterable[Path],
    store: Store,
    embedder: Embeddings | Callable[[], Embeddings],
    settings: Settings,
    prune: bool = False,
    progress: Callable[[int], Progress] | None = None,
) -> IngestReport:
    """Ingest files and folders.  `embedder` may be a factory, called only if something changed;
    `progress(total)` may return a callback advanced once per decision written."""
    started = time.perf_counter()
    report = IngestReport()
    plan = _plan(paths, store, settings, report)
    if plan.pending:
        model = embedder() if callable(embedder) and not isinstance(embedder, Embeddings) else embedder
        tick = progress(len(plan.pending)) if progress else None
        _write(plan, store, model, settings, report, tick)
    if prune:
        _prune(plan, store, report)
    report.decisions = store.count_decisions()
    report.chunks = store.count_chunks()
    report.seconds = time.perf_counter() - started
    return report
