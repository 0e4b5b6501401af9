"""The Chroma store: a collection of chunks and a registry collection with one record per decision.

Chroma objects stay inside this module; callers get plain dicts and our dataclasses.  The registry
record of a decision is written last, after its chunks, so a run that is interrupted part-way
leaves the decision unregistered (or registered with its old hash) and the next run redoes it:
chunk ids are deterministic, so that is an overwrite, and stale chunks are deleted by id.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from rag.chunk import decision_metadata
from rag.errors import EmbedderMismatchError, RagError, StoreError
from rag.lock import lock_store
from rag.models import Chunk, Decision
from rag.settings import Settings

T = TypeVar("T")


def make_chroma_client(settings: Settings):  # noqa: ANN201 - chromadb.ClientAPI
    """An embedded PersistentClient, or an HttpClient when RAG_CHROMA_URL is set; telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # noqa: BLE001 - chromadb raises several kinds here
            raise StoreError(
                f"cannot reach the Chroma server at {settings.chroma_url} ({exc}); start it with "
                "`chroma run --path DIR --host 127.0.0.1 --port 8000` or unset RAG_CHROMA_URL"
            ) from None
    try:
        settings.store_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the store at {settings.store_dir} ({exc.strerror}); check RAG_STORE_DIR") \
            from None
    lock_store(settings.store_dir)  # one process at a time on an embedded store
    try:
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except Exception as exc:  # noqa: BLE001
        raise StoreError(
            f"cannot open the store at {settings.store_dir} ({exc}); check RAG_STORE_DIR"
        ) from None


@dataclass(frozen=True)
class WriteItem:
    """A decision ready to store: its chunks, their vectors and the decision's own vector."""

    decision: Decision
    chunks: Sequence[Chunk]
    vectors: Sequence[Sequence[float]]
    decision_vector: Sequence[float]


