"""Ingest into a real embedded Chroma: idempotence, updates, pruning, interruption, embedder guard."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import DECISIONS_DIR, SEED_REFS, FakeEmbedder

from rag import Bot, EmbedderMismatchError, Settings, chunk_decision
from rag.store import Store


@pytest.fixture
def corpus(tmp_path):
    """A private copy of the bundled decisions that tests may edit."""
    folder = tmp_path / "decisions"
    shutil.copytree(DECISIONS_DIR, folder)
    return folder


@pytest.fixture
def seed_chunks(seeds):
    """How many chunks the bundled decisions make with the default settings."""
    return sum(len(chunk_decision(d, Settings().chunk_max_tokens)) for d in seeds.values())


def _snapshot(store: Store) -> dict[str, tuple[str, str]]:
    got = store._chunks.get(include=["documents", "metadatas"])
    return {i: (d, m["doc_hash"]) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}


def test_ingest_then_reingest_changes_nothing(fake_bot, fake_embedder, corpus, seed_chunks):
    first = fake_bot.ingest([corpus])
    assert (first.added, first.updated, first.unchanged, first.failed) == (5, 0, 0, 0)
    assert first.decisions == 5 and first.chunks == first.chunks_written == seed_chunks
    before = _snapshot(fake_bot.store)
    calls = fake_embedder.calls

    second = fake_bot.ingest([corpus])
    assert (second.added, second.updated, second.unchanged, second.failed) == (0, 0, 5, 0)
    assert second.chunks == first.chunks and second.chunks_written == 0
    assert fake_embedder.calls == calls, "an unchanged corpus must not be embedded again"
    assert _snapshot(fake_bot.store) == before
    assert set(fake_bot.store.registry()) == set(SEED_REFS)


def test_a_new_pipeline_version_redoes_unchanged_decisions(settings, corpus, monkeypatch):
    """After an upgrade that reads texts differently (section kinds, numbering, chunk cuts), the
    stored chunks of unchanged files must be redone, not kept stale; unchanged chunk texts keep
    their vectors."""
    import rag.chunk

    embedder = FakeEmbedder()
    bot = Bot(settings, embedder=embedder)
    bot.ingest([corpus])
    embedded = embedder.texts_embedded
    newer = rag.chunk.PIPELINE_VERSION + 1
    monkeypatch.setattr(rag.chunk, "PIPELINE_VERSION", newer)
    report = bot.ingest([corpus])
    assert (report.added, report.updated, report.unchanged, report.failed) == (0, 5, 0, 0)
    assert {m["pipeline"] for m in bot.store.registry().values()} == {newer}
    assert embedder.texts_embedded == embedded, "unchanged chunk texts reuse their stored vectors"
    again = bot.ingest([corpus])
    assert (again.updated, again.unchanged) == (0, 5)


def test_changed_file_replaces_its_chunks_without_stale_ones(fake_bot, corpus, seed_chunks):
    fake_bot.ingest([corpus])
    path = corpus / "19-012-512.txt"
    text = path.read_text(encoding="utf-8")
    # Drop the last two assessment paragraphs and reword another.
    cut = text.index("  4. Mr X says the Council failed to respond to the SAR")
    end = text.index("Back to top", cut)
    path.write_text((text[:cut] + text[end:]).replace("harassed him", "pestered him"), encoding="utf-8")

    report = fake_bot.ingest([corpus])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 4)
    ids = fake_bot.store.chunk_ids("19 012 512")
    assert len(ids) == 14 and "19-012-512:p015:0" not in ids
    docs = [c["text"] for c in fake_bot.store.get_chunks(ids)]
    assert any("pestered him" in d for d in docs) and not any("harassed him" in d for d in docs)
    assert report.chunks == seed_chunks - 2


def test_only_changed_text_is_embedded_again(settings, corpus):
    """An edited decision reuses the stored vectors of its unchanged paragraphs, and a paragraph
    repeated word for word (the role-and-powers boilerplate) is embedded once per run."""
    embedder = FakeEmbedder()
    bot = Bot(settings, embedder=embedder)
    bot.ingest([corpus])
    first = embedder.texts_embedded
    chunks = bot.store.count_chunks()
    assert first < chunks + 5, "identical paragraphs across decisions are embedded once"
    path = corpus / "19-012-512.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("harassed him", "pestered him"), encoding="utf-8")
    bot.ingest([corpus])
    # the reworded paragraph, the summary chunk if it changed, and the decision's own vector
    assert embedder.texts_embedded - first <= 3
    fresh = Bot(Settings(store_dir=settings.store_dir.parent / "fresh", data_dir=corpus), embedder=FakeEmbedder())
    fresh.ingest([corpus])
    assert _snapshot(bot.store) == _snapshot(fresh.store)
    mine, theirs = (dict(zip(*(lambda g: (g["ids"], g["embeddings"]))(b.store._chunks.get(include=["embeddings"]))))
                    for b in (bot, fresh))
    assert all(np.allclose(mine[i], theirs[i]) for i in theirs), "reused vectors equal freshly computed ones"


def test_prune_removes_decisions_whose_files_are_gone(fake_bot, corpus):
    fake_bot.ingest([corpus])
    (corpus / "24-003-230.txt").unlink()
    kept = fake_bot.ingest([corpus])
    assert kept.decisions == 5, "without --prune nothing is removed"
    pruned = fake_bot.ingest([corpus], prune=True)
    assert pruned.pruned == 1 and pruned.decisions == 4
    assert fake_bot.store.chunk_ids("24 003 230") == []
    assert "24 003 230" not in fake_bot.store.registry()


def test_interrupted_run_is_completed_by_the_next(settings, corpus, monkeypatch):
    clean_settings = Settings(store_dir=settings.store_dir.parent / "clean", data_dir=corpus)
    clean = Bot(clean_settings, embedder=FakeEmbedder())
    clean.ingest([corpus])

    bot = Bot(settings, embedder=FakeEmbedder())
    real_upsert = bot.store._decisions.upsert
    writes = {"n": 0}

    def dies_on_third_registration(**kwargs):
        writes["n"] += 1
        if writes["n"] == 3:  # chunks of the third decision are written, its record is not
            raise KeyboardInterrupt
        return real_upsert(**kwargs)

    monkeypatch.setattr(bot.store._decisions, "upsert", dies_on_third_registration)
    monkeypatch.setattr("rag.ingest.EMBED_BATCH_CHUNKS", 1)  # one decision per write, to stop between them
    with pytest.raises(KeyboardInterrupt):
        bot.ingest([corpus])
    monkeypatch.undo()

    report = bot.ingest([corpus])
    assert (report.added, report.unchanged, report.failed) == (3, 2, 0)
    assert _snapshot(bot.store) == _snapshot(clean.store)
    assert bot.store.registry().keys() == clean.store.registry().keys()


def test_store_refuses_vectors_from_another_embedder(settings, fake_bot, corpus):
    fake_bot.ingest([corpus])

    class OtherEmbedder(FakeEmbedder):
        name = "test:other"

    other = Bot(settings, embedder=OtherEmbedder())
    with pytest.raises(EmbedderMismatchError, match="rebuild"):
        other.ingest([corpus])
    other.rebuild()
    assert other.ingest([corpus]).added == 5


def test_real_model_ingest_finds_the_derbyshire_paragraph(tmp_path, minilm):
    bot = Bot(Settings(store_dir=tmp_path / "store"), embedder=minilm)
    report = bot.ingest()  # the bundled decisions, by default
    assert report.decisions == 5 and report.failed == 0
    hits = bot.retrieve("Must a council involve a non-resident parent in a single assessment?", k=5).hits
    found = [(h.ref, h.paragraph) for h in hits]
    assert ("18 011 812", 25) in found
    # every stored chunk is its own nearest neighbour: vectors and documents are in step
    for chunk in bot.store.get_chunks(["18-011-812:p025:0", "19-018-981:p024:0"]):
        nearest = bot.store.query(minilm.embed_query(chunk["text"]), k=1)
        assert nearest[0]["id"] == chunk["id"]
