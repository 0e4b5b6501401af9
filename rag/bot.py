"""`Bot`: the one object the CLI, the app and the evals talk to.

It owns the settings and builds the external clients lazily through their factories, so that a
run with nothing to embed never loads the model, and tests can pass fakes for any of them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from rag.answer import answer_from, case_extras, check_question, spelling_noted, stream_with_llm
from rag.catalog import Catalog
from rag.chat import Chat
from rag.embed import embedder_name, make_embedder
from rag.filters import Filters
from rag.indexes import remove_old_indexes
from rag.ingest import Progress, ingest
from rag.llm import make_chat_model
from rag.models import Answer, IngestReport
from rag.qlog import QuestionLog
from rag.retrieve import Retrieval, retrieve
from rag.sets import answer_set
from rag.settings import Settings
from rag.store import Store, drop_collections, make_chroma_client, store_location
from rag.understand import Question, as_passage_question, understand

if TYPE_CHECKING:
    from rag.archive import FetchPlan, FetchReport
    from rag.fetch import PoliteClient
    from rag.lc_retriever import DecisionRetriever
    from rag.probe import ProbeReport


def make_lgo_client(settings: Settings) -> "PoliteClient":
    """The polite HTTP client for the LGO website that the settings describe."""
    from rag.fetch import PoliteClient

    return PoliteClient(settings.lgo_base_url, contact=settings.fetch_contact, delay=settings.fetch_delay,
                        timeout=settings.fetch_timeout, retries=settings.fetch_retries)


class Bot:
    """Question answering over the indexed decisions."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embeddings | None = None,
        chroma_client: Any | None = None,
        chat_model: BaseChatModel | None = None,
        lgo_client: "PoliteClient | None" = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        self._embedder = embedder
        self._client = chroma_client
        self._store: Store | None = None
        self._catalog: Catalog | None = None
        self._chat_model: BaseChatModel | None = chat_model
        self.lgo_client = lgo_client
        self._question_log: QuestionLog | None = None
        if self.settings.question_log_days:
            self._question_log = QuestionLog(self.settings.question_log_path, self.settings.question_log_days)

    @property
    def embedder(self) -> Embeddings:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    @property
    def embedder_name(self) -> str:
        if self._embedder is not None:
            return getattr(self._embedder, "name", type(self._embedder).__name__)
        return embedder_name(self.settings)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_chroma_client(self.settings)
        return self._client

    @property
    def store(self) -> Store:
        if self._store is None:
            from rag.migrate import reembed, retired_build

            if retired_build(self.client, self.settings.collection, self.embedder_name):
                reembed(self.client, self.settings.collection, self.embedder_name, lambda: self.embedder)
            self._store = Store(self.client, self.settings.collection, self.embedder_name,
                                store_location(self.settings))
        return self._store

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            remove_old_indexes(self.settings.store_dir, self.settings.collection)
            folder = self.settings.store_dir / "indexes" / self.settings.collection
            snapshot = self.settings.index_snapshot_dir
            self._catalog = Catalog(self.store, folder, snapshot / self.settings.collection if snapshot else None)
        return self._catalog

    def info(self) -> dict[str, Any]:
        """What a bug report needs: the machine, the embedding model as built and checked here,
        and the store.  Loads the embedder (and builds it if needed), not the indexes."""
        from rag.machine import describe

        embedder = self.embedder
        return {
            "machine": describe(),
            "embedder": {"name": self.embedder_name, "build": getattr(embedder, "build", type(embedder).__name__),
                         **({"model": str(embedder.model_path), "record": embedder.record}
                            if hasattr(embedder, "record") else {})},
            "store": {"location": store_location(self.settings), "collection": self.settings.collection,
                      "decisions": len(self.store.registry()), "chunks": self.store.count_chunks()},
        }

    def rebuild(self) -> None:
        """Drop the collections, e.g. after switching embedder; the next ingest fills them."""
        drop_collections(self.client, self.settings.collection)
        self._store = self._catalog = None

    def ingest(
        self,
        paths: Iterable[Path | str] | None = None,
        *,
        prune: bool = False,
        progress: Callable[[int], Progress] | None = None,
        rebuild_indexes: bool = False,
    ) -> IngestReport:
        """Ingest files and folders (default: the bundled decisions) and report what changed; the
        derived indexes are updated by the decisions written (or rebuilt whole with
        `rebuild_indexes`)."""
        targets = [Path(p) for p in paths] if paths else [self.settings.data_dir]
        report = ingest(targets, self.store, lambda: self.embedder, self.settings, prune=prune, progress=progress)
        # the indexes in step with what was written: its rows are read back (Chroma normalises
        # vectors as it stores them, and the index must hold what a rebuild would read)
        self.catalog.refresh(force=True, rebuild=rebuild_indexes)
        return report

    def rebuild_indexes(self) -> None:
        """Rebuild the derived indexes whole from the store (they are otherwise updated by the rows
        that changed)."""
        self.catalog.refresh(rebuild=True)

    def fetch_lgo(self, plan: "FetchPlan", today: dt.date | None = None,
                  tick: Callable[[int], None] | None = None) -> tuple["FetchReport", IngestReport | None]:
        """Archive decisions from the LGO website (see rag.archive), then ingest the new ones."""
        from rag.archive import Archive, fetch_archive

        client = self.lgo_client or make_lgo_client(self.settings)
        archive = Archive(self.settings.archive_dir)
        started = time.perf_counter()
        try:
            report = fetch_archive(client, archive, plan, today or dt.date.today(), tick)
        finally:
            client.close()
        report.seconds = time.perf_counter() - started
        # what this run archived, and what an interrupted run archived but did not get to ingest
        registered = {ref.replace(" ", "-") for ref in self.store.registry()}
        pending = [p for p in archive.pages() if p.stem not in registered]
        return report, (self.ingest(pending) if pending else None)

    def probe_lgo(self, plan: "FetchPlan") -> "ProbeReport":
        """Check the fetcher against the website in a few requests; writes nothing (see rag.probe)."""
        from rag.probe import probe

        client = self.lgo_client or make_lgo_client(self.settings)
        try:
            return probe(client, plan.since, plan.until, plan.category)
        finally:
            client.close()

    def understand(self, question: str, filters: Filters | dict | None = None, context: str = "") -> Question:
        """The question read once: what is asked, of which decisions (see `rag.understand`)."""
        if not isinstance(filters, Filters):
            filters = Filters.from_dict(filters)
        return understand(question, self.catalog, filters, context)

    def retrieve(self, question: str | Question, filters: Filters | dict | None = None, k: int = 8,
                 context: str = "") -> Retrieval:
        """Hybrid, exactly filtered retrieval (see `rag.retrieve`)."""
        q = question if isinstance(question, Question) else self.understand(question, filters, context)
        return retrieve(q, catalog=self.catalog, embedder=self.embedder, k=k)

    @property
    def chat_model(self) -> BaseChatModel:
        if self._chat_model is None:
            self._chat_model = make_chat_model(self.settings)
        return self._chat_model

    def ask(self, question: str, filters: Filters | dict | None = None, context: str = "") -> Answer:
        """Answer a question from the indexed decisions, every quote verified."""
        *_, answer = self.stream(question, filters, context)
        return answer

    def stream(self, question: str, filters: Filters | dict | None = None,
               context: str = "") -> Iterator[str | Answer]:
        """The answer's text in pieces as it is produced, then the final `Answer` (whose text
        replaces what was streamed if the LLM failed and the extractive answer stands in)."""
        question = check_question(question, self.settings.max_question_chars)
        filters = filters if isinstance(filters, Filters) else Filters.from_dict(filters)
        q = self.understand(question, filters, context)
        if q.is_set:
            answer = spelling_noted(self._answer_set(q, filters), q)
            yield answer.answer
            self._log(answer, filters)
            yield answer
            return
        retrieval = self.retrieve(q)
        llm = self.settings.backend == "openai"
        also = case_extras(q, retrieval, self.catalog) if llm else None  # read once, for both answers
        offline = answer_from(q, retrieval, self.catalog, also)
        if llm and not offline.abstained:
            answer = yield from stream_with_llm(self.chat_model, question, retrieval.hits + also, offline,
                                                time.monotonic() + self.settings.llm_timeout)
        else:
            yield offline.answer
            answer = offline
        answer = spelling_noted(answer, q)
        self._log(answer, filters)
        yield answer

    def _answer_set(self, q: Question, filters: Filters) -> Answer:
        """The decisions a set question describes.  Where that reading finds none, the question may
        be about a passage after all ("how many other cases did the council go back over?"): it is
        then answered as an ordinary question if the passages support it, after the plain "none"."""
        answer = answer_set(q, self.catalog,
                            lambda topic: self.retrieve(self.understand(topic, q.filters), k=20))
        if not answer.abstained or not q.topic:
            return answer
        plain = as_passage_question(q, filters)
        ordinary = answer_from(plain, self.retrieve(plain), self.catalog)
        if ordinary.abstained:
            return answer
        return dataclasses.replace(ordinary, answer=f"{answer.answer}\n\n{ordinary.answer}")

    def _log(self, answer: Answer, filters: Filters) -> None:
        if self._question_log is not None:
            self._question_log.record(answer, filters.to_dict())

    def retriever(self, k: int = 5, filters: dict | None = None) -> "DecisionRetriever":
        """A LangChain BaseRetriever over this bot's index."""
        from rag.lc_retriever import DecisionRetriever

        return DecisionRetriever(bot=self, k=k, filters=filters)

    def chat(self, filters: Filters | dict | None = None, history: list[str] | None = None) -> Chat:
        """A conversation whose follow-up questions keep its filters and subject."""
        return Chat(self, filters, history)
