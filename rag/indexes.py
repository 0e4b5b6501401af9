"""Keeping the derived indexes in step with the store, by the rows that changed.

The manifest records, for every decision, the registry version its rows reflect.  An update
compares that with the store's registry: decisions that are new or changed are read (only they)
and written as a new segment; the rows of
changed and removed decisions are marked deleted; small segments are merged and segments with
many deleted rows compacted.  The same comparison, on open, repairs an index saved before a
crash.  A full rebuild, a page of chunks at a time, happens only when the index is missing or
unreadable, when what every row depends on changed (embedder, tokenizer, format), when most
decisions changed, or when asked (`--rebuild-indexes`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.bm25 import LexicalIndex, row_tokens
from rag.dense import DenseIndex
from rag.lexical import TOKENIZER_VERSION
from rag.manifest import (
    FORMAT,
    Manifest,
    collect_garbage,
    copy_index,
    locked,
    read_manifest,
    save_registry,
    saved_registry,
    write_manifest,
)
from rag.rows import Table
from rag.segment import Rows, Segment, merge_segments, write_segment
from rag.store import Store

SEGMENT_ROWS = 50_000  # fewest rows per segment written by a rebuild (at most MAX_SEGMENTS / 2 of them)
MAX_SEGMENTS = 12  # beyond this, the smallest segments are merged
COMPACT_SHARE = 0.3  # a segment with this share of deleted rows is rewritten without them
REBUILD_SHARE = 0.5  # when more of the decisions than this changed, rebuild instead
FETCH_REFS = 100  # decisions read from the store per request


def basis(embedder: str) -> str:
    """What every row depends on; when it changes, the index is rebuilt."""
    return hashlib.sha256(json.dumps([embedder, TOKENIZER_VERSION, FORMAT]).encode()).hexdigest()[:16]


def version_of(meta: dict[str, Any]) -> str:
    """A decision's registry version: any write of it changes `ingested_at`."""
    return "|".join(str(meta.get(k)) for k in ("doc_hash", "chunks", "pipeline", "ingested_at"))


def add_chunk(rows: Rows, chunk: dict) -> None:
    """A store chunk (id, text, metadata, vector) as a segment row, its text and metadata kept for
    answers to quote; rows keep the order they are added in: the order they were written, as the
    old whole-store rebuild had them (ties among equal scores keep their old order)."""
    meta = chunk["metadata"]
    rows.add(chunk["id"], meta["ref"], meta.get("section_kind", "other"), bool(meta.get("reported")),
             chunk["vector"], row_tokens(meta, chunk["text"]), chunk["text"], meta)


@dataclass
class Indexes:
    """The dense and lexical indexes of one manifest, sharing its rows."""

    folder: Path
    manifest: Manifest
    segments: dict[str, Segment]
    fingerprint: str = ""
    table: Table = field(init=False)
    dense: DenseIndex = field(init=False)
    lexical: LexicalIndex = field(init=False)

    def __post_init__(self) -> None:
        segs = [self.segments[s["name"]] for s in self.manifest.segments]
        self.table = Table(segs, [np.asarray(s["deleted"], dtype=np.int64) for s in self.manifest.segments])
        self.dense = DenseIndex(self.table, self.fingerprint)
        self.lexical = LexicalIndex(self.table, self.fingerprint)

    @property
    def versions(self) -> dict[str, str]:
        return self.manifest.versions


def open_indexes(folder: Path, manifest: Manifest, fp: str, reuse: dict[str, Segment] | None = None) -> Indexes:
    """Open a manifest's segments (memory maps: nothing is read until a question needs it)."""
    reuse = reuse or {}
    segments = {name: reuse.get(name) or Segment(folder / name) for name in manifest.names()}
    return Indexes(folder, manifest, segments, fp)


