"""The derived indexes follow the store by the decisions that changed, and say the same as indexes
rebuilt whole: after additions, replacements and pruning, after a crash between writing Chroma
and saving the index, with damaged or half-written files, and while questions are being asked."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rag import Bot, Settings
from rag.filters import Filters
from rag.ingest import ingest
from rag.manifest import read_manifest
from rag.store import Store
from tests.conftest import DECISIONS_DIR, FakeEmbedder

FILES = sorted(DECISIONS_DIR.glob("*.txt"))
QUESTIONS = ["Did the council involve the non-resident parent in the assessment?",
             "section 47 enquiry outcome", "How much did the council pay for distress?",
             "Can the Ombudsman look at a complaint that is in court?"]


def _bot(store: Path, **extra) -> Bot:
    return Bot(Settings(store_dir=store, data_dir=DECISIONS_DIR, **extra), embedder=FakeEmbedder())


def _canonical(hits: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Results with ties in id order: row positions differ between an updated and a rebuilt index."""
    return sorted(((i, round(s, 5)) for i, s in hits), key=lambda x: (-x[1], x[0]))


def _answers(bot: Bot) -> dict:
    catalog, out = bot.catalog, {}
    for n, question in enumerate(QUESTIONS):
        vector = bot.embedder.embed_query(question)
        for label, raw in (("all", None), ("kent", {"council": "Kent County Council"}),
                           ("upheld", {"outcome": "Upheld"})):
            allowed = catalog.matching(Filters.from_dict(raw))
            for size in (0, 10**9):  # the int8 scan and the float matrix
                catalog.dense.float_rows = size
                out[n, label, size] = _canonical(catalog.dense.search(vector, 30, allowed))
            out[n, label, "bm25"] = _canonical(catalog.lexical.search(question, 30, allowed))
    out["ids"] = sorted(catalog.dense.ids)
    kept = {c["id"]: (c["text"], c["metadata"]) for c in catalog.get_chunks(out["ids"])}
    assert kept == {c["id"]: (c["text"], c["metadata"]) for c in bot.store.get_chunks(out["ids"])}, \
        "the index's copy of every chunk (what answers quote) is the store's"
    out["rarity"] = [round(catalog.lexical.rarity(t), 9) for t in ("council", "assess", "nonexistentword")]
    out["doc_freq"] = sorted(catalog.lexical.doc_freq.items())
    return out


def _rebuilt(store: Path, tmp: Path) -> dict:
    """The same store's indexes rebuilt whole, in a fresh folder."""
    copy = tmp / "rebuilt"
    shutil.copytree(store, copy, ignore=shutil.ignore_patterns("indexes", ".lock"))
    bot = _bot(copy)
    bot.rebuild_indexes()
    return _answers(bot)


def _edited(tmp: Path) -> Path:
    """The Kent decision with one paragraph changed (its hash changes; most paragraphs do not)."""
    folder = tmp / "edited"
    folder.mkdir()
    source = DECISIONS_DIR / "24-003-230.txt"
    text = source.read_text(encoding="utf-8").replace("the Council", "the County Council", 1)
    (folder / source.name).write_text(text, encoding="utf-8")
    return folder


def test_updates_read_only_what_changed_and_equal_a_rebuild(tmp_path):
    store = tmp_path / "store"
    bot = _bot(store)
    bot.ingest(FILES[:2])
    catalog = bot.catalog
    assert (catalog.updater.rebuilds, catalog.updater.reads) == (0, 2)
    bot.ingest(FILES[2:])  # additions: only they are read back
    assert catalog.updater.reads == 5
    bot.ingest([_edited(tmp_path)])  # a replacement
    assert catalog.updater.reads == 6
    bot.store.delete_decision("19 018 981")  # a removal, by another hand
    catalog.refresh(force=True)
    assert catalog.updater.rebuilds == 0
    assert catalog.updater.reads == 6, "a removal is a deletion mask: nothing is read"
    manifest = read_manifest(catalog.updater.folder)
    assert sum(s["rows"] - len(s["deleted"]) for s in manifest.segments) == len(catalog.dense)
    assert _answers(bot) == _rebuilt(store, tmp_path)


