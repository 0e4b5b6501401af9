"""A synthetic decision (data/synthetic, written for the evaluations) can never pass for a real one:
wherever it is named it says so, and it never links to the LGO website (issue 16)."""

from __future__ import annotations

import pytest

from rag import Bot, Settings
from rag.cli import format_answer
from rag.ui import ChatApp
from rag.ui_render import answer_panel, decision_html
from tests.conftest import PROJECT

SYNTHETIC = PROJECT / "data" / "synthetic" / "syn-10-carrow-city-council-short-breaks-direct-payments.txt"


@pytest.fixture(scope="module")
def bot(tmp_path_factory, minilm) -> Bot:
    bot = Bot(Settings(store_dir=tmp_path_factory.mktemp("synthetic") / "store"), embedder=minilm)
    assert bot.ingest([SYNTHETIC, PROJECT / "data" / "decisions"]).failed == 0
    return bot


def test_a_cited_synthetic_decision_is_labelled_everywhere(bot):
    answer = bot.ask("Why did Carrow refuse direct payments for short breaks?")
    cited = [c for c in answer.citations if c.verified and c.ref == "23 910 836"]
    assert cited, answer.answer
    c = cited[0]
    assert c.synthetic and c.url is None and answer.to_dict()["citations"][0]["synthetic"] is True
    assert "synthetic: not a real decision" in c.reference()
    assert "(23 910 836, synthetic: not a real decision)" in answer.answer  # the answer's own text
    assert "synthetic" in format_answer(answer)  # the command line
    panel = answer_panel(answer)  # the app
    assert "Synthetic: not a real decision" in panel and "lgo.org.uk/decisions/children-s-care-services/disabled" \
        not in panel


def test_the_decisions_tab_and_page_label_it(bot):
    app = ChatApp(bot, bot.settings)
    rows, _ = app.decision_rows()
    labelled = [r for r in rows if r[0] == "23 910 836"]
    assert labelled and "synthetic" in labelled[0][1]
    assert all("synthetic" not in r[1] for r in rows if r[0] != "23 910 836")
    page = decision_html(__import__("rag").parse_decision(SYNTHETIC.read_text(encoding="utf-8")))
    assert "Synthetic: not a real decision" in page and "LGO website" not in page
