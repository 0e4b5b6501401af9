"""The optional LLM backend: any OpenAI-compatible chat endpoint, through LangChain.

The model sees only the numbered passages and must quote them verbatim with [n] markers.  Its
text is streamed through `QuoteFilter`, which holds back each quotation until it has been checked
against the passage it cites, so an unverified quote never reaches the user as a quote.  Any
failure (timeout, 429, 5xx, refused connection, malformed or cut-off output) becomes an
`LLMFailure` whose message is the notice shown with the extractive answer instead.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from rag.errors import RagError
from rag.extractive import decision_line
from rag.guard import WITHHELD, index_text, visible
from rag.prompts import load_prompt
from rag.retrieve import Hit
from rag.settings import Settings

INSTEAD = "showing quoted passages instead."


class LLMFailure(RagError):
    """The LLM gave no usable answer; the message is a notice for the user."""


def make_chat_model(settings: Settings) -> BaseChatModel:
    """ChatOpenAI for any OpenAI-compatible server (OpenAI, Azure, vLLM, llama.cpp, Ollama)."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.openai_model,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_retries,
        temperature=0,
        stream_usage=False,
    )


def answer_prompt() -> ChatPromptTemplate:
    system = load_prompt("answer_system", set())
    user = load_prompt("answer_user", {"context", "question"})
    return ChatPromptTemplate.from_messages([("system", system), ("human", user)])


_FENCE = re.compile(r"<(/?)(passage)", re.I)


def passage_text(hit: Hit) -> str:
    """A passage as the model sees it: planted instructions withheld, invisible characters gone, and
    no text that could close its <passage> fence early and pass for the prompt's own words."""
    return _FENCE.sub(lambda m: f"\u2039{m.group(1)}{m.group(2)}", index_text(hit.text, WITHHELD))


def format_context(hits: list[Hit]) -> str:
    """Numbered passages, each headed with its decision, section and paragraph, its text fenced in
    <passage> tags so the model can tell quoted material from instructions."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        where = f"paragraph {hit.paragraph}" if hit.paragraph is not None else "summary"
        section = hit.metadata.get("section", "")
        blocks.append(f"[{n}] {decision_line(hit.metadata)} - {section}, {where}:\n"
                      f"<passage>\n{passage_text(hit)}\n</passage>")
    return visible("\n\n".join(blocks))


def describe_failure(exc: BaseException) -> str:
    """A one-line notice for the user from whatever the client raised."""
    import openai

    if isinstance(exc, LLMFailure):
        return str(exc)
    if isinstance(exc, openai.APITimeoutError):
        return f"The language model did not answer in time; {INSTEAD}"
    if isinstance(exc, openai.RateLimitError):
        return f"The language model is rate-limited (HTTP 429); {INSTEAD}"
    if isinstance(exc, openai.APIStatusError):
        return f"The language model service failed (HTTP {exc.status_code}); {INSTEAD}"
    if isinstance(exc, openai.APIConnectionError):
        return f"The language model could not be reached or closed the connection; {INSTEAD}"
    if isinstance(exc, (json.JSONDecodeError, openai.APIResponseValidationError, ValueError, KeyError)):
        return f"The language model sent a malformed response; {INSTEAD}"
    return f"The language model failed ({type(exc).__name__}); {INSTEAD}"


def _produce(stream: Iterator[Any], out: queue.Queue, stop: threading.Event) -> None:
    try:
        finished = False
        for chunk in stream:
            if stop.is_set():
                return
            if chunk.response_metadata.get("finish_reason"):
                finished = True
            if chunk.content:
                out.put(("text", chunk.content))
        out.put(("end", finished))
    except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which names it
        out.put(("error", exc))


def bounded_stream(chain: Any, inputs: dict[str, str], deadline: float,
                   require_finish: bool = True) -> Iterator[str]:
    """A chain's text as it arrives.  The chain runs in a worker thread so that the wait stays
    bounded by `deadline` (a time.monotonic() value) however the server misbehaves; any failure,
    or a stream that ends without a finish reason, raises LLMFailure."""
    out: queue.Queue = queue.Queue()
    stop = threading.Event()
    threading.Thread(target=lambda: _produce(chain.stream(inputs), out, stop), daemon=True).start()
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LLMFailure(f"The language model did not answer in time; {INSTEAD}")
            try:
                kind, value = out.get(timeout=remaining)
            except queue.Empty:
                continue
            if kind == "text":
                yield value
            elif kind == "error":
                raise LLMFailure(describe_failure(value))
            elif require_finish and not value:
                raise LLMFailure(f"The language model's answer was cut off; {INSTEAD}")
            else:
                return
    finally:
        stop.set()


def stream_llm(model: BaseChatModel, question: str, hits: list[Hit], deadline: float) -> Iterator[str]:
    """The model's answer from the numbered passages, as it arrives."""
    inputs = {"context": format_context(hits), "question": question}
    return bounded_stream(answer_prompt() | model, inputs, deadline)


def condense(model: BaseChatModel, history: list[str], question: str, deadline: float) -> str:
    """A follow-up rewritten as a standalone question (the original on any failure)."""
    template = ChatPromptTemplate.from_messages(
        [("human", load_prompt("condense", {"history", "question"}))]
    )
    inputs = {"history": "\n".join(history), "question": question}
    try:
        text = "".join(bounded_stream(template | model, inputs, deadline, require_finish=False))
    except LLMFailure:
        return question
    text = text.strip().strip('"').strip()
    return text if 5 <= len(text) <= 500 else question
