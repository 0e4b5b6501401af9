"""Decision pages as the LGO website publishes them (tests/lgo_site.py), read into the text layout
with every header field and the official paragraph numbers."""

from __future__ import annotations

import pytest

from rag import NotADecisionError, parse_decision
from rag.lgo_html import html_to_text, read_page
from tests.lgo_site import HEADER_PLACES, decision_page, with_ref

EXACT = ["18 009 360", "18 011 812", "19 012 512"]  # samples whose text kept the official numbers


def _same_decision(again, decision) -> None:
    assert [(p.number, p.section, p.text) for p in again.paragraphs] == \
        [(p.number, p.section, p.text) for p in decision.paragraphs]
    fields = ("ref", "council", "category", "subcategory", "outcome", "decision_date", "summary")
    assert {f: getattr(again, f) for f in fields} == {f: getattr(decision, f) for f in fields}


@pytest.mark.parametrize("header", HEADER_PLACES)
@pytest.mark.parametrize("ref", EXACT)
def test_pages_give_the_text_files_numbers_and_every_field(seeds, seed_texts, ref, header):
    decision = seeds[ref]
    again = parse_decision(html_to_text(decision_page(seed_texts[ref], header)))
    _same_decision(again, decision)
    assert all(p.exact for p in again.paragraphs)
    assert None not in (again.category, again.subcategory, again.outcome, again.decision_date)


def test_where_the_council_line_was_found_is_reported(seed_texts):
    text = seed_texts["19 012 512"]
    places = {header: read_page(decision_page(text, header)).header_place for header in HEADER_PLACES}
    assert places == {"article-header": "in <header> in the article", "before-article": "before the article",
                      "article-h1": "heading in the article", "paragraph": "text in the article"}


def test_a_value_holding_links_is_read_whole(seed_texts):
    page = decision_page(seed_texts["18 009 360"])
    assert "<a href" in page.split('class="value">', 1)[1].split("</p>", 1)[0], "the double puts links in the value"
    read = read_page(page)
    assert read.fields["Category"] == "Children's care services > Child protection"
    assert read.fields["Decision"] == "Upheld" and read.fields["Decision date"] == "21 Aug 2019"
    assert not [line for line in read.text.splitlines() if line.strip().startswith((">", "Child protection"))]


def test_top_level_bullets_between_numbered_lists_belong_to_the_paragraph_before(seeds, seed_texts):
    page = decision_page(seed_texts["18 009 360"])
    assert "</ol>\n<ul>" in page and "</ul>\n<ol>" in page, "the double splits the list as the site does"
    again = parse_decision(html_to_text(page))
    assert len(again.paragraphs) == 91
    assert again.paragraph(1).text.count("\u2022") == 4
    assert again.paragraph(2).text.startswith("Mr C says the Council\u2019s treatment")
    assert again.paragraph(24).text == seeds["18 009 360"].paragraph(24).text


def test_a_lettered_list_between_numbered_lists_is_not_numbered():
    page = ('<article id="article"><header><h1>Leicestershire County Council (23 003 705)</h1></header>'
            "<h2>The complaint</h2><ol><li>Mr and Mrs X complained about a fostering agency. They say it:</li></ol>"
            '<ol type="a"><li>did not investigate;</li><li>did not support them.</li></ol>'
            '<ol style="list-style-type: lower-roman"><li>and did not tell the Council.</li></ol>'
            "<ol><li>Mr and Mrs X also complain about the Council.</li><li>I call the agency Company K.</li></ol>"
            "</article>")
    decision = parse_decision(html_to_text(page))
    assert [p.number for p in decision.paragraphs] == [1, 2, 3]
    assert "did not support them." in decision.paragraph(1).text
    assert "and did not tell the Council." in decision.paragraph(1).text
    assert decision.paragraph(2).text == "Mr and Mrs X also complain about the Council."


@pytest.mark.parametrize("ref", ["24 003 230", "19 018 981"])
def test_pages_without_numbered_lists_stay_bulleted(seeds, seed_texts, ref):
    again = parse_decision(html_to_text(decision_page(seed_texts[ref])))
    assert not any(p.exact for p in again.paragraphs), "numbers the page does not give are marked inferred"
    assert [(p.number, p.text) for p in again.paragraphs] == [(p.number, p.text) for p in seeds[ref].paragraphs]


def test_a_suffixed_reference_in_the_heading(seed_texts):
    decision = parse_decision(html_to_text(decision_page(with_ref(seed_texts["18 011 812"], "17 002 402b"))))
    assert decision.ref == "17 002 402b" and decision.category == "Children's care services"


def test_a_page_without_the_council_line_names_what_is_missing():
    page = '<html><body><h1>Decisions</h1><article id="article"><ol><li>Some text.</li></ol></article></body></html>'
    with pytest.raises(NotADecisionError, match=r"no 'Council name \(18 011 812\)' line"):
        html_to_text(page, "x.html")


def test_a_paragraph_naming_another_decision_is_not_the_council_line():
    page = ("<html><body><header><h1>Kent County Council (24 003 230)</h1></header><article id=\"article\">"
            "<h2>The complaint</h2><ol><li>Mr X complains.</li></ol>"
            "<p>Derbyshire County Council (18 011 812)</p><ol><li>I compared that decision.</li></ol></article>")
    decision = parse_decision(html_to_text(page))
    assert (decision.ref, decision.council) == ("24 003 230", "Kent County Council")
    assert [p.number for p in decision.paragraphs] == [1, 2]
