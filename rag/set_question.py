"""Questions about sets of decisions: "which fostering complaints were upheld in 2019?", "how
many adult social care complaints were closed after initial enquiries?".

`rag.understand` asks here whether a question is about a set, and if so for the filters its words
say, resolved against the values the index itself holds (every category, subcategory, outcome and
council, categories also by their former names and the ways people say them), the values a
clause sets aside ("apart from fostering"), and the topic left over ("care leavers").
"""

from __future__ import annotations

import dataclasses
import re

from rag.catalog import Catalog
from rag.filters import Filters
from rag.lexical import FUNCTION_WORDS, STOPWORDS, match_words, stems
from rag.subjects import FORMER_NAMES
from rag.timespan import dates_named, without_dates

# A listing opener at the start of the question or of a clause ("For a piece I'm writing - which
# ..."), or after a request ("can you list", "I'd like to know which"); "where has the Ombudsman
# found..." asks in which cases.
_LIST_OPENER = re.compile(r"(?:^|[-\u2013\u2014:;,.?!]\s|\b(?:(?:can|could|would|will) you|please|to know|"
                          r"wondering|tell me|show me)\s)\s*(?P<word>(?:(?:in|of|for|from|among|on|out of)\s+)?"
                          r"(?:how many|which|what|list|show(?: me)?|are there|find|name|give me|tell me|"
                          r"where(?=\s+(?:has|have|did|does|do)\s+(?:the ombudsman|it|they)\b)))\b", re.I)
_DECISION_NOUN = re.compile(r"\b(?:decisions?|cases|complaints|rulings|investigations|ones)\b", re.I)
_COUNT = re.compile(r"(?:^|[-\u2013\u2014:;,.?!]\s)\s*(?P<word>how many)\b"
                    r"(?!\s+(?:days|weeks|months|years|hours|times|visits|sessions|pounds)\b)", re.I)
# A clause setting values aside: they are not the set asked for.
_SET_ASIDE = re.compile(r"\b(?:rather than|other than|instead of|except(?: for)?|excluding|apart from|not about|"
                        r"outside(?: of)?|but not|not counting|ignoring|(?:setting|putting) aside|nothing to do with|"
                        r"leave out(?! (?:anything|everything|all)\b))\b[^,.;:?]*|"
                        r"(?<=,)\s*not\s+(?!only\b|just\b|even\b|yet\b|sure\b)[^,.;:?]*|"
                        r"\bleaving (?:aside|to one side|out)\b[^,.;:?]*|"
                        r"\bleaving\b[^,.;:?]*?\b(?:aside|to one side|out(?: of it)?)\b", re.I)
# Words that are neither filters nor the topic: examples of what is asked for ("like special needs
# support or school transport", "such as housing"), "whatever the subject", "over the course of".
_NO_CONDITION = re.compile(r"\b(?:like(?! to\b)|such as|for example|for instance|e\.g\.)\s[^.;:?!]*|"
                           r"\b(?:whatever|whichever) (?:the )?(?:subject|topic|kind|type|outcome|result)\b|"
                           r"\b(?:over|during|throughout|in) the course of\b|\bwhether\b[^.;:?!]*|"
                           r"\bon the merits\b", re.I)
_MONEY = re.compile(r"\b(?:paid|pay|payments?|compensation|compensated|financial remedy|money)\b", re.I)
# The three outcomes in the words people use for them, which are the Ombudsman's own: it "found
# fault" (upheld), found "no fault" (not upheld), or would not investigate (closed after initial
# enquiries).  Checked in this order: "did not find fault" is not "find fault".
_CLOSED = re.compile(r"\bclosed\b|\bnot investigated\b|\bwithout (?:an )?investigat\w*|"
                     r"\b(?:refus(?:e|ed|es|ing)|declin(?:e|ed|es|ing)|chose not|would not|wouldn't|did not|didn't|"
                     r"will not|won't|not) "
                     r"(?:to )?(?:even |actually |properly )?(?:investigate|look (?:into|at)|take (?:it |them )?on)\b|"
                     r"\bturn(?:ed|s)? (?:\w+ )?away\b", re.I)
_NO_FAULT = re.compile(r"(?:n't|\bnot|\bnever) (?:done|do|did) anything wrong\b|"
                       r"\b(?:no fault|not at fault|nothing wrong|cleared the council|"
                       r"(?:did not|didn't|does not|doesn't|failed to) (?:find (?:any )?fault|uphold)|"
                       r"(?:found|find|decided|sided) (?:in favour of|for|with) the council)\b", re.I)