def _registry_metadata(decision: Decision, chunk_count: int) -> dict[str, Any]:
    meta: dict[str, Any] = decision_metadata(decision)
    meta.update(
        paragraphs=len(decision.paragraphs),
        chunks=chunk_count,
        remedies=json.dumps([{"kind": r.kind, "amount": r.amount, "paragraph": r.paragraph}
                             for r in decision.remedies]),
        ingested_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    if decision.summary:
        meta["summary"] = decision.summary
    return meta


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Turn any Chroma failure (server gone, disk full, read-only files) into one StoreError
    that names the store, so entry points print a line instead of a traceback."""

    @functools.wraps(method)
    def wrapper(self: "Store", *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except RagError:
            raise
        except Exception as exc:  # noqa: BLE001 - chromadb, httpx and sqlite all raise their own
            raise StoreError(
                f"the Chroma store at {self.location} failed during {method.__name__} "
                f"({type(exc).__name__}: {str(exc)[:200]}); {_advice(str(exc))}"
            ) from None

    return wrapper


def _advice(problem: str) -> str:
    text = problem.lower()
    if any(s in text for s in ("disk", "no space", "readonly", "read-only", "too large", "full")):
        return ("free some disk space or make the store folder writable, then run again: what was stored "
                "before is intact, and the next run completes the rest")
    return "check that it is running and writable"


class Store:
    """Chunks and decisions in Chroma, built by exactly one embedder."""

    def __init__(self, client: Any, collection: str, embedder: str, location: str = "?") -> None:
        self._client = client
        self.embedder = embedder
        self.location = location
        meta = self._meta = {"embedder": embedder, "schema": 1}
        config = {"hnsw": {"space": "cosine"}}
        try:
            self._chunks = client.get_or_create_collection(
                collection, metadata=meta, configuration=config, embedding_function=None
            )
            self._decisions = client.get_or_create_collection(
                f"{collection}_decisions", metadata=meta, configuration=config, embedding_function=None
            )
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"cannot open collection {collection!r} ({exc})") from None
        for col in (self._chunks, self._decisions):
            built_by = (col.metadata or {}).get("embedder")
            if built_by != embedder:
                raise EmbedderMismatchError(
                    f"collection {col.name!r} was built with embedder {built_by!r} but the settings "
                    f"use {embedder!r}; rebuild it with `python ingest.py --rebuild` or set "
                    "RAG_EMBEDDER back"
                )
        self.max_batch = max(1, min(5000, int(client.get_max_batch_size())))

    # -- reading -------------------------------------------------------------------------------
    @_guarded
    def registry(self) -> dict[str, dict[str, Any]]:
        """Every registered decision's metadata, keyed by reference."""
        return {m["ref"]: m for _, _, m, _ in _pages(self._decisions, ["metadatas"]) if m}

    @_guarded
    def count_chunks(self) -> int:
        return self._chunks.count()

    @_guarded
    def count_decisions(self) -> int:
        return self._decisions.count()

    @_guarded
    def chunk_ids(self, ref: str) -> list[str]:
        return self._chunks.get(where={"ref": ref}, include=[])["ids"]

    @_guarded
    def chunk_vectors(self, ref: str) -> list[tuple[str, Sequence[float]]]:
        """(text hash, vector) of a decision's stored chunks, to reuse when it is re-ingested."""
        got = self._chunks.get(where={"ref": ref}, include=["metadatas", "embeddings"])
        return [(m.get("chunk_hash", ""), v) for m, v in zip(got["metadatas"], got["embeddings"]) if m]

    @_guarded
    def decision_text(self, ref: str) -> str | None:
        got = self._decisions.get(ids=[ref.replace(" ", "-")], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    @_guarded
    def get_chunks(self, ids: Sequence[str], vectors: bool = False) -> list[dict[str, Any]]:
        """Chunks by id (in the order asked), with their vectors when `vectors`."""
        include = ["documents", "metadatas"] + (["embeddings"] if vectors else [])
        got = self._chunks.get(ids=list(ids), include=include)
        found = {}
        for n, i in enumerate(got["ids"]):
            row = {"id": i, "text": got["documents"][n], "metadata": got["metadatas"][n]}
            if vectors:
                row["vector"] = got["embeddings"][n]
            found[i] = row
        return [found[i] for i in ids if i in found]

    @_guarded
    def chunks_of(self, refs: Sequence[str], vectors: bool = False) -> list[dict[str, Any]]:
        """Every chunk of some decisions (id, text, metadata, and vector when `vectors`)."""
        if not refs:
            return []
        include = ["documents", "metadatas"] + (["embeddings"] if vectors else [])
        where = {"ref": refs[0]} if len(refs) == 1 else {"ref": {"$in": list(refs)}}
        got = self._chunks.get(where=where, include=include)
        rows = []
        for n, chunk_id in enumerate(got["ids"]):
            row = {"id": chunk_id, "text": got["documents"][n], "metadata": got["metadatas"][n]}
            if vectors:
                row["vector"] = got["embeddings"][n]
            rows.append(row)
        return rows

    @_guarded
    def change_stamp(self) -> str | None:
        """A token that changes whenever a decision is written or deleted (None for a store
        written before stamps): one cheap request tells a reader whether to re-read the registry."""
        return (self._client.get_collection(self._decisions.name).metadata or {}).get("stamp")

    def _stamp(self, pending: bool = False) -> None:
        """Mark a change: before a write (`pending`: a write that dies part-way still leaves a
        stamp that no reader has seen) and after it (so a reader that sees the final stamp also
        sees the new registry)."""
        stamp = ("pending-" if pending else "") + uuid.uuid4().hex
        self._decisions.modify(metadata={**self._meta, "stamp": stamp})

    @_guarded
    def iter_chunks(self, page: int = 5000, vectors: bool = False) -> Iterator[dict[str, Any]]:
        """Every chunk's id, text and metadata (and vector), a page at a time, for the derived indexes."""
        include = ["documents", "metadatas"] + (["embeddings"] if vectors else [])
        for chunk_id, text, meta, vector in _pages(self._chunks, include, page):
            row = {"id": chunk_id, "text": text, "metadata": meta}
            if vectors:
                row["vector"] = vector
            yield row

    @_guarded
    def query(
        self, vector: Sequence[float], k: int = 10, where: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Nearest chunks as dicts with id, text, metadata and cosine distance."""
        n = min(k, self.count_chunks())
        if n == 0:
            return []
        got = self._chunks.query(
            query_embeddings=[list(vector)],
            n_results=n,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            {"id": i, "text": d, "metadata": m, "distance": dist}
            for i, d, m, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0]
            )
        ]

    # -- writing -------------------------------------------------------------------------------
    @_guarded
    def write_decisions(self, items: Sequence[WriteItem]) -> list[dict[str, Any]]:
        """Upsert several decisions' chunks at once, drop stale ones, then register the decisions
        (last, on purpose: an interruption leaves unregistered chunks that the next run replaces).
        The registry records written, in the order of `items`."""
        self._stamp(pending=True)
        rows = [(c, v) for item in items for c, v in zip(item.chunks, item.vectors)]
        for i in range(0, len(rows), self.max_batch):
            batch = rows[i : i + self.max_batch]
            self._chunks.upsert(
                ids=[c.id for c, _ in batch],
                embeddings=np.asarray([v for _, v in batch], dtype=np.float32),
                documents=[c.text for c, _ in batch],
                metadatas=[c.metadata for c, _ in batch],
            )
        for item in items:  # a "new" decision may have chunks left by an interrupted run
            keep = {c.id for c in item.chunks}
            stale = [i for i in self.chunk_ids(item.decision.ref) if i not in keep]
            if stale:
                self._chunks.delete(ids=stale)
        metas = [_registry_metadata(item.decision, len(item.chunks)) for item in items]
        self._decisions.upsert(
            ids=[item.decision.ref_key for item in items],
            embeddings=np.asarray([item.decision_vector for item in items], dtype=np.float32),
            documents=[item.decision.text for item in items],
            metadatas=metas,
        )
        self._stamp()
        return metas

    def write_decision(self, decision: Decision, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]],
                       decision_vector: Sequence[float]) -> list[dict[str, Any]]:
        """One decision (see `write_decisions`)."""
        return self.write_decisions([WriteItem(decision, chunks, vectors, decision_vector)])

    @_guarded
    def delete_decision(self, ref: str) -> None:
        """Unregister first, so an interruption leaves chunks that the next ingest cleans up."""
        self._stamp(pending=True)
        self._decisions.delete(ids=[ref.replace(" ", "-")])
        self._chunks.delete(where={"ref": ref})
        self._stamp()

    @_guarded
    def orphan_refs(self) -> set[str]:
        """References that have chunks but no registry record (left by an interrupted run)."""
        registered = set(self.registry())
        refs = {m["ref"] for _, _, m, _ in _pages(self._chunks, ["metadatas"]) if m}
        return refs - registered


def _pages(collection: Any, include: list[str], page: int = 5000) -> Iterator[tuple[str, Any, Any, Any]]:
    """(id, document, metadata, embedding) of every record, a page at a time.  One unpaged `get`
    fails once a collection passes about 32,000 records (Chroma asks SQLite for one variable per
    record: "too many SQL variables"), which a full archive's registry does."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        ids = got["ids"]
        for n, record_id in enumerate(ids):
            yield tuple([record_id] + [None if got.get(f) is None else got[f][n]
                                       for f in ("documents", "metadatas", "embeddings")])
        if len(ids) < page:
            return
        offset += page


def drop_collections(client: Any, collection: str) -> None:
    """Delete the chunk and registry collections (for --rebuild); missing ones are fine."""
    for name in (collection, f"{collection}_decisions"):
        try:
            client.delete_collection(name)
        except Exception:  # noqa: BLE001 - chromadb raises different errors for "not found"
            pass


def store_location(settings: Settings) -> str:
    return settings.chroma_url or str(settings.store_dir)
