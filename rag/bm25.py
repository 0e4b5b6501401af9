"""BM25 over the chunk texts, scored when asked from term frequencies kept on disk.

A BM25 score depends on the whole collection (how many chunks hold a word, the mean chunk
length), so an index that stores finished scores (bm25s does) must be rebuilt whenever anything
is added.  This one stores each token's postings (row, term frequency) and each row's length,
and computes the scores of the question's tokens from the live rows' statistics at question time,
with the very formula and float operations of bm25s (Lucene's variant, k1 = 1.5, b = 0.75):
the scores, bit for bit, of a bm25s index built afresh over the same chunks, however many
updates this one has seen.  Computed values of frequent tokens are kept for the index's life.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np

from rag.guard import index_text
from rag.lexical import expand_query, tokenize
from rag.rows import Table
from rag.segment import token_hash

K1, B = 1.5, 0.75
CACHE_BYTES = 64 << 20  # computed posting values kept per index
EMPTY = "_empty_"  # the one token of a text with none, so that every row has a length


def lexical_text(meta: dict[str, Any], text: str) -> str:
    """What BM25 indexes: the words plus who said them, so references and councils match."""
    return " ".join(
        str(meta.get(key, "")) for key in ("council", "ref", "section", "heading")
    ) + " " + index_text(text)


def row_tokens(meta: dict[str, Any], text: str) -> list[str]:
    return tokenize(lexical_text(meta, text)) or [EMPTY]


class LexicalIndex:
    """BM25 over chunk texts, searchable with an exact set of allowed decisions."""

    def __init__(self, table: Table, fp: str = "") -> None:
        self.table = table
        self.fingerprint = fp
        deleted_len = sum(int(np.asarray(s.doclen)[~table.live[o:o + s.rows]].sum())
                          for s, o in zip(table.segments, table.offsets.tolist()))
        total = sum(s.total_len for s in table.segments) - deleted_len
        self._avg = np.float64(total) / table.count if table.count else np.float64(0.0)
        self._df: dict[int, int] = {}
        self._values: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._cached = 0
        self._doc_freq: dict[str, int] | None = None

    def __len__(self) -> int:
        return self.table.count

    @property
    def ids(self) -> list[str]:
        return self.table.ids

    def _slots(self, key: int) -> list[tuple[int, int]]:
        out = []
        for n, seg in enumerate(self.table.segments):
            slot = seg.token_slot(np.uint64(key))
            if slot >= 0:
                out.append((n, slot))
        return out

    def df(self, key: int) -> int:
        """How many live rows hold the token with this hash.  Only tokens the index holds are
        remembered, so that words no decision uses (a user's, a misspelling's respellings) cannot
        grow the cache for the life of a server; looking one up again costs a few slot searches."""
        if key in self._df:
            return self._df[key]
        t, count = self.table, 0
        for n, slot in self._slots(key):
            rows, _ = t.segments[n].postings(slot)
            count += int(np.count_nonzero(t.live[t.offsets[n] + np.asarray(rows, dtype=np.int64)]))
        if count:
            self._df[key] = count
        return count

    def _value(self, key: int, n: int, slot: int) -> tuple[np.ndarray, np.ndarray]:
        """One token's rows in one segment (global numbers) and its BM25 contribution to each, as
        bm25s computes it (float64 arithmetic, rounded to float32)."""
        cached = self._values.get((key, n))
        if cached is not None:
            self._values.move_to_end((key, n))
            return cached
        df, N = self.df(key), self.table.count
        idf = np.float32(math.log(1 + (N - df + 0.5) / (df + 0.5)))
        seg = self.table.segments[n]
        rows, tf = seg.postings(slot)
        tf = np.asarray(tf, dtype=np.float32)
        lengths = np.asarray(seg.doclen)[np.asarray(rows)].astype(np.float64)
        tfc = tf / (K1 * ((1 - B) + B * lengths / self._avg) + tf)
        values = (idf * tfc).astype(np.float32)
        found = (self.table.offsets[n] + np.asarray(rows, dtype=np.int64), values)
        self._values[(key, n)] = found
        self._cached += found[0].nbytes + values.nbytes
        while self._cached > CACHE_BYTES and len(self._values) > 1:
            _, (old_rows, old_values) = self._values.popitem(last=False)
            self._cached -= old_rows.nbytes + old_values.nbytes
        return found

    def search(self, query: str, k: int = 30, allowed: Iterable[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, score) best first; only chunks of `allowed` decisions when it is given."""
        t = self.table
        words = tokenize(expand_query(query))
        keys = token_hash(words).tolist() if words else []
        keys = [key for key in keys if self.df(key) > 0]
        if not keys or not t.count:
            return []
        scores = np.zeros(t.total, dtype=np.float32)
        for key in keys:  # in the question's order, repeats included, as bm25s adds them
            for n, slot in self._slots(key):
                rows, values = self._value(key, n, slot)
                scores[rows] += values
        keep = t.live if allowed is None else self.by_ref_mask(allowed)
        scores = np.where(keep, scores, np.float32(0.0))
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(t.id_of(int(i)), float(scores[i])) for i in top if scores[i] > 0]

    def by_ref_mask(self, allowed: Iterable[str]) -> np.ndarray:
        return self.table.by_ref.mask(allowed)

    def word_count(self, word: str) -> int | None:
        """How many live rows hold `word`, stemmed as the index stems it (None for a stop word)."""
        tokens = tokenize(word)
        return self.df(int(token_hash(tokens[:1])[0])) if tokens else None

    def phrase_count(self, phrase: str) -> int:
        """At most how many live rows hold the phrase's words side by side: the fewest rows
        holding any one of its adjacent word pairs (its one word's rows for a single word)."""
        tokens = tokenize(phrase)
        pairs = [t for t in tokens if "_" in t] or tokens[:1]
        return min((self.df(int(h)) for h in token_hash(pairs)), default=0)

    def rarity(self, token: str) -> float:
        """Inverse document frequency; a word the decisions never use is the rarest of all."""
        n = len(self) or 1
        return math.log((n + 1) / (self.df(int(token_hash([token])[0])) + 0.5))

    @property
    def doc_freq(self) -> dict[str, int]:
        """Live rows per token, for every token (built on first use: set questions need it)."""
        if self._doc_freq is None:
            t, counts = self.table, {}
            for n, seg in enumerate(t.segments):
                live = t.live[t.offsets[n]: t.offsets[n] + seg.rows]
                held = live[np.asarray(seg.post_row)].astype(np.int64)
                per = np.add.reduceat(held, np.asarray(seg.tok_ptr[:-1])) if len(held) else np.zeros(0, np.int64)
                per[np.diff(np.asarray(seg.tok_ptr)) == 0] = 0
                for word, c in zip(seg.vocab(), per.tolist()):
                    if c:
                        counts[word] = counts.get(word, 0) + c
            self._doc_freq = counts
        return self._doc_freq
