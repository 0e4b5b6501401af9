"""Acronyms a user types that the decisions spell out (rag/acronyms.py), read from the index's own
word pairs and checked against how a passage writes the name."""

from __future__ import annotations

import pytest

from rag.acronyms import expand_acronyms, spelled_out
from tests.conftest import synthetic_bot


@pytest.fixture(scope="module")
def adoption_bot(tmp_path_factory, minilm):
    """Five synthetic decisions: two adopters' assessments (one stopped at stage one), a special
    guardian's allowance and disability benefits, two more about fostering."""
    return synthetic_bot(tmp_path_factory.mktemp("acronyms"), minilm, ("01", "17", "42", "04", "08"))


def test_an_acronym_the_decisions_never_use_is_followed_by_the_name_they_write(adoption_bot):
    catalog = adoption_bot.catalog
    assert catalog.lexical.word_count("IRM") == 0
    expanded = expand_acronyms("Can we take it to the IRM?", catalog)
    assert expanded == "Can we take it to the IRM (Independent Review Mechanism)?"
    assert spelled_out("DLA", catalog) == "Disability Living Allowance"


def test_acronyms_the_decisions_use_or_cannot_spell_are_left_alone(adoption_bot):
    catalog = adoption_bot.catalog
    assert catalog.lexical.word_count("NEET") and spelled_out("NEET", catalog) is None  # the decisions write "NEET"
    assert expand_acronyms("What about the XQZ and NOT the rest?", catalog) == "What about the XQZ and NOT the rest?"


def test_a_question_with_an_acronym_finds_the_paragraph_that_spells_it_out(adoption_bot):
    """Aldermouth's paragraph 8 says stage one decisions cannot go to the Independent Review
    Mechanism; the question says "IRM".  Before, the letters matched nothing and the paragraph
    was not quoted (over the whole synthetic set the question was refused)."""
    answer = adoption_bot.ask("Our adoption application got stopped at stage one because of a reference from my "
                              "old school job. Can we take it to the IRM?")
    assert not answer.abstained
    assert ("18 920 398", 8) in [(c.ref, c.paragraph) for c in answer.citations[:3]]
