"""Decision pages saved from lgo.org.uk, turned into the text layout that `rag.parse` reads.

On the website the statement is the `<article id="article">`: a header of label/value pairs
(Category "A > B", Decision, Decision date), then headed sections whose paragraphs are
ordered-list items.  The browser draws the numbers, so they are not in the HTML; the official
numbering runs on across the lists, and nested lists belong to their parent item.

What public evidence says about the markup, and what is therefore handled (see docs/archive.md):

- The "Council (18 011 812)" line is a heading (`<h1>`), probably inside a `<header>`, which may
  sit inside the article or before it.  So the line is found by its shape, not its place: the
  first block of the article that reads "Name (reference)", else such a heading outside it.
  Where it was found is reported (`Page.header_place`) for `ingest.py --fetch-lgo --probe`.
- A field's value may hold markup ("A > B" as two links), so a field ends where the element that
  opened it closes, not at the first closing tag inside it.
- A top-level bullet list may sit between two numbered lists (the next list restarts at "1." on
  screen while the official numbering runs on).  Only items of numbered lists are numbered; a
  top-level bullet, or an item of a lettered or roman list (`type="a"`, `list-style-type`), is
  written under the paragraph before it.  A page with no numbered list at all is written with
  `- ` bullets, the layout whose numbers the parser infers and marks as not exact.

Every top-level numbered item is written as "  N. text" with N counted on across the lists,
nested items deeper, so the text parser recovers the official numbers exactly.  Words are never
changed: only markup goes, and white space inside a paragraph is collapsed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from rag.errors import NotADecisionError
from rag.refs import REF_BODY

_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ol", "ul", "section", "header", "br",
           "tr", "table", "dt", "dd", "blockquote"}
_SKIP = {"script", "style", "noscript", "nav", "button", "form", "svg", "template"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SPACE = re.compile(r"[ \t\n\r\f\v]+")  # not U+00A0: "Mr\u00a0X" stays as published
_COUNCIL_LINE = re.compile(rf"^\s*\S.*?\s*\(\s*{REF_BODY}\s*\)\s*$")
_NOT_NUMBERS = re.compile(r"alpha|latin|roman|disc|circle|square|none", re.I)
HEADER_FIELDS = ("Category", "Decision", "Decision date")


@dataclass
class Page:
    """What was read from a decision page: the council line and where it sat, the header fields
    (label -> value), and the statement in the text layout."""

    header: str
    header_place: str
    fields: dict[str, str]
    text: str


class _Reader(HTMLParser):
    """One pass over the page.  Inside the article it collects blocks: ('heading', text, in_header),
    ('text', text, in_header) and ('item', node); outside it, only headings (a council line before
    the article) and label/value fields."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple] = []
        self.outside: list[tuple[str, str]] = []  # (heading text, "before the article" / "after the article")
        self.fields: list[tuple[str, str, bool]] = []  # (label, value, inside the article)
        self.seen_article = False
        self._stack: list[str] = []  # open elements (void ones never pushed)
        self._article: int | None = None  # stack depth of <article id="article"> while inside it
        self._outside_heading: int | None = None  # depth of an open heading outside the article
        self._skip = 0
        self._lists: list[list] = []  # open lists in the article: [kind, items so far]
        self._items: list[dict] = []  # open <li> nodes, innermost last
        self._text: list[str] = []
        self._kind = "text"
        self._field: tuple[str, int] | None = None  # open field: (role, depth of its element)
        self._label: str | None = None

    @property
    def _in_article(self) -> bool:
        return self._article is not None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in _VOID:
            if tag == "br" and self._in_article and not self._items and not self._field:
                self._flush()
            return
        self._stack.append(tag)
        depth = len(self._stack)
        if tag == "article" and attributes.get("id") == "article" and not self.seen_article:
            self._article, self.seen_article = depth, True
            self._text = []
            return
        if tag in _SKIP:
            self._skip += 1
        roles = set((attributes.get("class") or "").split()) & {"label", "value"}
        if roles and not self._skip and not (self._field and self._field[0] in roles):
            self._flush()
            self._field = ("label" if "label" in roles else "value", depth)
        elif not self._in_article:
            if tag in _HEADINGS and self._outside_heading is None and not self._field:
                self._text, self._outside_heading = [], depth
        elif not self._field:
            self._start_in_article(tag, attributes)

    def _start_in_article(self, tag: str, attributes: dict) -> None:
        if tag in ("ol", "ul", "li"):
            if self._items:
                self._items[-1]["text"].append(self._take())
            else:
                self._flush()
        if tag in ("ol", "ul"):
            self._lists.append([_list_kind(tag, attributes), 0])
        elif tag == "li":
            kind = self._lists[-1][0] if self._lists else "ul"
            if self._lists:
                self._lists[-1][1] += 1
            node: dict = {"text": [], "children": [], "list": kind, "in_header": "header" in self._stack}
            if self._items:
                self._items[-1]["children"].append(node)
            self._items.append(node)
        elif tag in _HEADINGS:
            self._flush()
            self._kind = "heading"
        elif tag in _BLOCKS and not self._items:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or tag not in self._stack:
            return
        while self._stack:  # elements left open inside this one close with it
            open_tag = self._stack.pop()
            self._close(open_tag, len(self._stack) + 1)
            if open_tag == tag:
                break

    def _close(self, tag: str, depth: int) -> None:
        if self._field and depth <= self._field[1]:
            self._end_field()
        if self._article == depth:
            self._flush()
            self._article = None
            return
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        if not self._in_article:
            if self._outside_heading == depth:
                place = "after the article" if self.seen_article else "before the article"
                self.outside.append((_clean(self._take()), place))
                self._outside_heading = None
            return
        if self._field:
            return
        if tag == "li" and self._items:
            node = self._items.pop()
            node["text"].append(self._take())
            if not self._items:
                self.blocks.append(("item", node))
        elif tag in ("ol", "ul") and self._lists:
            self._lists.pop()
        elif tag in _HEADINGS or (tag in _BLOCKS and not self._items):
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_article or self._field or self._outside_heading is not None:
            self._text.append(data)

    def _take(self) -> str:
        text, self._text = "".join(self._text), []
        return text

    def _end_field(self) -> None:
        assert self._field is not None
        text = _clean(self._take())
        if self._field[0] == "label":
            self._label = text.rstrip(":").strip()
        elif self._label is not None:
            self.fields.append((self._label, text, self._in_article))
            self._label = None
        self._field = None

    def _flush(self) -> None:
        if self._field:
            self._end_field()
            return
        text = _clean(self._take())
        if text and not self._items and self._in_article:
            self.blocks.append((self._kind, text, "header" in self._stack))
        self._kind = "text"


