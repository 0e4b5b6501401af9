"""The chat in a real browser: Debian's headless Chromium driven by Playwright.

Asks a seed question and checks that the citation, with its verbatim quote, paragraph number and
link, is on the page; also that a decision carrying HTML never runs it.  Saves screenshots to
test-artifacts/; with RAG_UPDATE_SCREENSHOT=1 the answer's also replaces docs/screenshot-answer.png,
the picture in the README.

Without Debian's chromium these tests fail, saying how to get it (`make test` installs it when it
can): a newcomer must not mistake a skipped browser test for a passing one.  RAG_SKIP_BROWSER_TESTS=1
skips them on purpose.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOT = ROOT / "docs" / "screenshot-answer.png"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(os.environ.get("RAG_SKIP_BROWSER_TESTS") == "1",
                                reason="RAG_SKIP_BROWSER_TESTS=1")


@pytest.fixture(scope="module")
def page(app_server):
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("the browser tests need Debian's chromium: run 'sudo apt-get install chromium' "
                    "(`make test` does it when it can), or set RAG_SKIP_BROWSER_TESTS=1 to skip them",
                    pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(app_server[1], wait_until="domcontentloaded")
            page.wait_for_selector("#question textarea", timeout=30_000)
            yield page
        finally:
            browser.close()


def _ask(page, question: str) -> None:
    page.fill("#question textarea", question)
    page.click("#ask-button")
    page.wait_for_selector("#citations .citation, #citations .notice", timeout=60_000)


def test_answer_shows_verified_quote_paragraph_and_link(page):
    _ask(page, "Must a council involve a non-resident parent in a single assessment?")
    citations = page.locator("#citations")
    text = citations.inner_text()
    assert "contact those with parental responsibility" in text
    assert "paragraph 25" in text and "Derbyshire County Council" in text and "18 011 812" in text
    assert "Upheld" in text and "28 March 2019" in text
    link = citations.locator('a[href="https://www.lgo.org.uk/decisions/children-s-care-services/other/18-011-812"]')
    assert link.count() >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / "answer.png"), full_page=False)
    if os.environ.get("RAG_UPDATE_SCREENSHOT") == "1":
        shutil.copy(ARTIFACTS / "answer.png", SCREENSHOT)


def test_first_citation_opens_with_its_neighbours_and_a_letter_reference(page):
    page.wait_for_selector("#paragraph-context .para.cited", timeout=20_000)
    first = page.locator("#citations .citation").first.inner_text()  # "[1] Council (ref), date ..."
    decision = first.split("]", 1)[1].split(")", 1)[0].strip() + ")"
    context = page.locator("#paragraph-context").inner_text()
    assert decision in context, (decision, context[:200])
    assert page.locator("#paragraph-context .para").count() == 3  # the cited one and its neighbours
    box = page.locator("#citation-reference textarea, #citation-reference input").first
    assert box.input_value().startswith(decision + ", ") and ", paragraph " in box.input_value()


def test_html_in_a_decision_is_shown_not_run(page):
    _ask(page, "What did Testshire County Council invite Mr C to do about the trampoline incident?")
    page.wait_for_timeout(500)
    assert page.evaluate("window.pwned") is None
    assert "<script>window.pwned=1</script>" in page.locator("#citations").inner_text()
    # the cited paragraph panel follows the new answer (not the previous one)
    page.wait_for_function("document.querySelector('#paragraph-context').innerText.includes('99 999 999')",
                           timeout=20_000)
    assert page.evaluate("window.pwned") is None
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app-planted.png"), full_page=True)
