"""Understanding a question once (rag/understand.py): set questions resolved against the values the
index holds, kinds of fact, and what the decisions cannot give.  A small catalog double stands in
for the index through the same methods `understand` calls."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from rag.filters import Filters
from rag.lexical import tokenize
from rag.understand import fact_kind, fact_unit, states_fact, understand

DECISIONS = {
    "19 906 744": {"council": "Southfold County Council", "subcategory": "Fostering", "outcome": "Upheld",
                   "category": "Children's care services", "decision_date": "2019-11-21"},
    "22 918 455": {"council": "Westbridge Metropolitan Borough Council", "subcategory": "Fostering",
                   "outcome": "Not upheld", "category": "Children's care services", "decision_date": "2023-04-03"},
    "19 916 203": {"council": "Westbridge Metropolitan Borough Council", "subcategory": "Looked after children",
                   "outcome": "Closed after initial enquiries", "category": "Children's care services",
                   "decision_date": "2024-08-17"},
    "21 903 378": {"council": "Hallamford City Council", "subcategory": "Other", "outcome": "Upheld",
                   "category": "Children's care services", "decision_date": "2021-10-08"},
    "18 904 117": {"council": "Northshire County Council", "subcategory": "Friends and family carers",
                   "outcome": "Upheld", "category": "Children's care services", "decision_date": "2019-03-14"},
}
_GENERIC = {"county", "council", "borough", "city", "metropolitan", "of", "the"}


class _Lexical:
    doc_freq: dict[str, int] = {}

    def __len__(self) -> int:
        return 100

    def word_count(self, word: str) -> int | None:
        """As rag.bm25.LexicalIndex.word_count: rows holding the word's stem (none here)."""
        tokens = tokenize(word)
        return self.doc_freq.get(tokens[0], 0) if tokens else None

    def phrase_count(self, phrase: str) -> int:
        """As rag.bm25.LexicalIndex.phrase_count: no passage here uses any phrase."""
        return 0


class CatalogDouble:
    """The parts of rag.catalog.Catalog that understanding reads, over a fixed registry."""

    decisions = DECISIONS
    lexical = _Lexical()

    def councils(self) -> list[str]:
        return sorted({m["council"] for m in DECISIONS.values()})

    def values(self, key: str) -> list[str]:
        """As rag.catalog.Catalog.values: the distinct values of one field."""
        return sorted({str(m[key]) for m in DECISIONS.values() if m.get(key)})

    def refs_in(self, text: str) -> set[str]:
        return {" ".join(m) for m in re.findall(r"\b(\d{2}) ?(\d{3}) ?(\d{3})\b", text)} & set(DECISIONS)

    def council_refs_in(self, text: str) -> set[str]:
        words = set(re.findall(r"[a-z]+", text.lower()))
        return {ref for ref, m in DECISIONS.items() if _own(m["council"]) <= words}

    def is_council(self, name: str) -> bool:
        return not _own(name) or any(_own(name) <= _own(m["council"]) for m in DECISIONS.values())

    def council_words(self) -> frozenset[str]:
        return frozenset(w for m in DECISIONS.values() for w in _own(m["council"]))


def _own(name: str) -> set[str]:
    return set(re.findall(r"[a-z]+", name.lower())) - _GENERIC


@pytest.fixture
def catalog() -> CatalogDouble:
    return CatalogDouble()


