"""The in-memory indexes that make filtered questions fast must give exactly what the slow,
obvious way gives: the filter index against `Filters.matches`, and the dense index against a
brute-force search over the allowed rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from rag.dense import DenseIndex
from rag.filters import Filters
from tests.conftest import DECISIONS_DIR

FILTERS = [
    {"council": "Lancashire County Council"},
    {"council": "lancashire  county council"},
    {"outcome": "Upheld"},
    {"outcome": "not upheld"},
    {"since": "2019-01-01", "until": "2019-12-31"},
    {"since": "2020-01-15"},
    {"until": "2020-01-15"},
    {"financial_remedy": True},
    {"council": "Kent County Council", "outcome": "Upheld"},
    {"category": "Children's care services", "subcategory": "Child protection"},
    {"council": "Nowhere Council"},
]


@pytest.mark.parametrize("raw", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_filter_index_matches_the_plain_definition(seeded_bot, raw):
    catalog = seeded_bot.catalog
    filters = Filters.from_dict(raw)
    expected = {ref for ref, meta in catalog.decisions.items() if filters.matches(meta)}
    assert catalog.matching(filters) == expected


def _index(n: int = 600, refs: int = 30, dim: int = 16) -> tuple[DenseIndex, np.ndarray, list[str]]:
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    ref_of = [f"{r:02d} 000 000" for r in rng.integers(refs, size=n)]
    kinds = ["findings" if i % 3 else "decision" for i in range(n)]
    index = DenseIndex.build(((f"c{i}", ref_of[i], kinds[i], i % 7 == 0, vectors[i]) for i in range(n)), fp="x")
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return index, unit, ref_of


def _brute(unit: np.ndarray, ref_of: list[str], query: np.ndarray, k: int, allowed: set[str] | None) -> list[str]:
    q = query / np.linalg.norm(query)
    scored = [(float(unit[i] @ q), f"c{i}") for i in range(len(unit)) if allowed is None or ref_of[i] in allowed]
    return [i for _, i in sorted(scored, reverse=True)[:k]]


@pytest.mark.parametrize("share", [None, 1, 3, 12, 29])  # no filter, narrow filters, broad ones
def test_dense_search_equals_brute_force(share):
    index, unit, ref_of = _index()
    allowed = None if share is None else {f"{r:02d} 000 000" for r in range(share)}
    rng = np.random.default_rng(share or 0)
    for _ in range(5):
        query = rng.normal(size=unit.shape[1]).astype(np.float32)
        got = [i for i, _ in index.search(query, 20, allowed)]
        assert got == _brute(unit, ref_of, query, 20, allowed)


def test_dense_index_survives_a_save_and_load(tmp_path):
    index, unit, _ = _index()
    index.save(tmp_path / "dense")
    loaded = DenseIndex.load(tmp_path / "dense")
    assert loaded is not None and loaded.fingerprint == "x" and loaded.ids == index.ids
    query = unit[7]
    assert loaded.search(query, 10) == index.search(query, 10)
    first = index.by_ref.names[0]
    assert loaded.section_ids(first, "decision") == index.section_ids(first, "decision") != []
    assert loaded.reported == index.reported and loaded.is_reported("c7") and not loaded.is_reported("c8")
    (tmp_path / "dense" / "vectors.npy").write_bytes(b"not numpy")
    assert DenseIndex.load(tmp_path / "dense") is None  # a damaged index is rebuilt, not trusted


def test_a_filter_that_allows_nothing_finds_nothing():
    index, unit, _ = _index()
    assert index.search(unit[0], 10, {"99 999 999"}) == []
    assert index.search(unit[0], 10, set()) == []


def test_dense_index_follows_the_store(fake_bot):
    """A decision written after the index was built shows up in the next search (fingerprint)."""
    files = sorted(DECISIONS_DIR.glob("*.txt"))
    fake_bot.ingest(files[:2])
    before = len(fake_bot.catalog.dense)
    fake_bot.ingest(files[2:3])
    assert len(fake_bot.catalog.dense) > before
    assert set(fake_bot.catalog.dense.ids) == {c["id"] for c in fake_bot.store.iter_chunks()}


def test_date_filter_bounds_are_inclusive(seeded_bot):
    catalog = seeded_bot.catalog
    ref, meta = next(iter(catalog.decisions.items()))
    day = dt.date.fromisoformat(meta["decision_date"])
    assert ref in catalog.matching(Filters(since=day, until=day))
