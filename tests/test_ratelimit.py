"""The per-client limit in the chat as well as the API: past RAG_RATE_LIMIT_PER_MINUTE a client
is told at once to try again in N s, and other clients are still answered."""

from __future__ import annotations

from types import SimpleNamespace

from rag import Settings
from rag.ui import ChatApp

QUESTION = "Must a council involve a non-resident parent in a single assessment?"


def _request(host: str) -> SimpleNamespace:
    return SimpleNamespace(client=SimpleNamespace(host=host), session_hash=f"session-{host}")


def _chat(app: ChatApp, host: str) -> str:
    *_, last = app.respond(QUESTION, [], [], request=_request(host))
    return last[0][-1]["content"]


def test_a_flooding_client_is_refused_in_the_chat_and_the_api(seeded_bot):
    settings = Settings(store_dir=seeded_bot.settings.store_dir, rate_limit_per_minute=2)
    app = ChatApp(seeded_bot, settings)
    assert "18 011 812" in _chat(app, "10.0.0.1")
    assert "error" not in app.api_ask(QUESTION, request=_request("10.0.0.1"))
    refused = _chat(app, "10.0.0.1")
    assert refused.startswith("Too many questions") and "try again in" in refused
    wait = int(refused.split("try again in ")[1].split(" s")[0])
    assert 1 <= wait <= 60
    assert app.api_ask(QUESTION, request=_request("10.0.0.1"))["error"].startswith("Too many questions")
    assert "18 011 812" in _chat(app, "10.0.0.2"), "another client is still answered"
