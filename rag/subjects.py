"""The Ombudsman's own subject areas, to tell a question about a subject the index holds nothing on.

The index may hold one corner of the Ombudsman's work (children's care services) or all of it.
A question about council tax banding, free school transport or what adult social care charges
finds passages that share its everyday words ("council", "son", "pay") and scores like a question
in a parent's own words about a decision that is there: neither the embedder's similarity nor
the share of the question's words found tells them apart (docs/evaluation.md).  What does tell
them apart is knowledge the index cannot have of itself: the subjects it does not hold.  The
Ombudsman files every decision under one of the categories and subcategories below (the names
its website shows on each decision, gathered December 2026; earlier reports used the older
category names listed after them).  A question that names one of these subjects, when no indexed
decision is filed under it (its category, or for a subcategory that subcategory) and the indexed
passages hardly use its words, is about something the index does not cover; `rag.answer` then
asks more of the passages before answering.

A name of two or more words counts when at most DISCUSSED_SHARE of the passages use it.  A
one-word name ("Parking", "Noise", "Housing", "Enforcement") counts only when hardly any passage
uses the word (UNHEARD_SHARE): most are everyday words in any decision ("housing" for a homeless
16-year-old, "enforcement" of a court order), and a word the decisions all but never use is the
one sure sign.  A name listing subjects ("Housing benefit and council tax benefit", "Parking and
other penalties") is looked for part by part too.  A subject the passages hardly ever mention is
outside the index even for a question that names a council whose decisions are indexed ("How do
I appeal a parking ticket Oakhurst gave me?"): naming a council does not bring the subject into
its decisions.
"""

from __future__ import annotations

import functools
import re

from rag.catalog import Catalog
from rag.lexical import match_words

# (category, its subcategories), as the Ombudsman's website files decisions.
SUBJECTS = (
    ("Adult care services", ("Assessment and care plan", "Charging", "Direct payments",
                             "Disabled facilities grants", "Domiciliary care", "Residential care",
                             "Safeguarding", "Transport")),
    ("Benefits and tax", ("Council tax", "Housing benefit and council tax benefit", "Other")),
    ("Children's care services", ("Adoption", "Child protection", "Disabled children", "Fostering",
                                  "Friends and family carers", "Looked after children", "Other")),
    ("Education", ("Alternative provision", "Other", "School admissions", "School transport",
                   "Special educational needs")),
    ("Environment and regulation", ("Antisocial behaviour", "Cemeteries and crematoria", "Drainage",
                                    "Licensing", "Noise", "Other", "Pollution", "Refuse and recycling",
                                    "Trading standards", "Trees")),
    ("Health", ("Mental health services", "Other")),
    ("Housing", ("Allocations", "Council house sales and leaseholders", "Homelessness", "Other",
                 "Private housing")),
    ("Other Categories", ("Commercial and contracts", "Councillor conduct and standards",
                          "Elections and electoral register", "Land", "Leisure and culture")),
    ("Planning", ("Building control", "Enforcement", "Other", "Planning applications")),
    ("Transport and highways", ("Highway adoption", "Highway repair and maintenance", "Other",
                                "Parking and other penalties", "Public transport", "Rights of way",
                                "Traffic management")),
)
# Category names of the Ombudsman's earlier annual reviews, under today's category.
FORMER_NAMES = {
    "Adult care services": ("Adult social care",),
    "Environment and regulation": ("Environmental services", "Public protection"),
    "Transport and highways": ("Highways and transport",),
    "Planning": ("Planning and development",),
}
# A subject the indexed passages mention in more than this share of passages is one they
# discuss, whatever it is filed under ("direct payments" for disabled children).
DISCUSSED_SHARE = 0.01
# A subject used in at most this share of the passages (one in a thousand) is one they hardly
# ever mention: a one-word name counts only then, and then even for a question naming a council.
UNHEARD_SHARE = 0.001
def words_of(text: str) -> tuple[str, ...]:
    """The words a name is matched on (rag.lexical.match_words), "other" left out too: "Parking
    and other penalties" is named by "parking penalties", "Other Categories" by nothing."""
    return tuple(w for w in match_words(text) if w != "other")


def _parts(name: str) -> list[str]:
    """The names to look for in a subject's name: the whole, and each listed subject in it."""
    pieces = [p.strip() for p in re.split(r",| and | & ", name) if p.strip()]
    return [name] + [p for p in pieces if len(pieces) > 1 and words_of(p)]


@functools.lru_cache(maxsize=1)
def names() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(category, the name as shown, its words) for every name and listed part of one."""
    out = []
    for category, subcategories in SUBJECTS:
        for name in (category, *FORMER_NAMES.get(category, ()), *subcategories):
            for part in _parts(name):
                words = words_of(part)
                if len(words) == 1:  # matched as written: stems join "parking" to "park", "refuse" to "refused"
                    words = tuple(w for w in _written(part) if w != "other")
                if words and not part.startswith("Other") and all((c, w) != (category, words) for c, _, w in out):
                    out.append((category, part, words))
    return tuple(sorted(out, key=lambda entry: -len(entry[2])))  # the fullest name a question uses first


def _is_category(category: str, shown: str) -> bool:
    """Is the name shown the category itself (or one of its former names), not a subcategory?"""
    return any(shown in _parts(name) for name in (category, *FORMER_NAMES.get(category, ())))


def _written(text: str) -> tuple[str, ...]:
    """The text's words as written (lower case, not stemmed), for one-word names."""
    return tuple(re.findall(r"[a-z]+", text.lower()))


def _named(words: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    n = len(wanted)
    return any(words[i:i + n] == wanted for i in range(len(words) - n + 1))


def outside_subjects(text: str, catalog: Catalog) -> list[tuple[str, bool]]:
    """The Ombudsman's subjects the text names that the index does not cover, each as shown to
    the user ("School transport (Education)") and whether the passages hardly ever use its words.
    Outside: no indexed decision is filed under the subject (a category, or a subcategory of
    one), and at most DISCUSSED_SHARE of the indexed passages use its words together
    (UNHEARD_SHARE for a one-word name: then it is unheard of, and counts even for a question
    naming a council).  A subcategory the index does not hold is outside even when others of its
    category are held (school admissions beside school transport and special educational needs);
    where the lines between subcategories are fine ("disabled children" come up in child
    protection decisions too), the passages' use of the words keeps the subject in."""
    words, written = words_of(text), _written(text)
    # a one-word name is matched as written only: its stem takes in other words ("landed", "parked")
    found = [(c, shown, wanted) for c, shown, wanted in names()
             if _named(written if len(wanted) == 1 else words, wanted)]
    if not found:
        return []
    lexical = catalog.lexical
    held = {words_of(c) for c in catalog.values("category")}
    held_parts = {words_of(p) for s in catalog.values("subcategory") for p in _parts(s)}
    most, fewest = DISCUSSED_SHARE * len(lexical), UNHEARD_SHARE * len(lexical)
    out: list[tuple[str, bool]] = []
    for category, shown, wanted in found:
        count = lexical.phrase_count(shown)
        filed = words_of(category) in held and (_is_category(category, shown) or words_of(shown) in held_parts)
        if filed or count > (most if len(wanted) > 1 else fewest):
            continue
        label = f"{shown} ({category})" if shown != category else shown
        if label not in [seen for seen, _ in out]:
            out.append((label, count <= fewest))
    return out