@pytest.mark.parametrize("question, expected", [
    ("Which fostering complaints were upheld?", {"subcategory": "Fostering", "outcome": "Upheld"}),
    ("Which fostering complaints were not upheld?", {"subcategory": "Fostering", "outcome": "Not upheld"}),
    ("Which fostering complaints weren't upheld?", {"subcategory": "Fostering", "outcome": "Not upheld"}),
    ("Which fostering complaints did the ombudsman uphold?", {"subcategory": "Fostering", "outcome": "Upheld"}),
    ("Out of the looked-after children decisions, which ones were closed after initial enquiries?",
     {"subcategory": "Looked after children", "outcome": "Closed after initial enquiries"}),
    ("Which friends and family carer complaints were upheld?",
     {"subcategory": "Friends and family carers", "outcome": "Upheld"}),
    ("Which complaints filed under the 'Other' subcategory were upheld?",
     {"subcategory": "Other", "outcome": "Upheld"}),
    ("How many complaints were closed after initial enquiries in 2024?",
     {"outcome": "Closed after initial enquiries", "since": dt.date(2024, 1, 1), "until": dt.date(2024, 12, 31)}),
    ("For a piece I'm writing - which fostering decisions from 2022 or later were upheld?",
     {"subcategory": "Fostering", "outcome": "Upheld", "since": dt.date(2022, 1, 1)}),
    ("list the Westbridge decisions", {"council": "Westbridge Metropolitan Borough Council"}),
    # session 16 (the mixed set's third file, written blind): months, outcomes in the Ombudsman's
    # words, "in which of", "which complaints did...", more ways of setting a value aside
    ("Journalist here. Which decisions did the Ombudsman issue between July and December 2021?",
     {"since": dt.date(2021, 7, 1), "until": dt.date(2021, 12, 31)}),
    ("Which fostering decisions from the first half of 2023 were upheld?",
     {"subcategory": "Fostering", "outcome": "Upheld", "since": dt.date(2023, 1, 1), "until": dt.date(2023, 6, 30)}),
    ("Which decisions since March 2022 were upheld?", {"outcome": "Upheld", "since": dt.date(2022, 3, 1)}),
    ("Which complaints did the Ombudsman investigate and then find no fault in?", {"outcome": "Not upheld"}),
    ("I compare councils. In which of Westbridge's cases did the Ombudsman find against the council?",
     {"council": "Westbridge Metropolitan Borough Council", "outcome": "Upheld"}),
    ("Leaving fostering to one side, which complaints did the Ombudsman turn away without investigating?",
     {"outcome": "Closed after initial enquiries"}),
    # and the mixed set's fourth file (written blind to confirm the above; 5 of its 12 right at first)
    ("For Westbridge Metropolitan Borough Council, which complaints did the Ombudsman refuse to look into?",
     {"council": "Westbridge Metropolitan Borough Council", "outcome": "Closed after initial enquiries"}),
    ("Did the Ombudsman ever side with the person complaining in any of Westbridge's cases? Which ones?",
     {"council": "Westbridge Metropolitan Borough Council", "outcome": "Upheld"}),
    ("How many Ombudsman decisions in the collection were made in the first half of 2023, and which ones?",
     {"since": dt.date(2023, 1, 1), "until": dt.date(2023, 6, 30)}),
    # session 17 (the fresh set, written blind: 3 of its 14 set questions right at first): a request
    # before the opener, "where has the Ombudsman found...", "a council at fault", "went against",
    # "uphold", the opener later than the seventh word before "cases"
    ("As a foster carer myself, I'd like to know which fostering complaints ended with the council being "
     "found at fault.", {"subcategory": "Fostering", "outcome": "Upheld"}),
    ("Can you list the decisions made between September 2021 and March 2022?",
     {"since": dt.date(2021, 9, 1), "until": dt.date(2022, 3, 31)}),
    ("In which of the Westbridge Metropolitan Borough Council's cases was the council found to have got it wrong?",
     {"council": "Westbridge Metropolitan Borough Council", "outcome": "Upheld"}),
    ("My son is fostered. Where has the Ombudsman found a council at fault over fostering?",
     {"subcategory": "Fostering", "outcome": "Upheld"}),
    ("For 2021 only, which fostering complaints went against the council? Leave out anything else.",
     {"subcategory": "Fostering", "outcome": "Upheld", "since": dt.date(2021, 1, 1), "until": dt.date(2021, 12, 31)}),
    ("Which fostering complaints did the Ombudsman not uphold?", {"subcategory": "Fostering", "outcome": "Not upheld"}),
    # the fresh set's second file (written blind to confirm the above: 3 of its 16 right after
    # them): a request for all of a kind anywhere in the question, with a condition the index checks
    ("Has the Ombudsman ever refused to even look at a complaint about fostering? Which ones?",
     {"subcategory": "Fostering", "outcome": "Closed after initial enquiries"}),
    ("Show me every Ombudsman decision involving Westbridge Metropolitan Borough Council, whatever the subject.",
     {"council": "Westbridge Metropolitan Borough Council"}),
    ("We're fostering. Were there any fostering decisions before 2019? Show me every one.",
     {"subcategory": "Fostering", "until": dt.date(2018, 12, 31)}),
    ("For a piece on councils, what did the Ombudsman decide over the course of 2017?",
     {"since": dt.date(2017, 1, 1), "until": dt.date(2017, 12, 31)}),
    ("How many times did the Ombudsman back the parents against the council over fostering, and which cases?",
     {"subcategory": "Fostering", "outcome": "Upheld"}),
    ("Are there any fostering decisions in here, like allowances or allegations? I need a list.",
     {"subcategory": "Fostering"}),
    ("I'm a journalist looking beyond fostering. Where the complaint had nothing to do with fostering, in which "
     "cases did the Ombudsman come down on the complainant's side?", {"outcome": "Upheld"}),
    # the fresh set's third file (written blind to confirm both rounds: 5 of its 14 right after them)
    ("How many fostering complaints has the ombudsman upheld since the start of 2020, and which were they?",
     {"subcategory": "Fostering", "outcome": "Upheld", "since": dt.date(2020, 1, 1)}),
    ("Leaving fostering out of it, what has the Ombudsman decided in 2024 or 2025?",
     {"since": dt.date(2024, 1, 1), "until": dt.date(2025, 12, 31)}),
    ("For an article I need a list of every decision made between September 2018 and February 2019, whatever "
     "the outcome.", {"since": dt.date(2018, 9, 1), "until": dt.date(2019, 2, 28)}),
    ("Which complaints did the Ombudsman refuse to take on during 2020?",
     {"outcome": "Closed after initial enquiries", "since": dt.date(2020, 1, 1), "until": dt.date(2020, 12, 31)}),
    ("Leaving aside relatives, are there any fostering cases where the Ombudsman found in the foster carers' favour?",
     {"subcategory": "Fostering", "outcome": "Upheld"}),
    ("Show me everything the Ombudsman has decided about Westbridge Metropolitan Borough Council and whether they "
     "got it wrong.", {"council": "Westbridge Metropolitan Borough Council"}),
    ("What did the Ombudsman turn down on the merits in the first six months of 2021? I mean the ones they "
     "investigated and found no fault.",
     {"outcome": "Not upheld", "since": dt.date(2021, 1, 1), "until": dt.date(2021, 6, 30)}),
    # session 19: "children in care" is the everyday name of looked after children (four blind writers
    # used it in set questions, none of them read right before); "hadn't done anything wrong" (a blind
    # set over real decisions) is no fault
    ("Which complaints about children in care did the Ombudsman actually investigate and then find no fault in?",
     {"subcategory": "Looked after children", "outcome": "Not upheld"}),
    ("which complaints about kids in the council's care did the ombudsman throw out because it found the council "
     "had done nothing wrong?", {"subcategory": "Looked after children", "outcome": "Not upheld"}),
    ("In which cases did the ombudsman actually look into it and decide the council hadn't done anything wrong?",
     {"outcome": "Not upheld"}),
    # a council and nothing else: all of its decisions (two blind sets over real decisions asked so)
    ("what has the ombudsman decided about westbridge metropolitan borough council?",
     {"council": "Westbridge Metropolitan Borough Council"}),
])
def test_set_questions_resolve_their_words_against_the_index(catalog, question, expected):
    q = understand(question, catalog)
    assert q.is_set, question
    got = {k: v for k, v in q.filters.to_dict().items()}
    want = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in expected.items()}
    assert got == want


