"""LGO case references, in one place: `18 011 812`, and with a letter suffix, `17 002 402b`.

The LGO publishes some decisions under a reference with a lower-case letter after the last group
(one complaint split into parts).  Every module that reads a reference (the parser, the lexical
index, the question's pinned decision, dataset records, the site's links) uses these patterns, so
a suffixed reference is never silently dropped by one of them.  The suffix is part of the
reference: `17 002 402b` and `17 002 402` are two decisions.
"""

from __future__ import annotations

import re

# Three groups: "17", "002", "402b".  Separators may be a space, a dash or nothing.
REF_BODY = r"(\d{2})[ \-]?(\d{3})[ \-]?(\d{3}[a-zA-Z]?)"
# A reference inside running text (a question, a paragraph).
REF_IN_TEXT = re.compile(rf"\b{REF_BODY}\b")
# The last segment of a decision's address: "17-002-402b".
REF_KEY = r"\d{2}-\d{3}-\d{3}[a-zA-Z]?"


def ref_key(ref: str) -> str:
    """The dashed, lower-case form used in file names, URLs and chunk ids: '17-002-402b'."""
    match = re.fullmatch(rf"\s*{REF_BODY}\s*", ref)
    if not match:
        raise ValueError(f"not an LGO case reference: {ref!r} (expected like '18 011 812' or '17 002 402b')")
    return "-".join(match.groups()).lower()


def refs_in(text: str) -> set[str]:
    """Every reference the text mentions, in canonical form ('17 002 402b')."""
    return {" ".join(groups).lower() for groups in REF_IN_TEXT.findall(text)}
