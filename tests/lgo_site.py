"""A copy of the LGO website for tests, served on loopback, with the quirks public evidence shows.

Decision pages are built from the bundled text decisions, turned back into the markup they were
copied from (sources: the LGO scraper in worldwidelaw/legal-sources `sources/UK/LGO/` and its
samples of July 2026; the collector in ghost-dev420/cumbria-public-records-tracker; stored copies
of lgo.org.uk decision and listing pages):

- the statement is `<article id="article">`; the "Council (18 011 812)" line is an `<h1>` (the
  Cumbria extractor reads the reference from the page's h1; the legal-sources scraper, which
  strips `<header>` elements from the article, never found an h1 in it and lost that line), so
  here it sits in a `<header>`, inside the article or before it (`header=`);
- Category / Decision / Decision date are `class="label"` / `class="value"` pairs, and the
  category value holds "A > B" as two links (legal-sources samples split it into three text
  nodes: "A", ">", "B"); dates read "06 Sep 2022";
- paragraphs are `<ol>` items, one list per section, numbered by the browser; a list may be
  interrupted by a top-level `<ul>`, after which the next `<ol>` restarts at 1 on screen while
  the official numbering runs on (stored copy of 18 009 200: bullets at the numbers' indent);
  nested lists sit inside their item;
- listing pages: /Decisions/SearchResults?fd=&td=&page= (10 a page, "Your search has N results"),
  result cards linking to /decisions/<category>/<subcategory>/<ref>, the links carrying a
  trailing slash, a query (`?displaypref=1`, seen in stored copies' addresses), a fragment or an
  absolute address;
- a client that does not look like a browser gets the search shell (the form, no results) from
  the results endpoint, as the Cumbria collector reports; so may any month (`shell_months`), and
  a page may lack the count (`no_count_months`).

Faults are scripted per path: a status to return some number of times, or a malformed page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from rag.models import Decision
from rag.parse import SECTION_HEADINGS, parse_decision, slug

PER_PAGE = 10
ROBOTS = "User-agent: *\nDisallow: /decisions/children-s-care-services/secret/\n"
SESSION_COOKIE = "lgo_session"
HEADER_PLACES = ("article-header", "before-article", "article-h1", "paragraph")
LINK_FORMS = ("{path}", "{path}/", "{path}?displaypref=1", "{path}#article", "https://www.lgo.org.uk{path}")
_ITEM = re.compile(r"^(?P<indent> +)(?:(?P<num>\d+)\.|(?P<bullet>\u2022))\s+(?P<text>.*)$")
_DASH = re.compile(r"^- (?P<text>.*)$")
_FIELD = re.compile(r"^(Category|Decision date|Decision) : (.*)$")
_HEADER = re.compile(r"^(?P<council>\S.*?) \((?P<ref>[\d ]+[a-z]?)\)$")
_END = "Investigator's decision on behalf of the Ombudsman"
COOKIE_BANNER = ('<div class="cookie-banner"><h2>Privacy settings</h2><p>LGO logogram</p>'
                 '<p>Review your privacy settings</p><button>Accept</button></div>')
SEARCH_FORM = ('<form id="decisionSearch" action="/decisionsnew/newsearchpost" method="post">'
               '<label class="label" for="k">Keywords</label><input id="k" name="k">'
               '<label class="label" for="fd">From</label><input id="fd" name="fd">'
               '<select name="category"><option>Children\'s care services</option></select>'
               '<button type="submit">Search</button></form>')
NAV = ('<nav><ul><li><a href="/decisions">Decisions</a></li>'
       '<li><a href="/decisions/children-s-care-services">Children\'s care services</a></li>'
       '<li><a href="/decisions/2024/u/Listing?aname=Kent+County+Council">Council performance</a></li></ul></nav>')


def decision_page(text: str, header: str = "article-header") -> str:
    """A bundled text decision as the LGO website publishes it, the council line placed `header`."""
    assert header in HEADER_PLACES, header
    lines = text.replace("\r\n", "\n").split("\n")
    start = next(i for i, line in enumerate(lines) if _HEADER.match(line.strip()))
    end = next((i for i, line in enumerate(lines) if line.strip() == _END), len(lines))
    title = html.escape(lines[start].strip())
    fields, body = _split_fields(lines[start + 1:end])
    h1 = f'<header class="articleHeader"><h1>{title}</h1></header>'
    parts = ['<html><head><title>Decision - LGO</title><script>var x = "<li>not a paragraph</li>";</script>'
             "</head><body>", COOKIE_BANNER, NAV]
    if header == "before-article":
        parts.append(h1)
    parts.append('<article id="article">')
    parts.append({"article-header": h1, "article-h1": f"<h1>{title}</h1>",
                  "paragraph": f"<p><strong>{title}</strong></p>"}.get(header, ""))
    parts.append(_fields_html(fields))
    parts += _body_html(body)
    parts.append(f"<p>{html.escape(_END)}</p><p><a href=\"javascript:window.print()\">Print this page</a></p>")
    parts.append("</article><footer><p>LGO logogram</p></footer></body></html>")
    return "\n".join(parts)


def _split_fields(lines: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """The label/value lines right after the council line, and the rest."""
    fields, i = [], 0
    while i < len(lines) and (not lines[i].strip() or _FIELD.match(lines[i].strip())):
        match = _FIELD.match(lines[i].strip())
        if match:
            fields.append((match.group(1), match.group(2)))
        i += 1
    return fields, lines[i:]


def _fields_html(fields: list[tuple[str, str]]) -> str:
    """Label/value pairs; the category's two parts are links, the outcome sits in its own span."""
    e = html.escape
    out = ['<div class="articleHeader-meta">']
    for label, value in fields:
        if label == "Category":
            head, _, tail = (part.strip() for part in value.partition(">"))
            value_html = (f'<a href="/decisions/{slug(head)}">{e(head)}</a> <span class="sep">&gt;</span> '
                          f'<a href="/decisions/{slug(head)}/{slug(tail)}">{e(tail)}</a>')
        elif label == "Decision":
            value_html = f'<span class="outcome outcome-{slug(value)}">{e(value)}</span>'
        else:
            value_html = e(value)
        out.append(f'<p><span class="label">{e(label)} :</span> <span class="value">{value_html}</span></p>')
    return "".join(out) + "</div>"


