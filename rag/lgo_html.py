"""Decision pages saved from lgo.org.uk, turned into the text layout that `rag.parse` reads.

On the website the statement is the `<article id="article">`: the council and reference, a header
of label/value pairs (Category "A > B", Decision, Decision date), then headed sections whose
paragraphs are ordered-list items.  The browser draws the numbers, so they are not in the HTML;
the official numbering runs on across the lists, and nested lists belong to their parent item.
Here every top-level item is written as "  N. text" with N counted on across the lists, nested
items deeper, so the text parser recovers the official numbers exactly.  Words are never changed:
only markup goes, and white space inside a paragraph is collapsed.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from rag.errors import NotADecisionError

_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ol", "ul", "section", "header", "br",
           "tr", "table", "dt", "dd", "blockquote"}
_SKIP = {"script", "style", "noscript", "nav", "button", "form", "svg", "template"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_SPACE = re.compile(r"[ \t\n\r\f\v]+")  # not U+00A0: "Mr\u00a0X" stays as published


class _Article(HTMLParser):
    """Collects the article's blocks: ('heading', text), ('text', text), ('item', depth, text),
    and the label/value pairs of its header."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple] = []
        self.fields: list[tuple[str, str]] = []
        self._depth_in_article = 0  # open elements inside <article id="article">; 0: outside
        self._skip = 0
        self._lists: list[str] = []  # open ol/ul inside the article
        self._items: list[dict] = []  # open <li> nodes {"text": [...], "children": [...]}, innermost last
        self._text: list[str] = []
        self._kind = "text"
        self._field_role: str | None = None
        self._label: str | None = None
        self.seen_article = False

    # -- structure -------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if not self._depth_in_article:
            if tag == "article" and attributes.get("id") == "article":
                self._depth_in_article, self.seen_article = 1, True
            return
        if tag not in ("br", "img", "hr", "meta", "link", "input"):
            self._depth_in_article += 1
        if tag in _SKIP:
            self._skip += 1
            return
        classes = set((attributes.get("class") or "").split())
        if classes & {"label", "value"}:
            self._flush()
            self._field_role = "label" if "label" in classes else "value"
        if tag in ("ol", "ul"):
            if self._items:
                self._items[-1]["text"].append(self._take())
            else:
                self._flush()
            self._lists.append(tag)
        elif tag == "li":
            if self._items:
                self._items[-1]["text"].append(self._take())
            else:
                self._flush()
            node: dict = {"text": [], "children": [], "bullet": bool(self._lists) and self._lists[-1] == "ul"}
            if self._items:
                self._items[-1]["children"].append(node)
            self._items.append(node)
        elif tag in _HEADINGS:
            self._flush()
            self._kind = "heading"
        elif tag in _BLOCKS and not self._items:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if not self._depth_in_article:
            return
        self._depth_in_article -= 1
        if self._depth_in_article == 0:
            self._flush()
            return
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._field_role and tag in ("span", "div", "p", "dd", "dt", "strong", "label"):
            self._end_field()
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
        if self._depth_in_article and not self._skip:
            self._text.append(data)

    # -- helpers ---------------------------------------------------------------------------------
    def _take(self) -> str:
        text, self._text = "".join(self._text), []
        return text

    def _end_field(self) -> None:
        text = _clean(self._take())
        if self._field_role == "label":
            self._label = text.rstrip(":").strip()
        elif self._label is not None:
            self.fields.append((self._label, text))
            self._label = None
        self._field_role = None

    def _flush(self) -> None:
        if self._field_role:
            self._end_field()
            return
        text = _clean(self._take())
        if text and not self._items:
            self.blocks.append((self._kind, text))
        self._kind = "text"


def _clean(text: str) -> str:
    return _SPACE.sub(" ", html.unescape(text)).strip()


def html_to_text(page: str, source: str = "page") -> str:
    """The decision in the numbered text layout (see module docstring)."""
    parser = _Article()
    parser.feed(page)
    parser.close()
    if not parser.seen_article:
        raise NotADecisionError(f"{source}: no <article id=\"article\"> holding a decision statement")
    lines: list[str] = []
    fields_written = False
    number = 0
    for block in parser.blocks:
        if not fields_written and parser.fields and _starts_body(block):
            lines += _field_lines(parser.fields)
            fields_written = True
        if block[0] == "item":
            number += 1
            lines += _item_lines(block[1], f"{number}.", 2)
        else:
            lines += ["", block[1], ""]
    if not fields_written:
        lines = lines[:3] + _field_lines(parser.fields) + lines[3:]
    return "\n".join(lines).strip() + "\n"


def _item_lines(node: dict, marker: str, indent: int) -> list[str]:
    """A list item and its nested items, each nesting level indented four more spaces."""
    text = _clean(" ".join(node["text"]))
    lines = [f"{' ' * indent}{marker} {text}"] if text else []
    n = 0
    for child in node["children"]:
        n = 0 if child["bullet"] else n + 1
        lines += _item_lines(child, "\u2022" if child["bullet"] else f"{n}.", indent + 4)
    return lines


def _starts_body(block: tuple) -> bool:
    """The header block ends where the summary or the first section begins."""
    return block[0] == "item" or block[0] == "heading" or block[1].lower().startswith(
        ("summary", "the ombudsman's final decision", "the ombudsman\u2019s final decision"))


def _field_lines(fields: list[tuple[str, str]]) -> list[str]:
    out = []
    for label, value in fields:
        if label.lower() in ("category", "decision", "decision date"):
            out += ["", f"{label} : {value}", ""]
    return out
