"""`Bot`: the one object the CLI, the app and the evals talk to.

It owns the settings and builds the external clients lazily through their factories, so that a
run with nothing to embed never loads the model, and tests can pass fakes for any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.embed import embedder_name, make_embedder
from rag.ingest import Progress, ingest
from rag.models import IngestReport
from rag.settings import Settings
from rag.store import Store, drop_collections, make_chroma_client


class Bot:
    """Question answering over the indexed decisions."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embeddings | None = None,
        chroma_client: Any | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        self._embedder = embedder
        self._client = chroma_client
        self._store: Store | None = None

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
            self._store = Store(self.client, self.settings.collection, self.embedder_name)
        return self._store

    def rebuild(self) -> None:
        """Drop the collections, e.g. after switching embedder; the next ingest fills them."""
        drop_collections(self.client, self.settings.collection)
        self._store = None

    def ingest(
        self,
        paths: Iterable[Path | str] | None = None,
        *,
        prune: bool = False,
        progress: Callable[[int], Progress] | None = None,
    ) -> IngestReport:
        """Ingest files and folders (default: the bundled decisions) and report what changed."""
        targets = [Path(p) for p in paths] if paths else [self.settings.data_dir]
        return ingest(
            targets,
            self.store,
            lambda: self.embedder,
            self.settings,
            prune=prune,
            progress=progress,
        )

    def search(self, question: str, k: int = 5, where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Dense nearest chunks for a question, as plain dicts (id, text, metadata, distance)."""
        return self.store.query(self.embedder.embed_query(question), k=k, where=where)