def _body_html(lines: list[str]) -> list[str]:
    """Text lines back to markup: each run of top-level items one <ol> or <ul> (so a bullet list
    between numbered items splits the <ol>, as on the site), deeper items nested in their item."""
    out: list[str] = []
    top: str | None = None  # the open top-level list
    nested: str | None = None  # the open list inside the open item

    def close(level: str) -> None:
        nonlocal top, nested
        if nested:
            out.append(f"</{nested}>")
            nested = None
        if top and level == "top":
            out.append(f"</li></{top}>")
            top = None
        elif top:
            out.append("</li>")

    for raw in lines:
        line = raw.rstrip()
        if not line.strip():
            continue
        item, dash = _ITEM.match(line), _DASH.match(line)
        text = html.escape((item or dash).group("text") if (item or dash) else line.strip())
        kind = "ol" if item and item.group("num") else "ul"
        if (item and len(item.group("indent")) <= 2) or dash:
            if top != kind:
                close("top")
                out.append(f"<{kind}>")
                top = kind
            else:
                close("item")
            out.append(f"<li>{text}")
        elif item and top:
            if nested != kind:
                if nested:
                    out.append(f"</{nested}>")
                out.append(f"<{kind}>")
                nested = kind
            out.append(f"<li>{text}</li>")
        else:
            close("top")
            out.append(_block(line.strip(), text))
    close("top")
    return out


