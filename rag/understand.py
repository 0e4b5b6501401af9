"""Understanding a question, once: what is asked, of which decisions, and what would answer it.

`understand` turns the question, the user's filters and the conversation into a plain `Question`
that every later stage reads (retrieve, answer, sets, extractive) instead of reading the raw text
again.  What it works out:

- the text to search: sentences that read as instructions to an AI are dropped (`guard`), words
  the decisions never use but would with two letters swapped respelled, acronyms they never use
  followed by the name they write for them (`rag.acronyms`), and case references taken out of
  what is embedded (they pin the search instead);
- the decisions the question names: case references, and councils by their distinctive words;
  a council named in full that has no decision in the index;
- the Ombudsman's subjects it names that the index does not cover ("school transport" in an
  index of children's care decisions: see `rag.subjects`);
- whether it asks about a set of decisions ("which fostering complaints were upheld in 2019?"),
  and if so the filters its words say, resolved against the values the index itself holds
  (every category, subcategory, outcome and council), what it sets aside, and the topic left
  over (`rag.set_question`);
- the kind of fact it asks for (an amount, a rate, a date, a duration or number, a person's
  name), so that an answer is given only when a passage states such a fact;
- the sections that tend to answer it (outcomes, powers, remedies), and whether it is about the
  complainant's allegations themselves.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from rag.acronyms import expand_acronyms
from rag.catalog import Catalog
from rag.filters import Filters
from rag.guard import index_text
from rag.refs import REF_IN_TEXT
from rag.set_question import is_set_question, resolve_set_filters, set_aside_values, set_clause, topic_of
from rag.subjects import outside_subjects

# ---------------------------------------------------------------------------------------------
# Intent: the sections that say what a question is after.  Outcomes live in the final decision
# and the summary; what the Ombudsman can and cannot do lives in its statement of its role and
# powers; what a council must pay or do lives in the agreed action and the final decision.
_INVESTIGATE = r"\b(investigat\w*|look\w* (?:at|into))\b"  # "did they investigate" is an outcome; "does it" a power
INTENT_BOOSTS = (
    (re.compile(r"\b(outcome|upheld|uphold|verdict)\b|\bresult of\b|\bombudsman (decide|conclude)|"
                r"\b(did|didn't|why|wouldn't|won't)\b.*\bombudsman\b.*" + _INVESTIGATE, re.I),
     ("decision", "summary"), 1.5),
    (re.compile(r"\bombudsman\b.*\b(can|could|will|may|power\w*|role|mean\w*|overturn\w*)\b|"
                r"\b(can|could|will|may)\b.*\bombudsman\b|"
                r"\bdoes\b.*\bombudsman\b.*" + _INVESTIGATE, re.I),
     ("powers",), 1.4),
    (re.compile(r"\b(compensat\w*|pay|paid|payment|remed\w*|money|reopen\w*|reconsider\w*)\b|£|"
                r"\bput (?:things|it|this|that|matters) right\b", re.I),
     ("remedy", "decision"), 1.3),
)
# "Did they do anything wrong?": a question asking whether something was fault is answered by the
# paragraphs where the Ombudsman says it was or was not (rag.retrieve lifts them).
ASKS_FAULT = re.compile(r"\b(?:wrong\w*|fault\w*|allowed to|(?:can|could) they do that|"
                        r"(?:was|is) (?:that|it|this) (?:ok|okay|right|fair|reasonable|lawful|legal)|"
                        r"should (?:they|the council) have)\b", re.I)
# A question in a conversation is a follow-up when it opens with a connective ("and how much did
# they pay her?"), or is short and refers back ("Did they apologise to him?", "were others caught
# by the same mistake?"), or is too short to stand alone.  A longer one names its own subject even
# when it says "they" ("I asked children's services to assess my son ... how long are they
# supposed to take?") and is read on its own (rag.chat).  The eval sets' follow-ups have 5 to 12
# words; the questions users open with, 8 to 60.
CONNECTIVE = re.compile(r"^\W*(?:and|so|but|also|then|what about|how about)\b", re.I)
BACK_REFERENCE = re.compile(r"\b(?:he|him|his|she|her|hers|they|them|their|theirs|it|its|that|this|those|"
                            r"these|same|former|latter|there)\b", re.I)
SHORT_QUESTION_WORDS = 5  # a question this short is always a follow-up
FOLLOW_UP_MAX_WORDS = 12  # a longer one only when it opens with a connective


def refers_back(question: str) -> bool:
    """Does a question asked after another depend on it?"""
    words = len(question.split())
    return (bool(CONNECTIVE.search(question)) or words <= SHORT_QUESTION_WORDS
            or (words <= FOLLOW_UP_MAX_WORDS and bool(BACK_REFERENCE.search(question))))


# "The complaint" section and paragraphs that only report what the complainant says restate the
# allegations in the words a user asks with; unless these words ask about them, they are damped.
ABOUT_THE_ALLEGATIONS = re.compile(r"\b(complain\w*|alleg\w*|claim\w*|accus\w*|unhappy|dissatisfied|"
                                   r"want\w*|says?|said)\b", re.I)

# ---------------------------------------------------------------------------------------------
# Kinds of fact.  A question asking for one is answered only if a passage states one.
_UNIT = r"(?:week|month|day|night|year|hour|session)"
_MONEY_VERB = r"(?:money|compensation|back ?pay|did|does|do|was|were|is|will|would|should|has|have|had|can|could|are)"
FACT_KINDS = (
    ("rate", re.compile(rf"\bwhat(?:'s| is| was| are| were)? (?:the |their |its )?(?:[\w']+ ){{0,8}}(?:rate|fee)s?\b|"
                        rf"\b(?:what|which)(?:['\u2019]s)?(?: [\w'\u2019]+){{0,6}}? "
                        rf"(?:weekly|hourly|monthly|daily|nightly) (?:\w+ )?"
                        rf"(?:rate|fee|amount|allowance|payment|pay)\b|"
                        rf"\bhow much (?:\w+ ){{0,6}}?(?:a|an|per|each|every) {_UNIT}\b", re.I)),
    ("duration", re.compile(r"\bhow (?:long|many (?:days|weeks|months|years|hours|times|visits|sessions))\b|"
                            r"\bhow much (?:time|delay)\b", re.I)),
    ("amount", re.compile(rf"\bhow much(?: {_MONEY_VERB}\b|\?|$)|"
                          r"\bwhat(?:['\u2019]s| is| was)? (?:the )?(?:sum|amount|figure)\b|\bhow many pounds\b|"
                          r"\bhow (?:big|large|generous) (?:is|was|were|are) (?:[\w'\u2019]+ ){1,5}?"
                          r"(?:payments?|awards?|sums?|compensation|fines?|discounts?|grants?|allowances?)\b|"
                          r"\bwhat (?:does|do|did|will|would) \w+(?: \w+)? (?:pay|charge|cost)\b", re.I)),
    ("date", re.compile(r"\b(?:what|which) (?:date|day|month|year)\b|\b(?:by )?when (?:did|was|were|had)\b|"
                        r"\bon what date\b", re.I)),
    ("name", re.compile(r"\b(?:what|who)(?:['\u2019]s| is| was| were) (?:the )?(?:actual |full |real |proper )?"
                        r"names?\b|\bwhat(?:['\u2019]s| is| was| were)? (?:it|they|(?:the|this|that) \w+(?: \w+)?) "
                        r"(?:actually )?called\b|"
                        r"\bwhat (?:is|was) (?:his|her|their) name\b|\bthe \w+(?: \w+)?['\u2019]s (?:full )?names?\b|"
                        r"\bwho was the (?:social worker|officer|manager)\b|"
                        r"\bwhich (?:[\w-]+ )?(?:company|firm|agency|provider|organisation|organization|charity)\b",
                        re.I)),
)
# The unit of time a rate is asked for ("each night", "a week", "weekly"): a rate in another unit
# does not answer it ("what does Greyfriars pay for each night at Elmbank House?" is not answered
# by a weekly allowance).
_PER_UNIT = re.compile(rf"\b(?:a|an|per|each|every)(?: of the(?: \w+)?)? (?:\w+ )?({_UNIT})s?\b|"
                       r"\b(week|month|dai|night|hour|year)ly\b|\b(annual)(?:ly)?\b", re.I)
_UNIT_OF = {"dai": "day", "annual": "year"}
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_AMOUNT = r"£\s?\d[\d,.]*"
FACT_PATTERNS = {
    "amount": re.compile(r"£\s?\d"),
    "rate": re.compile(rf"{_AMOUNT}(?:\s+\w+){{0,4}}?\s+(?:a|an|per|each|every)\s+(?:\w+\s)?{_UNIT}|"
                       rf"{_AMOUNT}\s+(?:weekly|monthly|hourly|daily)|"
                       rf"(?:weekly|monthly|hourly|daily|nightly|annual)\s+(?:\w+\s){{0,3}}?of\s+{_AMOUNT}", re.I),
    "date": re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)? {_MONTH}\b|\b{_MONTH} \d{{4}}\b|"
                       r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b(?:in|by|from|until|since|during) (?:19|20)\d{2}\b|"
                       r"\bwithin (?:\w+ ){1,2}(?:working )?(?:days|weeks|months)\b", re.I),
    "duration": re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                           r"fifteen|twenty|thirty|several|a few)\s+(?:\w+\s)?(?:days?|weeks?|months?|years?|"
                           r"hours?|times|visits|sessions)\b", re.I),
    "name": re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr)\.? [A-Z][a-z]{2,}\b|"
                       r"\b(?:[A-Z][a-z]+ ){1,4}(?:Ltd|Limited|plc|LLP|CIC)\b|\b(?:called|named) [A-Z][a-z]+"),
}
# What the decisions cannot give: a figure as it stands today (they record what happened then),
# or a prediction or advice about the user's own case.
ASKS_CURRENT = re.compile(r"\b(?:current(?:ly)?|now|nowadays|today|at the moment|this year|these days|latest)\b",
                          re.I)
# A figure asked for as a standing practice, in the habitual present ("how much does Fernleigh pay
# former foster carers?", "how much are foster carers paid?"), or across cases ("what percentage
# ... each year", "on average"): a decision records one case at the time it was decided, so it can
# state what was paid then, never what is paid now or usually.  Not the Ombudsman's own practice
# ("how much does the Ombudsman award for distress?": its guidance on remedies is quoted in
# decisions), and not a duty ("what does a council have to pay?").
_STANDING = re.compile(r"\b(?:does|do|will)\s+(?!the ombudsman\b)(?!(?:\w+\s+){0,5}?(?:have|has|need|got)\s+to\b)"
                       r"(?:[\w'\u2019-]+\s+){1,6}?(?:pay|give|charge|spend|offer|award|allow|provide)\b|"
                       r"\b(?:is|are)\s+(?:[\w'\u2019-]+\s+){1,5}?paid\b", re.I)
_FIGURE = re.compile(r"\bhow (?:much|many)\b|"
                     r"\bwhat(?:['\u2019]s)? (?:[\w'\u2019]+ ){0,6}"
                     r"(?:rate|fee|amount|allowance|sum|figure|payment|price|cost)s?\b", re.I)
# A limit is a standing rule too ("what's the most the Adoption Support Fund will pay?", "the biggest
# fine the Information Commissioner can give"): two blind writers asked so (mixed, fresh), both
# unanswerable from decisions that record what was paid in one case.
_ACROSS_CASES = re.compile(r"\bwhat (?:percentage|proportion|share)\b|\bon average\b|"
                           r"\bwhat(?:['\u2019]s| is| are)? the (?:most|maximum|biggest|largest|highest|minimum|least|"
                           r"lowest)\b(?! the ombudsman\b)(?: [\w'\u2019]+){0,6}? (?:pay|paid|fines?|awards?|give|"
                           r"charge|amount|sum|figure|rate|fee|allowance|payment)\b", re.I)
# A figure for the whole country ("how many complaints did the Ombudsman uphold across England?"):
# the Ombudsman's statistics, which no decision states and no index of decisions can count.
NATIONAL = re.compile(r"\b(?:across|in|throughout|for) (?:all of )?(?:england|the (?:whole )?country|the uk|britain)\b|"
                      r"\bnation(?:ally|wide|al (?:figures?|statistics|average|total|rate)s?)\b", re.I)


def asks_current_figure(text: str) -> bool:
    """Does the question ask for a figure as it stands ("what is the current rate?", "how much does
    X pay?"), across cases or for the whole country, which no decision states?  Each sentence is read apart: "now the
    council wants the money back. How much were they asking?" asks what was asked for then."""
    for sentence in re.split(r"(?<=[.?!])\s+", text):
        figure = _FIGURE.search(sentence) or fact_kind(sentence) in ("amount", "rate")
        standing = _STANDING.search(sentence) or ASKS_CURRENT.search(sentence) or NATIONAL.search(sentence)
        if _ACROSS_CASES.search(sentence) or (figure and standing):
            return True
    return False


ASKS_ADVICE = re.compile(r"\b(?:will|would|could) (?:i|we) win\b|\bmy chances\b|\bchances? of (?:winning|success)\b|"
                         r"\bshould (?:i|we) (?:sue|take (?:them|the council) to court)\b|"
                         r"\bdo (?:i|we) have a (?:\w+ )?case\b|\bis it worth (?:complaining|suing|it)\b", re.I)

# A request to quote a statement ("quote the part where the Ombudsman says ...", "write me a quote
# saying ..."): the statement itself, which a decision either makes in its words or does not.
_SAYS = r"(?:says?|said|states?|stated|rules?|ruled|finds?|found|decides?|decided)"
_SPEAKER = r"(?:the )?(?:ombudsman|decision|investigator|it|they)"
QUOTE_REQUEST = re.compile(
    rf"\b(?:quote|show|find)(?: me)?(?: (?:the|a) (?:part|bit|passage|paragraph|section|line|words?|place))? "
    rf"where {_SPEAKER} {_SAYS} |\bwrite(?: me)? a quote(?: from (?:the )?ombudsman)? (?:saying|stating|that says) |"
    rf"\bwhere (?:does|did) {_SPEAKER} (?:say|state|rule|find|decide) ", re.I)
_CLAIM_END = re.compile(r"[.?!]|\s[-\u2013\u2014]\s")


def quoted_claim(text: str) -> str:
    """The statement a request to quote one asks for ("" for any other question)."""
    match = QUOTE_REQUEST.search(text)
    if not match:
        return ""
    claim = _CLAIM_END.split(text[match.end():], maxsplit=1)[0]
    return re.sub(r"^that\s+", "", claim.strip(), flags=re.I)


_COUNCIL_NAME = re.compile(
    r"\b((?:[A-Z][a-z]+|of|and|upon|on)(?:[ -](?:[A-Z][a-z]+|of|and|upon|on))*)"
    r"(?: (?:County|Borough|City|District|Metropolitan))?(?: Borough)? Council\b"
)
# A sentence ends, a dash sets a clause apart, or ", and / but / so" joins two.
CLAUSE_BREAK = re.compile(r"(?<=[.?!;])\s+|\s+[-\u2013\u2014]\s+|,\s+(?:and|but|so)\s+", re.I)
CLAUSE_WORDS = 4
_LONG_WORD = re.compile(r"\b[A-Za-z]{5,}\b")  # shorter words have too many near neighbours to respell
_LEAD_WORDS = {"did", "does", "do", "what", "which", "why", "how", "has", "have", "was", "is", "can", "the", "a"}
_JOINING_WORDS = {"of", "and", "upon", "on"}  # inside a name ("City of Aldermouth"), never its start ("which of ...")


@dataclass(frozen=True)
class Question:
    """What was asked, worked out once (see the module docstring)."""

    asked: str
    search: str  # what is searched: instruction sentences dropped
    embed: str  # what is embedded: the search text without case references
    context: str = ""  # the conversation's earlier question, for a follow-up
    filters: Filters = field(default_factory=Filters)  # the user's, plus what a set question's words say
    refs: frozenset[str] = frozenset()  # indexed decisions named by case reference
    council_refs: frozenset[str] = frozenset()  # decisions of the councils named (or, failing that, the context's)
    unknown_councils: tuple[str, ...] = ()  # councils named in full that have no decision indexed
    outside_subjects: tuple[str, ...] = ()  # the Ombudsman's subjects named that the index does not cover
    unheard_subjects: tuple[str, ...] = ()  # those of them the passages hardly ever mention (even a council named)
    is_set: bool = False
    topic: str = ""  # a set question's topic, once its set words are taken out
    fact_kind: str | None = None  # amount, rate, date, duration, name
    fact_unit: str | None = None  # the unit of time of a rate asked for ("night" in "each night")
    sums: frozenset[str] = frozenset()  # sums of money the question itself gives: not the one it asks for
    asks_current: bool = False  # a figure as it stands today
    asks_advice: bool = False  # a prediction or advice about the user's own case
    boosts: tuple[tuple[tuple[str, ...], float], ...] = ()
    about_allegations: bool = False
    asks_fault: bool = False  # whether something was fault ("did the council do anything wrong?")
    dropped: bool = False  # a sentence read as an instruction to an AI was left out
    claim: str = ""  # the statement a request to quote one asks for
    set_aside: tuple[tuple[str, str], ...] = ()  # (field, value) a set question leaves out ("apart from fostering")
    respelled: tuple[tuple[str, str], ...] = ()  # (as typed, as read) for each word read in the decisions' spelling
    clauses: tuple[str, ...] = ()  # a long question's sentences and clauses, each compared with the passages too

    @property
    def asks_payment(self) -> bool:
        """Is it asking what a council paid or must pay (its words ask for a remedy)?"""
        return any("remedy" in kinds for kinds, _ in self.boosts)


def understand(asked: str, catalog: Catalog, filters: Filters | None = None, context: str = "") -> Question:
    """The one reading of a question that every later stage uses."""
    filters = filters or Filters()
    kept = index_text(asked) or asked
    spelled = respelled(kept, catalog)
    search = expand_acronyms(spelled, catalog)
    context = read_words(context, catalog) if context else ""
    refs = catalog.refs_in(search)
    embed = REF_IN_TEXT.sub(" ", search).strip() if refs else search
    council_refs = catalog.council_refs_in(search) or (catalog.council_refs_in(context) if context else set())
    kind = fact_kind(search)
    # a count for the whole country is the Ombudsman's statistics, not a set of indexed decisions;
    # a name or a sum asked for is a fact of one case ("what's the name of the agency the Leicestershire
    # decision calls Company K?"), though the question names a council and a subcategory
    is_set = is_set_question(search, catalog) and kind not in ("name", "amount", "rate") and not (
        NATIONAL.search(search) and _FIGURE.search(search))
    aside = set_aside_values(search, catalog) if is_set else ()
    set_filters = resolve_set_filters(search, catalog, filters, aside) if is_set else filters
    outside = outside_subjects(search, catalog)
    return Question(
        asked=asked, search=search, embed=embed or search, context=context, filters=set_filters,
        refs=frozenset(refs), council_refs=frozenset(council_refs),
        unknown_councils=tuple(unknown_councils(search, catalog)),
        outside_subjects=tuple(label for label, _ in outside),
        unheard_subjects=tuple(label for label, unheard in outside if unheard), is_set=is_set,
        topic=topic_of(set_clause(search), catalog) if is_set else "",
        fact_kind=kind, fact_unit=fact_unit(search, kind), sums=sums_given(search),
        asks_current=asks_current_figure(search),
        asks_advice=bool(ASKS_ADVICE.search(search)),
        boosts=tuple((kinds, factor) for pattern, kinds, factor in INTENT_BOOSTS if pattern.search(search)),
        about_allegations=bool(ABOUT_THE_ALLEGATIONS.search(search)), asks_fault=bool(ASKS_FAULT.search(search)),
        dropped=kept != asked,
        claim=quoted_claim(search),
        set_aside=aside, respelled=respellings(kept, spelled), clauses=clauses(embed or search),
    )


def clauses(text: str) -> tuple[str, ...]:
    """The sentences and clauses of a question told as a story, when it has more than one ("Single
    mum, flat so damp that she and her little boy went sofa surfing for months, and she thought
    the council didn't give her enough medical priority.  Did the ombudsman back her?").  One
    embedding of the whole is diluted by every part the passages do not share, so the passage
    that matches one part closely looks no closer than any other: the support check compares each
    part as well (rag.retrieve, rag.answer).  Parts of fewer than CLAUSE_WORDS words say too little."""
    parts = [part.strip() for part in CLAUSE_BREAK.split(text)]
    parts = [part for part in parts if len(part.split()) >= CLAUSE_WORDS]
    return tuple(parts) if len(parts) > 1 else ()


def read_words(text: str, catalog: Catalog) -> str:
    """The text in the decisions' own spelling: swapped letters respelled, acronyms they never use
    followed by their name for them.  The conversation's earlier question is read the same way."""
    return expand_acronyms(respelled(text, catalog), catalog)


def respelled(text: str, catalog: Catalog) -> str:
    """The text with each word the decisions never use, but would use with two adjacent letters
    swapped ("gaurdian", "recieve"), spelled as they have it (the commonest of the swaps).  Only
    swaps: the other near spellings are too often other words ("never" / "ever", "count" /
    "county", "broke" / "broken" in the eval sets).  A council's name is the exception: one letter
    wrong, missing, extra or swapped in a word read as a name ("Greyfriers", "Derbyshre Council") is that
    council's word, when exactly one council's is that near (see `_council_spelling`)."""
    lexical = catalog.lexical
    councils = catalog.council_words()

    def fix(match: re.Match) -> str:
        word = match.group(0)
        if lexical.word_count(word) != 0:
            return word
        swaps = {word[:i] + word[i + 1] + word[i] + word[i + 2:]
                 for i in range(len(word) - 1) if word[i] != word[i + 1]}
        count, best = max(((lexical.word_count(swap) or 0, swap) for swap in swaps), default=(0, word))
        return best if count else _council_spelling(match, councils) or word

    return _LONG_WORD.sub(fix, text)


_NAME_FOLLOWS = re.compile(r"(?:'s|\u2019s|\s+(?:council|county|borough|city|district)\b)", re.I)


def _council_spelling(match: re.Match, councils: frozenset[str]) -> str | None:
    """The council word one edit away from this word, if the word is read as a name (capitalised,
    or followed by "council", "'s"...) and exactly one council word is that near.  Lower-case words
    on their own are left alone: "button" is one letter from Sutton."""
    word = match.group(0)
    if not (word[0].isupper() or _NAME_FOLLOWS.match(match.string, match.end())):
        return None
    near = [c for c in councils if abs(len(c) - len(word)) <= 1 and len(c) >= 5 and _one_edit(word.lower(), c)]
    if len(near) != 1:
        return None
    return near[0].capitalize() if word[0].isupper() else near[0]


def _one_edit(a: str, b: str) -> bool:
    """One letter changed, added or dropped, or two adjacent ones swapped, turns a into b (a != b)."""
    if len(a) == len(b):
        wrong = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(wrong) == 1 or (len(wrong) == 2 and wrong[1] == wrong[0] + 1
                                   and a[wrong[0]] == b[wrong[1]] and a[wrong[1]] == b[wrong[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def respellings(asked: str, spelled: str) -> tuple[tuple[str, str], ...]:
    """(as typed, as read) for each word `respelled` changed, to tell the user."""
    pairs = zip(_LONG_WORD.findall(asked), _LONG_WORD.findall(spelled))
    return tuple(dict.fromkeys((a, b) for a, b in pairs if a != b))


def as_passage_question(q: Question, filters: Filters) -> Question:
    """The same question read as one about passages, not a set: the user's own filters only."""
    return dataclasses.replace(q, is_set=False, topic="", filters=filters)


def fact_kind(text: str) -> str | None:
    return next((kind for kind, pattern in FACT_KINDS if pattern.search(text)), None)


def _unit_named(text: str) -> str | None:
    match = _PER_UNIT.search(text)
    if not match:
        return None
    unit = next(g for g in match.groups() if g).lower()
    return _UNIT_OF.get(unit, unit)


def fact_unit(text: str, kind: str | None) -> str | None:
    """The unit of time an amount or a rate is asked for, if the question names one."""
    return _unit_named(text) if kind in ("amount", "rate") else None


def states_rate_in(unit: str, passage: str, given: frozenset[str] = frozenset()) -> bool:
    """Does the passage state an amount by that unit of time ("£25 a night", "£560 per week",
    "a weekly allowance of £120"), other than the `given` ones?"""
    after = any(_unit_named(m.group(2)) == unit and _sum(m.group(1)) not in given
                for m in re.finditer(rf"({_AMOUNT})((?:\s+\w+){{0,7}})", passage))
    adjective = "annual|yearly" if unit == "year" else "daily" if unit == "day" else f"{unit}ly"
    return after or any(_sum(m.group(1)) not in given for m in re.finditer(
        rf"\b(?:{adjective})\s+(?:\w+\s){{0,3}}?of\s+({_AMOUNT})", passage, re.I))


def _sum(amount: str) -> str:
    """'£65,000' -> '65000': a sum as written, for telling one from another."""
    return re.sub(r"[^\d.]", "", amount).rstrip(".")


def sums_given(question: str) -> frozenset[str]:
    """The sums of money the question itself states ("cut by £75", "owed £65,000")."""
    return frozenset(_sum(m.group(0)) for m in re.finditer(_AMOUNT, question))


def states_fact(kind: str | None, passage: str, unit: str | None = None, given: frozenset[str] = frozenset()) -> bool:
    """Does the passage state a fact of the kind asked for (a rate by the unit asked for)?  (Any
    passage will do for no kind.)  A sum the question itself gives is not the one it asks for:
    "what was her weekly payment before it was cut by £75?" is not answered by the passage
    saying it was cut by £75."""
    if kind in ("amount", "rate") and unit:
        return states_rate_in(unit, passage, given)
    if kind in ("amount", "rate") and given:
        stated = re.finditer(_AMOUNT, passage) if kind == "amount" else (
            re.search(_AMOUNT, m.group(0)) for m in FACT_PATTERNS[kind].finditer(passage))
        return any(_sum(m.group(0)) not in given for m in stated)
    return kind is None or bool(FACT_PATTERNS[kind].search(passage))


def unknown_councils(question: str, catalog: Catalog) -> list[str]:
    """Councils named in full in the question ("Norfolk County Council") that have no decision
    in the index: retrieval could only return other councils' words."""
    names = []
    for match in _COUNCIL_NAME.finditer(question):
        words = match.group(0).split()
        while words and (words[0].lower() in _LEAD_WORDS or words[0] in _JOINING_WORDS):
            words = words[1:]
        name = " ".join(words)
        if name and not catalog.is_council(name):
            names.append(name)
    return names