def _list_kind(tag: str, attributes: dict) -> str:
    """'ol' for a list the browser numbers 1, 2, 3; 'ul' for bullets; 'sub' for a lettered or
    roman list, whose items are never official paragraphs."""
    style = (attributes.get("style") or "").lower()
    kind = (attributes.get("type") or "").strip()
    if tag == "ul":
        return "ul"
    if kind in ("a", "A", "i", "I") or ("list-style" in style and _NOT_NUMBERS.search(style)):
        return "sub"
    return "ol"


def _clean(text: str) -> str:
    return _SPACE.sub(" ", html.unescape(text)).strip()


def read_page(page: str, source: str = "page") -> Page:
    """The decision on a page: its council line (wherever it sits), header fields and text."""
    reader = _Reader()
    reader.feed(page)
    reader.close()
    if not reader.seen_article:
        raise NotADecisionError(f"{source}: no <article id=\"article\"> holding a decision statement")
    header, place, body = _council_line(reader, source)
    fields: dict[str, str] = {}
    for label, value, inside in sorted(reader.fields, key=lambda f: not f[2]):  # the article's own first
        if inside or label in HEADER_FIELDS:
            fields.setdefault(label, value)
    lines = [header, ""]
    for label in HEADER_FIELDS:
        if fields.get(label):
            lines += [f"{label} : {fields[label]}", ""]
    lines += _body_lines(body)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    return Page(header=header, header_place=place, fields=fields, text=text)


def html_to_text(page: str, source: str = "page") -> str:
    """The decision in the numbered text layout (see module docstring)."""
    return read_page(page, source).text


def _council_line(reader: _Reader, source: str) -> tuple[str, str, list[tuple]]:
    """The 'Council (reference)' line, where it was found, and the article's blocks after it."""
    for i, block in enumerate(reader.blocks):
        if block[0] == "item":
            break  # the line opens the statement: a paragraph quoting another decision is not it
        if len(block[1]) < 300 and _COUNCIL_LINE.match(block[1]):
            if block[2]:
                place = "in <header> in the article"
            else:
                place = "heading in the article" if block[0] == "heading" else "text in the article"
            return block[1], place, reader.blocks[i + 1:]
    for text, place in sorted(reader.outside, key=lambda h: h[1] != "before the article"):
        if len(text) < 300 and _COUNCIL_LINE.match(text):
            return text, place, reader.blocks
    raise NotADecisionError(f"{source}: no 'Council name (18 011 812)' line in <article id=\"article\"> or "
                            "in a heading around it; if the site's markup changed, run "
                            "`ingest.py --fetch-lgo --probe` and see docs/archive.md")


def _body_lines(blocks: list[tuple]) -> list[str]:
    """Blocks as text: numbered items counted on across lists; bullets and lettered items under
    the paragraph before; `- ` bullets throughout when the page has no numbered list."""
    numbered = any(block[0] == "item" and block[1]["list"] == "ol" for block in blocks)
    lines: list[str] = []
    number = sub = 0
    for block in blocks:
        if block[0] != "item":
            lines += ["", block[1], ""]
            continue
        node = block[1]
        if not numbered:
            lines += _dash_lines(node)
        elif node["list"] == "ol":
            number += 1
            sub = 0
            lines += _item_lines(node, f"{number}.", 2)
        elif node["list"] == "sub":
            sub += 1
            lines += _item_lines(node, f"{sub}.", 6)
        else:
            lines += _item_lines(node, "\u2022", 2)
    return lines


def _item_lines(node: dict, marker: str, indent: int) -> list[str]:
    """A list item and its nested items, each nesting level indented four more spaces."""
    text = _clean(" ".join(node["text"]))
    lines = [f"{' ' * indent}{marker} {text}"] if text else []
    n = 0
    for child in node["children"]:
        n = 0 if child["list"] == "ul" else n + 1
        lines += _item_lines(child, "\u2022" if child["list"] == "ul" else f"{n}.", indent + 4)
    return lines


def _dash_lines(node: dict) -> list[str]:
    """An item of a page without numbered lists, nested items too, as `- ` lines."""
    text = _clean(" ".join(node["text"]))
    lines = [f"- {text}"] if text else []
    for child in node["children"]:
        lines += _dash_lines(child)
    return lines
