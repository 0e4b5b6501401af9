"""Server mode: the same store over HTTP against a real `chroma run` on a loopback port.

One server is started for the module; each test uses its own collection, so tests never see each
other's data.  Embeddings come from the deterministic FakeEmbedder, so no model is loaded.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DECISIONS_DIR, SEED_REFS, FakeEmbedder

from rag import Bot, EmbedderMismatchError, RagError, Settings, StoreError, chunk_decision

pytestmark = pytest.mark.slow

CHROMA = Path(sys.executable).parent / "chroma"
STARTUP_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _chroma_server(folder: Path, port: int | None = None) -> Iterator[str]:
    """`chroma run` on a free loopback port (or `port`); yields its URL once the heartbeat
    answers, and always stops it afterwards."""
    if not CHROMA.exists():
        pytest.fail(f"chroma CLI not found at {CHROMA}")
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "chroma.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(folder / "db"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited with {proc.returncode}:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"chroma run did not answer on {url} in {STARTUP_TIMEOUT:.0f} s:\n{_tail(log)}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    with _chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


def _server_settings(url: str, cache: Path) -> Settings:
    """Server settings; the lexical index cache goes to `cache`, never into the project."""
    return Settings(chroma_url=url, collection=f"test-{uuid.uuid4().hex[:12]}", data_dir=DECISIONS_DIR,
                    store_dir=cache)


def test_ingest_is_idempotent_and_seen_by_a_second_client(chroma_url, seeds, tmp_path):
    settings = _server_settings(chroma_url, tmp_path)
    embedder = FakeEmbedder()
    bot = Bot(settings, embedder=embedder)

    first = bot.ingest()  # the bundled decisions
    assert (first.added, first.updated, first.unchanged, first.failed) == (5, 0, 0, 0)
    assert first.decisions == 5 and first.chunks == first.chunks_written > 0
    assert set(bot.store.registry()) == set(SEED_REFS)

    # The chunks on the server are exactly the ones the chunker makes from the files.
    expected = {
        c.id: c.text
        for d in seeds.values()
        for c in chunk_decision(d, settings.chunk_max_tokens, embedder.name)
    }
    assert first.chunks == len(expected)
    stored = {c["id"]: c["text"] for c in bot.store.get_chunks(list(expected))}
    assert stored == expected

    calls = embedder.calls
    second = bot.ingest([DECISIONS_DIR])
    assert (second.added, second.updated, second.unchanged, second.failed) == (0, 0, 5, 0)
    assert (second.decisions, second.chunks, second.chunks_written) == (5, first.chunks, 0)
    assert embedder.calls == calls, "nothing unchanged may be embedded again"

    other = Bot(settings, embedder=FakeEmbedder())  # a fresh HTTP client on the same collection
    assert other.client is not bot.client
    assert other.store.count_decisions() == 5 and other.store.count_chunks() == first.chunks
    assert other.store.registry() == bot.store.registry()
    question = "Did the council involve the non-resident parent in the assessment?"
    assert [h.id for h in other.retrieve(question, k=5).hits] == [h.id for h in bot.retrieve(question, k=5).hits]
    third = other.ingest()
    assert (third.unchanged, third.chunks_written) == (5, 0)

    # Another collection on the same server is separate and empty.
    elsewhere = Bot(_server_settings(chroma_url, tmp_path), embedder=FakeEmbedder())
    assert elsewhere.store.count_decisions() == 0 and elsewhere.store.count_chunks() == 0

    class OtherEmbedder(FakeEmbedder):
        name = "test:other"

    with pytest.raises(EmbedderMismatchError, match="rebuild"):
        Bot(settings, embedder=OtherEmbedder()).ingest()


def test_unreachable_server_is_a_store_error_naming_the_url(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    bot = Bot(Settings(chroma_url=url, collection="unreachable", store_dir=tmp_path), embedder=FakeEmbedder())

    with pytest.raises(RagError) as caught:  # building the Bot touches nothing; first use fails
        bot.ingest()

    assert isinstance(caught.value, StoreError), f"{type(caught.value).__name__}: {caught.value}"
    assert url in str(caught.value)
    assert "\n" not in str(caught.value)


def test_server_that_went_away_is_a_store_error(tmp_path):
    with _chroma_server(tmp_path) as url:
        bot = Bot(_server_settings(url, tmp_path), embedder=FakeEmbedder())
        assert bot.store.count_decisions() == 0  # the store is open and working

    with pytest.raises(StoreError, match=url.replace(".", r"\.")):
        bot.ingest([DECISIONS_DIR / "24-003-230.txt"])


def test_the_server_going_away_gives_clear_errors_then_recovers(tmp_path):
    """Questions go on being answered from the local index while the server is away (answers read
    no chunk from the store); what needs the server fails at once with one line; no restart of the
    client is needed once it is back."""
    folder, port = tmp_path / "server", _free_port()
    folder.mkdir()
    question = "Did the council involve the non-resident parent in the assessment?"
    with _chroma_server(folder, port) as url:
        bot = Bot(_server_settings(url, tmp_path / "cache"), embedder=FakeEmbedder())
        bot.ingest()
        expected = [h.id for h in bot.retrieve(question, k=5).hits]
        cited = [c.chunk_id for c in bot.ask(question).citations]
    assert [c.chunk_id for c in bot.ask(question).citations] == cited
    started = time.monotonic()
    fresh = lambda: Bot(_server_settings(url, tmp_path / "other-cache"), embedder=FakeEmbedder()).ask(question)  # noqa: E731
    for call in (fresh, lambda: bot.ingest(), lambda: bot.store.count_chunks()):
        with pytest.raises(StoreError) as gone:
            call()
        message = str(gone.value)
        assert url in message and "\n" not in message and "running" in message
    assert time.monotonic() - started < 30, "errors come quickly, not after long hangs"
    with _chroma_server(folder, port):
        assert [h.id for h in bot.retrieve(question, k=5).hits] == expected
        assert bot.ask(question).citations
        assert bot.ingest().unchanged == 5


_NEW_PROCESS = """
import json, sys
sys.path.insert(0, {tests!r})
from conftest import FakeEmbedder
from rag import Bot, Settings
bot = Bot(Settings(chroma_url={url!r}, collection={collection!r}, store_dir={cache!r},
                   index_snapshot_dir={snapshot!r}), embedder=FakeEmbedder())
