"""`ingest.py --fetch-lgo --probe`: check the fetcher against today's website in a few requests.

The test double (tests/lgo_site.py) copies the site as far as public evidence shows it; some
things the evidence leaves open (docs/archive.md).  The probe asks the real site once for each
and says what it found, writing nothing: robots.txt and what it allows this project, the first
visit and its cookies, one listing page (count, links), one decision page (where the council line
sat, the header fields, the first paragraphs with their numbers), and the category's own page
asked for the same dates (does it filter by them?).  About five requests, a second apart.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field

from rag.errors import RagError
from rag.fetch import PRODUCT, FetchError, PoliteClient
from rag.lgo_html import read_page
from rag.listing import PER_PAGE, ListingPage, listing_path, month_windows, read_listing
from rag.parse import parse_decision

SHOWN_PARAGRAPHS = 5
_CARD_DATE = re.compile(r"\b(\d{2}-[A-Z][a-z]{2}-\d{4})\b")  # "26-Aug-2025" on result cards


@dataclass
class ProbeReport:
    """What the probe found; `problems` is empty when the fetcher can read the site."""

    robots: str = ""
    first_visit: str = ""
    listing: dict = field(default_factory=dict)
    decision: dict = field(default_factory=dict)
    category_page: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def probe(client: PoliteClient, since: dt.date, until: dt.date, category: str) -> ProbeReport:
    """Probe the site with the last month of since..until (see module docstring)."""
    report = ProbeReport()
    month_start, month_end = list(month_windows(since, until))[-1]
    listing_url = client.url(listing_path(month_start, month_end, 1))
    client.allowed(listing_url)
    report.robots = f"{client.robots_note}; crawl-delay: {client.crawl_delay or 'none'}"
    report.first_visit = f"{client.url('/decisions')}: {client.visit_first()}"
    page = _listing(client, listing_url, category, report)
    if page is not None:
        in_category = [item for item in page.links if item.category == category.lower()]
        if page.links:
            _decision(client, (in_category or page.links)[0].url, report)
        elif page.count == 0:
            report.problems.append("listing: the site lists no decisions for that month; choose another with --until")
        elif page.count:
            report.problems.append("listing: no decision link to try on the page")
    _category_page(client, category, month_start, month_end, report)
    return report


def _allowed(client: PoliteClient, url: str, what: str, report: ProbeReport) -> bool:
    allowed = client.allowed(url)
    if not allowed:
        report.problems.append(f"{what}: robots.txt disallows {url} for {PRODUCT}")
    return allowed


def _listing(client: PoliteClient, url: str, category: str, report: ProbeReport) -> ListingPage | None:
    report.listing = {"url": url, "allowed": _allowed(client, url, "listing", report)}
    try:
        page = read_listing(client.get(url), url, client)
    except FetchError as exc:
        report.problems.append(f"listing: {exc}")
        return None
    report.listing.update(count=page.count, links=len(page.links), page=page.looks_like,
                          in_category=sum(item.category == category.lower() for item in page.links),
                          examples=[item.url for item in page.links[:3]])
    if page.count is None and not page.links:
        report.problems.append(f"listing: no result count and no decision links: the site sent {page.looks_like} "
                               "(the search shell?)")
    elif page.count is None:
        report.problems.append("listing: no result count on the page, so no month can be checked complete")
    elif page.count and len(page.links) < min(page.count, PER_PAGE):
        report.problems.append(f"listing: the site reports {page.count} results but the page links "
                               f"{len(page.links)} decisions")
    return page


def _decision(client: PoliteClient, url: str, report: ProbeReport) -> None:
    report.decision = {"url": url, "allowed": _allowed(client, url, "decision", report)}
    try:
        read = read_page(client.get(url), url)
        decision = parse_decision(read.text, source=url)
    except RagError as exc:
        report.problems.append(f"decision: {exc}")
        return
    report.decision.update(
        council_line=read.header, found=read.header_place, fields=read.fields, ref=decision.ref,
        council=decision.council, category=decision.category, subcategory=decision.subcategory,
        outcome=decision.outcome, decision_date=decision.decision_date.isoformat() if decision.decision_date else None,
        paragraphs=len(decision.paragraphs), exact=all(p.exact for p in decision.paragraphs),
        first=[{"number": p.number, "section": p.section, "text": _short(p.text)}
               for p in decision.paragraphs[:SHOWN_PARAGRAPHS]])
    missing = [name for name in ("category", "subcategory", "outcome", "decision_date")
               if report.decision[name] is None]
    if missing:
        report.problems.append(f"decision: header field(s) not found: {', '.join(missing)}")
    if not decision.paragraphs:
        report.problems.append("decision: no paragraphs found after the header")


def _category_page(client: PoliteClient, category: str, since: dt.date, until: dt.date,
                   report: ProbeReport) -> None:
    """The category's own page asked for the month: do the dates on its results stay inside it?"""
    url = client.url(f"/decisions/{category}?fd={since.isoformat()}&td={until.isoformat()}")
    report.category_page = {"url": url, "allowed": client.allowed(url)}
    try:
        text = client.get(url)
    except FetchError as exc:
        report.category_page["verdict"] = f"not read ({exc})"
        return
    page = read_listing(text, url, client)
    dates = sorted(dt.datetime.strptime(d, "%d-%b-%Y").date() for d in _CARD_DATE.findall(text))
    outside = [d for d in dates if not since <= d <= until]
    report.category_page.update(links=len(page.links), count=page.count,
                                dates=[dates[0].isoformat(), dates[-1].isoformat()] if dates else [],
                                outside=len(outside))
    if not dates:
        verdict = "no dated results on the page: cannot tell"
    elif outside:
        verdict = (f"{len(outside)} of {len(dates)} results fall outside the dates asked for: it does not filter "
                   "by them, so the fetcher lists every category by month")
    else:
        verdict = "every result falls inside the dates asked for: it may filter by them (see docs/archive.md)"
    report.category_page["verdict"] = verdict


