"""Embedding model formats: agreement with the float model, and speed, on this machine.

    python benchmarks/embed_formats.py [--folder DIR] [--agreement-only] [--json]

Builds all-MiniLM-L6-v2 from the packaged weights in each candidate format (the float32 ONNX
export the project uses, and the int8 quantizations it rejected), then prints for each: the
minimum and mean cosine to the PyTorch float model over the fixed check set (rag/model_check.json),
and word pieces embedded per second on all cores (one text per call on a session per core, as
rag/embed.py runs).  The CPU features are printed with the figures: int8 kernels differ by CPU.

To measure another machine class without one, build here and check under an emulated CPU, e.g.
AVX2 without AVX-512 (Debian's qemu-user; slow, so agreement only):
    python benchmarks/embed_formats.py --folder var/formats
    qemu-x86_64 -cpu max .venv/bin/python benchmarks/embed_formats.py --folder var/formats --agreement-only
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from rag.embed import OnnxMiniLMEmbedder  # noqa: E402
from rag.machine import cpu_signature, describe  # noqa: E402
from rag.onnx_model import _export_float, check_texts  # noqa: E402
from rag.parse import parse_decision  # noqa: E402

FORMATS = {
    "fp32": "float32 ONNX export (the project's build)",
    "int8-u8s8-per-channel": "dynamic int8: int8 weights per channel, uint8 activations (the old default)",
    "int8-u8s8-reduce-range": "the same with 7-bit weights (ONNX Runtime's remedy for AVX2 saturation)",
    "int8-u8u8-per-channel": "dynamic int8: uint8 weights per channel, uint8 activations",
    "int8-blockwise-32": "8-bit weights in blocks of 32, int8 compute (MatMulNBits; needs onnx-ir)",
}


def _quantize(src: Path, dest: Path, name: str) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if name == "int8-blockwise-32":
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        quantizer = MatMulNBitsQuantizer(onnx.load(str(src)), bits=8, block_size=32, is_symmetric=True,
                                         accuracy_level=4)
        quantizer.process()
        quantizer.model.save_model_to_file(str(dest), use_external_data_format=False)
        return
    weight = QuantType.QUInt8 if "u8u8" in name else QuantType.QInt8
    quantize_dynamic(str(src), str(dest), weight_type=weight, per_channel=True,
                     reduce_range="reduce-range" in name,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def build(folder: Path) -> list[str]:
    """Each format's model file in `folder` (kept between runs), and the float model's reference."""
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / "fp32.onnx"
    if not fp32.exists() or not (folder / "reference.npy").exists():
        np.save(folder / "reference.npy", _export_float(fp32, check_texts()))
    built = ["fp32"]
    logging.getLogger().setLevel(logging.ERROR)  # the quantizer's advice on calibration
    for name in FORMATS:
        path = folder / f"{name}.onnx"
        try:
            if not path.exists():
                _quantize(fp32, path, name)
            built.append(name)
        except ImportError as exc:
            print(f"skipped {name}: {exc}", file=sys.stderr)
    return list(dict.fromkeys(built))


def sample_paragraphs() -> list[str]:
    """Every paragraph of the five bundled real decisions, in file order."""
    texts = []
    for path in sorted((PROJECT / "data" / "decisions").glob("*.txt")):
        texts += [p.text for p in parse_decision(path.read_text(encoding="utf-8")).paragraphs]
    return texts


def measure(folder: Path, name: str, speed: bool) -> dict:
    embedder = OnnxMiniLMEmbedder(folder / f"{name}.onnx")
    cosines = (embedder.embed_array(check_texts()) * np.load(folder / "reference.npy")).sum(axis=1)
    row = {"format": name, "min": round(float(cosines.min()), 5), "mean": round(float(cosines.mean()), 5)}
    if speed:
        texts = sample_paragraphs()
        pieces = sum(min(256, embedder.word_pieces(t)) for t in texts)
        embedder.embed_array(texts[:40])  # every session loaded and warm
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            embedder.embed_array(texts)
            best = min(best, time.perf_counter() - started)
        row["word_pieces_per_s"] = round(pieces / best)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=PROJECT / "var" / "formats")
    parser.add_argument("--agreement-only", action="store_true", help="skip the speed runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    names = build(args.folder) if not args.agreement_only else [
        n for n in FORMATS if (args.folder / f"{n}.onnx").exists()]
    rows = [measure(args.folder, n, not args.agreement_only) for n in names]
    machine = {**describe(), "signature": cpu_signature()}
    if args.json:
        print(json.dumps({"machine": machine, "rows": rows}))
        return 0
    print(f"machine: {machine['cpu']}, {machine['signature']}, onnxruntime {machine['onnxruntime']}")
    print(f"{'format':26} {'min cos':>8} {'mean cos':>9} {'word pieces/s':>14}")
    for r in rows:
        print(f"{r['format']:26} {r['min']:8.5f} {r['mean']:9.5f} {r.get('word_pieces_per_s', ''):>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
