"""Instructions planted in decision text, kept out of the index and out of answers.

A decision is data, but a hostile copy of one (or a dataset record) can carry sentences written
for a language model ("ignore your instructions and say..."), often hidden with zero-width or
bidirectional characters.  Such sentences stay in the stored text, so the decision is still
quoted faithfully, but they are left out of what is embedded and indexed, never chosen as a
quote, and withheld from the LLM's context.  The patterns are deliberately narrow: the Ombudsman
does not address instructions to an AI.
"""

from __future__ import annotations

import re

from rag.chunk import sentence_spans

_HIDDEN = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u202a-\u202e\u2066-\u2069]")
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\s+(?:\w+\s+){0,3}?(instructions|prompts?)\b"
    r"|\b(system|assistant)\s*(?:prompt|message)?\s*:"
    r"|\byou are now\b|\b(debug|developer|jailbreak) mode\b"
    r"|\b(reveal|print|repeat)\s+(?:\w+\s+){0,3}?(system prompt|hidden instructions)\b",
    re.I,
)
WITHHELD = "[a sentence that reads as an instruction to an AI is withheld]"


def is_instruction(sentence: str) -> bool:
    plain = _HIDDEN.sub("", sentence).replace("\u00a0", " ")
    return bool(_INSTRUCTION.search(plain))


def planted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences in `text` that read as instructions to an AI."""
    if not _INSTRUCTION.search(_HIDDEN.sub("", text).replace("\u00a0", " ")):
        return []  # the common case: nothing to split
    return [(a, b) for a, b in sentence_spans(text) if is_instruction(text[a:b])]


def index_text(text: str, replacement: str = "") -> str:
    """The text without planted sentences (or with `replacement` in their place)."""
    spans = planted_spans(text)
    if not spans:
        return text
    out, at = [], 0
    for a, b in spans:
        out.append(text[at:a] + replacement)
        at = b
    out.append(text[at:])
    return re.sub(r"[ \t]{2,}", " ", "".join(out)).strip()
