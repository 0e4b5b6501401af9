"""A full disk or a read-only store during ingest: one clear line, exit 1, and the decisions
stored before are intact (the next run, with room to write, completes the rest)."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rag import Bot, Settings
from rag.lock import unlock_store
from tests.conftest import DECISIONS_DIR, PROJECT

QUESTION = "Must a council involve a non-resident parent in a single assessment?"
pytestmark = pytest.mark.slow


@pytest.fixture
def stored(tmp_path, minilm) -> tuple[Path, Path, int]:
    """A store holding the bundled decisions, and a corpus of 40 more to ingest into it."""
    sys.path.insert(0, str(PROJECT))
    from benchmarks.synthetic import write_corpus

    store = tmp_path / "store"
    bot = Bot(Settings(store_dir=store, data_dir=DECISIONS_DIR), embedder=minilm)
    chunks = bot.ingest().chunks
    unlock_store(store)
    write_corpus(tmp_path / "more", 40, DECISIONS_DIR)
    return store, tmp_path / "more", chunks


def _ingest(command: list[str], store: Path, preexec=None) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {**os.environ, "RAG_STORE_DIR": str(store), "PYTHONPATH": str(PROJECT)}
    return subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600,
                          preexec_fn=preexec)


def _intact(store: Path, chunks: int) -> None:
    check = _ingest([sys.executable, "-c", "from rag import Bot; b = Bot(); a = b.ask(" + repr(QUESTION) + "); "
                     "print(b.store.count_decisions() >= 5, b.store.count_chunks() >= " + str(chunks) + ", "
                     "[c.ref for c in a.citations if c.verified][:1])"], store)
    assert check.stdout.split() == ["True", "True", "['18", "011", "812']"], check.stderr


def _one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [line for line in done.stderr.strip().splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error:") and "Traceback" not in done.stderr, done.stderr
    assert all(w in errors[0] for w in words), errors[0]


def test_a_full_disk_stops_ingest_cleanly(stored):
    store, more, chunks = stored
    limit = (store / "chroma.sqlite3").stat().st_size + 150_000  # room for a little, not for 40 decisions

    def disk_fills_up() -> None:  # writes past the limit fail as on a full disk (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = _ingest([sys.executable, "ingest.py", str(more)], store, disk_fills_up)
    _one_line_error(done, str(store), "disk")
    _intact(store, chunks)
    again = _ingest([sys.executable, "ingest.py", str(more), "--json"], store)
    assert again.returncode == 0 and '"failed": 0' in again.stdout, again.stderr


def test_a_read_only_store_stops_ingest_cleanly(stored):
    store, more, chunks = stored
    if shutil.which("unshare") is None or _ingest(["unshare", "-m", "true"], store).returncode != 0:
        pytest.skip("needs mount namespaces (unshare -m) to make the store read-only for one process")
    script = (f'mount --bind "{store}" "{store}" && mount -o remount,bind,ro "{store}" && '
              f'exec "{sys.executable}" ingest.py "{more}"')
    done = _ingest(["unshare", "-m", "sh", "-c", script], store)
    _one_line_error(done, str(store))
    assert "read-only" in done.stderr.lower() or "readonly" in done.stderr.lower()
    _intact(store, chunks)