@pytest.mark.parametrize("question, aside", [
    ("Which fostering complaints were upheld, leaving aside Westbridge?", None),
    ("Leaving fostering to one side, which decisions were upheld?", "Fostering"),
    ("Which decisions were upheld, leaving aside fostering?", "Fostering"),
    ("Outside fostering, where did the Ombudsman uphold the complaint?", "Fostering"),  # session 17
    ("Where the complaint had nothing to do with fostering, which cases were upheld?", "Fostering"),
    ("Which decisions were upheld, not fostering ones?", "Fostering"),
    ("Which decisions about young people leaving care were upheld, out of interest?", None),
])
def test_what_a_set_question_sets_aside(catalog, question, aside):
    q = understand(question, catalog)
    assert q.set_aside == ((("subcategory", aside),) if aside else ())


def test_an_outcome_left_out_in_words():
    q = understand("I need a list of all of the 2022 decisions, but leave out the ones where the council was "
                   "found at fault.", CatalogDouble())
    assert q.is_set and q.set_aside == (("outcome", "Upheld"),) and q.filters.outcome is None


def test_a_case_asked_about_by_council_and_situation_is_no_set(catalog):
    q = understand("What did the Ombudsman decide about Westbridge and the foster carer whose allowance stopped?",
                   catalog)
    assert not q.is_set


