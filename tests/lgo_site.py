"""A small copy of the LGO website for tests, built from the bundled decisions and served on loopback.

Pages follow the structure of lgo.org.uk: listing pages at /Decisions/SearchResults?fd=&td=&page=
(10 results a page, "Your search has N results", links to /decisions/<category>/<subcategory>/<ref>),
decision pages whose statement is an <article id="article"> with label/value header fields and one
<ol> per section (numbers drawn by the browser, so absent from the HTML), and robots.txt.  Faults
are scripted per path: a status to return some number of times, or a malformed page.
"""

from __future__ import annotations

import datetime as dt
import html
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from rag.models import Decision

PER_PAGE = 10
ROBOTS = "User-agent: *\nDisallow: /decisions/children-s-care-services/secret/\n"


def decision_page(decision: Decision) -> str:
    """The decision as the LGO website publishes it."""
    e = html.escape
    category = f"{decision.category} > {decision.subcategory}"
    date = decision.decision_date.strftime("%d %b %Y") if decision.decision_date else ""
    parts = ['<html><head><title>LGO</title><script>var x = "<li>not a paragraph</li>";</script></head><body>',
             '<nav><ul><li>Home</li><li>Decisions</li></ul></nav>', '<article id="article">',
             f"<p><strong>{e(decision.council)} ({e(decision.ref)})</strong></p>", '<div class="summary-header">']
    for label, value in (("Category", category), ("Decision", decision.outcome or ""), ("Decision date", date)):
        if not value or "None" in value:
            continue
        parts.append(f'<div><span class="label">{label} :</span> <span class="value">{e(value)}</span></div>')
    parts.append("</div><h2>The Ombudsman's final decision:</h2>")
    parts.append(f"<p>Summary: {e(decision.summary or '')}</p>")
    section = heading = None
    open_list = False
    for p in decision.paragraphs:
        if p.section != section or p.heading != heading:
            if open_list:
                parts.append('</ol><p><a href="#top">Back to top</a></p>')
            if p.section != section:
                parts.append(f"<h2>{e(p.section)}</h2>")
            if p.heading and p.heading != heading:
                parts.append(f"<h3>{e(p.heading)}</h3>")
            parts.append("<ol>")
            section, heading, open_list = p.section, p.heading, True
        lines = p.text.split("\n")
        parts.append(f"<li>{e(lines[0])}{_nested(lines[1:])}</li>")
    parts.append("</ol><p>Investigator's decision on behalf of the Ombudsman</p></article>")
    parts.append('<footer><a href="/print">Print this page</a></footer></body></html>')
    return "\n".join(parts)


def _nested(lines: list[str]) -> str:
    """Nested items as lists: "1. ..." lines in an <ol>, "• ..." lines in a <ul>."""
    out, current = [], None
    for line in lines:
        kind = "ul" if line.startswith(("\u2022", "- ")) else "ol"
        text = line[1:].strip() if kind == "ul" else line.split(". ", 1)[-1]
        if kind != current:
            out.append((f"</{current}>" if current else "") + f"<{kind}>")
            current = kind
        out.append(f"<li>{html.escape(text)}</li>")
    return "".join(out) + (f"</{current}>" if current else "")


def listing_page(links: list[str], total: int) -> str:
    items = "".join(f'<li><a href="{link}">Decision {link.rsplit("/", 1)[1]}</a></li>' for link in links)
    return f"<html><body><p>Your search has {total} results</p><ul class='results'>{items}</ul></body></html>"


@dataclass
class Site:
    """The pages and the scripted faults; `requests` records every path asked for."""

    decisions: dict[str, tuple[Decision, str]] = field(default_factory=dict)  # path -> (decision, html)
    faults: dict[str, list[int | str]] = field(default_factory=lambda: defaultdict(list))
    requests: list[str] = field(default_factory=list)
    agents: set[str] = field(default_factory=set)

    def add(self, decision: Decision, subcategory_slug: str | None = None) -> str:
        from rag.parse import slug

        path = (f"/decisions/{slug(decision.category or '')}/{subcategory_slug or slug(decision.subcategory or '')}"
                f"/{decision.ref.replace(' ', '-')}")
        self.decisions[path] = (decision, decision_page(decision))
        return path

    def in_window(self, since: dt.date, until: dt.date) -> list[str]:
        return sorted(path for path, (d, _) in self.decisions.items()
                      if d.decision_date and since <= d.decision_date <= until)


def serve(site: Site, port: int) -> ThreadingHTTPServer:
    """Start the site on 127.0.0.1:port in a thread; call `.shutdown()` to stop it."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            url = urlparse(self.path)
            site.requests.append(self.path)
            site.agents.add(self.headers.get("User-Agent", ""))
            scripted = site.faults.get(url.path)
            if scripted:
                fault = scripted.pop(0)
                if fault == "malformed":
                    return self._send(200, "<html><body><p>Page not available</p></body></html>")
                return self._send(int(fault), "error", {"Retry-After": "0"} if fault == 429 else None)
            if url.path == "/robots.txt":
                return self._send(200, ROBOTS, content_type="text/plain")
            if url.path == "/Decisions/SearchResults":
                query = parse_qs(url.query)
                since = dt.date.fromisoformat(query["fd"][0])
                until = dt.date.fromisoformat(query["td"][0])
                page = int(query.get("page", ["1"])[0])
                found = site.in_window(since, until)
                return self._send(200, listing_page(found[(page - 1) * PER_PAGE: page * PER_PAGE], len(found)))
            if url.path in site.decisions:
                return self._send(200, site.decisions[url.path][1])
            return self._send(404, "not found")

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
