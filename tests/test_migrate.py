"""A store built by the retired int8 model is re-embedded in place on first use, not refused
(before: every command stopped with "rebuild it with `python ingest.py --rebuild`")."""

from __future__ import annotations

import numpy as np

from rag import Bot, Settings
from rag.embed import MINILM_NAME
from rag.errors import EmbedderMismatchError
from rag.guard import index_text
from rag.migrate import RETIRED

OLD = next(iter(RETIRED))


class _Named:
    """An embedder under another name: here, the retired int8 build."""

    def __init__(self, inner, name: str) -> None:
        self.inner, self.name = inner, name

    def embed_documents(self, texts):
        return [list(np.asarray(v) * -1.0) for v in self.inner.embed_documents(texts)]  # other vectors

    def embed_query(self, text):
        return self.embed_documents([text])[0]


def test_a_store_of_the_retired_build_is_re_embedded_in_place(tmp_path, minilm):
    settings = Settings(store_dir=tmp_path / "store")
    old = Bot(settings, embedder=_Named(minilm, OLD))
    assert old.ingest().decisions == 5
    chunks_before = old.store.count_chunks()
    del old

    bot = Bot(settings, embedder=minilm)
    assert bot.store.embedder == MINILM_NAME and bot.store.count_chunks() == chunks_before
    row = bot.store.iter_chunks(vectors=True).__next__()
    expected = minilm.embed_query(index_text(row["text"]))
    assert float(np.dot(row["vector"], expected)) > 0.999  # the new model's vector, not the old one
    assert bot.ingest().unchanged == 5  # nothing to redo: the decisions are current
    answer = bot.ask("Must a council involve a non-resident parent in a single assessment?")
    assert any(c.ref == "18 011 812" and c.verified for c in answer.citations)


def test_another_embedder_is_still_refused(tmp_path, minilm):
    settings = Settings(store_dir=tmp_path / "store")
    Bot(settings, embedder=_Named(minilm, "openai:text-embedding-3-small")).ingest()
    try:
        Bot(settings, embedder=minilm).store
    except EmbedderMismatchError as exc:
        assert "--rebuild" in str(exc)
    else:
        raise AssertionError("a store of another embedder must be refused")