def test_words_about_the_collection_or_how_a_value_comes_up_are_no_topic(catalog):
    for question in ("For an article I need a list of every decision made between September 2018 and February "
                     "2019, whatever the outcome.",
                     "What did the Ombudsman turn down on the merits in the first six months of 2021?",
                     "how many complaints against Westbridge Metropolitan Borough Council does the collection "
                     "hold, and what were they about?",  # words of grammar are no topic (session 17)
                     "As a parent who has been through a child protection investigation, I'd like to know which "
                     "fostering complaints ended with the council being found at fault.",
                     "For 2021 only, which fostering complaints went against the council? Leave out anything else.",
                     "How many Ombudsman decisions in the collection were made in the first half of 2023?",
                     "How many of these decisions come under fostering, and which are they?",
                     "Which fostering complaints did the Ombudsman throw out without investigating?",
                     # session 18 (real decisions, written blind): "look at" is how the Ombudsman works
                     "Which complaints did the ombudsman look at and then not uphold? I don't mean the ones "
                     "they refused to take on."):
        assert understand(question, catalog).topic == "", question


def test_a_value_the_index_does_not_hold_is_not_a_filter(catalog):
    """Only values the index holds: 'Adoption' is a real subcategory, but not in this index."""
    q = understand("Which adoption decisions were upheld?", catalog)
    assert q.is_set and q.filters.subcategory is None and q.filters.outcome == "Upheld"
    assert "adoption" in q.topic.lower()


@pytest.mark.parametrize("question", [
    "How many weeks did the council take to reply?",
    "What other options did the council have?",  # 'other' is not the Other subcategory
    "What complaints can the Ombudsman not investigate?",
    "Must a council involve a non-resident parent in a single assessment?",
    "Which complaints can the Ombudsman look into?",
    "Which complaints procedure applies to special guardianship support?",
])
def test_questions_that_are_not_about_sets(catalog, question):
    q = understand(question, catalog)
    assert not q.is_set and q.filters == Filters()


class _TwoCategories(CatalogDouble):
    """The registry above plus one Westbridge decision filed under adult care."""

    decisions = {**DECISIONS, "22 970 001": {
        "council": "Westbridge Metropolitan Borough Council", "subcategory": "Charging", "outcome": "Upheld",
        "category": "Adult care services", "decision_date": "2022-05-01"}}

    def values(self, key: str) -> list[str]:
        return sorted({str(m[key]) for m in self.decisions.values() if m.get(key)})


@pytest.mark.parametrize("question", [
    "Which of Westbridge Metropolitan Borough Council's decisions are about adult social care?",
    "Which of Westbridge Metropolitan Borough Council's decisions are about adult social care rather than "
    "children's care services?",
    "Apart from children's services, which of Westbridge Metropolitan Borough Council's decisions are adult care?",
])
def test_a_category_named_as_people_say_it_and_one_set_aside(question):
    """Session 16 (mixed set): "which of X Council's decisions" is a set question about X Council
    (not about a council called "of X Council"); a category is named by its former name too
    ("adult social care", rag.subjects.FORMER_NAMES); a category set aside ("rather than ...") is
    not the one asked for, and its words are not the topic."""
    q = understand(question, _TwoCategories())
    assert q.is_set and not q.unknown_councils
    assert q.filters.category == "Adult care services"
    assert q.filters.council == "Westbridge Metropolitan Borough Council"
    assert q.topic == ""
    assert q.set_aside in ((), (("category", "Children's care services"),))


