"""A question told as a story (what happened, then what the user wants to know) is judged answerable
on its closest part as well as on the whole: one embedding of the whole is diluted by every part
the passages do not share (issue 16: blind questions in parents' words were refused)."""

from __future__ import annotations

import pytest

from rag import Bot, Settings
from rag.understand import clauses
from tests.conftest import PROJECT

ASSESSMENT_WAIT = ("I asked children's services to assess my autistic son who doesn't talk back in January and "
                   "they only finished it in October. How long are they supposed to take?")


def test_a_story_is_read_in_its_sentences_and_clauses():
    assert clauses(ASSESSMENT_WAIT) == (
        "I asked children's services to assess my autistic son who doesn't talk back in January and they only "
        "finished it in October.", "How long are they supposed to take?")
    assert clauses("Single mum, flat so damp that they went sofa surfing for months, and she thought the "
                   "council gave her too little priority - did the ombudsman back her?") == (
        "Single mum, flat so damp that they went sofa surfing for months",
        "she thought the council gave her too little priority", "did the ombudsman back her?")
    assert clauses("What did the council agree to pay the grandmother?") == ()  # one part: the whole is enough
    assert clauses("Was it upheld? Why?") == ()  # parts this short say too little


@pytest.fixture(scope="module")
def confirm_bot(tmp_path_factory, minilm) -> Bot:
    """The decisions the confirm set is asked over: the samples, the synthetic and confirm decisions."""
    bot = Bot(Settings(store_dir=tmp_path_factory.mktemp("story") / "store"), embedder=minilm)
    folders = [PROJECT / "data" / name for name in ("decisions", "synthetic", "confirm")]
    assert bot.ingest(folders).failed == 0
    return bot


def test_a_question_told_as_a_story_is_answered(confirm_bot):
    """Refused before (support 0.640 against 0.64 at the evals' float precision, 0.691 on its first
    sentence's closeness); the decision that answers it is cited among the first three."""
    answer = confirm_bot.ask(ASSESSMENT_WAIT)
    assert not answer.abstained, answer.answer
    assert "23 943 770" in [c.ref for c in answer.citations[:3]], answer.answer
