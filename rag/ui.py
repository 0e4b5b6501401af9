"""The Gradio app: a UI class wrapping an injected `Bot`, so tests can build it on any store.

Everything shown is built by `rag.ui_render` with text escaped.  Errors a user can cause come
back as a short message in the page; anything unexpected is logged and shown as one line.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag.bot import Bot
from rag.errors import InputError, RagError
from rag.filters import Filters
from rag.models import SYNTHETIC_NOTE, Answer, Citation
from rag.parse import parse_decision
from rag.ratelimit import RateLimiter, too_many
from rag.settings import Settings
from rag.ui_render import (
    CSS,
    answer_panel,
    chat_markdown,
    decision_html,
    esc,
    outcome_counts,
    paragraph_context,
)

log = logging.getLogger(__name__)
ANY = "Any"
EXAMPLES = [
    "Must a council involve a non-resident parent in a single assessment?",
    "How much did Lancashire agree to pay Miss X?",
    "How many decisions were closed after initial enquiries?",
    "Can the Ombudsman look at a complaint about data protection?",
]
UNEXPECTED = "Something went wrong while answering; please try again."


def _choice(value: str | None) -> str | None:
    return None if value in (None, "", ANY) else value


class ChatApp:
    """The chat and decisions pages over one Bot."""

    def __init__(self, bot: Bot, settings: Settings | None = None) -> None:
        self.bot = bot
        self.settings = settings or bot.settings
        self.limiter = RateLimiter(self.settings.rate_limit_per_minute)

    def _refused(self, request: gr.Request | None) -> str | None:
        """The 'too many questions' message for a client over its limit, else None."""
        host = getattr(getattr(request, "client", None), "host", None) or getattr(request, "session_hash", None)
        wait = self.limiter.wait_for(str(host or "unknown"))
        return too_many(wait) if wait else None

    # -- answering -----------------------------------------------------------------------------
    def filters(self, council: str | None = None, outcome: str | None = None, category: str | None = None,
                subcategory: str | None = None, since: str | None = None, until: str | None = None,
                financial_remedy: bool = False) -> Filters:
        return Filters.from_dict({
            "council": _choice(council), "outcome": _choice(outcome), "category": _choice(category),
            "subcategory": _choice(subcategory), "since": (since or "").strip() or None,
            "until": (until or "").strip() or None, "financial_remedy": bool(financial_remedy),
        })

    def api_ask(self, question: str, council: str = "", outcome: str = "", category: str = "",
                subcategory: str = "", since: str = "", until: str = "",
                financial_remedy: bool = False, request: gr.Request = None) -> dict:
        """The `/ask` endpoint: the answer JSON, or {"error": "..."} for bad input."""
        refused = self._refused(request)
        if refused:
            return {"error": refused}
        try:
            filters = self.filters(council, outcome, category, subcategory, since, until, financial_remedy)
            return self.bot.ask(question, filters).to_dict()
        except RagError as exc:
            return {"error": str(exc)}
        except Exception:  # noqa: BLE001 - never a traceback to a client
            log.exception("unexpected error in /ask")
            return {"error": UNEXPECTED}

    def respond(self, question: str, messages: list[dict], history: list[str], council: str | None = None,
                outcome: str | None = None, category: str | None = None, subcategory: str | None = None,
                since: str | None = None, until: str | None = None, financial_remedy: bool = False,
                request: gr.Request = None) -> Iterator[tuple[Any, ...]]:
        """Stream an answer into the chat; yields (messages, history, panel, picker, answer dict,
        cited paragraph, letter reference).  (Gradio passes the request to named parameters only.)"""
        filter_values = (council, outcome, category, subcategory, since, until, financial_remedy)
        messages = [*(messages or []), {"role": "user", "content": esc(question)}]
        try:
            refused = self._refused(request)
            if refused:
                raise InputError(refused)
            chat = self.bot.chat(self.filters(*filter_values), history)
            messages.append({"role": "assistant", "content": ""})
            streamed = ""
            for item in chat.stream(question):
                if isinstance(item, Answer):
                    messages[-1] = {"role": "assistant", "content": chat_markdown(item.answer)}
                    choices = [f"[{c.n}]" for c in item.citations if c.verified]
                    first = choices[0] if choices else None
                    data = item.to_dict()
                    yield (messages, chat.history, answer_panel(item), gr.update(choices=choices, value=first),
                           data, *self.show_citation(first, data))
                    return
                streamed += item
                messages[-1] = {"role": "assistant", "content": chat_markdown(streamed)}
                yield messages, history, "", gr.update(), None, gr.update(), gr.update()
        except RagError as exc:
            message = str(exc)
        except Exception:  # noqa: BLE001
            log.exception("unexpected error while answering")
            message = UNEXPECTED
        messages[-1:] = [] if messages[-1]["role"] == "assistant" else messages[-1:]
        messages.append({"role": "assistant", "content": esc(message)})
        yield (messages, history, f'<div class="notice">{esc(message)}</div>', gr.update(choices=[], value=None),
               None, "", "")

    def show_citation(self, choice: str | None, answer: dict | None) -> tuple[str, str]:
        """The cited paragraph with its neighbours, and the citation ready for a letter."""
        if not choice or not answer:
            return "", ""
        n = int(choice.strip("[]"))
        citation = next((c for c in answer["citations"] if c["n"] == n), None)
        if citation is None:
            return "", ""
        text = self.bot.store.decision_text(citation["ref"])
        if not text:
            return "<p>The decision is no longer in the index.</p>", ""
        decision = parse_decision(text)
        fields = {k: citation[k] for k in Citation.__dataclass_fields__ if k in citation}
        reference = Citation(**fields).reference()
        return paragraph_context(decision, citation["paragraph"]), reference

    # -- decisions tab ---------------------------------------------------------------------------
    def decision_rows(self, *filter_values: Any) -> tuple[list[list[Any]], str]:
        try:
            filters = self.filters(*filter_values)
        except RagError as exc:
            return [], esc(str(exc))
        metas = [m for m in self.bot.catalog.decisions.values() if not filters.active or filters.matches(m)]
        metas.sort(key=lambda m: m.get("decision_date") or "", reverse=True)
        rows = [[m["ref"], m["council"] + (f" [{SYNTHETIC_NOTE}]" if m.get("synthetic") else ""),
                 m.get("decision_date", ""), m.get("outcome", ""), m.get("category", ""),
                 m.get("subcategory", ""), m.get("paragraphs", 0),
                 f"£{m['financial_remedy']:,.0f}" if m.get("has_financial_remedy") else ""] for m in metas]
        return rows, outcome_counts(metas)

    def open_decision(self, ref: str | None) -> str:
        text = self.bot.store.decision_text(ref) if ref else None
        return decision_html(parse_decision(text)) if text else ""

    def status(self) -> str:
        decisions = self.bot.catalog.decisions
        last = max((m.get("ingested_at", "") for m in decisions.values()), default="")
        return (f"Index: {len(decisions)} decisions, {self.bot.store.count_chunks()} passages; "
                f"last ingested {html.escape(last or 'never')}. "
                f"Backend: {'offline extractive' if self.settings.backend == 'extractive' else 'LLM'}.")

    # -- layout ----------------------------------------------------------------------------------
    def _filter_controls(self) -> list[Any]:
        meta = list(self.bot.catalog.decisions.values())

        def values(key: str) -> list[str]:  # the choices come from the index itself
            return [ANY] + sorted({m[key] for m in meta if m.get(key)})

        return [
            gr.Dropdown(values("council"), value=ANY, label="Council"),
            gr.Dropdown(values("outcome"), value=ANY, label="Outcome"),
            gr.Dropdown(values("category"), value=ANY, label="Category"),
            gr.Dropdown(values("subcategory"), value=ANY, label="Subcategory"),
            gr.Textbox(label="Decided on or after (YYYY-MM-DD)", max_lines=1),
            gr.Textbox(label="Decided on or before (YYYY-MM-DD)", max_lines=1),
            gr.Checkbox(label="Financial remedy only"),
        ]

    def build(self) -> gr.Blocks:
        with gr.Blocks(title="LGO decisions: answers you can cite") as demo:
            gr.Markdown("## LGO decisions: answers you can cite\nEvery quotation is checked, word for word, "
                        "against the decision and paragraph it cites.")
            status = gr.Markdown(self.status())
            with gr.Tab("Ask"):
                self._chat_tab()
            with gr.Tab("Decisions"):
                filters, table, counts = self._decisions_tab()
            gr.api(self.api_ask, api_name="ask")
            demo.load(self.status, outputs=status, api_visibility="private")
            demo.load(self.decision_rows, filters, [table, counts], api_visibility="private")
        return demo

    def _chat_tab(self) -> None:
        history = gr.State([])
        answer_state = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", height=420)
                question = gr.Textbox(label="Your question", placeholder="Ask about the decisions...",
                                      max_lines=4, elem_id="question")
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="ask-button")
                    clear = gr.Button("New conversation")
                gr.Examples(EXAMPLES, inputs=question)
            with gr.Column(scale=1):
                gr.Markdown("### Filters")
                filters = self._filter_controls()
        panel = gr.HTML(elem_id="citations")
        with gr.Row():
            picker = gr.Dropdown([], label="Show a cited paragraph", elem_id="citation-picker")
            reference = gr.Textbox(label="Citation for a letter", buttons=["copy"], interactive=False,
                                   elem_id="citation-reference")
        context = gr.HTML(elem_id="paragraph-context")
        outputs = [chatbot, history, panel, picker, answer_state, context, reference]
        for trigger in (send.click, question.submit):
            trigger(self.respond, [question, chatbot, history, *filters], outputs, api_visibility="private"
                    ).then(lambda: "", None, question, api_visibility="private")
        picker.change(self.show_citation, [picker, answer_state], [context, reference], api_visibility="private")
        clear.click(lambda: ([], [], "", gr.update(choices=[], value=None), None, "", ""), None, outputs,
                    api_visibility="private")

    def _decisions_tab(self) -> tuple[list[Any], Any, Any]:
        with gr.Row():
            filters = self._filter_controls()
        counts = gr.Markdown()
        table = gr.Dataframe(headers=["Reference", "Council", "Date", "Outcome", "Category", "Subcategory",
                                      "Paragraphs", "Remedy"], interactive=False, wrap=True)
        chooser = gr.Dropdown(sorted(self.bot.catalog.decisions), label="Open a decision")
        full = gr.HTML(elem_id="decision-text")
        for control in filters:
            control.change(self.decision_rows, filters, [table, counts], api_visibility="private")
        chooser.change(self.open_decision, chooser, full, api_visibility="private")
        return filters, table, counts

    def launch(self, **kwargs: Any) -> Any:
        """Serve with the safe defaults: loopback, optional login, a bounded queue."""
        auth = None
        if self.settings.auth_username and self.settings.auth_password:
            auth = (self.settings.auth_username, self.settings.auth_password)
        demo = self.demo = self.build()
        self.bot.catalog.watch()  # another process's ingest becomes searchable here within seconds
        demo.queue(max_size=self.settings.queue_max_size, default_concurrency_limit=self.settings.concurrency)
        options = dict(server_name=self.settings.host, server_port=self.settings.port, auth=auth,
                       show_error=False, quiet=True, css=CSS, footer_links=["api"],
                       # every API call is a session of its own: keep few, or memory grows with traffic
                       state_session_capacity=self.settings.session_capacity)
        options.update(kwargs)
        return demo.launch(**options)