hits = [h.id for h in bot.retrieve({question!r}, k=5).hits]
print(json.dumps({{"hits": hits, "reads": bot.catalog.updater.reads, "rebuilds": bot.catalog.updater.rebuilds}}))
"""


def test_a_new_process_gets_ready_from_a_shared_snapshot(chroma_url, tmp_path):
    """An app process with an empty cache starts from the snapshot the ingesting process published,
    and reads from the server only the decisions written since: not every vector over HTTP."""
    import json

    snapshot = tmp_path / "snapshot"
    settings = _server_settings(chroma_url, tmp_path / "ingest-cache").model_copy(
        update={"index_snapshot_dir": snapshot})
    writer = Bot(settings, embedder=FakeEmbedder())
    files = sorted(DECISIONS_DIR.glob("*.txt"))
    writer.ingest(files[:4])
    question = "Did the council involve the non-resident parent in the assessment?"

    def new_process(cache: str) -> dict:
        code = _NEW_PROCESS.format(tests=str(Path(__file__).parent), url=chroma_url, collection=settings.collection,
                                   cache=str(tmp_path / cache), snapshot=str(snapshot), question=question)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                              cwd=Path(__file__).parent.parent)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = new_process("app1")
    assert first == {"hits": [h.id for h in writer.retrieve(question, k=5).hits], "reads": 0, "rebuilds": 0}
    Bot(settings.model_copy(update={"index_snapshot_dir": None}), embedder=FakeEmbedder()).ingest(files[4:])
    second = new_process("app2")  # the snapshot is one decision behind the server
    assert second["reads"] == 1 and second["rebuilds"] == 0
    assert second["hits"] == [h.id for h in Bot(settings, embedder=FakeEmbedder()).retrieve(question, k=5).hits]
