"""Quote verification, the streaming quote filter, and the prompt loader."""

from __future__ import annotations

import random

import pytest

from rag.cite import REMOVED, QuoteFilter, normalise, quote_in
from rag.prompts import PromptError, load_prompt, render
from rag.retrieve import Hit

PASSAGE = ("These failures must have been upsetting to Mr C and this was an injustice. However, the "
           "Council has apologised. It has issued guidance to all staff saying they should always "
           "contact those with parental responsibility for assessments.")


def _hit(text=PASSAGE, paragraph=25):
    meta = {"council": "Derbyshire County Council", "ref": "18 011 812", "section": "What I found",
            "section_kind": "findings", "url": "https://www.lgo.org.uk/x", "paragraph_exact": True,
            "decision_date": "2019-03-28", "outcome": "Upheld"}
    return Hit(id=f"18-011-812:p{paragraph:03d}:0", ref="18 011 812", paragraph=paragraph, text=text,
               metadata=meta, score=1.0)


def test_normalise_and_quote_in():
    assert normalise("the  Council\u2019s\u00a0\u201cview\u201d \u2013 x\u200b") == "the Council's \"view\" - x"
    assert quote_in("“the Council has apologised”", PASSAGE)
    assert quote_in("contact those with\nparental   responsibility", PASSAGE)
    assert not quote_in("the Council has refused to apologise", PASSAGE)
    assert not quote_in("Council", PASSAGE), "a fragment too short to mean anything is not a quote"
    assert not quote_in("the Council has apol\u200bogised to everyone", PASSAGE)


def _run(text, hits, pieces):
    qf = QuoteFilter("Must a council involve a non-resident parent?", hits)
    out, i = [], 0
    while i < len(text):
        step = pieces()
        out.append(qf.feed(text[i : i + step]))
        i += step
    out.append(qf.finish())
    return "".join(out), qf


LLM_TEXT = ('Derbyshire (18 011 812) said it "has issued guidance to all staff" [1]. It also said '
            '\u201cthe Council refused to apologise\u201d [1] and cited [9]. See also [2]. '
            'A "made-up phrase" here, and \u201cthis was an injustice\u201d. [1')


def test_quote_filter_releases_only_verified_quotes_however_the_text_is_cut():
    hits = [_hit(), _hit("Mr C had applied to the court for contact before the incident.", 28)]
    rng = random.Random(7)
    expected, qf = _run(LLM_TEXT, hits, lambda: len(LLM_TEXT))
    for _ in range(30):
        again, _ = _run(LLM_TEXT, hits, lambda: rng.randint(1, 5))
        assert again == expected
    assert "\u201chas issued guidance to all staff\u201d [1]" in expected
    assert "refused to apologise" not in expected and REMOVED in expected
    assert "[9]" not in expected
    assert "made-up phrase" in expected and '"made-up phrase"' not in expected
    assert "See also [2]." in expected  # a bare marker cites the passage's best sentence
    assert "\u201cthis was an injustice\u201d [3]" in expected  # unmarked, but found: cited
    assert not expected.endswith("[1")  # a marker cut off at the end is dropped
    verified = [c for c in qf.citations if c.verified]
    assert [c.paragraph for c in verified] == [25, 28, 25]
    assert [c.n for c in qf.numbered()] == [1, 2, 3, 4] and not qf.numbered()[3].verified
    assert len(qf.problems) == 2
    assert all(quote_in(c.quote, hits[0].text if c.paragraph == 25 else hits[1].text) for c in verified)


def test_prompt_loader_checks_variables(tmp_path):
    (tmp_path / "p.md").write_text("Question: {question}\nLiteral {{braces}}", encoding="utf-8")
    assert render("p", tmp_path, question="why?") == "Question: why?\nLiteral {braces}"
    with pytest.raises(PromptError, match="does not use"):
        load_prompt("p", {"question", "context"}, tmp_path)
    with pytest.raises(PromptError, match="does not provide"):
        load_prompt("p", set(), tmp_path)
    with pytest.raises(PromptError, match="missing"):
        load_prompt("absent", set(), tmp_path)


def test_shipped_prompts_load_with_the_variables_the_code_fills():
    assert "verbatim" in load_prompt("answer_system", set())
    load_prompt("answer_user", {"context", "question"})
    load_prompt("condense", {"history", "question"})
    load_prompt("judge", {"context", "question", "answer"})
