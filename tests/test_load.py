"""Load and floods: fifty users asking at once through the app's API for two minutes, a full
queue answering "busy" at once, and one client's flood refused with a clear message.  Figures go
to docs/reliability.md."""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from rag import Bot, Settings
from rag.lock import unlock_store
from rag.ui import ChatApp
from tests.conftest import DECISIONS_DIR, PROJECT, free_port
from tests.reliability_report import write_section

USERS = 50
SECONDS = 120
QUESTIONS = [
    "Must a council involve a non-resident parent in a single assessment?",
    "Did the council tell the father about the incident?",
    "How much did Lancashire agree to pay Miss X?",
    "Can the Ombudsman investigate a complaint that is in court?",
    "What did the Ombudsman say about minutes of meetings?",
    "Was the council at fault for sharing information with the school?",
    "What should the council do at stage two of the complaints procedure?",
    "Which decisions were closed after initial enquiries?",
]


def _payload(question: str) -> dict:
    return {"data": [question, "", "", "", "", "", "", False]}


async def _ask(client: httpx.AsyncClient, url: str, question: str) -> tuple[str, float, str]:
    """(outcome, seconds, detail): outcome is 'answered', 'busy' or 'failed'."""
    started = time.perf_counter()
    posted = await client.post(f"{url}/gradio_api/call/ask", json=_payload(question))
    if posted.status_code == 503 and "Queue is full" in posted.text:
        return "busy", time.perf_counter() - started, posted.text
    if posted.status_code != 200:
        return "failed", time.perf_counter() - started, f"HTTP {posted.status_code} {posted.text[:200]}"
    event = posted.json()["event_id"]
    lines: list[str] = []
    async with client.stream("GET", f"{url}/gradio_api/call/ask/{event}") as stream:
        async for line in stream.aiter_lines():
            lines.append(line)
            if line.startswith("data:") and any(x in " ".join(lines) for x in ("event: complete", "event: error")):
                break
    text = "\n".join(lines)
    ok = "event: complete" in text and '"answer"' in text and '"error"' not in text
    return ("answered" if ok else "failed"), time.perf_counter() - started, text[:300]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="module")
def served_store(tmp_path_factory, minilm) -> Path:
    store = tmp_path_factory.mktemp("load") / "store"
    Bot(Settings(store_dir=store, data_dir=DECISIONS_DIR), embedder=minilm).ingest()
    unlock_store(store)  # the app process below takes the store
    return store


def _start_app(store: Path, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    full_env = {**os.environ, "RAG_STORE_DIR": str(store), "RAG_PORT": str(port), "PYTHONPATH": str(PROJECT),
                "GRADIO_ANALYTICS_ENABLED": "False", **env}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT, env=full_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"the app did not start on {url}")


@pytest.mark.slow
def test_fifty_users_for_two_minutes(served_store):
    proc, url = _start_app(served_store, RAG_QUEUE_MAX_SIZE="64", RAG_RATE_LIMIT_PER_MINUTE="0")
    results: list[tuple[str, float, str]] = []
    rss: list[float] = []

    async def user(client: httpx.AsyncClient, deadline: float, rng: random.Random) -> None:
        while time.monotonic() < deadline:
            results.append(await _ask(client, url, rng.choice(QUESTIONS)))

    async def sample(deadline: float) -> None:
        while time.monotonic() < deadline:
            rss.append(_rss_mb(proc.pid))
            await asyncio.sleep(5)

    async def run() -> None:
        deadline = time.monotonic() + SECONDS
        limits = httpx.Limits(max_connections=2 * USERS)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            await asyncio.gather(sample(deadline), *[user(client, deadline, random.Random(n)) for n in range(USERS)])

    try:
        asyncio.run(run())
        rss.append(_rss_mb(proc.pid))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    answered = [s for outcome, s, _ in results if outcome == "answered"]
    failed = [detail for outcome, _, detail in results if outcome != "answered"]
    p50 = statistics.median(answered)
    p95 = sorted(answered)[int(0.95 * (len(answered) - 1))]
    # memory is flat: once warm (a quarter in), it grows by no more than a tenth to the end
    half, warm = len(rss) // 2, rss[len(rss) // 4]
    write_section("Fifty users for two minutes", "tests/test_load.py", [
        f"- {USERS} concurrent users asking through `/ask` (HTTP API, answers streamed back) for {SECONDS} s "
        f"against `python app.py` (queue 64, {Settings().concurrency} answered at once).",
        f"- Requests: {len(results)} sent, {len(answered)} answered, {len(failed)} failed or lost; "
        f"{len(answered) / SECONDS:.1f} answers/s.",
        f"- Latency seen by users (queueing included): p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms.",
        f"- App memory (RSS): {rss[0]:.0f} MB at start (before the first question), "
        f"{max(rss[:half] or rss):.0f} MB peak in the first "
        f"half, {max(rss[half:]):.0f} MB peak in the second, {rss[-1]:.0f} MB at the end.",
    ])
    assert not failed, failed[:3]
    assert p95 < 30, "bounded: far below any client timeout"
    assert rss[-1] <= warm * 1.10 + 20, rss


def test_a_full_queue_answers_busy_at_once(seeded_bot):
    settings = Settings(store_dir=seeded_bot.settings.store_dir, port=free_port(), queue_max_size=2, concurrency=1,
                        rate_limit_per_minute=0)
    app = ChatApp(seeded_bot, settings)
    app.launch(prevent_thread_lock=True)
    url = f"http://127.0.0.1:{settings.port}"

    async def burst() -> list[tuple[str, float, str]]:
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(*[_ask(client, url, QUESTIONS[n % len(QUESTIONS)]) for n in range(40)])

    try:
        results = asyncio.run(burst())
    finally:
        app.demo.close()
    busy = [r for r in results if r[0] == "busy"]
    answered = [r for r in results if r[0] == "answered"]
    assert busy and answered and len(busy) + len(answered) == len(results), results[:3]
    assert max(seconds for _, seconds, _ in busy) < 5, "busy is said at once, not after a timeout"
    assert "Queue is full" in busy[0][2]
    write_section("A full queue", "tests/test_load.py", [
        f"- 40 questions at once against a queue of 2 with 1 answered at a time: {len(answered)} answered, "
        f"{len(busy)} told at once that the queue is full (HTTP 503, slowest reply "
        f"{max(s for _, s, _ in busy) * 1000:.0f} ms); none timed out or was lost.",
    ])


def test_one_clients_flood_is_refused_with_a_clear_message(seeded_bot):
    settings = Settings(store_dir=seeded_bot.settings.store_dir, port=free_port(), rate_limit_per_minute=3)
    app = ChatApp(seeded_bot, settings)
    app.launch(prevent_thread_lock=True)
    try:
        client = Client(f"http://127.0.0.1:{settings.port}", verbose=False)
        replies = [client.predict(QUESTIONS[0], api_name="/ask") for _ in range(5)]
    finally:
        app.demo.close()
    assert all("answer" in r for r in replies[:3])
    assert all("Too many questions" in r.get("error", "") for r in replies[3:]), replies[3:]
    write_section("A flood from one client", "tests/test_load.py", [
        "- With `RAG_RATE_LIMIT_PER_MINUTE=3`, five questions in a row from one address: three answered, "
        "the next two refused at once with \"Too many questions from this address in the last minute; "
        "please try again in N s.\"",
    ])