def test_a_new_process_opens_the_saved_index_without_reading_the_store(tmp_path, monkeypatch):
    store = tmp_path / "store"
    first = _bot(store)
    first.ingest()
    expected = _answers(first)
    calls = []
    for name in ("iter_chunks", "chunks_of", "registry"):
        original = getattr(Store, name)
        monkeypatch.setattr(Store, name,
                            lambda self, *a, _o=original, _n=name, **k: calls.append(_n) or _o(self, *a, **k))
    again = _bot(store)
    assert _answers(again) == expected
    assert calls == [], "a saved index (and the registry saved with it) is opened, not re-read"


def test_a_write_that_dies_before_its_last_stamp_is_still_seen(tmp_path, monkeypatch):
    """The change stamp moves before a write too: a writer that dies after registering a decision
    but before its final stamp leaves a stamp no reader has seen, so the saved registry is not
    trusted and the decision is found."""
    store = tmp_path / "store"
    bot = _bot(store)
    bot.ingest(FILES[:3])
    original = Store._stamp

    def dies(self, pending=False):
        if not pending:
            raise KeyboardInterrupt("killed")
        original(self, pending)

    monkeypatch.setattr(Store, "_stamp", dies)
    with pytest.raises(KeyboardInterrupt):
        ingest(FILES[3:4], bot.store, FakeEmbedder(), bot.settings)
    monkeypatch.setattr(Store, "_stamp", original)
    assert "19 018 981" in _bot(store).catalog.decisions


def test_a_crash_between_writing_chroma_and_saving_the_index_is_repaired_on_open(tmp_path):
    store = tmp_path / "store"
    bot = _bot(store)
    bot.ingest(FILES[:3])
    # the ingest of two more decisions writes Chroma, then the process dies before the index is saved
    ingest(FILES[3:], bot.store, FakeEmbedder(), bot.settings)
    (bot.catalog.updater.folder / ".seg-deadbeef.tmp").mkdir()  # and a segment it was half-way writing
    (bot.catalog.updater.folder / ".manifest.json.999").write_text("{half", encoding="utf-8")
    reopened = _bot(store)
    answers = _answers(reopened)
    assert reopened.catalog.updater.reads == 2 and reopened.catalog.updater.rebuilds == 0
    assert answers == _rebuilt(store, tmp_path)
    assert not list(reopened.catalog.updater.folder.glob(".*tmp*")), "the leftovers are cleaned up"


@pytest.mark.parametrize("damage", ["manifest", "segment"])
def test_a_damaged_index_is_rebuilt_not_trusted(tmp_path, damage):
    store = tmp_path / "store"
    bot = _bot(store)
    bot.ingest()
    folder = bot.catalog.updater.folder
    if damage == "manifest":
        (folder / "manifest.json").write_text("not json", encoding="utf-8")
    else:
        vectors = next(folder.glob("seg-*/vectors.f32"))
        vectors.write_bytes(vectors.read_bytes()[:100])
    reopened = _bot(store)
    answers = _answers(reopened)
    assert reopened.catalog.updater.rebuilds + reopened.catalog.updater.reads > 0
    assert answers == _rebuilt(store, tmp_path)


def test_questions_are_answered_from_the_previous_state_while_an_update_runs(tmp_path, monkeypatch):
    """Another process's ingest is noticed by a serving process: the update (slowed here to two
    seconds) runs in the background, and no question waits for it."""
    store = tmp_path / "store"
    writer = _bot(store)
    writer.ingest(FILES[:4])
    server = _bot(store)
    server.catalog.recheck_seconds = 0.0
    question = "Did the council involve the non-resident parent in the assessment?"
    before = [h.id for h in server.retrieve(question, k=5).hits]
    original = Store.chunks_of

    def slow(self, refs, vectors=False):
        time.sleep(2.0)
        return original(self, refs, vectors)

    monkeypatch.setattr(Store, "chunks_of", slow)
    ingest(FILES[4:], writer.store, FakeEmbedder(), writer.settings)  # written by "another process"
    started = time.monotonic()
    during = [h.id for h in server.retrieve(question, k=5).hits]  # starts the background update
    during_again = [h.id for h in server.retrieve(question, k=5).hits]
    assert time.monotonic() - started < 1.0, "no question waits for the update"
    assert during == during_again == before
    deadline = time.monotonic() + 30
    while "24 003 230" not in server.catalog.decisions and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "24 003 230" in server.catalog.decisions
    assert {c["id"] for c in writer.store.iter_chunks()} == set(server.catalog.dense.ids)


