"""Turn the text of an LGO decision page into a `Decision`.

The text arrives as copied from the LGO website, in three layouts (numbered items, numbered items
with a cookie banner first, and `- ` bullets where the numbers were lost).  The browser restarts
every list at "1.", but the official numbering runs on through the whole statement, so paragraphs
are counted continuously.  Paragraph text is never rewritten: each line keeps the decision's own
words, so any quote taken from a paragraph is found in the source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from rag.errors import NotADecisionError
from rag.models import Decision, Paragraph
from rag.refs import REF_BODY
from rag.remedies import find_remedies

LGO_SITE = "https://www.lgo.org.uk"

_REF_BODY = REF_BODY  # a letter suffix ("17 002 402b") is part of the reference
_REF_RE = re.compile(rf"^\s*{_REF_BODY}\s*$")
_HEADER_RE = re.compile(rf"^\s*(?P<council>\S.*?)\s*\(\s*{_REF_BODY}\s*\)\s*$")
_FIELD_RE = re.compile(r"^\s*(Category|Decision date|Decision|Synthetic)\s*:\s*(.*?)\s*$", re.I)
_SUMMARY_RE = re.compile(r"^\s*Summary\s*:\s*(?P<text>\S.*?)\s*$")
_NUMBERED_RE = re.compile(r"^(?P<indent>\s*)(?P<num>\d+)\.\s+(?P<text>\S.*)$")
_DASH_RE = re.compile(r"^-\s+(?P<text>\S.*)$")
_NESTED_DASH_RE = re.compile(r"^\s+-(?:\s+(?P<text>\S.*))?$")  # indented: an item of a nested list
_BULLET_RE = re.compile(r"^\s*[•▪◦·]\s*\S")
_LETTERED_RE = re.compile(r"^[A-Z]\)\s+\S")

# Lines that end the statement: everything after them is page furniture.
_END_MARKERS = (
    "investigator's decision on behalf of the ombudsman",
    "print this page",
    "lgo logogram",
    "review your privacy settings",
)
# Lines dropped wherever they appear.
_FURNITURE = {"back to top", "the ombudsman's final decision:", "print this page", "lgo logogram"}

# Top-level section headings and their kinds; any other heading is a sub-heading of the section
# it appears in.  Keys are lower-case with straight apostrophes.
SECTION_HEADINGS = {
    "the complaint": "complaint",
    "complaint": "complaint",
    "complaint background": "complaint",
    "what i have investigated": "scope",
    "what i have and have not investigated": "scope",
    "what i have not investigated": "scope",
    "what i have investigated and why": "scope",
    "parts of the complaint that i did not investigate": "scope",
    "the ombudsman's role and powers": "powers",
    "the ombudsman's role": "powers",
    "our role and powers": "powers",
    "how i considered this complaint": "method",
    "how we considered this complaint": "method",
    "what i found": "findings",
    "what we found": "findings",
    "my assessment": "findings",
    "our assessment": "findings",
    "assessment": "findings",
    "analysis": "findings",
    "findings": "findings",
    "finding": "findings",
    "conclusions": "findings",
    "agreed action": "remedy",
    "recommended action": "remedy",
    "action": "remedy",
    "recommendations": "remedy",
    "final decision": "decision",
    "decision": "decision",
}
_DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%Y-%m-%d", "%d/%m/%Y")


def canonical_ref(value: str) -> str:
    """'18-011-812', '18011812' or '18 011 812' -> '18 011 812'; '17-002-402B' -> '17 002 402b'.
    Raises ValueError otherwise."""
    match = _REF_RE.match(value)
    if not match:
        raise ValueError(f"not an LGO case reference: {value!r} (expected like '18 011 812')")
    return " ".join(match.groups()).lower()


def slug(value: str) -> str:
    """LGO URL slugs: lower case, every run of other characters turned into '-'."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")


def decision_url(ref: str, category: str | None, subcategory: str | None) -> str | None:
    if not category or not subcategory:
        return None
    return f"{LGO_SITE}/decisions/{slug(category)}/{slug(subcategory)}/{ref.replace(' ', '-')}"