class Updater:
    """Applies the store's changes to the index folder (and publishes it to a shared snapshot)."""

    def __init__(self, store: Store, folder: Path, snapshot: Path | None = None) -> None:
        self.store = store
        self.folder = folder
        self.snapshot = snapshot if snapshot and snapshot.resolve() != folder.resolve() else None
        self.basis = basis(store.embedder)
        self.reads = 0  # decisions read back from the store (for tests and benchmarks)
        self.rebuilds = 0
        self._saved: dict[Path, str | None] = {}  # the stamp each folder's saved registry is known to hold

    def saved_registry(self, stamp: str | None) -> dict[str, dict] | None:
        """The registry saved beside the index (or the snapshot) at this very change stamp."""
        for folder in (self.folder, self.snapshot):
            if folder is not None:
                registry = saved_registry(folder, stamp)
                if registry is not None:
                    self._saved[folder] = stamp
                    return registry
        return None

    def remember_registry(self, stamp: str | None, registry: dict[str, dict]) -> None:
        """Save the registry beside the index, and beside the snapshot when that holds the same;
        not again where it is already saved at this stamp (a second or more for a whole archive,
        on every restart)."""
        mine = read_manifest(self.folder)
        targets = [self.folder]
        if self.snapshot is not None and mine is not None:
            shared = read_manifest(self.snapshot)
            if shared is not None and shared.versions == mine.versions:
                targets.append(self.snapshot)
        for folder in targets:
            if stamp is not None and self._saved.get(folder) == stamp:
                continue
            try:
                save_registry(folder, stamp, registry)
                self._saved[folder] = stamp
            except OSError:
                pass  # a folder this process cannot write: the next start reads the store's registry

    def _usable(self) -> Manifest | None:
        manifest = read_manifest(self.folder)
        if manifest is not None and manifest.basis == self.basis:
            try:
                for name in manifest.names():
                    Segment(self.folder / name)
                return manifest
            except (OSError, ValueError, KeyError):
                return None
        return None

    def update(self, registry: dict[str, dict], current: Indexes | None, fp: str, rebuild: bool = False) -> Indexes:
        """The index made to reflect `registry` (the one open now, `current`, lends its segments)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with locked(self.folder):
                return self._update(registry, current, fp, rebuild)
        except OSError:
            if self.folder.name.startswith("rag-index-"):
                raise
            # a store folder this process cannot write still answers: the index lives in a temp folder
            self.folder = Path(tempfile.mkdtemp(prefix="rag-index-"))
            with locked(self.folder):
                return self._update(registry, None, fp, rebuild)

    def _update(self, registry: dict[str, dict], current: Indexes | None, fp: str, rebuild: bool) -> Indexes:
        manifest = None if rebuild else self._usable()
        if manifest is None and not rebuild and self.snapshot is not None:
            if copy_index(self.snapshot, self.folder, held=self.folder) is not None:
                manifest = self._usable()
        reuse = dict(current.segments) if current is not None else {}
        if manifest is None and not rebuild:  # nothing saved: start empty
            manifest = Manifest(basis=self.basis)
        if manifest is None or self._too_many(manifest, registry):
            manifest = self._rebuild(registry)
        else:
            manifest = self._apply(manifest, registry, reuse)
        collect_garbage(self.folder, manifest)
        indexes = open_indexes(self.folder, manifest, fp, reuse)
        if self.snapshot is not None:
            self._publish(manifest)
        return indexes

    @staticmethod
    def _too_many(manifest: Manifest, registry: dict[str, dict]) -> bool:
        """Whether so many decisions would be read, a hundred per request, that reading every chunk
        page by page is cheaper."""
        to_read = sum(manifest.versions.get(ref) != version_of(meta) for ref, meta in registry.items())
        return len(registry) > 20 and to_read > REBUILD_SHARE * len(registry)

    def _publish(self, manifest: Manifest) -> None:
        shared = read_manifest(self.snapshot)
        if shared is None or shared.basis != manifest.basis or shared.versions != manifest.versions:
            try:
                copy_index(self.folder, self.snapshot, held=self.folder)
            except OSError:
                pass  # a read-only snapshot is one this process only reads

    def _fetch(self, refs: list[str]) -> Iterator[tuple[str, list[dict]]]:
        """(ref, chunks) of each decision to (re)load, read from the store a hundred at a time."""
        for i in range(0, len(refs), FETCH_REFS):
            batch = refs[i:i + FETCH_REFS]
            self.reads += len(batch)
            got = defaultdict(list)
            for chunk in self.store.chunks_of(batch, vectors=True):
                got[chunk["metadata"]["ref"]].append(chunk)
            for ref in batch:
                yield ref, got.get(ref, [])

    def _apply(self, manifest: Manifest, registry: dict[str, dict], reuse: dict[str, Segment]) -> Manifest:
        # in the registry's order, which is the order decisions were first written
        load = [ref for ref, meta in registry.items() if manifest.versions.get(ref) != version_of(meta)]
        gone = set(manifest.versions) - set(registry)
        if not load and not gone:
            return manifest
        versions = {ref: v for ref, v in manifest.versions.items() if ref not in gone}
        added, dim = Rows(), manifest.dim
        for ref, chunks in self._fetch(load):
            good = len(chunks) == registry[ref].get("chunks")
            versions[ref] = version_of(registry[ref]) if good else "?"  # mid-write: read again next time
            for chunk in chunks:
                dim = dim or len(chunk["vector"])
                add_chunk(added, chunk)
        segments = [dict(s, deleted=list(s["deleted"])) for s in manifest.segments]
        replaced = gone | set(load)
        for entry in segments:
            seg = reuse.get(entry["name"]) or Segment(self.folder / entry["name"])
            reuse[entry["name"]] = seg
            numbers = [n for n, ref in enumerate(seg.ref_names) if ref in replaced]
            if numbers:
                rows = np.flatnonzero(np.isin(np.asarray(seg.ref_no), numbers)).tolist()
                entry["deleted"] = sorted(set(entry["deleted"]) | set(rows))
        if len(added):
            segments.append({"name": write_segment(self.folder, added, dim), "rows": len(added), "deleted": []})
        segments = self._merge(segments, reuse)
        new = Manifest(basis=manifest.basis, dim=dim, generation=manifest.generation + 1, segments=segments,
                       versions=versions)
        write_manifest(self.folder, new)
        return new

    def _merge(self, segments: list[dict], reuse: dict[str, Segment]) -> list[dict]:
        """Merge the smallest segments when there are too many, and rewrite segments that are
        mostly deleted rows, so searches never scan much dead weight."""
        segments = [s for s in segments if len(s["deleted"]) < s["rows"]]  # wholly deleted: drop
        chosen = [s for s in segments if len(s["deleted"]) >= COMPACT_SHARE * s["rows"]]
        if len(segments) > MAX_SEGMENTS:
            by_size = sorted((s for s in segments if s not in chosen), key=lambda s: s["rows"])
            chosen += by_size[: len(segments) - MAX_SEGMENTS // 2 + 1]
        if not chosen:
            return segments
        order = [s for s in segments if s in chosen]  # keep their order: rows stay in write order
        parts = []
        for s in order:
            seg = reuse.get(s["name"]) or Segment(self.folder / s["name"])
            keep = np.ones(seg.rows, dtype=bool)
            keep[np.asarray(s["deleted"], dtype=np.int64)] = False
            parts.append((seg, keep))
        name = merge_segments(self.folder, parts)
        merged = {"name": name, "rows": int(sum(k.sum() for _, k in parts)), "deleted": []}
        at = segments.index(order[0])
        rest = [s for s in segments if s not in chosen]
        return rest[:at] + [merged] + rest[at:]

    def _rebuild(self, registry: dict[str, dict]) -> Manifest:
        """Every registered decision's chunks, read a page at a time into segments."""
        self.rebuilds += 1
        counts: dict[str, int] = defaultdict(int)
        segments: list[dict] = []
        buffer, dim = Rows(), 0
        per_segment = max(SEGMENT_ROWS, -(-self.store.count_chunks() // (MAX_SEGMENTS // 2)))

        def flush() -> None:
            if len(buffer):
                name = write_segment(self.folder, buffer, dim)
                segments.append({"name": name, "rows": len(buffer), "deleted": []})

        for chunk in self.store.iter_chunks(vectors=True):
            ref = chunk["metadata"]["ref"] if chunk["metadata"] else None
            if ref not in registry:
                continue  # chunks of an interrupted write, never registered: not searchable
            dim = dim or len(chunk["vector"])
            counts[ref] += 1
            add_chunk(buffer, chunk)
            if len(buffer) >= per_segment:
                flush()
                buffer = Rows()
        flush()
        versions = {ref: version_of(meta) if counts.get(ref, 0) == meta.get("chunks") else "?"
                    for ref, meta in registry.items()}
        manifest = Manifest(basis=self.basis, dim=dim, generation=1, segments=segments, versions=versions)
        write_manifest(self.folder, manifest)
        return manifest


def create(folder: Path, rows: Rows, fp: str = "", dim: int | None = None) -> Indexes:
    """An index of just these rows (tests and benchmarks build one without a store)."""
    dim = dim or (rows.vectors.shape[1] if len(rows) else 1)
    folder.mkdir(parents=True, exist_ok=True)
    segments = [{"name": write_segment(folder, rows, dim), "rows": len(rows), "deleted": []}] if len(rows) else []
    manifest = Manifest(basis="rows", dim=dim, generation=1, segments=segments,
                        versions=dict.fromkeys(rows.refs, "rows"))
    write_manifest(folder, manifest)
    return open_indexes(folder, manifest, fp)


def remove_old_indexes(store_dir: Path, collection: str) -> None:
    """The whole-file indexes of earlier versions (`<store>/lexical/`, `<store>/dense/`)."""
    for kind in ("lexical", "dense"):
        shutil.rmtree(store_dir / kind / collection, ignore_errors=True)
