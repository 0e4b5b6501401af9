"""Prompt templates are files in `prompts/`; this is their one loader.

A template names its variables in braces (`{question}`); literal braces are doubled.  Loading
fails when the caller gives a variable the template does not use, or omits one it does, so a
renamed placeholder can never silently send the model an empty slot.
"""

from __future__ import annotations

import string
from pathlib import Path

from rag.errors import RagError
from rag.settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"


class PromptError(RagError):
    """A prompt file is missing or its variables do not match what the code provides."""


def template_variables(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load_prompt(name: str, variables: set[str] | frozenset[str], folder: Path = PROMPTS_DIR) -> str:
    """The template text of `prompts/<name>.md`, checked against the variables the caller fills."""
    path = folder / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise PromptError(f"prompt file {path} is missing; restore it from the repository") from None
    used = template_variables(text)
    if used - set(variables):
        raise PromptError(f"prompt {path.name} uses {sorted(used - set(variables))} which the code "
                          "does not provide; remove them or double the braces")
    if set(variables) - used:
        raise PromptError(f"prompt {path.name} does not use {sorted(set(variables) - used)}; "
                          "add the placeholders back")
    return text


def render(name: str, folder: Path = PROMPTS_DIR, **values: str) -> str:
    """Load and fill a prompt in one step."""
    return load_prompt(name, set(values), folder).format(**values)
