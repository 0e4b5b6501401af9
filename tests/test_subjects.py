"""Questions about a subject the index does not cover (rag/subjects.py): the Ombudsman's own subject
areas, told apart from the subjects the indexed decisions are filed under or discuss."""

from __future__ import annotations

import pytest

from rag.subjects import DISCUSSED_SHARE, UNHEARD_SHARE, names, outside_subjects
from tests.conftest import synthetic_bot

CHILDRENS = {"category": "Children's care services", "subcategory": "Disabled children"}
SCHOOL_TRANSPORT = {"category": "Education", "subcategory": "School transport"}
SEN = {"category": "Education", "subcategory": "Special educational needs"}


class _Lexical:
    def __init__(self, phrases: dict[str, int]) -> None:
        self.phrases = phrases

    def __len__(self) -> int:
        return 1000

    def phrase_count(self, phrase: str) -> int:
        return self.phrases.get(phrase.lower(), 0)


class _Catalog:
    """The two things `outside_subjects` reads: the categories the decisions are filed under, and
    how many passages use a phrase."""

    def __init__(self, *filed: dict, phrases: dict[str, int] | None = None) -> None:
        self.filed = filed
        self.lexical = _Lexical(phrases or {})

    def values(self, key: str) -> list[str]:
        return sorted({m[key] for m in self.filed})


@pytest.mark.parametrize("question, subject", [
    ("Council refused free school transport for my son - can the ombudsman help with that?",
     "School transport (Education)"),
    ("How do I challenge my council tax banding?", "Council tax (Benefits and tax)"),
    ("How does adult social care work out what my mum pays for her care home?",
     "Adult social care (Adult care services)"),
    ("Who do I complain to about a planning application next door?", "Planning applications (Planning)"),
    ("Can the Ombudsman look at my housing benefit overpayment?",
     "Housing benefit (Benefits and tax)"),
])
def test_a_subject_no_indexed_decision_is_filed_under_is_recognised(question, subject):
    assert outside_subjects(question, _Catalog(CHILDRENS))[0] == (subject, True)


def test_a_subcategory_the_index_does_not_hold_is_outside_it_unless_the_passages_discuss_it():
    """An index holding special educational needs and school transport decisions holds neither
    school admissions nor, unless its passages discuss them, anything filed under another
    subcategory (session 16: with the mixed set's education decisions indexed, a question about
    school admissions was held to be inside the index).  Subcategories are fine lines, so
    passages that discuss a subject keep it in ("disabled children" in child protection)."""
    admissions = "We were refused a place at our first-choice school: how do I appeal school admissions?"
    education = _Catalog(CHILDRENS, SCHOOL_TRANSPORT, SEN, phrases={"school": 60, "appeal": 30, "transport": 40})
    assert outside_subjects(admissions, education) == [("School admissions (Education)", True)]
    assert outside_subjects("Council refused free school transport for my son", education) == []
    assert outside_subjects("What did the education decisions find?", education) == []
    often = int(DISCUSSED_SHARE * 1000) + 1
    child_protection = {"category": "Children\u2019s care services", "subcategory": "Child protection"}
    disabled = "What do the disabled children decisions say?"
    assert outside_subjects(disabled, _Catalog(child_protection, phrases={"disabled children": often})) == []
    assert outside_subjects(disabled, _Catalog(child_protection, CHILDRENS)) == []
    label = "Disabled children (Children's care services)"
    assert outside_subjects(disabled, _Catalog(child_protection)) == [(label, True)]


def test_a_subject_the_passages_discuss_is_not_outside_the_index():
    """Direct payments are filed under adult care, but disabled children's decisions discuss them."""
    question = "Can a council refuse direct payments?"
    often, seldom = int(DISCUSSED_SHARE * 1000) + 1, int(DISCUSSED_SHARE * 1000)
    assert outside_subjects(question, _Catalog(CHILDRENS, phrases={"refuse": 90, "direct payments": seldom})) == [
        ("Direct payments (Adult care services)", False)]
    assert outside_subjects(question, _Catalog(CHILDRENS, phrases={"refuse": 90, "direct payments": often})) == []


