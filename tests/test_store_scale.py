"""The store at the size of a full archive: reads that list every record must page.

Found by the million-chunk benchmark: with about 40,000 decisions registered, `Store.registry()`
failed with Chroma's "too many SQL variables", so a bot over the full archive could not start.
"""

from __future__ import annotations

import pytest

from rag.settings import Settings
from rag.store import Store, make_chroma_client

RECORDS = 33_000  # past SQLite's 32,766 variables per statement


@pytest.mark.slow
def test_registry_and_orphans_read_past_sqlites_variable_limit(tmp_path):
    store = Store(make_chroma_client(Settings(store_dir=tmp_path / "store")), "scale_test", "fake-embedder")
    for start in range(0, RECORDS, 5000):
        ids = [f"{n:02d}-000-{n:03d}-{start + i}" for i, n in enumerate(range(start, min(start + 5000, RECORDS)))]
        metas = [{"ref": i.replace("-", " "), "council": "Kent County Council"} for i in ids]
        vectors = [[float((start + i) % 7), 1.0, 0.5] for i in range(len(ids))]
        store._decisions.add(ids=ids, embeddings=vectors, metadatas=metas)
        store._chunks.add(ids=[f"{i}:p001:0" for i in ids], embeddings=vectors, metadatas=metas,
                          documents=["text"] * len(ids))
    assert len(store.registry()) == RECORDS
    assert store.orphan_refs() == set()
    assert sum(1 for _ in store.iter_chunks()) == RECORDS
