"""The LGO archive: HTML pages parsed with their official paragraph numbers, dataset records with
metadata, and the polite, resumable fetcher run against a copy of the site served on loopback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys

import pytest

from rag import Bot, Settings
from rag.archive import FetchPlan
from rag.chunk import chunk_decision
from rag.fetch import PoliteClient
from rag.parse import parse_decision
from tests.conftest import PROJECT, free_port
from tests.lgo_site import Site, decision_page, running, with_fields, with_ref

EXACT = ["18 009 360", "18 011 812", "19 012 512"]  # seeds whose text kept the official numbers
SECRET = "/decisions/children-s-care-services/secret/23-999-001"
WINDOW = FetchPlan(since=dt.date(2019, 1, 1), until=dt.date(2024, 12, 31))


def test_html_files_are_ingested_like_text(settings, fake_embedder, seeds, seed_texts, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "18-011-812.html").write_text(decision_page(seed_texts["18 011 812"]), encoding="utf-8")
    (folder / "not-a-decision.html").write_text("<html><body><p>Cookies</p></body></html>", encoding="utf-8")
    report = Bot(settings, embedder=fake_embedder).ingest([folder])
    assert (report.added, report.failed) == (1, 1)
    assert "not-a-decision.html" in report.failures[0][0] and "article" in report.failures[0][1]
    assert report.chunks == len(chunk_decision(seeds["18 011 812"], settings.chunk_max_tokens, "x"))


def test_dataset_records_lend_their_metadata(settings, fake_embedder, seed_texts, tmp_path):
    body = seed_texts["24 003 230"]  # the Kent decision states no category, outcome or date
    records = [
        {"case_id": "24-003-230", "text": body, "date": "2024-07-15", "category": "Children's care services",
         "subcategory": "Other", "outcome": "Not upheld", "url": "https://www.lgo.org.uk/x/24-003-230"},
        {"case_id": "24-003-231", "text": "The complaint\n\n  1. Mr Q says the Council lost his file.",
         "council": "Kent County Council", "date": "2024-08-01"},
        {"case_id": "24-003-232", "text": body, "date": "15/07/2024"},
        {"case_id": 24003233, "text": body},
    ]
    path = tmp_path / "dataset.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    bot = Bot(settings, embedder=fake_embedder)
    report = bot.ingest([path])
    assert (report.added, report.failed) == (2, 2)
    reasons = dict(report.failures)
    assert "'date'" in reasons[f"{path}#3"] and "'case_id'" in reasons[f"{path}#4"]
    kent = bot.store.registry()["24 003 230"]
    assert (kent["outcome"], kent["decision_date"], kent["subcategory"]) == ("Not upheld", "2024-07-15", "Other")
    assert kent["url"] == "https://www.lgo.org.uk/x/24-003-230"
    assert bot.store.registry()["24 003 231"]["council"] == "Kent County Council"


@pytest.fixture
def site(seeds, seed_texts):
    site = Site()  # links carry tails ("/", "?displaypref=1", "#article", a host); non-browsers get the shell
    for ref, text in seed_texts.items():
        if seeds[ref].decision_date is None:  # the site always shows a date
            text = with_fields(text, category="Children's care services > Other", outcome="Not upheld",
                               date="15 Jul 2024")
        site.add(text)
    site.add(with_ref(seed_texts["19 012 512"], "23 999 001"), subcategory_slug="secret")
    with running(site, free_port()):
        yield site


def _bot(settings, site, fake_embedder, sleeps: list | None = None, **kw) -> Bot:
    settings = Settings(store_dir=settings.store_dir, data_dir=settings.data_dir, lgo_base_url=site.base_url,
                        archive_dir=settings.store_dir.parent / "archive", fetch_delay=0, **kw)
    client = PoliteClient(site.base_url, contact="https://example.org/contact", delay=settings.fetch_delay,
                          retries=settings.fetch_retries, timeout=5,
                          sleep=(sleeps.append if sleeps is not None else lambda s: None))
    return Bot(settings, embedder=fake_embedder, lgo_client=client)


def _fetched_decisions(site: Site) -> list[str]:
    return [r for r in site.requests if r.startswith("/decisions/")]


def test_full_fetch_archives_and_ingests_every_listed_decision(settings, site, fake_embedder, seeds):
    bot = _bot(settings, site, fake_embedder)
    report, ingested = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    assert (report.fetched, report.failed) == (5, 0), report.failures
    assert report.listed == 6 and ingested is not None and ingested.added == 5
    assert report.disallowed == 1 and SECRET not in site.requests, "robots.txt disallows it"
    assert report.lost, "a decision robots.txt refuses is not archived, and the run says so"
    registry = bot.store.registry()
    for ref in EXACT:  # every header field, from the site's markup
        fields = ("council", "category", "subcategory", "outcome")
        assert {f: registry[ref][f] for f in fields} == {f: getattr(seeds[ref], f) for f in fields}
        assert registry[ref]["decision_date"] == seeds[ref].decision_date.isoformat()
        assert registry[ref]["url"].startswith(site.base_url + "/decisions/children-s-care-services/")
        assert len(bot.store.chunk_ids(ref)) == len(chunk_decision(seeds[ref], settings.chunk_max_tokens, "x"))
    folder = bot.settings.archive_dir / "decisions"
    for ref in EXACT:  # the archived text carries the official numbers, as the text files do
        archived = parse_decision((folder / f"{ref.replace(' ', '-')}.txt").read_text(encoding="utf-8"))
        assert [(p.number, p.text) for p in archived.paragraphs] == [(p.number, p.text) for p in seeds[ref].paragraphs]
    record = json.loads((folder / "18-011-812.json").read_text())
    assert set(record) >= {"url", "fetched_at", "sha256"} and (folder / "18-011-812.txt").exists()
    hits = bot.retrieve("Did the council involve the father in the single assessment?").hits
    assert "18 011 812" in {h.ref for h in hits[:3]}


def test_an_interrupted_run_resumes_without_fetching_again(settings, site, fake_embedder):
    bot = _bot(settings, site, fake_embedder)
    first, _ = bot.fetch_lgo(dataclasses.replace(WINDOW, limit=2), today=dt.date(2026, 11, 24))
    assert first.fetched == 2
    done = set(_fetched_decisions(site))
    site.requests.clear()
    second, ingested = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    assert second.fetched == 3 and second.listed == 4, "checkpointed windows are not listed again"
    assert not done & set(_fetched_decisions(site)), "archived decisions are not fetched again"
    site.requests.clear()
    third, _ = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    listed_again = {r.split("fd=")[1][:7] for r in site.requests if "SearchResults" in r}
    assert third.fetched == 0 and not listed_again & {"2019-03", "2019-08", "2021-06", "2024-07"}, \
        "windows listed in full are checkpointed"
    assert "2020-01" in listed_again, "the month with a decision robots.txt refuses is not complete"
    assert bot.store.count_decisions() == 5


def test_a_run_stopped_by_ctrl_c_resumes(settings, site, fake_embedder, monkeypatch):
    from rag.archive import Archive

    real_save, saved = Archive.save, []

    def save_then_stop(self, item, page, text, fetched_at):  # noqa: ANN001
        if len(saved) == 3:
            raise KeyboardInterrupt
        saved.append(item.ref_key)
        return real_save(self, item, page, text, fetched_at)

    monkeypatch.setattr(Archive, "save", save_then_stop)
    bot = _bot(settings, site, fake_embedder)
    with pytest.raises(KeyboardInterrupt):
        bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    monkeypatch.undo()
    site.requests.clear()
    report, ingested = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    assert report.fetched == 2 and ingested.added == 5, "the archived three are ingested, not fetched again"
    assert not {f"/{k}" for k in saved} & {r.rsplit("/", 1)[-1] for r in _fetched_decisions(site)}


def test_busy_site_is_retried_after_backing_off(settings, site, fake_embedder):
    path = "/decisions/children-s-care-services/child-protection/19-012-512"
    assert path in site.decisions
    site.faults[path] += [429, 503]
    sleeps: list[float] = []
    report, _ = _bot(settings, site, fake_embedder, sleeps).fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    assert (report.fetched, report.failed) == (5, 0)
    assert site.requests.count(path) == 3 and len([s for s in sleeps if s >= 1]) >= 2


def test_a_failing_page_gives_up_cleanly_and_the_run_goes_on(settings, site, fake_embedder):
    path = "/decisions/children-s-care-services/child-protection/19-012-512"
    site.faults[path] += [500] * 10
    report, ingested = _bot(settings, site, fake_embedder, fetch_retries=2).fetch_lgo(
        WINDOW, today=dt.date(2026, 11, 24))
    assert (report.fetched, report.failed) == (4, 1) and ingested.added == 4
    url, reason = report.failures[0]
    assert url.endswith(path) and reason == "HTTP 500"
    assert site.requests.count(path) == 3


def test_a_malformed_page_is_reported_and_kept_raw(settings, site, fake_embedder):
    path = "/decisions/children-s-care-services/child-protection/19-012-512"
    site.faults[path] += ["malformed"]
    bot = _bot(settings, site, fake_embedder)
    report, _ = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    assert report.failed == 1 and report.failures[0][0].endswith(path) and "cannot parse" in report.failures[0][1]
    assert (bot.settings.archive_dir / "failed" / "19-012-512.html").exists()
    retry, _ = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))  # the window was not checkpointed
    assert retry.fetched == 1 and retry.failed == 0


def _serve(site: Site):  # noqa: ANN202 - a context manager
    return running(site, free_port())


@pytest.mark.parametrize("count_shown", [True, False])
def test_listing_follows_every_page(seed_texts, count_shown):
    from rag.listing import list_window

    site = Site()
    for n in range(23):  # one month with more results than a page holds
        site.add(with_fields(with_ref(seed_texts["19 012 512"], f"20 000 {n:03d}"), date="02 May 2020"))
    if not count_shown:
        site.no_count_months.add("2020-05-01")
    with _serve(site):
        client = PoliteClient(site.base_url, delay=0)
        window = list_window(client, dt.date(2020, 5, 1), dt.date(2020, 5, 31))
    listed = window.listed("children-s-care-services")
    assert len(listed) == 23 and len({item.ref_key for item in listed}) == 23
    pages = [r.rsplit("=", 1)[-1] for r in site.requests if "SearchResults" in r]
    if count_shown:
        assert pages == ["1", "2", "3"] and window.shortfall is None
    else:  # followed until a page adds nothing, and never taken as complete
        assert pages == ["1", "2", "3", "4"] and "no result count" in window.shortfall


def _checkpointed(bot: Bot) -> list[str]:
    path = bot.settings.archive_dir / "checkpoints.json"
    return json.loads(path.read_text())["children-s-care-services"] if path.exists() else []


def test_a_suffixed_reference_is_archived(settings, site, fake_embedder, seed_texts):
    site.add(with_fields(with_ref(seed_texts["18 011 812"], "17 002 402b"), date="03 Apr 2019"))
    bot = _bot(settings, site, fake_embedder)
    report, ingested = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    assert (report.fetched, report.failed) == (6, 0), report.failures
    assert (bot.settings.archive_dir / "decisions" / "17-002-402b.html").exists()
    assert bot.store.registry()["17 002 402b"]["url"].endswith("/children-s-care-services/other/17-002-402b")


def test_a_shell_month_is_an_error_and_is_listed_again(settings, site, fake_embedder):
    site.shell_months.add("2019-08-01")  # the month of 18 009 360
    bot = _bot(settings, site, fake_embedder)
    report, _ = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    assert report.failed == 1 and report.fetched == 4
    url, reason = report.failures[0]
    assert "fd=2019-08-01" in url and "no result count and no decision links" in reason
    assert "search form" in reason and "--probe" in reason
    assert report.lost and report.incomplete[0][0] == "2019-08-01..2019-08-31"
    assert "2019-08-01..2019-08-31" not in _checkpointed(bot), "never checkpointed with its decisions missing"
    assert "2019-03-01..2019-03-31" in _checkpointed(bot)
    site.shell_months.clear()
    site.requests.clear()
    again, _ = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    assert any("fd=2019-08-01" in r for r in site.requests) and not any("fd=2019-03-01" in r for r in site.requests)
    assert (again.fetched, again.failed) == (1, 0) and "18 009 360" in bot.store.registry()
    assert "2019-08-01..2019-08-31" in _checkpointed(bot)


def test_a_month_without_a_count_is_archived_but_listed_again(settings, site, fake_embedder):
    site.no_count_months.add("2020-01-01")  # the month of 19 012 512
    bot = _bot(settings, site, fake_embedder)
    report, _ = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    assert report.fetched == 5, "the links on the page are still followed"
    assert report.lost and [m for m, _ in report.incomplete] == ["2020-01-01..2020-01-31"]
    assert "no result count" in report.incomplete[0][1]
    assert "2020-01-01..2020-01-31" not in _checkpointed(bot)


def test_fewer_decisions_listed_than_the_count_is_not_complete(settings, site, fake_embedder):
    site.hidden.add("/decisions/children-s-care-services/child-protection/18-009-360")
    bot = _bot(settings, site, fake_embedder)
    report, _ = bot.fetch_lgo(WINDOW, today=dt.date(2026, 11, 24))
    assert report.incomplete == [("2019-08-01..2019-08-31", "the site reports 1 results but 0 were listed")]
    assert "2019-08-01..2019-08-31" not in _checkpointed(bot) and report.lost


def test_recent_and_empty_months_are_not_checkpointed(settings, site, fake_embedder):
    bot = _bot(settings, site, fake_embedder)
    report, _ = bot.fetch_lgo(WINDOW, today=dt.date(2024, 8, 1))
    done = _checkpointed(bot)
    assert "2024-07-01..2024-07-31" not in done, "within 90 days: the site may still publish"
    assert "2019-03-01..2019-03-31" in done and "2019-04-01..2019-04-30" not in done, "empty months are listed again"
    assert report.months_empty == report.months - 5 and report.months_complete == 4


def test_requests_are_spaced_by_the_delay():
    clock = {"now": 0.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    client = PoliteClient("http://127.0.0.1:9", delay=1.0, sleep=sleep, clock=lambda: clock["now"])
    for _ in range(3):
        client._wait_turn()
        clock["now"] += 0.25  # the request itself
    assert sleeps == [0.75, 0.75]


def test_requests_look_like_a_polite_browser_and_visit_decisions_first(settings, site, fake_embedder):
    bot = _bot(settings, site, fake_embedder)
    report, _ = bot.fetch_lgo(dataclasses.replace(WINDOW, until=dt.date(2019, 12, 31)), today=dt.date(2026, 11, 24))
    assert report.fetched == 2 and not report.failures
    pages = [r for r in site.requests if r != "/robots.txt"]
    assert pages[0] == "/decisions", "a first visit picks up the site's cookies"
    listing = [h for r, h in zip(site.requests, site.headers) if "SearchResults" in r]
    for headers in listing:
        assert headers["User-Agent"] == "Mozilla/5.0 (compatible; lgo-rag/0.2; +https://example.org/contact)"
        assert "text/html" in headers["Accept"] and headers["Accept-Language"].startswith("en-GB")
        assert "lgo_session=1" in headers.get("Cookie", "")


def test_robots_rules_for_this_project_apply_and_crawl_delay_is_honoured(site):
    site.robots = "User-agent: lgo-rag\nDisallow: /decisions/children-s-care-services/other/\nCrawl-delay: 5\n"
    clock = {"now": 0.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    client = PoliteClient(site.base_url, delay=1.0, sleep=sleep, clock=lambda: clock["now"])
    assert not client.allowed(site.base_url + "/decisions/children-s-care-services/other/18-011-812")
    assert client.allowed(site.base_url + "/decisions/children-s-care-services/child-protection/18-009-360")
    client.get(site.base_url + "/decisions/children-s-care-services/child-protection/18-009-360")
    assert sleeps and min(sleeps) >= 4.9, "robots.txt asks for 5 s between requests: more than the 1 s default"
    client.close()


def test_command_line_fetch_reports_failures_and_exits_1(settings, site, tmp_path):
    site.faults["/decisions/children-s-care-services/child-protection/19-012-512"] += [500] * 10
    env = {"RAG_STORE_DIR": str(tmp_path / "store"), "RAG_ARCHIVE_DIR": str(tmp_path / "archive"),
           "RAG_LGO_BASE_URL": site.base_url, "RAG_FETCH_DELAY": "0", "RAG_FETCH_RETRIES": "0",
           "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "ingest.py", "--fetch-lgo", "--since", "2019-01-01", "--until",
                           "2024-12-31", "--json"], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["fetch"]["fetched"] == 4 and summary["added"] == 4
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "19-012-512" in errors[0] and "Traceback" not in done.stderr
    assert (tmp_path / "archive" / "decisions" / "18-011-812.html").exists()


def test_command_line_reports_a_shell_month_and_exits_1(site, tmp_path):
    site.shell_months.add("2019-08-01")
    env = {"RAG_STORE_DIR": str(tmp_path / "store"), "RAG_ARCHIVE_DIR": str(tmp_path / "archive"),
           "RAG_LGO_BASE_URL": site.base_url, "RAG_FETCH_DELAY": "0", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "ingest.py", "--fetch-lgo", "--since", "2019-08-01", "--until",
                           "2019-08-31"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "fd=2019-08-01" in errors[0] and "no result count and no decision links" in errors[0]
    assert "incomplete: 2019-08-01..2019-08-31" in done.stderr
    assert "0 listed, 0 fetched" in done.stdout and "1 incomplete" in done.stdout
