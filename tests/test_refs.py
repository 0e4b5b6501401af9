"""Case references with a letter suffix ("17 002 402b": the LGO publishes some decisions so) are
accepted wherever a reference is: parse, ids, URLs, the lexical index, dataset records, and the
reference in a question that pins the search to one decision."""

from __future__ import annotations

import json

import pytest

from rag import Bot, canonical_ref, chunk_decision, parse_decision
from rag.lexical import tokenize
from rag.refs import REF_IN_TEXT, ref_key

SUFFIXED = "17 002 402b"


def suffixed_text(seed_text: str) -> str:
    """The Derbyshire decision published under a suffixed reference."""
    return seed_text.replace("Derbyshire County Council (18 011 812)", f"Derbyshire County Council ({SUFFIXED})")


@pytest.mark.parametrize("spelling", ["17 002 402b", "17-002-402b", "17002402b", "17 002 402B"])
def test_canonical_form_of_a_suffixed_reference(spelling):
    assert canonical_ref(spelling) == SUFFIXED
    assert ref_key(spelling) == "17-002-402b"


@pytest.mark.parametrize("bad", ["17 002 402bc", "17 002 40b", "17 002 402 b", "b17 002 402"])
def test_what_is_not_a_reference(bad):
    with pytest.raises(ValueError):
        canonical_ref(bad)


def test_a_suffixed_decision_parses_with_its_ids_and_url(seed_texts):
    decision = parse_decision(suffixed_text(seed_texts["18 011 812"]))
    assert decision.ref == SUFFIXED and decision.ref_key == "17-002-402b"
    assert decision.url == "https://www.lgo.org.uk/decisions/children-s-care-services/other/17-002-402b"
    assert len(decision.paragraphs) == 37
    ids = [c.id for c in chunk_decision(decision)]
    assert ids[0] == "17-002-402b:summary:0" and "17-002-402b:p025:0" in ids
    upper = parse_decision(suffixed_text(seed_texts["18 011 812"]).replace("402b)", "402B)"))
    assert upper.ref == SUFFIXED, "one decision, one reference, whatever the case of its letter"


def test_references_in_text_keep_their_suffix():
    assert [" ".join(m) for m in REF_IN_TEXT.findall("see 17-002-402B and 18 011 812.")] == \
        ["17 002 402B", "18 011 812"]
    assert "ref17002402b" in tokenize("What did 17 002 402b decide?")
    assert "ref17002402b" in tokenize("What did 17002402B decide?")
    assert "ref17002402" not in tokenize("What did 17 002 402b decide?")


def test_a_reference_in_the_question_pins_a_suffixed_decision(settings, fake_embedder, seed_texts, tmp_path):
    folder = tmp_path / "decisions"
    folder.mkdir()
    for ref, text in seed_texts.items():
        (folder / f"{ref.replace(' ', '-')}.txt").write_text(text, encoding="utf-8")
    (folder / "17-002-402b.txt").write_text(suffixed_text(seed_texts["18 011 812"]), encoding="utf-8")
    bot = Bot(settings, embedder=fake_embedder)
    report = bot.ingest([folder])
    assert (report.added, report.failed) == (6, 0), report.failures
    for spelling in ("17 002 402b", "17-002-402B"):
        hits = bot.retrieve(f"What did the Ombudsman decide in {spelling}?").hits
        assert hits and {h.ref for h in hits} == {SUFFIXED}, spelling
    hits = bot.retrieve("What did the Ombudsman decide in 18 011 812?").hits
    assert {h.ref for h in hits} == {"18 011 812"}, "the unsuffixed reference is another decision"


def test_a_dataset_record_may_carry_a_suffixed_reference(settings, fake_embedder, seed_texts, tmp_path):
    body = seed_texts["18 011 812"].split("The complaint", 1)[1]
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps({"case_id": "17-002-402b", "council": "Derbyshire County Council",
                                "text": "The complaint" + body}), encoding="utf-8")
    bot = Bot(settings, embedder=fake_embedder)
    report = bot.ingest([path])
    assert (report.added, report.failed) == (1, 0), report.failures
    assert SUFFIXED in bot.store.registry()