def test_a_one_word_subject_counts_only_when_the_passages_hardly_ever_use_it():
    """"Housing", "Transport", "Enforcement" are everyday words in most decisions; "parking" in
    a children's index is not.  A one-word name is matched as written ("park" is not "parking")."""
    question = "Did the housing team refuse transport and enforcement?"
    everyday = {"housing": 30, "refuse": 90, "transport": 12, "enforcement": 5}
    assert outside_subjects(question, _Catalog(CHILDRENS, phrases=everyday)) == []
    assert outside_subjects("Did the council let my son play in the park?", _Catalog(CHILDRENS)) == []
    one_in_a_thousand = int(UNHEARD_SHARE * 1000)
    question = "Can I appeal a parking ticket?"
    rarely = _Catalog(CHILDRENS, phrases={"parking": one_in_a_thousand})
    twice = _Catalog(CHILDRENS, phrases={"parking": 2})
    assert outside_subjects(question, rarely) == [("Parking (Transport and highways)", True)]
    assert outside_subjects(question, twice) == []


def test_a_one_word_subject_is_not_named_by_another_form_of_its_word():
    """"The letter landed over Christmas" is not about Land (Other Categories): its stem took it in,
    and a question about a refused adoption, in a real decision's words, was declined as about land."""
    question = "The refusal letter landed over Christmas when the office was shut. Was that fair?"
    assert outside_subjects(question, _Catalog(CHILDRENS)) == []
    assert outside_subjects("Who owns the land behind my house?", _Catalog(CHILDRENS)) == [
        ("Land (Other Categories)", True)]


def test_the_fullest_subject_name_a_question_uses_comes_first():
    assert [len(words) for *_, words in names()] == sorted((len(words) for *_, words in names()), reverse=True)
    question = "Council refused free school transport for my son"
    found = outside_subjects(question, _Catalog(CHILDRENS, phrases={"refused": 90}))
    assert found[0] == ("School transport (Education)", True)


@pytest.fixture(scope="module")
def lowdale_bot(tmp_path_factory, minilm):
    """Five synthetic children's care decisions: disabled children, allowances, care leavers."""
    return synthetic_bot(tmp_path_factory.mktemp("subjects"), minilm, ("01", "07", "08", "28", "29"))


@pytest.mark.parametrize("question, subject", [
    ("Council refused free school transport for my son - can the ombudsman help with that?", "school transport"),
    ("How does adult social care work out what my mum pays for her care home?", "adult social care"),
])
def test_a_question_about_a_subject_the_index_does_not_cover_is_declined_plainly(lowdale_bot, question, subject):
    """Both were answered before, from a disabled child's assessment and a care leaver's setting-up
    allowance: their everyday words ("refused", "son", "pays", "home") matched well enough."""
    answer = lowdale_bot.ask(question)
    assert answer.abstained and answer.citations == []
    assert f"do not cover {subject}" in answer.answer


def test_a_subject_the_decisions_mention_is_still_answered_about_them(lowdale_bot):
    """Council tax is counted in a special guardianship means test: named with the council, or
    often enough in so few decisions, the question is about those decisions."""
    for question in ("Did Lowdale count council tax in Ms N's means test?",
                     "Did the council count council tax when working out the special guardianship allowance?"):
        answer = lowdale_bot.ask(question)
        assert not answer.abstained and answer.citations[0].ref == "19 902 833"


def test_a_subject_the_passages_never_mention_is_declined_though_a_council_is_named(lowdale_bot):
    """Naming Lowdale used to lower the bar to the one for questions about a named council's
    decisions, and the question was answered from a care leaver's allowance (confirm set: two
    such questions answered, both refused now)."""
    answer = lowdale_bot.ask("How do I appeal a parking ticket Lowdale gave me outside my son's school?")
    assert answer.abstained and answer.citations == []
    assert "do not cover parking" in answer.answer
