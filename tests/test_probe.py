"""`ingest.py --fetch-lgo --probe` against the copy of the site: what it prints, that it stops at a
few requests and writes nothing, and that a site it cannot read ends in error lines and exit 1."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from rag import Bot, Settings
from rag.archive import FetchPlan
from rag.fetch import PoliteClient
from tests.conftest import PROJECT, free_port
from tests.lgo_site import Site, running

AUGUST_2019 = ["--since", "2019-01-01", "--until", "2019-08-31"]  # the probe reads the last month: 18 009 360's


@pytest.fixture
def site(seed_texts):
    site = Site()
    for ref in ("18 009 360", "18 011 812", "19 012 512"):
        site.add(seed_texts[ref])
    with running(site, free_port()):
        yield site


def _probe(site: Site, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {"RAG_STORE_DIR": str(tmp_path / "store"), "RAG_ARCHIVE_DIR": str(tmp_path / "archive"),
           "RAG_LGO_BASE_URL": site.base_url, "RAG_FETCH_DELAY": "0", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "ingest.py", *args], cwd=PROJECT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_probe_prints_what_it_read_and_writes_nothing(site, tmp_path):
    done = _probe(site, tmp_path, "--fetch-lgo", "--probe", *AUGUST_2019)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "robots.txt: read (HTTP 200" in out and "cookies: lgo_session" in out
    assert "result count: 1; decision links: 1 (1 in the category)" in out
    assert "council line: 'Hertfordshire County Council (18 009 360)', found in <header> in the article" in out
    assert "Category: Children's care services > Child protection" in out and "Decision date: 21 Aug 2019" in out
    assert "91 paragraphs, numbers exact" in out
    assert "paragraph 2 (The complaint): Mr C says the Council\u2019s treatment" in out, "bullets did not take a number"
    assert "it does not filter by them" in out and out.rstrip().endswith("as the tests expect")
    assert len([r for r in site.requests if r != "/robots.txt"]) == 4, site.requests
    assert not (tmp_path / "archive").exists() and not (tmp_path / "store").exists()


def test_probe_of_the_search_shell_ends_in_an_error_line(site, tmp_path):
    site.shell_months.add("2019-08-01")
    done = _probe(site, tmp_path, "--fetch-lgo", "--probe", *AUGUST_2019)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: listing: no result count and no decision links")
    assert "result count: not found; decision links: 0" in done.stdout


def test_probe_needs_fetch_lgo(site, tmp_path):
    done = _probe(site, tmp_path, "--probe")
    assert done.returncode == 1 and done.stderr.strip() == \
        "error: --probe goes with --fetch-lgo: ingest.py --fetch-lgo --probe"


def test_probe_says_where_the_council_line_sat_and_what_robots_refuses(seed_texts, tmp_path):
    site = Site(robots="User-agent: lgo-rag\nDisallow: /decisions/children-s-care-services/other/\n")
    site.add(seed_texts["18 011 812"], header="before-article")  # 28 Mar 2019, category "Other"
    site.add(seed_texts["18 009 360"])
    with running(site, free_port()):
        base = site.base_url
        bot = Bot(Settings(store_dir=tmp_path / "store", lgo_base_url=base),
                  lgo_client=PoliteClient(base, delay=0))
        march = bot.probe_lgo(FetchPlan(since=dt.date(2019, 3, 1), until=dt.date(2019, 3, 31)))
        site.robots = ""
        bot.lgo_client = PoliteClient(base, delay=0)
        allowed = bot.probe_lgo(FetchPlan(since=dt.date(2019, 3, 1), until=dt.date(2019, 3, 31)))
    assert any("robots.txt disallows" in p and "18-011-812" in p for p in march.problems)
    assert allowed.problems == [] and allowed.decision["found"] == "before the article"
    assert allowed.decision["outcome"] == "Upheld" and allowed.decision["first"][0]["number"] == 1



def test_probe_of_a_month_without_decisions_says_to_choose_another(site, tmp_path):
    bot = Bot(Settings(store_dir=tmp_path / "store", lgo_base_url=site.base_url),
              lgo_client=PoliteClient(site.base_url, delay=0))
    report = bot.probe_lgo(FetchPlan(since=dt.date(2019, 7, 1), until=dt.date(2019, 7, 31)))
    assert report.listing["count"] == 0
    assert report.problems == ["listing: the site lists no decisions for that month; choose another with --until"]
