"""The in-memory indexes that make filtered questions fast must give exactly what the slow,
obvious way gives: the filter index against `Filters.matches`, the dense index against a
brute-force search over the allowed rows (by both of its paths: the float matrix of small indexes
and the int8 scan with exact rescoring of large ones), and BM25 against bm25s itself."""

from __future__ import annotations

import datetime as dt

import bm25s
import numpy as np
import pytest

from rag.bm25 import row_tokens
from rag.filters import Filters
from rag.indexes import create, open_indexes
from rag.lexical import expand_query, tokenize
from rag.manifest import read_manifest
from rag.segment import Rows, unit_rows
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


def _rows(n: int = 600, refs: int = 30, dim: int = 16, seed: int = 5, copies: int = 0) -> Rows:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    if copies:  # identical vectors, as the Ombudsman's boilerplate gives: exact ties
        vectors[n - copies:] = vectors[0]
    return Rows(ids=[f"c{i:04d}" for i in range(n)], refs=[f"{r:02d} 000 000" for r in rng.integers(refs, size=n)],
                kinds=["findings" if i % 3 else "decision" for i in range(n)], reported=[i % 7 == 0 for i in range(n)],
                vectors=vectors, tokens=[["word"] for _ in range(n)])


def _brute(rows: Rows, query: np.ndarray, k: int, allowed: set[str] | None) -> list[tuple[str, float]]:
    """Exact float64 cosines, best first, ties broken by chunk id."""
    unit = unit_rows(rows.vectors, rows.vectors.shape[1]).astype(np.float64)  # the index's own unit rows
    q = (query / np.float32(np.linalg.norm(query))).astype(np.float64)
    scored = [(float(unit[i] @ q), rows.ids[i]) for i in range(len(rows)) if allowed is None or rows.refs[i] in allowed]
    return [(i, s) for s, i in sorted(scored, key=lambda x: (-x[0], x[1]))[:k]]


@pytest.mark.parametrize("path", ["float", "int8"])
@pytest.mark.parametrize("share", [None, 1, 3, 12, 29])  # no filter, narrow filters, broad ones
def test_dense_search_equals_brute_force(tmp_path, path, share):
    rows = _rows(copies=40)
    dense = create(tmp_path / "index", rows).dense
    dense.float_rows = 10**9 if path == "float" else 0
    allowed = None if share is None else {f"{r:02d} 000 000" for r in range(share)}
    rng = np.random.default_rng(share or 0)
    queries = [rng.normal(size=rows.vectors.shape[1]).astype(np.float32) for _ in range(5)] + [rows.vectors[0]]
    for query in queries:
        got = dense.search(query, 20, allowed)
        expected = _brute(rows, query, 20, allowed)
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-5)
        if path == "int8":  # exact, with ties (the 40 copies) broken by chunk id
            assert [i for i, _ in got] == [i for i, _ in expected]
        elif expected:  # the old index's order: the same except among exact ties at the k-th place
            last = expected[-1][1] + 1e-5
            assert {i for i, s in got if s > last} == {i for i, s in expected if s > last}


def test_int8_scan_and_float_path_agree_on_a_real_sized_index(tmp_path):
    """Thousands of near-duplicates (noise around a few bases, like the benchmark's vectors) put
    many rows inside the scan's error bound: the certificate still gives the exact top 50."""
    rng = np.random.default_rng(1)
    base = rng.normal(size=(20, 384)).astype(np.float32)
    vectors = base[rng.integers(20, size=6000)] + rng.normal(0, 0.02, size=(6000, 384)).astype(np.float32)
    rows = Rows(ids=[f"c{i:05d}" for i in range(6000)], refs=[f"{i % 300:03d}" for i in range(6000)],
                kinds=["findings"] * 6000, reported=[False] * 6000, vectors=vectors, tokens=[["w"]] * 6000)
    dense = create(tmp_path / "index", rows).dense
    for query in base[:5] + rng.normal(0, 0.05, size=(5, 384)).astype(np.float32):
        dense.float_rows = 0
        scanned = dense.search(query, 50)
        dense.float_rows = 10**9
        floats = dense.search(query, 50)
        assert [i for i, _ in scanned] == [i for i, _ in _brute(rows, query, 50, None)]
        assert {i for i, _ in scanned} == {i for i, _ in floats}


