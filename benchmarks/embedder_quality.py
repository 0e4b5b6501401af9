"""Answer quality and speed with another embedding model, beside the default, on this machine.

    python benchmarks/embedder_quality.py MODEL_DIR [--store DIR] [--threads N] [--json]

MODEL_DIR is a sentence-transformers model folder on disk (nothing is downloaded).  Both eval sets
are run twice through `evals.run_set`: with the project's default embedder, and with the model in
MODEL_DIR through PyTorch in its place; then both models embed the same real paragraphs on one
thread, so that the cost of a model is measured with its gain.  The answer path's thresholds
(rag/answer.py) are calibrated for the default model, so the abstention figures of another model
are what it would give before any recalibration.

This is how a replacement for all-MiniLM-L6-v2 is judged before it is proposed: it must gain on
both sets, and its cost at the archive's size (embedding a million chunks) must be acceptable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from benchmarks.embed_formats import sample_paragraphs  # noqa: E402
from benchmarks.embed_speed import word_pieces_per_second  # noqa: E402
from evals.__main__ import run_set  # noqa: E402
from evals.run import SETS  # noqa: E402
from rag.embed import TorchEmbedder, TorchMiniLMEmbedder  # noqa: E402
from rag.machine import cpu_signature, describe  # noqa: E402

METRICS = ("cited_decision@3", "cited_paragraph@3", "recall@5", "mrr", "decision_recall@3", "fact_coverage",
           "abstention_accuracy", "false_abstentions", "set_accuracy")
SPEED_PARAGRAPHS = 150


def folder_embedder(folder: Path, batch_size: int = 32) -> TorchEmbedder:
    """A sentence-transformers model folder through PyTorch, encoded exactly as the reference MiniLM
    is (normalised vectors, the same batches): only the weights differ."""
    return TorchEmbedder(folder, f"sentence-transformers/{folder.name}", batch_size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, help="a sentence-transformers model folder")
    parser.add_argument("--store", type=Path, default=PROJECT / "var" / "embedder-quality",
                        help="where the evaluation stores are built (one folder per model)")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (default 1)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.model_dir / "modules.json").is_file():
        raise SystemExit(f"{args.model_dir}: not a sentence-transformers model folder (no modules.json)")
    import torch

    torch.set_num_threads(args.threads)
    other = folder_embedder(args.model_dir)
    results: dict[str, Any] = {"machine": describe(), "cpu": cpu_signature(), "model": other.name, "sets": {}}
    for name in SETS:
        ours = run_set(name, args.store / "default", with_baseline=False)
        theirs = run_set(name, args.store / args.model_dir.name, with_baseline=False, embedder=other)
        results["sets"][name] = {"default": {m: ours["summary"].get(m) for m in METRICS},
                                 "model": {m: theirs["summary"].get(m) for m in METRICS},
                                 "default_name": ours["embedder"]["name"]}
    texts = sample_paragraphs()[:SPEED_PARAGRAPHS]
    results["word_pieces_per_s"] = {"default (PyTorch)": round(word_pieces_per_second(TorchMiniLMEmbedder(), texts)),
                                    other.name: round(word_pieces_per_second(other, texts))}
    print(json.dumps(results) if args.json else _table(results))
    return 0


def _table(results: dict[str, Any]) -> str:
    lines = [f"{results['model']} against the default, on {results['machine']['cpu']} "
             f"(CPU features {results['cpu']})", ""]
    for name, figures in results["sets"].items():
        lines += [f"{name}: {figures['default_name']} -> {results['model']}"]
        lines += [f"  {m:22} {figures['default'][m]!s:>8} -> {figures['model'][m]!s:>8}" for m in METRICS]
    lines += ["", "word pieces embedded per second, one thread:"]
    lines += [f"  {name:45} {rate:>8,}" for name, rate in results["word_pieces_per_s"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
