"""HTML for the app, built from our dataclasses with every piece of text escaped.

Decisions, quotes, questions and answers are all treated as untrusted text: a decision that
contains `<script>` or an `onerror=` attribute must show as those characters, never run.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from typing import Any

from rag.guard import BIDI, visible
from rag.models import Answer, Citation, Decision

OUTCOME_CLASSES = {
    "upheld": "badge-upheld",
    "not upheld": "badge-not-upheld",
    "closed after initial enquiries": "badge-closed",
}

CSS = """
.badge {display:inline-block;padding:1px 8px;border-radius:10px;font-size:0.8em;font-weight:600;}
.badge-upheld {background:#fde2e1;color:#8a1c13;}
.badge-not-upheld {background:#e3f4e6;color:#1c5e2a;}
.badge-closed {background:#e8eaf0;color:#333b52;}
.badge-other {background:#f1efe6;color:#4a4430;}
.badge-synthetic {background:#fff3c4;color:#6b4e00;border:1px dashed #b08900;}
.citation {border-left:3px solid #6b7bb8;padding:6px 10px;margin:8px 0;}
.citation .quote {font-style:italic;margin:4px 0;}
.citation .meta {font-size:0.85em;color:#555;}
.para {margin:6px 0;}
.para.cited {background:#fff6d5;border-left:3px solid #d9a400;padding:4px 8px;}
.para .num {font-weight:700;margin-right:6px;}
.notice {background:#fff3cd;border:1px solid #e0c36a;padding:6px 10px;border-radius:4px;margin:6px 0;}
"""


def esc(value: Any) -> str:
    """Escaped text.  Bidirectional controls can make text display in another order than it reads
    ("Trojan Source"): they are shown as visible markers, so what is on screen is what was
    verified; other invisible characters (zero-width, tags) are dropped."""
    text = html.escape(str(value if value is not None else ""), quote=True)
    text = BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    return visible(text)


def chat_markdown(text: str) -> str:
    """Answer text for the chat (which renders Markdown): escaped, and with the line breaks inside
    quotations kept inside them, so a quoted "1. ..." item never turns into a Markdown list."""
    out = esc(text)
    return re.sub(r"\u201c[^\u201d]*\u201d", lambda m: m.group(0).replace("\n", "<br>"), out)


def long_date(iso: str | None) -> str:
    if not iso:
        return "date not stated"
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def badge(outcome: str | None) -> str:
    label = outcome or "Outcome not stated"
    css = OUTCOME_CLASSES.get(label.lower(), "badge-other")
    return f'<span class="badge {css}">{esc(label)}</span>'


def synthetic_badge(synthetic: bool) -> str:
    """The label of a decision written for our evaluations: never to be taken for a real one."""
    return ' <span class="badge badge-synthetic">Synthetic: not a real decision</span>' if synthetic else ""


def safe_link(url: str | None, text: str) -> str:
    """A link only to the LGO's own https pages; anything else is shown as plain text, and nothing
    at all where there is no address (a synthetic decision, or a page whose category is unknown)."""
    if not url:
        return ""
    if not url.startswith("https://"):
        return esc(text)
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(text)}</a>'


def citation_html(c: Citation) -> str:
    where = "summary" if c.paragraph is None else f"paragraph {c.paragraph}"
    if c.paragraph is not None and not c.paragraph_exact:
        where += " (numbering inferred)"
    return (
        f'<div class="citation" id="citation-{c.n}"><div><b>[{c.n}]</b> {esc(c.council)} '
        f"({esc(c.ref)}), {esc(long_date(c.decision_date))} {badge(c.outcome)}{synthetic_badge(c.synthetic)}</div>"
        f'<div class="meta">{esc(c.section)}, <span class="where">{esc(where)}</span></div>'
        f'<div class="quote">\u201c{esc(c.quote)}\u201d</div>'
        f'<div class="meta">{safe_link(c.url, "Read the decision on the LGO website")}</div></div>'
    )


def answer_panel(answer: Answer) -> str:
    """The notices, the backend and every verified citation; unverified ones are never quoted."""
    parts = [f'<div class="notice">{esc(n)}</div>' for n in answer.notices]
    backend = "offline extractive" if answer.backend == "extractive" else f"LLM ({answer.backend})"
    parts.append(f'<div class="meta">Answered by: {esc(backend)}</div>')
    shown = [c for c in answer.citations if c.verified]
    if shown:
        parts += [citation_html(c) for c in shown]
    elif not answer.abstained:
        parts.append("<p>No verified quotation to show.</p>")
    return "\n".join(parts)


def paragraph_context(decision: Decision, number: int | None, around: int = 1) -> str:
    """The cited paragraph (or the summary) with its neighbours, the cited one highlighted."""
    if number is None:
        return f'<div class="para cited"><span class="num">Summary</span>{esc(decision.summary)}</div>'
    rows = []
    for p in decision.paragraphs:
        if abs(p.number - number) <= around:
            css = "para cited" if p.number == number else "para"
            rows.append(f'<div class="{css}"><span class="num">{p.number}.</span>'
                        f'{esc(p.text).replace(chr(10), "<br>")}</div>')
    return f"<h4>{esc(decision.council)} ({esc(decision.ref)})</h4>" + "\n".join(rows)


def decision_html(decision: Decision) -> str:
    """A whole decision with its official paragraph numbers, grouped under its sections."""
    date = decision.decision_date.isoformat() if decision.decision_date else None
    head = (f"<h3>{esc(decision.council)} ({esc(decision.ref)})</h3><p>{esc(long_date(date))} "
            f"{badge(decision.outcome)}{synthetic_badge(decision.synthetic)} "
            f"{safe_link(decision.url, 'on the LGO website')}</p>")
    parts = [head]
    if decision.summary:
        parts.append(f"<p><b>Summary:</b> {esc(decision.summary)}</p>")
    section = heading = None
    for p in decision.paragraphs:
        if p.section != section:
            section, heading = p.section, None
            parts.append(f"<h4>{esc(p.section)}</h4>")
        if p.heading and p.heading != heading:
            heading = p.heading
            parts.append(f"<h5>{esc(p.heading)}</h5>")
        parts.append(f'<div class="para"><span class="num">{p.number}.</span>'
                     f'{esc(p.text).replace(chr(10), "<br>")}</div>')
    if not decision.numbering_exact:
        parts.append("<p><i>This page lost its paragraph numbers; they are counted here.</i></p>")
    return "\n".join(parts)


def outcome_counts(metas: list[dict]) -> str:
    counts = Counter(m.get("outcome") or "Outcome not stated" for m in metas)
    if not counts:
        return "No decisions match."
    return " \u00b7 ".join(f"{esc(k)}: {v}" for k, v in counts.most_common())
