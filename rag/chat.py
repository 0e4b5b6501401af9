"""Conversations: follow-up questions keep the conversation's filters and its subject.

With an LLM configured, a follow-up is rewritten as a standalone question (prompts/condense.md);
offline, retrieval searches the earlier question together with the new one, so "what did they
pay?" after a question about Lancashire still finds Lancashire; a question that does not refer
back to the earlier one ("Can the Ombudsman look at a court report?") is read on its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rag.filters import Filters
from rag.models import Answer
from rag.understand import refers_back

if TYPE_CHECKING:
    from rag.bot import Bot

HISTORY_TURNS = 3


class Chat:
    """A conversation.  `history` holds the earlier questions (as answered, standalone), which is
    all a web session needs to keep to carry a conversation on."""

    def __init__(self, bot: "Bot", filters: Filters | dict | None = None,
                 history: list[str] | None = None) -> None:
        self.bot = bot
        self.filters = filters if isinstance(filters, Filters) else Filters.from_dict(filters)
        self.history: list[str] = list(history or [])

    def _standalone(self, question: str) -> tuple[str, str]:
        """(question to answer, earlier context for retrieval)."""
        if not self.history:
            return question, ""
        earlier = self.history[-HISTORY_TURNS:]
        if self.bot.settings.backend == "openai":
            from rag.llm import condense

            deadline = time.monotonic() + min(10.0, self.bot.settings.llm_timeout / 3)
            rewritten = condense(self.bot.chat_model, earlier, question, deadline)
            if rewritten != question:
                return rewritten, ""
        return question, earlier[-1] if refers_back(question) else ""

    def stream(self, question: str) -> Iterator[str | Answer]:
        standalone, context = self._standalone(question)
        for item in self.bot.stream(standalone, self.filters, context=context):
            if isinstance(item, Answer):
                item.question = question
                self.history.append(standalone)
            yield item

    def ask(self, question: str) -> Answer:
        *_, answer = self.stream(question)
        return answer