_PEOPLE = r"(?:family|families|complainants?|parents?|carers?|mother|father|mum|dad|(?:person|people) complaining)"
_FAULT = re.compile(rf"\b(?:(?:found|find|finds|finding) (?:(?:the|a) council )?(?:at )?fault|uph(?:o|e)ld(?:s|ing)?|"
                    rf"(?:found|find|decided|ruled|went|go|goes) against|"
                    rf"sid(?:e|ed|es|ing) with the {_PEOPLE}|in favour of the {_PEOPLE}|"
                    rf"on the {_PEOPLE}['\u2019]s? side|in the (?:\w+ )?{_PEOPLE}['\u2019]?s?['\u2019]? favour|"
                    rf"back(?:ed|s|ing)? (?:up )?the {_PEOPLE}|"
                    rf"(?:got it|went) wrong)\b", re.I)
OUTCOME_WORDS = ((_CLOSED, "closed"), (_NO_FAULT, "not upheld"), (_FAULT, "upheld"))
_SET_WORDS = frozenset(stems(
    "how many which what list show me are there find name give tell decisions decision cases case "
    "complaints complaint rulings ruling investigations ones were was been have has about involve "
    "involving concern concerning ombudsman council councils indexed index paid pay payment payments "
    "compensation compensated financial remedy money closed investigated upheld not in since from before "
    "until during filed under category subcategory ended end ending made make being did does do "
    "refused declined chose issued published decided given reached dated uphold upholding ombudsmans "
    "later earlier onwards here there kind kinds sort sorts type types whatever mention mentions mentioned "
    "mentioning bring brings brought up raise raises raised feature features featured actually come comes came "
    "collection database archive throw threw thrown out hold holds held contain contains include includes "
    "cover covers covered mean complain complained complaining look looked looking"
))
GENERIC_SHARE = 0.08  # a word in more than this share of passages names no topic


def set_clause(text: str) -> str:
    """The sentence asking for the set, from its listing opener ("which", "how many"...) to its end:
    what comes before sets the scene ("As a parent who has been through..."), what comes after adds
    conditions, not a topic ("... against the council? Leave out anything that isn't ...")."""
    opener = _LIST_OPENER.search(text) or _COUNT.search(text)
    start = opener.start("word") if opener else None
    asks_all = _ASKS_ALL.search(text)
    if asks_all and (start is None or asks_all.start() < start):
        start = asks_all.start()  # "For an article I need a list of every decision made ..."
    if start is None:
        return text
    rest = re.sub(r"^(?:need|want)\s+", "", text[start:])  # "I need a list of ..."
    end = re.search(r"[?!]|\.(?:\s|$)", rest)
    return rest[: end.start()] if end else rest


def _mentions(words: list[str], value: str) -> tuple[int, int] | None:
    """Where the value's words appear together in the question's words, if they do.  A value of
    empty words ("Other") counts only when named as a category ("the 'Other' subcategory")."""
    wanted = match_words(value)
    if not wanted:
        return None
    empty = not set(wanted) - STOPWORDS
    n = len(wanted)
    for i in range(len(words) - n + 1):
        if words[i : i + n] == wanted and (not empty or words[i + n : i + n + 1] in (["subcategori"], ["categori"])):
            return i, i + n
    return None


def _named_values(text: str, values: list[str]) -> list[str]:
    """The values the text names, longest first, none inside another's words ("Not upheld"
    hides "Upheld")."""
    words = match_words(text)
    taken: set[int] = set()
    found = []
    for value in sorted(values, key=lambda v: len(match_words(v)), reverse=True):
        span = _mentions(words, value)
        if span and not taken & set(range(*span)):
            taken |= set(range(*span))
            found.append(value)
    return found


# Asking for every decision of a kind in words other than an opener: "show me all of them",
# "were there any adoption decisions...", "I need a list of...", "what did the Ombudsman decide
# about ... in 2021?".  These make a set question only with a condition the index can check.
_ASKS_ALL = re.compile(r"\b(?:show|list|give|tell)(?: me)? (?:them all|all|every|each|everything)\b|"
                       r"\b(?:need|want) a list\b|"
                       r"\blist (?:them|of|all|every)\b|\bwhich (?:ones|cases|decisions)\b|"
                       r"\b(?:are|were|is|was) there any\b|\bhave there been\b|"
                       r"\b(?:every|any|all(?: of)?(?: the)?) (?:[\w'\u2019]+ ){0,3}?"
                       r"(?:decisions?|cases|complaints|rulings)\b", re.I)
# "What did the Ombudsman decide about child protection complaints in 2021?" asks for a set (a date,
# or a value with a noun for decisions); about a council and a situation ("...about Lowdale and the
# teenager whose stuff was lost", "...the foster carer whose allowance stopped") it asks about one case.
_DECIDED = re.compile(r"\bwhat (?:did|has|have) the ombudsman (?:decided?|uph[eo]ld|turn(?:ed)? down|reject(?:ed)?|"
                      r"investigated?)\b", re.I)