def test_an_unchanged_store_is_checked_by_its_stamp_not_by_reading_the_registry(tmp_path, monkeypatch):
    bot = _bot(tmp_path / "store")
    bot.ingest(FILES[:2])
    bot.catalog.recheck_seconds = 0.0
    reads = []
    original = Store.registry
    monkeypatch.setattr(Store, "registry", lambda self: reads.append(1) or original(self))
    for _ in range(5):
        bot.catalog.refresh()
        bot.retrieve(QUESTIONS[0])
    assert reads == []
    bot.ingest(FILES[2:3])
    assert "19 012 512" in bot.catalog.decisions


def test_a_restart_does_not_write_the_saved_registry_again(tmp_path):
    """Writing a whole archive's registry took over a second of every restart, to save what the
    file already held."""
    store = tmp_path / "store"
    _bot(store).ingest()
    saved = store / "indexes" / Settings(store_dir=store).collection / "registry.json"
    before = saved.stat()
    again = _bot(store)
    assert again.ask(QUESTIONS[0]).citations and again.catalog.updater.reads == 0
    after = saved.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_answers_after_a_restart_read_no_chunk_from_the_store(tmp_path, monkeypatch):
    """An embedded Chroma loads a collection's every vector on its first read of it (1.7 GB and
    seconds at a million chunks): a restarted process answers from the index's own copy."""
    store = tmp_path / "store"
    _bot(store).ingest()
    for name in ("get_chunks", "chunks_of", "iter_chunks", "chunk_ids", "query"):
        monkeypatch.setattr(Store, name, lambda self, *a, _n=name, **k: pytest.fail(f"the store was read: {_n}"))
    again = _bot(store)
    answers = [again.ask(question) for question in (*QUESTIONS, "Which decisions were upheld?")]
    assert all(c.verified for a in answers for c in a.citations)
    assert sum(bool(a.citations) for a in answers) >= 3 and answers[-1].citations


def test_the_vectors_of_an_int8_index_match_the_store(tmp_path):
    bot = _bot(tmp_path / "store")
    bot.ingest()
    for chunk in bot.store.get_chunks(bot.catalog.dense.ids[:20], vectors=True):
        vector = np.asarray(chunk["vector"], dtype=np.float32)
        assert np.allclose(bot.catalog.dense.vector(chunk["id"]), vector / np.linalg.norm(vector), atol=1e-6)


def test_many_small_updates_are_merged_and_stay_equal_to_a_rebuild(tmp_path, monkeypatch):
    import rag.indexes

    monkeypatch.setattr(rag.indexes, "MAX_SEGMENTS", 2)
    store = tmp_path / "store"
    bot = _bot(store)
    for path in FILES:  # one segment each, merged as they pile up
        bot.ingest([path])
    bot.ingest([_edited(tmp_path)])
    manifest = read_manifest(bot.catalog.updater.folder)
    assert len(manifest.segments) <= 2
    assert _answers(bot) == _rebuilt(store, tmp_path)


def test_a_background_update_that_fails_keeps_the_last_state(tmp_path, monkeypatch):
    bot = _bot(tmp_path / "store")
    bot.ingest(FILES[:2])
    ids = set(bot.catalog.dense.ids)
    from rag.errors import StoreError

    def gone(self):
        raise StoreError("the Chroma store at x failed during change_stamp; check that it is running")

    monkeypatch.setattr(Store, "change_stamp", gone)
    bot.catalog.recheck_seconds = 0.0
    assert set(bot.catalog.dense.ids) == ids
    thread = bot.catalog._poller
    if thread is not None:
        thread.join(5)
    assert isinstance(bot.catalog.last_error, StoreError)
    assert set(bot.catalog.dense.ids) == ids


def test_ingest_while_a_thread_asks_questions(tmp_path):
    """Questions keep being answered, without errors, while this process ingests."""
    bot = _bot(tmp_path / "store")
    bot.ingest(FILES[:2])
    errors, answered, stop = [], [], threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                answered.append(bool(bot.retrieve(QUESTIONS[0], k=5).hits))
            except Exception as exc:  # noqa: BLE001 - any failure is the test's failure
                errors.append(exc)

    thread = threading.Thread(target=ask)
    thread.start()
    try:
        bot.ingest(FILES[2:])
        bot.ingest([_edited(tmp_path)])
    finally:
        stop.set()
        thread.join(10)
    assert not errors and answered and all(answered)
