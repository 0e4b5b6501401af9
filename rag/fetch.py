"""A polite HTTP client for the LGO website (the listing of decisions is in rag.listing).

The site is a public service run on public money: one request a second by default (longer if
robots.txt asks with Crawl-delay), robots.txt honoured for this project's name, a timeout on every
request, and back-off when the site says it is busy (429, honouring Retry-After) or failing (5xx).

Collectors report that the results endpoint answers clients that do not look like a browser with
its search form and no results.  So the client asks as a browser would, openly: `Accept` and
`Accept-Language` headers, a User-Agent with the `Mozilla/5.0 (compatible; ...)` token that
still names this project and `RAG_FETCH_CONTACT`, and a first visit to /decisions that picks up
the site's cookies before any listing.  Nothing is disguised and no access control is bypassed.
Everything that touches the network is here, behind `PoliteClient`, so tests can point it at a
local copy of the site.
"""

from __future__ import annotations

import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx

from rag.errors import RagError

PRODUCT = "lgo-rag"  # the name robots.txt rules for this project would use
USER_AGENT = "Mozilla/5.0 (compatible; " + PRODUCT + "/0.2; +{contact})"
BROWSER_HEADERS = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "Accept-Language": "en-GB,en;q=0.9"}
FIRST_VISIT = "/decisions"  # where a browser arrives before it searches
MAX_BACKOFF = 60.0


class FetchError(RagError):
    """A page could not be fetched; the message names the URL and why."""


@dataclass
class PoliteClient:
    """GETs pages one at a time, spaced by `delay` seconds, with retries and robots.txt."""

    base_url: str
    contact: str = "https://github.com/lgo-rag"
    delay: float = 1.0
    timeout: float = 30.0
    retries: int = 3
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    requests: int = 0
    _last: float | None = field(default=None, repr=False)
    crawl_delay: float | None = None  # asked for by robots.txt, once read
    robots_note: str | None = None  # what robots.txt was, once read (for --probe)
    first_visit: str | None = None  # how the first visit went, once made (for --probe)
    _robots: urllib.robotparser.RobotFileParser | None = field(default=None, repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)

    @property
    def user_agent(self) -> str:
        return USER_AGENT.format(contact=self.contact)

    def url(self, path: str) -> str:
        return urljoin(self.base_url.rstrip("/") + "/", path.lstrip("/"))

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout, follow_redirects=True,
                                      headers={"User-Agent": self.user_agent, **BROWSER_HEADERS})
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None  # a later request opens a new connection pool, and visits first again
            self.first_visit = None

    def _wait_turn(self) -> None:
        if self._last is not None:
            remaining = self.delay - (self.clock() - self._last)
            if remaining > 0:
                self.sleep(remaining)
        self._last = self.clock()

    def allowed(self, url: str) -> bool:
        """robots.txt, read once: a missing file (4xx) allows all; an unreadable one (5xx,
        network) allows nothing, as the robots standard asks."""
        if self._robots is None:
            robots = urllib.robotparser.RobotFileParser()
            try:
                status, text = self._get(self.url("/robots.txt"), check_robots=False)
            except FetchError as exc:
                status, text = 503, str(exc)
            if status >= 500:
                robots.disallow_all = True
                self.robots_note = f"unreadable (HTTP {status}): nothing is fetched, as the robots standard asks"
            elif status >= 400:
                robots.allow_all = True
                self.robots_note = f"none (HTTP {status}): everything allowed"
            else:
                robots.parse(text.splitlines())
                self.robots_note = f"read (HTTP {status}, {len(text.splitlines())} lines)"
            self._robots = robots
            asked = robots.crawl_delay(PRODUCT)
            if asked is not None:
                self.crawl_delay = float(asked)
                self.delay = max(self.delay, self.crawl_delay)
        # rules are matched on the product name: the full User-Agent starts with "Mozilla"
        return self._robots.can_fetch(PRODUCT, url)

    def visit_first(self) -> str:
        """GET /decisions once per connection pool, as a browser arriving at the listing would, so
        the site's cookies go with every later request.  Its failure is not fatal (the listing
        itself says whether it serves results) but is kept in `first_visit` for --probe."""
        if self.first_visit is None:
            url = self.url(FIRST_VISIT)
            self.first_visit = "skipped: disallowed by robots.txt"
            if self.allowed(url):
                try:
                    status, _ = self._get(url)
                    cookies = ", ".join(sorted(self._client().cookies.keys())) or "none"
                    self.first_visit = f"HTTP {status}, cookies: {cookies}"
                except FetchError as exc:
                    self.first_visit = f"failed: {exc}"
        return self.first_visit

    def get(self, url: str) -> str:
        """The page's text, or FetchError after the retries."""
        if not self.allowed(url):
            raise FetchError(f"{url}: disallowed by robots.txt")
        self.visit_first()
        status, text = self._get(url)
        if status >= 400:
            raise FetchError(f"{url}: HTTP {status}")
        return text

    def _get(self, url: str, check_robots: bool = True) -> tuple[int, str]:
        """(status, text), retrying 429, 5xx, timeouts and dropped connections with back-off."""
        for attempt in range(self.retries + 1):
            self._wait_turn()
            self.requests += 1
            try:
                response = self._client().get(url)
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if attempt == self.retries:
                    raise FetchError(f"{url}: {problem} (after {attempt + 1} tries)") from None
                self.sleep(min(MAX_BACKOFF, 2.0 ** attempt))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self.retries:
                    return response.status_code, response.text
                self.sleep(_backoff(response, attempt))
                continue
            return response.status_code, response.text
        raise AssertionError("unreachable")


def _backoff(response: httpx.Response, attempt: int) -> float:
    try:
        asked = float(response.headers.get("Retry-After", ""))
    except ValueError:
        asked = 0.0
    return min(MAX_BACKOFF, max(asked, 2.0 ** attempt))
