"""Chunking invariants over the bundled decisions."""

from __future__ import annotations

from collections import defaultdict

import pytest

from rag import chunk_decision
from rag.chunk import count_tokens, split_text
from rag.onnx_model import MAX_WORD_PIECES

REQUIRED_META = {
    "ref", "council", "section", "section_kind", "para_first", "para_last", "paragraph_exact",
    "source", "doc_hash", "pipeline", "chunk_hash", "embedder", "part", "parts", "has_financial_remedy", "reported",
}
DATED_META = {"category", "subcategory", "outcome", "decision_date", "date_int", "year", "url"}


def _all_chunks(seeds, max_tokens=200):
    return {ref: chunk_decision(d, max_tokens, embedder="test") for ref, d in seeds.items()}


def _reassemble(text: str, parts) -> str:
    """Rebuild a paragraph from its parts' offsets, taking the white space between them from it."""
    out, pos = [], 0
    for chunk in sorted(parts, key=lambda c: c.part):
        assert text[chunk.char_start : chunk.char_start + len(chunk.text)] == chunk.text
        assert text[pos : chunk.char_start].strip() == "", "a part skipped some words"
        out.append(text[pos : chunk.char_start] + chunk.text)
        pos = chunk.char_start + len(chunk.text)
    assert text[pos:].strip() == ""
    return "".join(out) + text[pos:]


@pytest.mark.parametrize("max_tokens", [200, 64])
def test_every_paragraph_recoverable_verbatim(seeds, max_tokens):
    for ref, chunks in _all_chunks(seeds, max_tokens).items():
        by_paragraph = defaultdict(list)
        for c in chunks:
            by_paragraph[c.paragraph].append(c)
        decision = seeds[ref]
        assert _reassemble(decision.summary, by_paragraph.pop(None)) == decision.summary
        assert sorted(by_paragraph) == [p.number for p in decision.paragraphs]
        for p in decision.paragraphs:
            assert _reassemble(p.text, by_paragraph[p.number]) == p.text


@pytest.mark.parametrize("max_tokens", [200, 64])
def test_no_chunk_over_the_limit(seeds, max_tokens):
    chunks = [c for cs in _all_chunks(seeds, max_tokens).values() for c in cs]
    assert max(count_tokens(c.text) for c in chunks) <= max_tokens
    if max_tokens == 64:
        assert any(c.parts > 1 for c in chunks), "the small limit should force splits"


def test_long_paragraphs_split_at_sentence_boundaries(seeds):
    chunks = _all_chunks(seeds, 64)["18 009 360"]
    split = [c for c in chunks if c.parts > 1 and c.paragraph is not None]
    assert split
    for c in split:
        assert c.metadata["para_first"] == c.paragraph == c.metadata["para_last"]
        if c.part < c.parts - 1:
            assert c.text.rstrip().endswith((".", ";", ":", "”", ")", "’")) or count_tokens(c.text) > 40


def test_default_chunks_fit_the_embedder(seeds, minilm):
    """all-MiniLM-L6-v2 reads 256 word pieces; the default token budget must stay under that."""
    chunks = [c for cs in _all_chunks(seeds).values() for c in cs]
    longest = max(minilm.word_pieces(c.text) for c in chunks)
    assert longest <= MAX_WORD_PIECES


def test_ids_are_stable_and_unique(seeds):
    first = _all_chunks(seeds)
    second = _all_chunks(seeds)
    for ref in seeds:
        ids = [c.id for c in first[ref]]
        assert ids == [c.id for c in second[ref]]
        assert len(set(ids)) == len(ids)
        assert all(i.startswith(ref.replace(" ", "-") + ":") for i in ids)
    assert first["18 011 812"][0].id == "18-011-812:summary:0"
    assert first["18 011 812"][25].id == "18-011-812:p025:0"


def test_chunks_stay_in_one_section_with_filterable_metadata(seeds):
    for ref, chunks in _all_chunks(seeds).items():
        decision = seeds[ref]
        for c in chunks:
            meta = c.metadata
            assert REQUIRED_META <= set(meta)
            if decision.decision_date:
                assert DATED_META <= set(meta)
            assert all(isinstance(v, (str, int, float, bool)) for v in meta.values())
            if c.paragraph is not None:
                p = decision.paragraph(c.paragraph)
                assert (meta["section"], meta["section_kind"]) == (p.section, p.section_kind)
                assert c.text in p.text
    meta = _all_chunks(seeds)["19 018 981"][0].metadata
    assert meta["date_int"] == 20210617 and meta["year"] == 2021
    assert meta["has_financial_remedy"] is True and meta["financial_remedy"] == 300.0


def test_split_text_handles_one_huge_sentence():
    text = " ".join(f"word{i}" for i in range(600))
    parts = split_text(text, 50)
    assert len(parts) > 5
    assert all(count_tokens(text[a:b]) <= 50 for a, b in parts)
    assert " ".join(text[a:b] for a, b in parts) == text


def test_a_passage_that_only_reports_an_allegation_is_flagged(seeds):
    from rag.chunk import only_reported

    assert only_reported(seeds["19 018 981"].paragraph(14).text)  # "Miss X says the Council failed to redact ..."
    assert not only_reported(seeds["19 012 512"].paragraph(13).text)  # "Mr X says ... However, ... the ICO is ..."
    assert not only_reported(seeds["19 018 981"].paragraph(15).text)  # the Council's response, not an allegation
    assert not only_reported("Mr X says the Council was slow. I do not find fault.")
    chunks = chunk_decision(seeds["19 018 981"])
    assert {c.paragraph for c in chunks if c.metadata["reported"]} >= {14}
