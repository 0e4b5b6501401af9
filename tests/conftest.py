"""Shared fixtures: the bundled decisions, settings on a temporary store, and embedders.

`FakeEmbedder` is deterministic and instant, for tests about plumbing; tests about retrieval
quality use the real packaged model through the session-scoped `minilm` fixture.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from rag import Bot, Settings, parse_decision

PROJECT = Path(__file__).resolve().parent.parent
DECISIONS_DIR = PROJECT / "data" / "decisions"
SEED_REFS = ["18 009 360", "18 011 812", "19 012 512", "19 018 981", "24 003 230"]


class FakeEmbedder(Embeddings):
    """Bag-of-words hashed into 64 dimensions: similar texts get similar vectors, no model needed."""

    name = "test:fake-hash-64"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in re.findall(r"\w+", text.lower()):
            h = int(hashlib.md5(word.encode()).hexdigest(), 16)
            vec[h % self.dim] += 1.0 if (h >> 8) % 2 else -1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        self.texts_embedded += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture(scope="session")
def seed_texts() -> dict[str, str]:
    """Reference -> text of each bundled decision."""
    return {
        p.stem.replace("-", " "): p.read_text(encoding="utf-8") for p in sorted(DECISIONS_DIR.glob("*.txt"))
    }


@pytest.fixture(scope="session")
def seeds(seed_texts):
    """Reference -> parsed Decision of each bundled decision."""
    return {ref: parse_decision(text, source=ref) for ref, text in seed_texts.items()}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(store_dir=tmp_path / "store", data_dir=DECISIONS_DIR)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def fake_bot(settings, fake_embedder) -> Bot:
    return Bot(settings, embedder=fake_embedder)


@pytest.fixture(scope="session")
def minilm():
    """The real packaged all-MiniLM-L6-v2, loaded once per test session."""
    from rag.embed import MiniLMEmbedder

    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def seeded_bot(tmp_path_factory, minilm) -> Bot:
    """The bundled decisions ingested once with the real model, shared by read-only tests."""
    bot = Bot(Settings(store_dir=tmp_path_factory.mktemp("seeded") / "store"), embedder=minilm)
    report = bot.ingest()
    assert report.failed == 0 and report.decisions == len(SEED_REFS)
    return bot


@pytest.fixture(scope="session")
def eval_questions() -> list[dict]:
    from evals.run import load_questions

    return load_questions()
