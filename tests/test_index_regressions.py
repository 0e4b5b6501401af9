"""Regressions of the whole-rebuild indexes, through the public API only (each failed before the
indexes were updated by the decisions that changed): adding one decision re-read every chunk of
the store, a question asked after another process's ingest waited for that rebuild, and every
check re-read the whole registry."""

from __future__ import annotations

import time

from rag import Bot, Settings
from rag.ingest import ingest
from rag.store import Store
from tests.conftest import DECISIONS_DIR, FakeEmbedder

FILES = sorted(DECISIONS_DIR.glob("*.txt"))
QUESTION = "Did the council involve the non-resident parent in the assessment?"


def _bot(store) -> Bot:  # noqa: ANN001
    return Bot(Settings(store_dir=store, data_dir=DECISIONS_DIR), embedder=FakeEmbedder())


def test_adding_a_decision_does_not_reread_the_whole_store(tmp_path, monkeypatch):
    bot = _bot(tmp_path / "store")
    bot.ingest(FILES[:4])
    bot.retrieve(QUESTION)
    read = []
    original = Store.iter_chunks

    def counted(self, *args, **kwargs):
        for row in original(self, *args, **kwargs):
            read.append(row["id"])
            yield row

    monkeypatch.setattr(Store, "iter_chunks", counted)
    bot.ingest(FILES[4:])
    assert bot.retrieve("Kent County Council 24 003 230").hits
    assert read == [], f"{len(read)} chunks re-read to add one decision"


def test_a_question_does_not_wait_for_an_update(tmp_path, monkeypatch):
    store = tmp_path / "store"
    writer, server = _bot(store), _bot(store)
    writer.ingest(FILES[:4])
    server.catalog.recheck_seconds = 0.0
    before = [h.id for h in server.retrieve(QUESTION, k=5).hits]
    for name in ("iter_chunks", "chunks_of"):  # reading the store is slow (a server far away)
        if hasattr(Store, name):
            original = getattr(Store, name)
            monkeypatch.setattr(Store, name, lambda self, *a, _o=original, **k: time.sleep(2.0) or _o(self, *a, **k))
    ingest(FILES[4:], writer.store, FakeEmbedder(), writer.settings)  # another process's ingest
    started = time.monotonic()
    during = [h.id for h in server.retrieve(QUESTION, k=5).hits]
    assert time.monotonic() - started < 1.0, "the question waited for the update"
    assert during == before
