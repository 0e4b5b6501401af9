"""Acronyms a user types that the decisions spell out: "IRM" for the Independent Review Mechanism.

Parents and advisers write "IRM", "EHCP", "CAMHS"; a decision often writes the name in full and
never uses the letters, so neither search finds the paragraph that answers (the IRM question of
the synthetic set scored under the abstention bar, its answer fifth).  The index itself says what
the letters stand for: its word pairs (rag.lexical adds each adjacent pair of words to the BM25
index) chain into names whose initials spell them.  Only a name written with capitals in the
passages that use it most is taken (acronyms stand for proper names: "interim care order" does
not spell "ICO", the "Information Commissioner's Office" does), for an acronym of three to six
letters that the decisions never use themselves.
"""

from __future__ import annotations

import re
import weakref
from collections import defaultdict

from rag.catalog import Catalog
from rag.lexical import STOPWORDS, stem_words

ACRONYM = re.compile(r"\b([A-Z]{3,6})(s?)\b")
TRIES = 20  # chains read, most used first
BEAM = 1000  # chains kept at each letter, most used first: common words have many followers
PASSAGES = 3  # passages read for each, those BM25 ranks first for its words
_WORD = re.compile(r"[A-Za-z]+")
# Per lexical index: (first word, initial of the next) -> [(next word, passages holding the pair)].
_CHAINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _links(lexical) -> dict[tuple[str, str], list[tuple[str, int]]]:  # noqa: ANN001 - a LexicalIndex
    """The index's word pairs, by their first word and the initial of their second."""
    links = _CHAINS.get(lexical)
    if links is None:
        links = defaultdict(list)
        for token, count in lexical.doc_freq.items():
            first, _, second = token.partition("_")
            if len(first) > 1 and len(second) > 1 and first[0].isalpha() and second[0].isalpha():
                links[(first, second[0])].append((second, count))
        _CHAINS[lexical] = links
    return links


def _chains(letters: str, lexical) -> list[tuple[int, tuple[str, ...]]]:  # noqa: ANN001
    """Every chain of the index's word pairs whose words' initials spell the letters, with the
    fewest passages any of its pairs is in, most used first."""
    links = _links(lexical)
    chains = [(count, (first, second)) for (first, initial), seconds in links.items()
              if first[0] == letters[0] and initial == letters[1] for second, count in seconds]
    for letter in letters[2:]:
        chains = sorted(chains, key=lambda c: (-c[0], c[1]))[:BEAM]
        chains = [(min(count, more), words + (nxt,)) for count, words in chains
                  for nxt, more in links.get((words[-1], letter), [])]
    return sorted(chains, key=lambda c: (-c[0], c[1]))


def _written(words: tuple[str, ...], text: str) -> str | None:
    """The name as the text writes it, if it writes it with capitals ("Independent Review Mechanism")."""
    found = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]
    content = [(w, s, e) for w, s, e in found if w.lower() not in STOPWORDS]
    stemmed = stem_words([w.lower() for w, _, _ in content])
    n = len(words)
    for i in range(len(content) - n + 1):
        if tuple(stemmed[i:i + n]) == words and all(w[0].isupper() for w, _, _ in content[i:i + n]):
            return text[content[i][1]:content[i + n - 1][2]]
    return None


def spelled_out(acronym: str, catalog: Catalog) -> str | None:
    """The name the decisions write for an acronym they never use, or None."""
    lexical = catalog.lexical
    if lexical.word_count(acronym) != 0:
        return None
    for _, words in _chains(acronym.lower(), lexical)[:TRIES]:
        rows = catalog.get_chunks([chunk_id for chunk_id, _ in lexical.search(" ".join(words), k=PASSAGES)])
        name = next(filter(None, (_written(words, row["text"]) for row in rows)), None)
        if name:
            return name
    return None


def expand_acronyms(text: str, catalog: Catalog) -> str:
    """The text with the decisions' name for each acronym they never use after it, in brackets:
    "take it to the IRM (Independent Review Mechanism)?"."""
    def expand(match: re.Match) -> str:
        name = spelled_out(match.group(1), catalog)
        return f"{match.group(0)} ({name})" if name else match.group(0)

    return ACRONYM.sub(expand, text)
