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


def synthetic_bot(folder: Path, embedder: Embeddings, numbers: tuple[str, ...]) -> Bot:
    """A bot over the synthetic decisions numbered so (`data/synthetic/syn-NN-*.txt`), each ingested."""
    bot = Bot(Settings(store_dir=folder / "store"), embedder=embedder)
    files = [path for n in numbers for path in (PROJECT / "data" / "synthetic").glob(f"syn-{n}-*.txt")]
    assert len(files) == len(numbers) and bot.ingest(files).failed == 0
    return bot


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
    """The real packaged all-MiniLM-L6-v2 (the default ONNX build), loaded once per test session."""
    from rag.embed import OnnxMiniLMEmbedder

    return OnnxMiniLMEmbedder.packaged()


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


PLANTED_REF = "99 999 999"
PLANTED_SCRIPT = '<script>window.pwned=1</script>'
PLANTED_IMG = '<img src=x onerror="window.pwned=2">'


def planted_decision(seed_text: str) -> str:
    """A copy of 18 011 812 under another council and reference, with HTML in one paragraph."""
    text = seed_text.replace("Derbyshire County Council (18 011 812)", f"Testshire County Council ({PLANTED_REF})")
    return text.replace(
        "The Council also invited Mr C to comment on the incident.",
        f"The Council also invited Mr C to comment on the trampoline incident {PLANTED_SCRIPT} {PLANTED_IMG}.",
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, minilm, seed_texts):
    """The app on a free loopback port over the seeds plus a planted hostile decision."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from rag.ui import ChatApp

    folder = tmp_path_factory.mktemp("app-data")
    for ref, text in seed_texts.items():
        (folder / f"{ref.replace(' ', '-')}.txt").write_text(text, encoding="utf-8")
    (folder / "99-999-999.txt").write_text(planted_decision(seed_texts["18 011 812"]), encoding="utf-8")
    port = free_port()
    # no per-client limit here: every test asks from 127.0.0.1 (tests/test_load.py tests the limit)
    settings = Settings(store_dir=tmp_path_factory.mktemp("app-store") / "store", data_dir=folder, port=port,
                        rate_limit_per_minute=0)
    bot = Bot(settings, embedder=minilm)
    assert bot.ingest().failed == 0
    app = ChatApp(bot, settings)
    app.launch(prevent_thread_lock=True)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        import gradio as gr

        gr.close_all()