def _names_a_condition(text: str, catalog: Catalog) -> bool:
    """Does the text name something a set is filtered by: a value the index holds, an outcome in
    words, a date, a council?"""
    return bool(_index_values_named(text, catalog) or _said_outcome(text) or dates_named(text)
                or catalog.council_refs_in(text))


def is_set_question(text: str, catalog: Catalog) -> bool:
    """A question about which (or how many) decisions: a listing opener, and either a noun for
    decisions or a value the index holds (a subcategory, an outcome); or a request for all of a
    kind of decision with a condition the index can check."""
    if catalog.refs_in(text):
        return False  # about the decision it names
    conditions = _NO_CONDITION.sub(" ", text)
    if _ASKS_ALL.search(text) and _names_a_condition(conditions, catalog):
        return True
    if _DECIDED.search(text) and (dates_named(conditions) or (
            _DECISION_NOUN.search(conditions) and _index_values_named(conditions, catalog)) or (
            catalog.council_refs_in(conditions) and not topic_of(conditions, catalog))):
        return True  # "what has the ombudsman decided about Norfolk County Council?": all of them
    if _COUNT.search(text):
        return bool(_DECISION_NOUN.search(text) or _index_values_named(text, catalog, said=False))
    opener = _LIST_OPENER.search(text)
    if not opener:
        return False
    head = text[opener.start():].lstrip("-\u2013\u2014:;,.?! ").split("?")[0]
    if re.match(r"\W*where\b", head, re.I):  # "where has the Ombudsman found fault over ...?"
        return bool(_said_outcome(head) or _index_values_named(head, catalog, said=False))
    if re.match(r"\W*which ones\W*$", head, re.I):  # "... in any of Eastmoor's cases? Which ones?"
        return bool(re.search(r"\b(?:decisions|cases|complaints)\b", text, re.I))
    # "which complaints did the Ombudsman uphold?" is about a set; "which complaints can it look
    # at?" and "which complaints procedure applies?" are not
    nouns = re.search(r"^\W*\w+(?:\s+\w+(?:['\u2019]s)?){0,8}?\s+(?:decisions|cases|rulings|"
                      r"complaints(?!\s+(?:can|could|will|would|should|may|might|must|does|do|procedures?|"
                      r"process(?:es)?|system|stages?|route|polic(?:y|ies)|officers?|teams?|panels?)\b))\b",
                      head, re.I)
    return bool(nouns) or (bool(_DECISION_NOUN.search(head)) and bool(_index_values_named(text, catalog, said=False)))


def _index_values_named(text: str, catalog: Catalog, said: bool = True) -> list[str]:
    """The index's values the text names; with `said`, categories the ways people say them too
    (which name a set's filters, but do not make a question about a procedure one about a set:
    "what are the stages of the children's social care complaints process?")."""
    categories = _category_names(catalog, official=not said)
    values = list(_subcategory_names(catalog)) + list(catalog.values("outcome")) + list(categories)
    return _named_values(text, values)


# A subcategory's everyday name, where it has one that shares no words with it: "children in care"
# (or "in the council's care") are the Ombudsman's looked after children, in the law's words and
# the public's.  Written by four blind question writers in four set questions (mixed, fresh twice,
# a real set) and never read as the subcategory.  "Care leavers" is not one: the decisions about
# them are filed under housing and council tax too.
EVERYDAY_NAMES = {"Looked after children": ("children in care", "children in the council's care")}


def _subcategory_names(catalog: Catalog) -> dict[str, str]:
    """Each subcategory the index holds, under its own name and its everyday ones."""
    names = {value: value for value in catalog.values("subcategory")}
    for value in list(names):
        names.update({name: value for name in EVERYDAY_NAMES.get(value, ())})
    return names


_SERVICE_WORDS = ("care", "services")
_SERVICE_VARIANTS = ("services", "care", "social care", "social services")


def _category_names(catalog: Catalog, official: bool = False) -> dict[str, str]:
    """Each category the index holds, under its own name, the names the Ombudsman used for it
    before ("Adult social care" for "Adult care services", rag.subjects), and, for a name ending
    in "care services", the ways people say it ("children's services", "children's social care")."""
    names: dict[str, str] = {}
    for value in catalog.values("category"):
        words = value.split()
        for name in (value, *FORMER_NAMES.get(value, ())):
            names.setdefault(name, value)
        if not official and len(words) > 2 and tuple(w.lower() for w in words[-2:]) == _SERVICE_WORDS:
            for variant in _SERVICE_VARIANTS:
                names.setdefault(f"{' '.join(words[:-2])} {variant}", value)
    return names