def _block(plain: str, text: str) -> str:
    key = plain.replace("\u2019", "'").lower()
    if key == "back to top":
        return '<p class="back-to-top"><a href="#top">Back to top</a></p>'
    if key.startswith("summary:"):
        return f"<p><strong>Summary:</strong> {text.split(':', 1)[1].strip()}</p>"
    if key in SECTION_HEADINGS or key == "the ombudsman's final decision:":
        return f"<h2>{text}</h2>"
    if len(plain) < 120 and not plain.endswith((".", ";", ":", ",", ")", "?", "\u201d", '"')):
        return f"<h3>{text}</h3>"
    return f"<p>{text}</p>"


def with_fields(text: str, **fields: str) -> str:
    """The text with header fields (category "A > B", outcome, date) set, as the site shows them."""
    labels = {"category": "Category", "outcome": "Decision", "date": "Decision date"}
    replaced = {labels[k] for k in fields}
    kept = [line for line in text.split("\n")
            if not ((m := _FIELD.match(line.strip())) and m.group(1) in replaced)]
    start = next(i for i, line in enumerate(kept) if _HEADER.match(line.strip()))
    new = [f"{labels[k]} : {v}" for k, v in fields.items()]
    return "\n".join(kept[:start + 1] + ["", *"\n\n".join(new).split("\n"), ""] + kept[start + 1:])


def with_ref(text: str, ref: str) -> str:
    """The text under another case reference."""
    return re.sub(r"\((\d{2} \d{3} \d{3}[a-z]?)\)", f"({ref})", text, count=1)


def listing_page(cards: list[tuple[str, Decision]], total: int | None, page: int) -> str:
    """One page of search results; `total` None leaves the count out."""
    e = html.escape
    parts = ["<html><head><title>Decision search results</title></head><body>", COOKIE_BANNER, NAV,
             SEARCH_FORM, "<main>"]
    if total is not None:
        parts.append(f"<p class=\"results-count\">Your search has {total:,} results</p>")
    parts.append('<ul class="search-results">')
    for link, d in cards:
        date = d.decision_date.strftime("%d-%b-%Y") if d.decision_date else ""
        parts.append(f'<li><h3><a href="{e(link)}">{e(d.council)} ({e(d.ref)})</a></h3>'
                     f"<p>Statement {e(d.outcome or '')} {e(d.subcategory or '')} {date}</p>"
                     f"<p>Summary: {e((d.summary or '')[:80])}</p></li>")
    parts.append(f'</ul><p><a href="?page={page + 1}">Next</a></p></main></body></html>')
    return "\n".join(parts)


def shell_page() -> str:
    """What the results endpoint gives a client it does not serve: the search form, no results."""
    return "\n".join(["<html><head><title>Decisions - LGO</title></head><body>", COOKIE_BANNER, NAV,
                      "<main><h1>Search decisions</h1>", SEARCH_FORM, "</main></body></html>"])


def category_page(cards: list[tuple[str, Decision]], name: str) -> str:
    """/decisions/<category>: the most recent reports in the category, whatever dates are asked."""
    body = listing_page(cards, None, 1).replace("<main>", f"<main><h1>{html.escape(name)}</h1>"
                                                "<p>Recent reports in this category are shown below:</p>")
    return body


@dataclass
class Site:
    """The pages, their quirks and the scripted faults; `requests` records every path asked for."""

    decisions: dict[str, tuple[Decision, str]] = field(default_factory=dict)  # path -> (decision, html)
    faults: dict[str, list[int | str]] = field(default_factory=lambda: defaultdict(list))
    requests: list[str] = field(default_factory=list)
    agents: set[str] = field(default_factory=set)
    headers: list[dict[str, str]] = field(default_factory=list)
    robots: str = ROBOTS
    browsers_only: bool = True  # the results endpoint gives other clients the shell
    shell_months: set[str] = field(default_factory=set)  # fd values answered with the shell
    no_count_months: set[str] = field(default_factory=set)  # fd values whose pages lack the count
    hidden: set[str] = field(default_factory=set)  # paths counted in the results but never shown
    link_forms: tuple[str, ...] = LINK_FORMS  # how result cards link to decisions, in turn
    base_url: str = ""
    _link_of: dict[str, str] = field(default_factory=dict)

    def add(self, text: str, subcategory_slug: str | None = None, header: str = "article-header") -> str:
        """Publish a text decision; returns its path."""
        decision = parse_decision(text)
        path = (f"/decisions/{slug(decision.category or '')}/{subcategory_slug or slug(decision.subcategory or '')}"
                f"/{decision.ref_key}")
        self.decisions[path] = (decision, decision_page(text, header))
        self._link_of[path] = self.link_forms[len(self._link_of) % len(self.link_forms)].format(path=path)
        return path

    def in_window(self, since: dt.date, until: dt.date) -> list[str]:
        return sorted(path for path, (d, _) in self.decisions.items()
                      if d.decision_date and since <= d.decision_date <= until)

    def cards(self, paths: list[str]) -> list[tuple[str, Decision]]:
        return [(self._link_of[p], self.decisions[p][0]) for p in paths]


