"""Stores built by a retired build of the embedding model are brought forward in place.

Until December 2026 the default model was an int8 build of all-MiniLM-L6-v2, whose vectors
depended on the CPU (see rag/onnx_model.py).  A store it built is named after it, so the float
build would refuse it and ask for `--rebuild`.  Everything needed is in the store itself (every
chunk's verbatim text), so instead its vectors are recomputed in place: nothing is dropped, and an
interruption leaves the store marked as the old build, to be finished on the next start.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.guard import index_text

# Builds of the same model whose stores are re-embedded rather than refused.
RETIRED = {
    "sentence-transformers/all-MiniLM-L6-v2@int8-dynamic-per-channel-v1": "sentence-transformers/all-MiniLM-L6-v2",
}
PAGE = 2000
log = logging.getLogger("rag")


def _collections(client: Any, collection: str) -> list[Any]:
    found = []
    for name in (collection, f"{collection}_decisions"):
        try:
            found.append(client.get_collection(name, embedding_function=None))
        except Exception:  # noqa: BLE001 - chromadb raises different errors for "not found"
            return []
    return found


def retired_build(client: Any, collection: str, embedder: str) -> str | None:
    """The retired build that made this store, if it is one that `embedder` replaces."""
    for col in _collections(client, collection):
        built_by = (col.metadata or {}).get("embedder")
        if RETIRED.get(built_by) == embedder:
            return built_by
    return None


def _all_ids(collection: Any) -> list[str]:
    """Every record's id, a page at a time (one unpaged `get` fails past ~32,000 records)."""
    ids, offset = [], 0
    while True:
        got = collection.get(include=[], limit=PAGE, offset=offset)["ids"]
        ids += got
        if len(got) < PAGE:
            return ids
        offset += PAGE


def reembed(client: Any, collection: str, embedder_name: str, embedder: Callable[[], Embeddings]) -> int:
    """Recompute every chunk's vector and every decision's (the mean of its chunks') with
    `embedder`, then mark both collections as built by it.  Returns the chunks re-embedded."""
    chunks, decisions = _collections(client, collection)
    model = embedder()
    log.warning("note: the store was built by a retired build of the embedding model; re-embedding its "
                "%d chunks in place with %s (once; nothing is dropped)", chunks.count(), embedder_name)
    by_decision: dict[str, list[np.ndarray]] = defaultdict(list)
    offset = 0
    while True:
        got = chunks.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
        if got["ids"]:
            vectors = np.asarray(model.embed_documents([index_text(t) for t in got["documents"]]), np.float32)
            chunks.update(ids=got["ids"], embeddings=vectors)
            for meta, vector in zip(got["metadatas"], vectors):
                by_decision[str((meta or {}).get("ref", "")).replace(" ", "-")].append(vector)
        if len(got["ids"]) < PAGE:
            break
        offset += PAGE
    ids = [i for i in _all_ids(decisions) if by_decision.get(i)]
    for start in range(0, len(ids), PAGE):
        part = ids[start : start + PAGE]
        means = [np.mean(by_decision[i], axis=0) for i in part]
        decisions.update(ids=part, embeddings=np.asarray([m / (np.linalg.norm(m) or 1.0) for m in means]))
    for col in (chunks, decisions):  # last: until here the store still says the old build
        col.modify(metadata={**(col.metadata or {}), "embedder": embedder_name})
    return sum(len(v) for v in by_decision.values())