def test_the_index_opens_memory_mapped_and_searches_alike(tmp_path):
    rows = _rows()
    built = create(tmp_path / "index", rows, fp="x")
    manifest = read_manifest(tmp_path / "index")
    opened = open_indexes(tmp_path / "index", manifest, "x")
    segment = next(iter(opened.segments.values()))
    assert isinstance(segment.codes, np.memmap) and isinstance(segment.post_row, np.memmap)
    assert not hasattr(segment, "vectors_array"), "float vectors are read from disk, never held"
    query = rows.vectors[7]
    for dense in (built.dense, opened.dense):
        dense.float_rows = 0
    assert opened.dense.search(query, 10) == built.dense.search(query, 10)
    first = opened.table.by_ref.names[0]
    assert opened.dense.ids_of(first, "decision") == built.dense.ids_of(first, "decision") != []
    assert opened.dense.ids_of(first) == built.dense.ids_of(first) != opened.dense.ids_of(first, "decision")
    assert opened.dense.is_reported("c0007") and not opened.dense.is_reported("c0008")
    assert opened.dense.kind("c0003") == "decision" and opened.dense.kind("nope") == "other"
    assert np.allclose(opened.dense.vector("c0007"), rows.vectors[7] / np.linalg.norm(rows.vectors[7]))


def test_a_filter_that_allows_nothing_finds_nothing(tmp_path):
    rows = _rows()
    dense = create(tmp_path / "index", rows).dense
    for size in (0, 10**9):
        dense.float_rows = size
        assert dense.search(rows.vectors[0], 10, {"99 999 999"}) == []
        assert dense.search(rows.vectors[0], 10, set()) == []


def _seed_texts(seeded_bot) -> list[tuple[str, dict, str]]:
    chunks = list(seeded_bot.store.iter_chunks())
    return [(c["id"], c["metadata"], c["text"]) for c in chunks]


QUERIES = ["non-resident parent single assessment", "section 47 enquiry outcome", "apology distress payment £300",
           "18 009 360 complaint stage two", "Ombudsman court proceedings investigate", "zzzz unknownword"]


def test_bm25_scores_equal_bm25s_bit_for_bit(seeded_bot):
    """The scores of a bm25s index built afresh over the same chunks, float32 for float32."""
    chunks = _seed_texts(seeded_bot)
    fresh = bm25s.BM25()
    fresh.index([row_tokens(meta, text) for _, meta, text in chunks], show_progress=False)
    lexical = seeded_bot.catalog.lexical
    for query in QUERIES:
        tokens = [t for t in tokenize(expand_query(query)) if t in fresh.vocab_dict]
        expected = fresh.get_scores(tokens) if tokens else np.zeros(len(chunks), np.float32)
        ours = dict(lexical.search(query, len(chunks)))
        assert {chunk_id: float(s) for (chunk_id, _, _), s in zip(chunks, expected) if s > 0} == ours


def test_date_filter_bounds_are_inclusive(seeded_bot):
    catalog = seeded_bot.catalog
    ref, meta = next(iter(catalog.decisions.items()))
    day = dt.date.fromisoformat(meta["decision_date"])
    assert ref in catalog.matching(Filters(since=day, until=day))


def test_dense_index_follows_the_store(fake_bot):
    """A decision written after the index was built shows up in the next search."""
    files = sorted(DECISIONS_DIR.glob("*.txt"))
    fake_bot.ingest(files[:2])
    before = len(fake_bot.catalog.dense)
    fake_bot.ingest(files[2:3])
    assert len(fake_bot.catalog.dense) > before
    assert set(fake_bot.catalog.dense.ids) == {c["id"] for c in fake_bot.store.iter_chunks()}


def test_a_store_searched_as_a_float_matrix_never_loads_numba(tmp_path):
    """Numba and its threading layer cost about a second and 100 MB at start-up; a store small enough
    to be searched as a float matrix does not need them (they were loaded on every first open)."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    project = Path(__file__).resolve().parent.parent
    script = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(project)!r}, {str(project / "tests")!r}]
        from conftest import FakeEmbedder
        from rag import Bot
        from rag.settings import Settings
        bot = Bot(Settings(store_dir={str(tmp_path / "store")!r}), embedder=FakeEmbedder())
        assert bot.ingest().decisions == 5
        del bot
        bot = Bot(Settings(store_dir={str(tmp_path / "store")!r}), embedder=FakeEmbedder())
        bot.ask("Must a council involve a non-resident parent in a single assessment?")
        print("numba" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=project, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"