def _short(text: str, width: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "\u2026"


def _robots_word(part: dict) -> str:
    return "" if part.get("allowed", True) else " (DISALLOWED by robots.txt)"


def format_probe(report: ProbeReport) -> str:
    """The probe's findings for a terminal."""
    out = [f"robots.txt: {report.robots}", f"first visit: {report.first_visit}"]
    listing = report.listing
    out.append(f"listing: {listing.get('url')}{_robots_word(listing)}")
    if "links" in listing:
        count = "not found" if listing["count"] is None else f"{listing['count']:,}"
        out.append(f"  page: {listing['page']}; result count: {count}; decision links: {listing['links']} "
                   f"({listing['in_category']} in the category)")
        out += [f"  e.g. {url}" for url in listing["examples"]]
    decision = report.decision
    if decision:
        out.append(f"decision: {decision['url']}{_robots_word(decision)}")
    if "council_line" in decision:
        out.append(f"  council line: {decision['council_line']!r}, found {decision['found']}")
        out.append("  fields: " + "; ".join(f"{k}: {v}" for k, v in decision["fields"].items()))
        numbers = "exact (numbered lists)" if decision["exact"] else "inferred (no numbered lists)"
        out.append(f"  parsed: {decision['ref']}, {decision['council']}, {decision['category']} > "
                   f"{decision['subcategory']}, {decision['outcome']}, {decision['decision_date']}; "
                   f"{decision['paragraphs']} paragraphs, numbers {numbers}")
        out += [f"  paragraph {p['number']} ({p['section']}): {p['text']}" for p in decision["first"]]
    category = report.category_page
    out.append(f"category page: {category.get('url')}{_robots_word(category)}")
    out.append(f"  {category.get('verdict', '')}")
    if report.problems:
        out.append(f"NOT OK: {len(report.problems)} problem(s), each on an error: line")
    else:
        out.append("OK: the fetcher reads the listing and the decision page as the tests expect")
    return "\n".join(out)
