"""Two processes on one embedded store: the second is refused with one clear line, the first
goes on, and nothing stored is lost."""

from __future__ import annotations

import os
import subprocess
import sys

from rag import Bot, Settings
from rag.lock import lock_store, unlock_store
from tests.conftest import DECISIONS_DIR, PROJECT, FakeEmbedder

HOLD = """
import sys, time
from pathlib import Path
from rag import Bot, Settings
bot = Bot(Settings(store_dir=Path(sys.argv[1])))
bot.store.count_chunks()
print("holding", flush=True)
time.sleep(120)
"""


def _env(store) -> dict:
    return {**os.environ, "RAG_STORE_DIR": str(store), "PYTHONPATH": str(PROJECT)}


def test_a_second_process_is_refused_while_the_first_holds_the_store(tmp_path, minilm):
    store = tmp_path / "store"
    first = Bot(Settings(store_dir=store, data_dir=DECISIONS_DIR), embedder=minilm)
    first.ingest()
    before = first.store.count_chunks()
    unlock_store(store)  # hand the store to the holder process below
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], cwd=PROJECT, env=_env(store),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding", holder.stderr.read()
        for command in (["ingest.py", "--json"], ["-m", "rag", "ask", "What is a single assessment?"]):
            done = subprocess.run([sys.executable, *command], cwd=PROJECT, env=_env(store), capture_output=True,
                                  text=True, timeout=300)
            assert done.returncode == 1
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and "in use by another process" in lines[0], done.stderr
            assert f"pid {holder.pid}" in lines[0] and "RAG_CHROMA_URL" in lines[0]
    finally:
        holder.kill()
        holder.wait()
    # the holder died without cleaning up: its lock went with it, and the store is whole
    again = subprocess.run([sys.executable, "ingest.py", "--json"], cwd=PROJECT, env=_env(store),
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert '"unchanged": 5' in again.stdout and f'"chunks": {before}' in again.stdout


def test_one_process_may_open_its_store_many_times(tmp_path):
    lock_store(tmp_path / "s")
    lock_store(tmp_path / "s")
    a = Bot(Settings(store_dir=tmp_path / "s"), embedder=FakeEmbedder())
    b = Bot(Settings(store_dir=tmp_path / "s"), embedder=FakeEmbedder())
    assert a.store.count_chunks() == b.store.count_chunks() == 0
    unlock_store(tmp_path / "s")


def test_a_run_that_changes_nothing_exits_cleanly(tmp_path, minilm):
    """The index's background threads (kernels, Chroma's first read) are waited for at exit: a
    second ingest, with nothing to do, used to end in a segmentation fault (exit -11) after
    printing its summary."""
    for _ in range(2):
        done = subprocess.run([sys.executable, "ingest.py", "--json"], cwd=PROJECT, env=_env(tmp_path / "store"),
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    assert '"unchanged": 5' in done.stdout
