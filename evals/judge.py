"""A faithfulness judgement by the configured LLM (only with `--backend openai`, never in CI)."""

from __future__ import annotations

import time

from langchain_core.prompts import ChatPromptTemplate

from rag import Bot
from rag.llm import LLMFailure, bounded_stream
from rag.prompts import load_prompt


def judge(bot: Bot, row: dict) -> bool | None:
    """True if the model judges the answer faithful to its cited passages; None if it cannot say."""
    answer = row["answer"]
    if answer["abstained"] or not answer["citations"]:
        return None
    context = "\n\n".join(f"[{c['n']}] {c['council']} ({c['ref']}), paragraph {c['paragraph']}: {c['quote']}"
                          for c in answer["citations"] if c["verified"])
    template = ChatPromptTemplate.from_messages(
        [("human", load_prompt("judge", {"context", "question", "answer"}))])
    inputs = {"context": context, "question": answer["question"], "answer": answer["answer"]}
    try:
        verdict = "".join(bounded_stream(template | bot.chat_model, inputs,
                                         time.monotonic() + bot.settings.llm_timeout, require_finish=False))
    except LLMFailure:
        return None
    head = verdict.strip().upper()
    return True if head.startswith("FAITHFUL") else False if head.startswith("UNFAITHFUL") else None
