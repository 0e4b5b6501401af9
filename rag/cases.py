"""Reading one case in full once the ranking has found it, as a reader with the decision open would.

The ranking finds the case; the paragraph that answers often shares few words or little meaning
with the question and ranks too low to be quoted.  These functions read the case's own chunks
from the store: its passages where the question's words recur (`case_passages`) and how it
ended (`case_conclusion`).  The answer quotes them after its own passages (see rag.answer
`case_extras`), verified like every quote.  A reader asked to quote where the named decisions say
something also checks that they use its words at all (`unsaid_word`).
"""

from __future__ import annotations

import re

from rag.catalog import Catalog
from rag.guard import index_text
from rag.lexical import DOMAIN_WORDS, expand_query, stems, stems_and_rarity
from rag.retrieve import Hit, Retrieval, leading_decision, similarities
from rag.understand import Question

# Once the case is found, a reader searches it for the question's own words.  The leading case's
# passages that share most of them, each word weighed by how rare it is within that case, are
# added after the answer's passages when none of them quotes them (`case_passages`); each must
# share at least CASE_MATCH (about two words the case rarely uses).  Measured December 2026
# (MiniLM, `python -m evals.compare`), one passage, floors 1 / 3 / 5 / 8: synthetic facts 0.693 ->
# 0.732 / 0.732 / 0.724 / 0.709, samples 0.922 -> 0.938 for each.  One / two / three passages
# (floor 3): synthetic facts 0.732 / 0.756 / 0.780, samples 0.938 / 0.953 / 0.953, precision up
# on both sets and both halves each time, answers 402 / 437 / 468 words on average (342 without).
# The samples set confirms two, not three; nothing else moved (they come after the first three).
# With two, floors 1 / 3 / 5: synthetic facts 0.756 / 0.756 / 0.740, samples 0.953 / 0.953 / 0.938.
CASE_MATCH = 3.0
CASE_PASSAGES = 2
# The case's final decision is added after them when not already quoted (`case_conclusion`).
# Measured December 2026 (MiniLM, `python -m evals.compare`): synthetic facts 0.756 -> 0.787
# (halves 0.787 -> 0.820, 0.727 -> 0.758), precision 0.819 -> 0.828; samples facts unchanged
# (0.953), precision 0.910 -> 0.912; nothing else moved on either set.  Added only to answers to
# yes/no questions it gave the same facts and less precision (0.823), so it is added to every one.


def _shared_rarity(question: str, texts: list[str]) -> list[float]:
    """For each text, the question's words it holds, each weighed by how rare it is among `texts`
    (planted words do not count)."""
    held, rarity = stems_and_rarity([index_text(text) for text in texts])
    wanted = set(stems(expand_query(question)))
    return [round(sum(rarity[w] for w in wanted & words), 6) for words in held]


def case_passages(q: Question, retrieval: Retrieval, quoted: set[str], catalog: Catalog,
                  case: str | None = None, limit: int = CASE_PASSAGES) -> list[Hit]:
    """The case's passages (the leading case's unless another is given) that share most of the
    question's words (weighed by their rarity within the case; equal shares go to the passage
    closer in meaning), best first: at most `limit`, none already quoted, none sharing too little
    (CASE_MATCH)."""
    if not retrieval.hits:
        return []
    case = case or leading_decision(retrieval.hits)
    rows = catalog.get_chunks(catalog.dense.ids_of(case))
    shares = _shared_rarity(q.search, [row["text"] for row in rows])
    kept = [row for share, row in zip(shares, rows) if share >= CASE_MATCH and row["id"] not in quoted]
    found = _case_hits(case, kept, retrieval, catalog)
    by_share = dict(zip((row["id"] for row in rows), shares))
    return sorted(found, key=lambda h: (-by_share[h.id], -h.similarity))[:limit]  # stable: paragraph order


# Words that give a claim its polarity or certainty, not its subject: a decision saying the opposite
# ("the LADO did not decide to suspend") still answers a request to quote "should never have suspended".
POLARITY = frozenset(stems("never ever always no none nothing nobody neither nor"))
_NOT_CLAIMED = POLARITY | DOMAIN_WORDS


def unsaid_word(claim: str, cases: list[str], catalog: Catalog) -> str | None:
    """A word of a statement the user asks to have quoted from the decisions they name that none
    of them uses, though other indexed decisions do: no passage of them can be quoted saying it
    ("disciplined").  A word no indexed decision uses is the user's own vocabulary ("mum") and
    proves nothing, and so are the words of any question ("get", "say": DOMAIN_WORDS).  Asked of
    no decision in particular, a statement is not checked: retrieval may have missed the one
    decision that makes it (two of 124 such requests for the synthetic set's key facts).  The
    lexical index answers, so a council with hundreds of decisions costs one search a word."""
    lexical = catalog.lexical
    for word in re.findall(r"[A-Za-z][A-Za-z'\u2019]*", claim):
        stem = stems(word)
        if (stem and stem[0] not in _NOT_CLAIMED and lexical.word_count(word)
                and not lexical.search(word, k=1, allowed=cases)):
            return word
    return None


def case_conclusion(case: str, retrieval: Retrieval, quoted: set[str], catalog: Catalog) -> list[Hit]:
    """The first paragraph of the case's final decision, unless it is already quoted.  Whatever
    was asked about a case, how it ended is part of the answer, and the final decision says it in
    words the question rarely shares ("did the Ombudsman side with the grandad?")."""
    rows = [row for row in catalog.get_chunks(catalog.dense.ids_of(case, "decision")[:1]) if row["id"] not in quoted]
    return _case_hits(case, rows, retrieval, catalog)


def _case_hits(case: str, rows: list[dict], retrieval: Retrieval, catalog: Catalog) -> list[Hit]:
    """Chunks of one case read from the store, as hits (similarity to the question, no rank score)."""
    if retrieval.query_vector is None:
        meaning = [0.0] * len(rows)
    else:
        meaning = similarities([retrieval.query_vector], [catalog.dense.vector(row["id"]) for row in rows])
    return [Hit(id=row["id"], ref=case, paragraph=row["metadata"].get("para_first") or None, text=row["text"],
                metadata=row["metadata"], score=0.0, similarity=sim) for row, sim in zip(rows, meaning)]
