"""Vectors without the cost of embedding, for the large benchmark tiers.

A synthetic paragraph is a varied copy of a bundled one, so its vector is the bundled paragraph's
real embedding plus a little noise (cosine about 0.93 to its source): neighbours stay as realistic
as the corpus, and a 100k-chunk store builds in minutes instead of hours.  Questions are always
embedded by the real model.
"""

from __future__ import annotations

import hashlib

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.embed import OnnxMiniLMEmbedder

NOISE = 0.02  # per-dimension standard deviation before renormalising


class PrecomputedEmbedder(Embeddings):
    """Looks up a document's source paragraph; embeds questions for real."""

    def __init__(self, model: OnnxMiniLMEmbedder, sources: dict[str, str], source_texts: dict[str, str]) -> None:
        self.model = model
        self.name = model.name
        self.sources = sources
        keys = sorted(source_texts)
        self._keys = keys
        self._row = {key: n for n, key in enumerate(keys)}
        self._base = model.embed_array([source_texts[k] for k in keys])

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
        rng = np.random.default_rng(seed)
        key = self.sources.get(text[:80])
        base = self._base[self._row[key]] if key in self._row else self._base[rng.integers(len(self._keys))]
        vector = base + rng.normal(0.0, NOISE, size=base.shape).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t).tolist() for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)


def random_unit_vectors(rng: np.random.Generator, base: np.ndarray, count: int) -> np.ndarray:
    """`count` vectors scattered around rows of `base` (for the store-only million-chunk tier)."""
    rows = base[rng.integers(len(base), size=count)]
    out = rows + rng.normal(0.0, NOISE, size=rows.shape).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)
