"""The app's API and safety: `/ask` through gradio_client, inert HTML, no files outside the app."""

from __future__ import annotations

import httpx
import pytest
from conftest import PLANTED_REF
from gradio_client import Client

from rag import parse_decision
from rag.ui_render import answer_panel, decision_html, paragraph_context

ACCEPTANCE = "Must a council involve a non-resident parent in a single assessment?"


@pytest.fixture(scope="module")
def client(app_server):
    return Client(app_server[1], verbose=False)


def test_ask_endpoint_returns_the_answer_json(client):
    answer = client.predict(ACCEPTANCE, api_name="/ask")
    assert set(answer) == {"question", "answer", "abstained", "backend", "notices", "citations"}
    cited = [(c["ref"], c["paragraph"]) for c in answer["citations"] if c["verified"]]
    # The planted decision is a word-for-word copy of 18 011 812 (conftest.planted_decision), and a
    # passage is quoted once however many decisions hold it: either copy's paragraph 25 answers.
    assert {("18 011 812", 25), (PLANTED_REF, 25)} & set(cited)


def test_ask_endpoint_applies_filters_exactly(client):
    answer = client.predict(ACCEPTANCE, "Kent County Council", api_name="/ask")
    assert {c["ref"] for c in answer["citations"]} <= {"24 003 230"}
    none = client.predict(ACCEPTANCE, "", "Not upheld", api_name="/ask")
    assert none["abstained"] and none["citations"] == []


def test_bad_questions_get_a_clear_error(client):
    assert "limit" in client.predict("x" * 5000, api_name="/ask")["error"]
    assert "empty" in client.predict("   ", api_name="/ask")["error"]
    assert "date" in client.predict(ACCEPTANCE, "", "", "", "", "last week", api_name="/ask")["error"]


def test_planted_html_renders_as_text(app_server):
    app, _ = app_server
    answer = app.bot.ask("What did the Council invite Mr C to do about the trampoline incident?",
                         {"council": "Testshire County Council"})
    assert any(c.ref == PLANTED_REF for c in answer.citations)
    panel = answer_panel(answer)
    decision = parse_decision(app.bot.store.decision_text(PLANTED_REF))
    for html in (panel, paragraph_context(decision, 26), decision_html(decision)):
        assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in decision_html(decision)


@pytest.mark.parametrize("path", [
    "/file=../../../../etc/passwd",
    "/file=/etc/passwd",
    "/gradio_api/file=/etc/passwd",
    "/gradio_api/file=../../../../etc/passwd",
    "/gradio_api/file=%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/gradio_api/file=..%2f..%2fpyproject.toml",
    "/gradio_api/file=%2Fetc%2Fpasswd",
    "/static/../../../../etc/passwd",
    "/assets/..%2f..%2f..%2fetc%2fpasswd",
    "/gradio_api/file=" + __file__,
])
def test_file_routes_refuse_paths_outside_the_app(app_server, path):
    response = httpx.get(app_server[1] + path, timeout=10)
    assert "root:" not in response.text and "[project]" not in response.text
    assert "test_file_routes_refuse_paths_outside_the_app" not in response.text
    assert response.status_code in (400, 403, 404, 405) or "<html" in response.text.lower()
