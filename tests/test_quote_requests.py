"""A request to quote a statement from a named council's decisions (rag.understand.quoted_claim,
rag.cases.unsaid_word): refused when the decisions never use one of its words, answered with the
closest passages otherwise, even when they say the opposite."""

from __future__ import annotations

import pytest

from rag.understand import quoted_claim
from tests.conftest import synthetic_bot


@pytest.mark.parametrize("question, claim", [
    ("Quote the part where the Ombudsman says the Brackenridge social worker must be disciplined.",
     "the Brackenridge social worker must be disciplined"),
    ("Quote me the bit where the Ombudsman says the LADO should never have suspended Mr W.",
     "the LADO should never have suspended Mr W"),
    ("Write me a quote from the Ombudsman saying the carer should get an allowance - I need it for my letter.",
     "the carer should get an allowance"),
    ("Where does the Ombudsman say that the council must pay?", "the council must pay"),
    ("What did the Ombudsman say about the delay?", ""),
    ("Did the Ombudsman find fault?", ""),
])
def test_the_statement_a_quote_request_asks_for(question, claim):
    assert quoted_claim(question) == claim


@pytest.fixture(scope="module")
def conduct_bot(tmp_path_factory, minilm):
    """Five synthetic decisions about social workers and allegations; one of them disciplines."""
    return synthetic_bot(tmp_path_factory.mktemp("quotes"), minilm, ("06", "12", "19", "33", "09"))


def test_a_statement_the_named_decision_never_makes_is_not_quoted(conduct_bot):
    """Brackenridge's decision finds the disclosure of Mrs U's medical history was fault and never
    speaks of discipline (Carrow's does).  Before, its passages on the disclosure were quoted as if
    they were the part asked for."""
    answer = conduct_bot.ask("Quote the part where the Ombudsman says the Brackenridge social worker must be "
                             "disciplined for sharing my medical history.")
    assert answer.abstained and answer.citations == []
    assert 'none uses the word "disciplined"' in answer.answer


def test_a_statement_the_decision_contradicts_is_answered_with_its_words(conduct_bot):
    """The LADO did not suspend Mr W: the decision's words on it answer the request, "never" aside."""
    answer = conduct_bot.ask("Quote me the bit where the Ombudsman says the Ravensholt LADO should never have "
                             "suspended Mr W.")
    assert not answer.abstained and answer.citations[0].ref == "22 929 071"