def _values_named(text: str, catalog: Catalog, key: str) -> list[str]:
    """The index's values of one field that the text names (categories also by the names people
    use for them, each mapped to the index's own)."""
    named_by = {"category": _category_names, "subcategory": _subcategory_names}.get(key)
    names = named_by(catalog) if named_by else {v: v for v in catalog.values(key)}
    return list(dict.fromkeys(names[n] for n in _named_values(text, list(names))))


def resolve_set_filters(text: str, catalog: Catalog, base: Filters,
                        aside: tuple[tuple[str, str], ...] = ()) -> Filters:
    """The filters the question's own words add to the user's, each resolved against what the
    index holds; the user's own filters win where they differ.  `aside`: what the question sets
    aside (`set_aside_values`), never a filter."""
    changes: dict = {}
    kept = _NO_CONDITION.sub(" ", _SET_ASIDE.sub(" ", text))  # what is set aside is no filter ("rather than X")
    for key in ("outcome", "subcategory", "category"):
        named = _values_named(kept, catalog, key)
        if len(named) == 1:
            changes[key] = named[0]
    if "outcome" not in changes:
        held = _outcomes_in_words(kept, catalog)[:1]
        if held:
            changes["outcome"] = held[0]
    councils = {catalog.decisions[r]["council"] for r in catalog.council_refs_in(text)}
    if len(councils) == 1:
        changes["council"] = councils.pop()
    for key, value in aside:  # named to be left out anywhere: no filter
        if changes.get(key) == value:
            del changes[key]
    changes.update(dates_named(text))
    if _MONEY.search(text):
        changes["financial_remedy"] = True
    for key, value in changes.items():
        if getattr(base, key) not in (None, False) and getattr(base, key) != value:
            changes[key] = getattr(base, key)
    return dataclasses.replace(base, **changes)


def _said_outcome(text: str) -> str | None:
    """The outcome the text names in the Ombudsman's words ("found fault", "would not look into
    it"): the first of OUTCOME_WORDS to match."""
    return next((outcome for pattern, outcome in OUTCOME_WORDS if pattern.search(text)), None)


def _outcomes_in_words(text: str, catalog: Catalog) -> list[str]:
    """The index's outcome the text names in words; none if the index holds no such outcome."""
    said = _said_outcome(text)
    return [o for o in catalog.values("outcome") if said and (o.lower() == said or o.lower().startswith(said))]


def set_aside_values(text: str, catalog: Catalog) -> tuple[tuple[str, str], ...]:
    """The index's values a set question names in a clause setting them aside ("apart from
    fostering", "rather than the upheld ones"): the decisions listed leave them out."""
    clauses = " ; ".join(m.group(0) for m in _SET_ASIDE.finditer(text))
    if not clauses:
        return ()
    keys = ("outcome", "subcategory", "category")
    named = [(key, value) for key in keys for value in _values_named(clauses, catalog, key)]
    if not any(key == "outcome" for key, _ in named):  # "leave out the ones where the council was found at fault"
        named += [("outcome", value) for value in _outcomes_in_words(clauses, catalog)[:1]]
    return tuple(named)


def topic_of(text: str, catalog: Catalog) -> str:
    """What is left of a set question once set words, council names, the index values it names,
    outcomes in words, dates and words found in most passages are taken out (but for those
    beside a lone word kept)."""
    councils = {w for c in catalog.councils() for w in stems(c)}
    values = _index_values_named(text, catalog)
    named = {w for v in values for w in stems(v)}
    named_as_matched = {w for v in values for w in match_words(v)}  # "kids" names "children" there
    lexical = catalog.lexical
    common = {w for w, n in lexical.doc_freq.items() if n > GENERIC_SHARE * max(1, len(lexical))}
    for pattern in (*(p for p, _ in OUTCOME_WORDS), _DECIDED):
        text = pattern.sub(" ", text)
    words = re.findall(r"[A-Za-z][A-Za-z'\u2019-]+", without_dates(_NO_CONDITION.sub(" ", _SET_ASIDE.sub(" ", text))))
    stem = [(stems(w) or [""])[0] for w in words]
    kept = [bool(s) and s not in _SET_WORDS | FUNCTION_WORDS | councils | common | named
            and not set(match_words(w)) <= named_as_matched for w, s in zip(words, stem)]
    if sum(kept) == 1:
        # A lone word left is often half a name whose other half is common or a named value:
        # "care leavers" is not about "leavers", "mental health" not about "mental".  (Beside a
        # longer topic such words only widen it: "staying put former foster" matches every
        # fostering decision.)
        one = kept.index(True)
        for j in (one - 1, one + 1):
            if 0 <= j < len(stem) and stem[j] and stem[j] not in _SET_WORDS | FUNCTION_WORDS | councils:
                kept[j] = True
    return " ".join(w for w, keep in zip(words, kept) if keep)
