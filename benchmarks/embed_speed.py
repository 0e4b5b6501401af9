"""How fast each local embedder embeds real paragraphs on this machine, as ingest uses it.

    python benchmarks/embed_speed.py [--paragraphs N] [--json]

Each of MiniLM (ONNX, PyTorch) and all-mpnet-base-v2 (ONNX, PyTorch) embeds the same real
paragraphs (`benchmarks/embed_formats.sample_paragraphs`) once after a warm-up, with its default
threads; the figure is word pieces a second, by each model's own tokenizer.  The choice between
the two models (RAG_EMBEDDER) is a choice between this speed and the answer quality that
docs/evaluation.md measures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from benchmarks.embed_formats import sample_paragraphs  # noqa: E402
from rag.embed import MpnetEmbedder, OnnxMiniLMEmbedder, OnnxMpnetEmbedder, TorchMiniLMEmbedder  # noqa: E402
from rag.machine import cpu_signature, describe  # noqa: E402

EMBEDDERS = {
    "minilm (ONNX)": OnnxMiniLMEmbedder.packaged,
    "minilm-torch": TorchMiniLMEmbedder,
    "mpnet (ONNX)": OnnxMpnetEmbedder.packaged,
    "mpnet (PyTorch)": MpnetEmbedder,
}


def word_pieces_per_second(embedder, texts: list[str]) -> float:  # noqa: ANN001 - any of the above
    embedder.embed_documents(texts[:8])
    pieces = sum(embedder.word_pieces(t) for t in texts)
    started = time.perf_counter()
    embedder.embed_documents(texts)
    return pieces / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=150)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    texts = sample_paragraphs()[: args.paragraphs]
    figures = {label: round(word_pieces_per_second(make(), texts)) for label, make in EMBEDDERS.items()}
    if args.json:
        print(json.dumps({"machine": cpu_signature(), "paragraphs": len(texts), "word_pieces_per_s": figures}))
        return 0
    print(f"{describe()['cpu']} ({cpu_signature()}); {len(texts)} real paragraphs")
    for label, value in figures.items():
        print(f"{label:16} {value:>7,} word pieces/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
