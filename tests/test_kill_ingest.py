"""Ingest killed with SIGKILL at random points, ten times in a row, then run to the end: the store
must equal a clean ingest (decisions, chunk ids and texts, vectors findable, lexical index in step).

Slow (it runs the real `ingest.py` with the real model about a dozen times), so it writes its
figures to docs/reliability.md for the team to read.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import DECISIONS_DIR, PROJECT

from rag import Bot, Settings
from rag.lexical import fingerprint
from tests.reliability_report import write_section

KILLS = 10
VARIANTS = 40


def _corpus(folder: Path) -> Path:
    """The seeds plus variants under other references, so that one ingest takes some seconds."""
    folder.mkdir()
    seeds = sorted(DECISIONS_DIR.glob("*.txt"))
    for path in seeds:
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    for n in range(VARIANTS):
        source = seeds[n % len(seeds)].read_text(encoding="utf-8")
        first = next(line for line in source.splitlines() if line.rstrip().endswith(")") and "(" in line)
        council, _, _ = first.partition(" (")
        text = source.replace(first, f"Variant {n} {council.strip()} (90 100 {n:03d})")
        text = text.replace("the Council", f"the Council (variant {n})")
        (folder / f"90-100-{n:03d}.txt").write_text(text, encoding="utf-8")
    return folder


def _ingest(folder: Path, store: Path, kill_after: float | None) -> tuple[int | None, float]:
    env = {**os.environ, "RAG_STORE_DIR": str(store), "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(PROJECT / "ingest.py"), str(folder), "--json"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=PROJECT)
    try:
        proc.wait(timeout=kill_after if kill_after is not None else 600)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None, time.monotonic() - started
    return proc.returncode, time.monotonic() - started


def _state(store: Path) -> dict:
    bot = Bot(Settings(store_dir=store))
    s = bot.store
    got = s._chunks.get(include=["documents", "metadatas", "embeddings"])
    chunks = {i: (d, m["doc_hash"], m["chunk_hash"]) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
    registry = {ref: (m["doc_hash"], m["chunks"]) for ref, m in s.registry().items()}
    vectors = {i: list(v) for i, v in zip(got["ids"], got["embeddings"])}
    findable = 0
    text_of = dict(zip(got["ids"], got["documents"]))
    for chunk_id, vector in vectors.items():
        # its own nearest neighbour in the exact index that retrieval searches: itself, or a chunk
        # with the very same words (boilerplate repeated across decisions shares one vector).
        # Not Chroma's HNSW query: that is approximate, and among forty near-copies of a paragraph
        # it can miss the exact one on any store, killed or not.
        top_id, top_score = bot.catalog.dense.search(vector, 1)[0]
        findable += top_score > 1 - 1e-4 and (top_id == chunk_id or text_of[top_id] == text_of[chunk_id])
    lexical = bot.catalog.lexical
    return {"chunks": chunks, "registry": registry, "findable": findable, "vectors": vectors,
            "lexical_ids": set(lexical.ids), "lexical_fp": lexical.fingerprint == fingerprint(s.registry(), s.embedder)}


@pytest.mark.slow
def test_sigkill_ten_times_then_finish_equals_a_clean_ingest(tmp_path):
    folder = _corpus(tmp_path / "corpus")
    clean_code, clean_seconds = _ingest(folder, tmp_path / "clean", None)
    assert clean_code == 0
    rng = random.Random(20261124)
    killed_at, survived = [], 0
    for _ in range(KILLS):
        after = rng.uniform(2.0, max(3.0, clean_seconds * 0.5))
        code, _ = _ingest(folder, tmp_path / "killed", after)
        killed_at.append(round(after, 1))
        survived += code is None
    final_code, _ = _ingest(folder, tmp_path / "killed", None)
    assert final_code == 0

    clean, killed = _state(tmp_path / "clean"), _state(tmp_path / "killed")
    assert killed["registry"] == clean["registry"]
    assert killed["chunks"] == clean["chunks"]
    assert killed["findable"] == len(killed["chunks"]), "every chunk is its own nearest neighbour"
    assert all(np.allclose(killed["vectors"][i], clean["vectors"][i], atol=1e-5) for i in clean["vectors"])
    assert killed["lexical_ids"] == set(killed["chunks"]) and killed["lexical_fp"]

    write_section("Ingest killed with SIGKILL", "tests/test_kill_ingest.py", [
        f"- Corpus: {len(list(folder.glob('*.txt')))} decisions, {len(clean['chunks'])} chunks; "
        f"a clean ingest took {clean_seconds:.1f} s (model load included).",
        f"- Killed {survived} of {KILLS} runs before they finished, at {killed_at} s; then one run to the end.",
        f"- Result: the store equals a clean ingest: {len(killed['registry'])} decisions, "
        f"{len(killed['chunks'])} chunks with the same ids, texts, hashes and vectors, every chunk its own "
        "nearest neighbour, the lexical index in step.",
    ])