def _plain(line: str) -> str:
    """Lower case with straight quotes, for comparing headings and furniture.  A decision made
    jointly with the Health Service Ombudsman says "the Ombudsmen's role and powers" and is
    signed "on behalf of the Ombudsmen": the same headings and markers as the LGO's own."""
    plain = re.sub(r"\s+", " ", line.strip().replace("\u2019", "'").replace("\u2018", "'")).lower()
    return re.sub(r"\bombudsmen\b", "ombudsman", plain)


def _parse_date(value: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    return None


@dataclass
class _Header:
    ref: str
    council: str
    category: str | None = None
    subcategory: str | None = None
    outcome: str | None = None
    decision_date: dt.date | None = None
    summary: str | None = None
    synthetic: bool = False


def _find_header(lines: list[str]) -> int:
    """Index of the 'Council name (18 011 812)' line that opens the statement."""
    for i, line in enumerate(lines):
        if _HEADER_RE.match(line) and len(line) < 300:
            return i
    raise NotADecisionError(
        "no LGO case reference found: expected a line like 'Derbyshire County Council (18 011 812)'"
    )


def _find_end(lines: list[str], start: int) -> int:
    for i in range(start, len(lines)):
        if _plain(lines[i]) in _END_MARKERS:
            return i
    return len(lines)


def _read_header(lines: list[str]) -> tuple[_Header, int]:
    """Read the council/reference line and the label lines after it; return where the body starts."""
    match = _HEADER_RE.match(lines[0])
    assert match is not None
    header = _Header(ref=" ".join(match.group(2, 3, 4)).lower(), council=match.group("council"))
    i = 1
    while i < len(lines):
        line = lines[i]
        field_match = _FIELD_RE.match(line)
        summary_match = _SUMMARY_RE.match(line)
        if not line.strip() or _plain(line) in _FURNITURE or _contents_entry(line):
            pass
        elif field_match:
            value = field_match.group(2)
            if not value:  # "Category :" with its value on the lines below, as some page copies have it
                value, i = _value_below(lines, i)
            _set_field(header, field_match.group(1).lower(), value)
        elif summary_match:
            header.summary = summary_match.group("text")
        elif _plain(line) == "summary" and header.summary is None and i + 1 < len(lines) and lines[i + 1].strip():
            header.summary, i = lines[i + 1].strip(), i + 1  # "Summary" on a line of its own, the text below
        else:
            break
        i += 1
    return header, i


def _contents_entry(line: str) -> bool:
    """A line of the list of sections some pages put above the statement ("- The complaint")."""
    dash = _DASH_RE.match(line)
    return bool(dash and SECTION_HEADINGS.get(_plain(dash.group("text"))))


def _value_below(lines: list[str], i: int) -> tuple[str, int]:
    """The value of a label whose value is on the next line, with a category's subcategory joined
    on where a line holding only ">" separates them; and the index of the last line used."""
    if i + 1 >= len(lines) or not lines[i + 1].strip() or _FIELD_RE.match(lines[i + 1]):
        return "", i
    value, i = lines[i + 1].strip(), i + 1
    while i + 2 < len(lines) and lines[i + 1].strip() == ">" and lines[i + 2].strip():
        value, i = f"{value} > {lines[i + 2].strip()}", i + 2
    return value, i


def _fill(header: _Header, defaults: dict) -> None:
    for key in ("category", "subcategory", "outcome", "decision_date"):
        if getattr(header, key) is None and defaults.get(key):
            setattr(header, key, defaults[key])


def _set_field(header: _Header, label: str, value: str) -> None:
    if label == "category":
        parts = [p.strip() for p in value.split(">")]
        header.category = parts[0] or None
        header.subcategory = " > ".join(parts[1:]) or None
    elif label == "decision":
        header.outcome = value or None
    elif label == "decision date":
        header.decision_date = _parse_date(value)
    elif label == "synthetic":
        # Written for our own evaluations ("Synthetic : ..." under the reference line): never a real
        # decision, so it gets no LGO link and the app labels it wherever it is shown.
        header.synthetic = True


@dataclass
class _Body:
    """Accumulates paragraphs while walking the body lines."""

    exact: bool
    section: str = ""
    kind: str = "other"
    heading: str | None = None
    paragraphs: list[dict] = field(default_factory=list)
    in_list: bool = False  # dash layout: inside a list introduced by a line ending with ':'
    fresh: bool = True  # a heading was just read, so the next item opens a paragraph
    sub_next: int = 0  # numbered layout: the number the next item of a list copied flat would have

    def start(self, text: str) -> None:
        self.paragraphs.append(
            {"section": self.section, "kind": self.kind, "heading": self.heading, "lines": [text]}
        )
        self.in_list = self.fresh = False
        self.sub_next = 0

    def extend(self, text: str) -> None:
        if self.paragraphs:
            self.paragraphs[-1]["lines"].append(text)
            self.fresh = False

    @property
    def last_line(self) -> str:
        return self.paragraphs[-1]["lines"][-1] if self.paragraphs else ""

    def set_heading(self, text: str) -> None:
        kind = SECTION_HEADINGS.get(_plain(text))
        if kind is not None:
            self.section, self.kind, self.heading = text.strip(), kind, None
        elif not self.section:
            self.section, self.kind, self.heading = text.strip(), "other", None
        else:
            self.heading = text.strip()
        self.in_list, self.fresh = False, True


def _names_section(text: str) -> bool:
    """A known section heading, or a lettered sub-heading ("A) ...")."""
    return bool(_LETTERED_RE.match(text.strip()) or SECTION_HEADINGS.get(_plain(text)))


def _is_heading(line: str) -> bool:
    """A line standing alone that names a section rather than continuing a paragraph."""
    text = line.strip()
    if _names_section(text):
        return True
    if len(text) > 120 or text[0] in "(\"'“‘" or text[0].islower():
        return False
    return not text.endswith((".", ";", ":", ",", "!", "?", "”", '"', ")"))


def _continues_list(previous: str, text: str) -> bool:
    """Dash layout: does this `- ` item belong to the list nested in the current paragraph?"""
    prev = previous.rstrip()
    return text[:1].islower() or prev.endswith((";", ",", ":")) or prev.endswith((" and", " or"))


def _in_flat_sublist(body: _Body, number: int, text: str) -> bool:
    """Numbered layout: is this item, at the paragraphs' own indent, really an item of a list
    nested in the paragraph before, copied without its indent?  Such a list restarts at 1 after a
    line ending with ':' and its items start lower-case; it runs on while the numbers follow and
    the items read as a list's ("did not update...", or after a line ending with ';' or 'and')."""
    if not body.paragraphs or body.fresh:
        return False
    last = body.last_line.rstrip()
    if number == 1 and body.sub_next == 0:
        return last.endswith(":") and text[:1].islower()
    return number == body.sub_next and (text[:1].islower() or last.endswith((";", ",", " and", " or")))


def _walk_body(lines: list[str], exact: bool) -> list[dict]:
    if not exact and not any(_DASH_RE.match(line) for line in lines):
        return _walk_lines(lines)
    body = _Body(exact=exact)
    top_indent = min(
        (len(m.group("indent")) for m in map(_NUMBERED_RE.match, lines) if m), default=0
    )
    for line in lines:
        if not line.strip() or _plain(line) in _FURNITURE:
            continue
        numbered = _NUMBERED_RE.match(line)
        dash = _DASH_RE.match(line)
        if exact and numbered and len(numbered.group("indent")) <= top_indent:
            number, text = int(numbered.group("num")), numbered.group("text")
            if _in_flat_sublist(body, number, text):
                body.extend(line.strip())
                body.sub_next = number + 1
            else:
                body.start(text)
        elif exact and (numbered or _BULLET_RE.match(line)) and body.paragraphs:
            body.extend(line.strip())
        elif not exact and (nested := _NESTED_DASH_RE.match(line)) and body.paragraphs:
            if nested.group("text"):  # an empty " -" is dropped
                body.extend(line.strip())
        elif not exact and dash:
            item = dash.group("text")
            opens_list = body.last_line.rstrip().endswith(":")
            if body.paragraphs and not body.fresh and (body.in_list or opens_list):
                if body.in_list and not _continues_list(body.last_line, item):
                    body.start(item)
                    continue
                body.extend(line.strip())
                body.in_list = True
            else:
                body.start(item)
        elif _is_heading(line) or not body.paragraphs:
            body.set_heading(line)
        else:
            body.extend(line.strip())
            body.in_list = False
    return body.paragraphs


def _walk_lines(lines: list[str]) -> list[dict]:
    """A body with neither numbers nor dashes (text taken from a page's own paragraphs, one to a
    line): every line that is not a heading is a paragraph, numbered in order, never exactly."""
    body = _Body(exact=False)
    for line in lines:
        if not line.strip() or _plain(line) in _FURNITURE:
            continue
        if _names_section(line):  # not `_is_heading`: here a short unpunctuated line is still a paragraph
            body.set_heading(line)
        else:
            body.start(line.strip())
    return body.paragraphs


# The line on sharing the decision with a regulator (Ofsted, the CQC) ends nearly every upheld
# decision.  Left in the final decision it would be lifted by every outcome or remedy question.
_NOTICE_RE = re.compile(r"\binformation sharing agreement\b", re.I)


def _kind_of(raw: dict) -> str:
    """The paragraph's section kind, but 'notice' for the regulator-sharing line."""
    if raw["kind"] in ("decision", "remedy", "other") and _NOTICE_RE.search(" ".join(raw["lines"])):
        return "notice"
    return raw["kind"]


def _statement_text(lines: list[str]) -> str:
    """The statement as published, page furniture left out, for display and quote checks."""
    kept = "\n".join(line for line in lines if _plain(line) not in _FURNITURE)
    return re.sub(r"\n{3,}", "\n\n", kept).strip()


def _content_hash(lines: list[str]) -> str:
    normal = "\n".join(re.sub(r"\s+", " ", line).strip() for line in lines if line.strip())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def parse_decision(text: str, source: str | None = None, url: str | None = None,
                   defaults: dict | None = None) -> Decision:
    """Parse a decision statement.  Raises NotADecisionError when there is no case reference.

    `defaults` (from a dataset record: ref, council, category, subcategory, outcome,
    decision_date) fill what the text itself does not say; the text wins where it does."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    all_lines = text.split("\n")
    defaults = defaults or {}
    try:
        start = _find_header(all_lines)
    except NotADecisionError:
        if not defaults.get("ref"):
            raise
        # A dataset record may hold only the body; its reference comes with the record.
        all_lines = [f"{defaults.get('council') or 'Unknown council'} ({canonical_ref(defaults['ref'])})"] + all_lines
        start = 0
    end = _find_end(all_lines, start + 1)
    lines = all_lines[start:end]
    header, body_start = _read_header(lines)
    _fill(header, defaults)
    body = lines[body_start:]
    exact = any(_NUMBERED_RE.match(line) for line in body)
    raw_paragraphs = _walk_body(body, exact)
    paragraphs = [
        Paragraph(
            number=i,
            section=p["section"],
            section_kind=_kind_of(p),
            text="\n".join(p["lines"]),
            exact=exact,
            heading=p["heading"],
        )
        for i, p in enumerate(raw_paragraphs, start=1)
    ]
    return Decision(
        ref=header.ref,
        council=header.council,
        category=header.category,
        subcategory=header.subcategory,
        outcome=header.outcome,
        decision_date=header.decision_date,
        summary=header.summary,
        url=None if header.synthetic else url or decision_url(header.ref, header.category, header.subcategory),
        remedies=find_remedies(paragraphs),
        paragraphs=paragraphs,
        content_hash=_content_hash(lines),
        text=_statement_text(lines),
        source=source,
        synthetic=header.synthetic,
    )