def _looks_like_a_browser(headers: dict[str, str]) -> bool:
    """What the double asks of a client before it serves results (the real rule is unknown)."""
    return ("Mozilla/5.0" in headers.get("User-Agent", "") and "text/html" in headers.get("Accept", "")
            and bool(headers.get("Accept-Language")) and f"{SESSION_COOKIE}=" in headers.get("Cookie", ""))


@contextlib.contextmanager
def running(site: Site, port: int) -> Iterator[Site]:
    """The site served on a free loopback port for the length of a `with` block (a fixture's
    yield), its address in `site.base_url`; always stopped."""
    server = serve(site, port)
    site.base_url = f"http://127.0.0.1:{port}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def serve(site: Site, port: int) -> ThreadingHTTPServer:
    """Start the site on 127.0.0.1:port in a thread; call `.shutdown()` to stop it."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            url = urlparse(self.path)
            headers = dict(self.headers.items())
            site.requests.append(self.path)
            site.headers.append(headers)
            site.agents.add(headers.get("User-Agent", ""))
            scripted = site.faults.get(url.path)
            if scripted:
                fault = scripted.pop(0)
                if fault == "malformed":
                    return self._send(200, "<html><body><p>Page not available</p></body></html>")
                return self._send(int(fault), "error", {"Retry-After": "0"} if fault == 429 else None)
            if url.path == "/robots.txt":
                return self._send(200, site.robots, content_type="text/plain")
            if url.path == "/decisions":
                return self._send(200, shell_page(), {"Set-Cookie": f"{SESSION_COOKIE}=1; Path=/"})
            if url.path == "/Decisions/SearchResults":
                return self._listing(parse_qs(url.query), headers)
            if url.path.count("/") == 2 and url.path.startswith("/decisions/"):
                return self._category(url.path.rsplit("/", 1)[1])
            if url.path in site.decisions:
                return self._send(200, site.decisions[url.path][1])
            return self._send(404, "not found")

        def _listing(self, query: dict, headers: dict[str, str]) -> None:
            fd, td = query["fd"][0], query["td"][0]
            if (site.browsers_only and not _looks_like_a_browser(headers)) or fd in site.shell_months:
                return self._send(200, shell_page())
            since, until = (dt.date.fromisoformat(_padded(v)) for v in (fd, td))
            page = int(query.get("page", ["1"])[0])
            found = site.in_window(since, until)
            total = None if fd in site.no_count_months else len(found)
            shown = [p for p in found[(page - 1) * PER_PAGE: page * PER_PAGE] if p not in site.hidden]
            cards = site.cards(shown)
            return self._send(200, listing_page(cards, total, page))

        def _category(self, name: str) -> None:
            newest = sorted((p for p, (d, _) in site.decisions.items() if p.split("/")[2] == name),
                            key=lambda p: site.decisions[p][0].decision_date or dt.date.min, reverse=True)
            return self._send(200, category_page(site.cards(newest[:PER_PAGE]), name))

        def _send(self, status: int, body: str, headers: dict | None = None,
                  content_type: str = "text/html; charset=utf-8") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _padded(value: str) -> str:
    """The site accepts unpadded dates (2024-7-1) as well as padded ones."""
    year, month, day = value.split("-")
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
