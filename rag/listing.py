"""The site's list of decisions, a month at a time, and whether a month was listed in full.

The listing is the search results endpoint, `/Decisions/SearchResults?fd=&td=&page=`: ten results
a page, "Your search has N results" in the raw HTML, each result linking to
`/decisions/<category>/<subcategory>/<reference>` (public evidence: docs/archive.md).  It lists
every category, so the fetcher keeps the links of the category asked for.

Nothing is taken on trust.  A page with neither the count nor a decision link is the search shell
the site gives some clients, and is an error naming the URL and what came back.  A month counts
as listed in full only when the count was read and as many decisions were listed as it says;
otherwise the caller is told why not, so the month is listed again next time rather than
checkpointed with decisions missing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from rag.fetch import FetchError, PoliteClient
from rag.refs import REF_KEY

PER_PAGE = 10
MAX_PAGES = 500  # a month without a count is followed at most this far (5,000 results)
_COUNT = re.compile(r"Your search has\s+([\d,]+)\s+results?", re.I)
# A decision's address in an href, absolute or not, with whatever tail: "/", "?displaypref=1", "#x".
_LINK = re.compile(rf"""href\s*=\s*["']?(?:https?://[^/"'\s>]+)?/decisions/([a-z0-9-]+)/([a-z0-9-]+)/({REF_KEY})"""
                   r"""/?(?:[?#][^"'\s>]*)?(?=["'\s>])""", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


class ListingError(FetchError):
    """A listing page that is not a list of results; the message names the URL and what came back."""


@dataclass(frozen=True)
class Listed:
    """A decision found in the listing: its page's URL and the reference in dashed form."""

    url: str
    category: str
    subcategory: str
    ref_key: str


@dataclass
class ListingPage:
    """One results page as read: the count it states (None when absent) and its decision links."""

    url: str
    count: int | None
    links: list[Listed]
    looks_like: str  # what came back, in words, for messages


@dataclass
class Window:
    """One month's listing: what the site says it holds and what was listed."""

    since: dt.date
    until: dt.date
    count: int | None = None
    seen: dict[str, Listed] = field(default_factory=dict)  # every category, by reference
    errors: list[tuple[str, str]] = field(default_factory=list)  # (url, reason) of pages that failed
    pages: int = 0

    def listed(self, category: str | None) -> list[Listed]:
        return [item for item in self.seen.values() if category is None or item.category == category.lower()]

    @property
    def shortfall(self) -> str | None:
        """Why the month cannot be taken as listed in full, or None."""
        if self.errors:
            return f"{len(self.errors)} listing page(s) failed"
        if self.count is None:
            return f"the site showed no result count; {len(self.seen)} decisions listed by following pages"
        if len(self.seen) < self.count:
            return f"the site reports {self.count} results but {len(self.seen)} were listed"
        return None


def month_windows(since: dt.date, until: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    """Calendar-month windows covering since..until (the first and last may be partial)."""
    start = since
    while start <= until:
        next_month = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        yield start, min(until, next_month - dt.timedelta(days=1))
        start = next_month


def listing_path(since: dt.date, until: dt.date, page: int) -> str:
    return f"/Decisions/SearchResults?fd={since.isoformat()}&td={until.isoformat()}&page={page}"


def read_listing(text: str, url: str, client: PoliteClient) -> ListingPage:
    """The count and the decision links of one results page (links rebuilt on the client's site)."""
    match = _COUNT.search(text)
    count = int(match.group(1).replace(",", "")) if match else None
    links: dict[str, Listed] = {}
    for cat, sub, key in _LINK.findall(text):
        key = key.lower()
        path = f"/decisions/{cat.lower()}/{sub.lower()}/{key}"
        links.setdefault(key, Listed(client.url(path), cat.lower(), sub.lower(), key))
    return ListingPage(url, count, list(links.values()), describe(text))


def describe(text: str) -> str:
    """A page in a few words: its title, size, and whether it is a search form."""
    title = _TITLE.search(text)
    name = re.sub(r"\s+", " ", title.group(1)).strip() if title else "a page without a title"
    form = " with a search form" if re.search(r"<form\b", text, re.I) else ""
    return f"'{name}' ({len(text.encode('utf-8')):,} bytes){form}"


def _not_results(page: ListingPage) -> str:
    return (f"no result count and no decision links: the site sent {page.looks_like}; it may be answering "
            "this client with its search page only. Run `ingest.py --fetch-lgo --probe` and see docs/archive.md")


def list_window(client: PoliteClient, since: dt.date, until: dt.date) -> Window:
    """Every decision the site lists for the window, page by page.  The first page failing or
    being the shell raises ListingError; a later page failing is recorded in `errors`."""
    window = Window(since, until)
    url = client.url(listing_path(since, until, 1))
    first = read_listing(client.get(url), url, client)
    if first.count is None and not first.links:
        raise ListingError(f"{url}: {_not_results(first)}")
    window.count, page, current = first.count, 1, first
    while True:
        new = [item for item in current.links if item.ref_key not in window.seen]
        window.seen.update((item.ref_key, item) for item in new)
        window.pages = page
        if window.count is not None:
            if page >= math.ceil(window.count / PER_PAGE):
                return window
        elif not new or page >= MAX_PAGES:  # no count: follow pages until one adds nothing
            return window
        page += 1
        url = client.url(listing_path(since, until, page))
        try:
            current = read_listing(client.get(url), url, client)
        except FetchError as exc:
            window.errors.append((url, str(exc).removeprefix(f"{url}: ")))
            return window
        if window.count is not None and not current.links:
            window.errors.append((url, _not_results(current) if current.count is None else
                                  f"page {page} of {math.ceil(window.count / PER_PAGE)} listed no decisions"))
            return window