def test_a_category_ending_in_care_services_is_named_as_people_say_it():
    """"children's services", "children's social care": the index's own category, said the usual
    ways (generated from the name, for any category ending in "care services")."""
    catalog = _TwoCategories()
    for said in ("children's services", "children's social care", "adult services"):
        q = understand(f"Which {said} complaints were upheld?", catalog)
        assert q.filters.category == ("Adult care services" if "adult" in said else "Children's care services")
    assert understand("Which decisions about children in care were upheld?", catalog).filters.category is None
    # said that way, a category names a set's filter but does not make a question one about a set
    q = understand("what are the stages of the statutory childrens social care complaints process?", catalog)
    assert not q.is_set and q.filters == Filters()


class _CommonLexical(_Lexical):
    doc_freq = {tokenize("care")[0]: 60, tokenize("foster")[0]: 40, tokenize("carers")[0]: 30}


class _CommonWords(CatalogDouble):
    """Passages where "care" and "foster" are everywhere, as in a children's care index."""

    lexical = _CommonLexical()


def test_a_lone_topic_word_keeps_the_common_word_that_names_it_with_it():
    """Session 16 (a probe of set questions): "which decisions about care leavers were upheld?"
    was searched for "leavers" alone ("care" is in most passages) and found none; a longer topic
    is not widened by the common words beside it."""
    catalog = _CommonWords()
    assert understand("Which decisions about care leavers were upheld?", catalog).topic == "care leavers"
    q = understand("Which ones are about staying put with former foster carers?", catalog)
    assert q.topic == "staying put former"


def test_the_users_filters_win_over_the_words(catalog):
    q = understand("Which fostering complaints were upheld?", catalog, Filters(outcome="Not upheld"))
    assert q.filters.outcome == "Not upheld" and q.filters.subcategory == "Fostering"


def test_the_topic_leaves_out_set_words_preamble_and_named_values(catalog):
    q = understand("For a piece I'm writing - which fostering decisions were upheld about allegations?", catalog)
    assert q.topic.lower().split() == ["allegations"]
    q = understand("Which complaints about kids in the council's care were upheld?", catalog)
    assert q.filters.subcategory == "Looked after children" and q.topic == ""  # "kids" named them: no topic


@pytest.mark.parametrize("question, kind", [
    ("How much did Lancashire agree to pay the mother?", "amount"),
    ("How much back pay did the aunt get after being paid the lower kinship rate?", "amount"),
    ("What does Pellingham pay for a child arrangements order allowance?", "amount"),
    ("What's the weekly fee Southfold pays skill level 3 foster carers per child?", "rate"),
    ("What is Carrow City Council's special guardianship allowance rate?", "rate"),
    ("how much a week do foster carers get", "rate"),
    ("How long was the care leaver left without a personal adviser?", "duration"),
    ("How many weeks did the council take?", "duration"),
    ("By when did Hertfordshire have to send the apology?", "date"),
    ("What was the name of the social worker?", "name"),
    ("What's the name of the social worker who wrote it?", "name"),  # session 17
    ("Who runs the trust? I want the chief executive's name so I can write to them.", "name"),  # session 17
    ("Which private company ran the children's home?", "name"),
    ("Which care agency gave Mr X the poor quality care?", "name"),  # session 19 (a blind set over real decisions)
    ("how much contact must the council allow with my son in care?", None),
    ("Why was the mum kept on the ward for over a week?", None),
    ("Must a council involve a non-resident parent in a single assessment?", None),
])
def test_the_kind_of_fact_asked_for(question, kind):
    assert fact_kind(question) == kind


@pytest.mark.parametrize("kind, passage, states", [
    ("amount", "The Council will pay Mrs X £300 for the distress caused.", True),
    ("amount", "The Council will apologise to Mrs X.", False),
    ("rate", "She receives a weekly fee of £208 per child.", True),
    ("rate", "The Council agreed £10 an hour for the personal assistant.", True),
    ("rate", "The Council paid her £1,200 in arrears.", False),
    ("date", "The conference was held on 3 September 2020.", True),
    ("date", "Within 20 working days of this decision the Council will apologise.", True),
    ("date", "The Council will apologise.", False),
    ("duration", "He was without a personal adviser for eight months.", True),
    ("name", "The social worker, Ms Patel, wrote the report.", True),
    ("name", "Mr X complained that the social worker, Ms Y, was rude.", False),  # anonymised letters
])
def test_whether_a_passage_states_a_fact_of_the_kind(kind, passage, states):
    assert states_fact(kind, passage) is states


