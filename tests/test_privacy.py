"""Privacy: no question is written anywhere unless asked; when asked, only for the retention
period; Chroma's telemetry and Gradio's analytics are off."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time

from rag import Bot, Settings
from rag.qlog import QuestionLog
from tests.conftest import PROJECT

QUESTION = "Must a council involve a non-resident parent in a single assessment?"


def test_questions_are_not_logged_by_default(seeded_bot, tmp_path):
    assert seeded_bot.settings.question_log_days == 0
    before = {p for p in PROJECT.rglob("*") if "questions" in p.name and ".venv" not in p.parts}
    seeded_bot.ask(QUESTION)
    after = {p for p in PROJECT.rglob("*") if "questions" in p.name and ".venv" not in p.parts}
    assert after == before


def test_opt_in_log_records_questions_and_forgets_old_ones(seeded_bot, tmp_path):
    path = tmp_path / "q.jsonl"
    old = {"time": (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)).isoformat(), "question": "old"}
    path.write_text(json.dumps(old) + "\nnot json\n", encoding="utf-8")
    settings = Settings(store_dir=seeded_bot.settings.store_dir, question_log_days=30, question_log_path=path)
    bot = Bot(settings, embedder=seeded_bot.embedder, chroma_client=seeded_bot.client)
    bot.ask(QUESTION, {"council": "Derbyshire County Council"})
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [e["question"] for e in entries] == [QUESTION], "the 40-day-old entry and the bad line are gone"
    assert entries[0]["filters"] == {"council": "Derbyshire County Council"} and entries[0]["cited"] == ["18 011 812"]
    assert not {"ip", "host", "session", "client"} & set(entries[0])


def test_retention_is_applied_as_the_log_grows(tmp_path):
    clock = {"now": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}
    log = QuestionLog(tmp_path / "q.jsonl", days=7, now=lambda: clock["now"])
    from rag.models import Answer

    log.record(Answer(question="first", answer=""), {})
    clock["now"] += dt.timedelta(days=8)
    log.purge()
    log.record(Answer(question="second", answer=""), {})
    lines = (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["question"] for line in lines] == ["second"]


def test_telemetry_is_off():
    probe = ("import os, sys; sys.argv=['app.py']; import app; from rag.store import make_chroma_client; "
             "from rag import Settings; import tempfile, pathlib; "
             "c = make_chroma_client(Settings(store_dir=pathlib.Path(tempfile.mkdtemp()))); "
             "print(os.environ.get('GRADIO_ANALYTICS_ENABLED'), c.get_settings().anonymized_telemetry)")
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_ANALYTICS_ENABLED"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr


PROBE = r"""
import runpy, sys
log = open(sys.argv[1], "a", buffering=1)

def hook(event, args):  # every outgoing connection and name lookup this process makes
    if event == "socket.connect" and isinstance(args[1], tuple):
        log.write(f"connect {args[1][0]}\n")
    elif event == "socket.getaddrinfo":
        log.write(f"resolve {args[0]}\n")

sys.addaudithook(hook)
sys.argv = ["app.py", "--port", sys.argv[2]]
runpy.run_path("app.py", run_name="__main__")
"""
LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0", "b'127.0.0.1'", "b'localhost'"}


def test_the_app_sends_nothing_anywhere(tmp_path, seed_texts):
    """Run `python app.py` as a user would (ingest, serve, answer), recording every connection and
    name lookup through Python's audit hooks: nothing but loopback."""
    import httpx

    from tests.conftest import free_port

    data = tmp_path / "data"
    data.mkdir()
    (data / "18-011-812.txt").write_text(seed_texts["18 011 812"], encoding="utf-8")
    port, log = free_port(), tmp_path / "net.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "GRADIO_"))}
    env.update(RAG_STORE_DIR=str(tmp_path / "store"), RAG_DATA_DIR=str(data), PYTHONUNBUFFERED="1")
    app = subprocess.Popen([sys.executable, "-c", PROBE, str(log), str(port)], cwd=PROJECT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert app.poll() is None, app.stderr.read().decode()[-2000:]
            time.sleep(0.5)
        posted = httpx.post(f"{url}/gradio_api/call/ask", json={"data": [QUESTION, "", "", "", "", "", "", False]},
                            timeout=30)
        event = posted.json()["event_id"]
        answer = httpx.get(f"{url}/gradio_api/call/ask/{event}", timeout=60).text
        assert "event: complete" in answer and "18 011 812" in answer
    finally:
        app.terminate()
        app.wait(timeout=30)
    seen = [line.split(" ", 1) for line in log.read_text(encoding="utf-8").splitlines()]
    assert any(host in LOOPBACK for _, host in seen), "the hook saw the app's own loopback traffic"
    outside = sorted({f"{kind} {host}" for kind, host in seen if host not in LOOPBACK})
    assert not outside, f"the app tried to reach: {outside}"