@pytest.mark.parametrize("question, unit, passage, states", [
    ("What does the council pay for each night a child stays at the unit?", "night", "It pays £95 a night.", True),
    ("What does the council pay for each night a child stays at the unit?", "night", "The allowance is £120 a week.",
     False),
    ("how much a week do foster carers get", "week", "a weekly allowance of £208 was agreed", True),
    ("What hourly rate did the council agree?", "hour", "The Council agreed £10 an hour.", True),
    ("How much did she get for every extra week?", "week", "It will pay her £75 for each of the 16 weeks.", True),
    ("What hourly rate did the council agree?", "hour", "The Council paid £2,340 a year.", False),
    ("How much did the council pay the mother?", None, "The Council will pay her £300.", True),
])
def test_a_rate_asked_by_the_night_or_the_week_is_stated_by_that_unit(question, unit, passage, states):
    """Session 16 (mixed set): "what does Greyfriars pay for each night at Elmbank House?" was
    answered by passages stating sums by the year; a rate by another unit does not answer it."""
    kind = fact_kind(question)
    assert fact_unit(question, kind) == unit
    assert states_fact(kind, passage, fact_unit(question, kind)) is states


@pytest.mark.parametrize("question, kind", [
    ("What's the actual name of the fostering agency the Westbridge decision calls Company K?", "name"),
    ("What was the unit called?", "name"),
    ("What's the amount they paid her?", "amount"),
    ("What is the sum Southfold agreed?", "amount"),
    ("What did the unit do for children who were called names at school?", None),
    # a figure named in the story is not the fact asked for (real decisions, blind: refused as unstated)
    ("Westbridge and the foster carer whose weekly payment went down by £75 - why didn't the ombudsman "
     "investigate?", None),
    ("What weekly allowance did Southfold pay?", "rate"),
    ("How big was the symbolic payment Westbridge made to the mother?", "amount"),  # two blind sets asked so
    ("How big was the flat the family were moved to?", None),
    ("What was the Westbridge foster carer's weekly fostering payment before the cut?", "rate"),  # session 19
])
def test_a_fact_asked_for_in_everyday_shapes(catalog, question, kind):
    """Session 18 (a set written blind over real decisions): "what's the actual name of ...", "what
    was it called", "what's the amount" were not read as asking for a name or a sum, so passages
    stating none answered them; asked of a council's decision about a subcategory, the name question
    was even read as one about a set of decisions and answered with a list."""
    q = understand(question, catalog)
    assert q.fact_kind == kind
    assert not q.is_set


def test_a_count_for_the_whole_country_is_not_a_set_of_indexed_decisions(catalog):
    q = understand("How many fostering complaints did the ombudsman uphold across England in 2022?", catalog)
    assert not q.is_set and q.asks_current
    assert understand("How many fostering complaints did the ombudsman uphold in 2022?", catalog).is_set


def test_current_figures_and_predictions_are_recognised(catalog):
    assert understand("What is Westbridge's current special guardianship allowance rate?", catalog).asks_current
    assert understand("What does Northshire pay now for a child arrangements order allowance?", catalog).asks_current
    assert not understand("What rate did Northshire pay in 2018?", catalog).asks_current
    assert understand("If I take the council to the ombudsman, will I win?", catalog).asks_advice
    assert understand("Should I sue the council? What are my chances?", catalog).asks_advice
    assert not understand("Should I complain to the Ombudsman or the ICO first?", catalog).asks_advice


@pytest.mark.parametrize("question, standing", [
    ("How much a week does Westbridge pay former foster carers when a young person stays on after 18?", True),
    ("What weekly fostering allowance does Southfold County Council pay for a 10 year old?", True),
    ("How much are foster carers paid per week by councils?", True),
    ("What percentage of complaints about children's services does the Ombudsman uphold each year?", True),
    ("On average, how long does the Ombudsman take to reach a decision?", True),
    ("What is the government's current national minimum allowance for foster carers?", True),
    ("How much did Westbridge pay the former foster carer each week?", False),
    ("How much was the carer paid each week before the payments stopped?", False),
    ("How much does the Ombudsman usually award for distress?", False),  # its guidance is quoted in decisions
    # "now" in the story, not in the question asking for the figure (a false refusal before session 17)
    ("She was paid after the child left, and now the council wants the money back. How much were they asking "
     "her to hand back?", False),
    ("What does a council have to pay a special guardian?", False),  # a duty, which decisions state
    ("What powers does section 47 give a council to make enquiries?", False),  # no figure asked
    # session 18 (a set written blind over real decisions): "what's" was not read as "what", and a
    # figure for the whole country was answered from one council's decision or counted in the index
    ("What's the current national minimum weekly fostering allowance for a teenager in England?", True),
    ("How many complaints did the ombudsman uphold across England in 2024?", True),
    ("What is the national average fostering allowance?", True),
    ("How many complaints about Westbridge were upheld in 2023?", False),
    # session 19: a limit is a standing rule (two blind writers asked one)
    ("What's the most the Adoption Support Fund will pay towards therapy for one adopted child in a year?", True),
    ("What's the biggest fine the Information Commissioner can give a council for that?", True),
    ("What is the most important thing the council got wrong?", False),
    ("What's the most the ombudsman has ever awarded for distress?", False),
])
def test_a_figure_as_a_standing_practice_or_across_cases(catalog, question, standing):
    """Session 17 (the fresh set, written blind: 1 of its 10 unanswerable questions refused at
    first): a figure asked in the habitual present ("how much does X pay?") or across cases ("what
    percentage", "on average") is one no decision states, which records one case at its time."""
    assert understand(question, catalog).asks_current is standing


def test_councils_and_references_named(catalog):
    q = understand("What did Westbridge decide in 19 916 203 about staying put?", catalog)
    assert q.refs == {"19 916 203"} and "19 916 203" not in q.embed
    assert q.council_refs == {"22 918 455", "19 916 203"}
    follow = understand("And what did they pay?", catalog, context="Did Southfold apologise to the carers?")
    assert follow.council_refs == {"19 906 744"}
    assert understand("Did Norfolk County Council pay compensation?", catalog).unknown_councils == (
        "Norfolk County Council",)
    # "Which of X Council's decisions..." names X Council, not a council called "of X Council"
    which_of = understand("Which of Westbridge Metropolitan Borough Council's decisions were upheld?", catalog)
    assert which_of.unknown_councils == () and which_of.council_refs == {"22 918 455", "19 916 203"}
    assert understand("Which of Norfolk County Council's decisions were upheld?", catalog).unknown_councils == (
        "Norfolk County Council",)


@pytest.mark.parametrize("question", [
    "Did Westbridge Council pay the carers anything?",  # its name less "Metropolitan Borough"
    "Why did Hallamford Council lose?", "Did Westbridge Borough Council apologise?",
])
def test_a_council_named_the_way_people_say_it_is_that_council(catalog, question):
    """Before, "Westbridge Council" (not a substring of "Westbridge Metropolitan Borough Council")
    was read as a council with no decision indexed, and the question refused."""
    q = understand(question, catalog)
    assert q.unknown_councils == () and q.council_refs


@pytest.mark.parametrize("typed, council", [
    ("What did the Ombudsman decide about Westbrige?", "Westbridge"),
    ("list Hallamfrod's cases", "Hallamford"),  # a swap is read too
    ("which greyfriars cases, sorry, which northsire council cases were upheld?", "northshire"),
])
def test_a_council_misspelt_by_one_letter_is_read_as_that_council(catalog, typed, council):
    q = understand(typed, catalog)
    assert council in q.search and q.council_refs
    assert any(spelled.lower() == council.lower() for _, spelled in q.respelled)


def test_a_lower_case_word_near_a_council_on_its_own_is_not_a_council(catalog):
    """A word is respelled as a council's only when it reads as a name: "southfield" on its own is
    left alone (capitalised, or before "council", it is Southfold's)."""
    assert understand("does the southfield rule apply?", catalog).respelled == ()
    assert understand("does the Southfols rule apply?", catalog).respelled == (("Southfols", "Southfold"),)


def _hit(ref: str, text: str, score: float):
    from rag.retrieve import Hit

    return Hit(id=f"{ref}:{score}", ref=ref, paragraph=1, text=text, metadata={"ref": ref}, score=score)


def test_a_fact_about_a_named_councils_case_must_come_from_the_case_the_passages_are_about(catalog):
    """Class 4 of issue 16: "how much did Westbridge pay Mrs E for posting the plan to her ex?" is
    not answered by an amount in another Westbridge decision that happens to rank first; the
    passages are mostly about the case asked of, and it states no amount."""
    from rag.answer import states_the_fact
    from rag.retrieve import leading_decision

    hits = [_hit("19 916 203", "The Council should pay Miss B £300 for the distress caused.", 0.050),
            _hit("22 918 455", "The Council sent the care plan to Mr E's address.", 0.049),
            _hit("22 918 455", "It did not check the address before posting the plan.", 0.048),
            _hit("22 918 455", "The Council has apologised to Mrs E.", 0.030)]
    assert leading_decision(hits) == "22 918 455"
    named = understand("How much compensation did Westbridge pay Mrs E for posting the plan to her ex?", catalog)
    assert named.fact_kind == "amount" and named.council_refs
    assert not states_the_fact(named, hits)
    # Named or not, the leading case stating the fact answers; with no council named any leading
    # passage may (a question of principle is answered from whichever decision states it).
    assert states_the_fact(named, [hits[1], _hit("22 918 455", "It paid Mrs E £250.", 0.047), hits[0]])
    unnamed = understand("How much compensation is paid for posting a care plan to the wrong address?", catalog)
    assert not unnamed.council_refs and states_the_fact(unnamed, hits)


@pytest.mark.parametrize("question, added", [
    ("How long should an assessment of a disabled kid take?", "children"),  # the table says "kids"
    ("Who puts things right when a council gets it wrong?", "remedy"),
    ("Were both non resident parents told?", "parental responsibility"),
])
def test_an_everyday_term_is_matched_in_any_inflection(question, added):
    """The synonym table's phrases are matched on their words' stems: "kids" finds "a disabled
    kid" too.  Before, only the exact form matched, so the singular was searched without the
    decisions' word for it."""
    from rag.lexical import expand_query

    assert added in expand_query(question)
    assert expand_query("a kidney transplant") == "a kidney transplant"  # whole words only


@pytest.mark.parametrize("question, asks", [
    ("They moved her without a review first. Did the council do anything wrong?", True),
    ("the minutes took 3 months to turn up - is that the councils fault?", True),
    ("They made him sign a form saying it was a private arrangement. Can they do that?", True),
    ("The school got a summary mentioning my depression. Was that fair?", True),
    ("How much did the council have to pay them?", False),
    ("Can the ombudsman look at a court report?", False),
])
def test_a_question_asking_whether_something_was_fault(catalog, question, asks):
    assert understand(question, catalog).asks_fault is asks


@pytest.mark.parametrize("question, kind, passage, states", [
    ("What was her weekly payment before it was cut by £75?", "rate", "Her weekly fee was cut by £75 a week.", False),
    ("What was her weekly payment before it was cut by £75?", "rate", "Her fee of £300 a week was cut by £75.", True),
    ("How much was the payment to the aunt who said she was owed £65,000?", "amount",
     "The aunt said she was owed £65,000 for fostering her nephews.", False),
    ("How much was the payment to the aunt who said she was owed £65,000?", "amount",
     "She said she was owed £65,000. The Council will pay her £500.", True),
    ("How much did the council pay her?", "amount", "She said she was owed £65,000.", True),
])
def test_a_sum_the_question_gives_is_not_the_one_it_asks_for(question, kind, passage, states):
    """Blind questions over real decisions asked for a sum beside one they gave ("before it was cut by
    £75", "said she was owed £65,000") and were answered from the passage stating the given sum."""
    from rag.understand import fact_unit, states_fact, sums_given

    assert states_fact(kind, passage, fact_unit(question, kind), sums_given(question)) is states
