"""Eval figures on another machine class, without that machine: the embeddings computed under an
emulated CPU, the rest replayed here.

    python benchmarks/machine_check.py record  [--set samples] [--out var/machine-check]
    qemu-x86_64 -cpu max .venv/bin/python benchmarks/machine_check.py embed [--out ...]   # AVX2, no AVX-512
    python benchmarks/machine_check.py replay  [--set samples] [--out ...]

`record` runs the set's evals here and saves every text the embedder was asked for; `embed` embeds
those texts with the default model on whatever CPU runs it (Debian's qemu-user emulates an AVX2-only
x86-64 with `-cpu max`: ONNX Runtime then takes its AVX2 kernels, slowly); `replay` runs the evals
again here, once with this machine's vectors and once with the emulated CPU's, and prints both sets
of figures and the largest vector difference.  Only the embedding depends on the CPU's kernels; retrieval,
ranking and answering are numpy and Python, so the replayed figures are that machine's figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from evals.__main__ import run_set  # noqa: E402
from evals.run import SETS  # noqa: E402
from rag.embed import OnnxMiniLMEmbedder  # noqa: E402
from rag.machine import cpu_signature  # noqa: E402

FIGURES = ("cited_decision@3", "cited_paragraph@3", "recall@5", "mrr", "fact_coverage", "abstention_accuracy",
           "false_abstentions", "set_accuracy", "citation_precision")


class Recording(Embeddings):
    """The default model, noting every text it embeds."""

    def __init__(self, inner: OnnxMiniLMEmbedder) -> None:
        self.inner, self.texts = inner, []
        self.name, self.build = inner.name, inner.build

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts += texts
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.texts.append(text)
        return self.inner.embed_query(text)


class Replay(Embeddings):
    """Vectors computed elsewhere, looked up by text."""

    def __init__(self, vectors: dict[str, np.ndarray], name: str, build: str) -> None:
        self.vectors, self.name, self.build = vectors, name, build

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.vectors[t].tolist() for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text].tolist()


def _figures(summary: dict) -> dict:
    return {k: summary.get(k) for k in FIGURES}


def record(args: argparse.Namespace) -> None:
    embedder = Recording(OnnxMiniLMEmbedder.packaged())
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_set(args.set, Path(tmp), with_baseline=False, embedder=embedder)["summary"]
    texts = list(dict.fromkeys(embedder.texts))
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "native.npy", embedder.inner.embed_array(texts))
    (args.out / "texts.json").write_text(json.dumps({"set": args.set, "texts": texts, "native": _figures(summary),
                                                     "native_cpu": cpu_signature()}), encoding="utf-8")
    print(f"{len(texts)} texts recorded; figures here ({cpu_signature()}): {_figures(summary)}")


def embed(args: argparse.Namespace) -> None:
    texts = json.loads((args.out / "texts.json").read_text(encoding="utf-8"))["texts"]
    embedder = OnnxMiniLMEmbedder.packaged()  # checks the build on this (emulated) machine class first
    np.save(args.out / "other.npy", embedder.embed_array(texts))
    (args.out / "other_cpu.txt").write_text(cpu_signature(), encoding="utf-8")
    print(f"{len(texts)} texts embedded on {cpu_signature()}; check: {embedder.record['checks']}")


def replay(args: argparse.Namespace) -> None:
    meta = json.loads((args.out / "texts.json").read_text(encoding="utf-8"))
    native, other = np.load(args.out / "native.npy"), np.load(args.out / "other.npy")
    cpu = (args.out / "other_cpu.txt").read_text(encoding="utf-8")
    inner = OnnxMiniLMEmbedder.packaged()
    summaries = []
    for vectors in (native, other):  # both through this code, so only the vectors differ
        replayed = Replay(dict(zip(meta["texts"], vectors)), inner.name, inner.build)
        with tempfile.TemporaryDirectory() as tmp:
            summaries.append(run_set(meta["set"], Path(tmp), with_baseline=False, embedder=replayed)["summary"])
    cosines = (native * other).sum(axis=1)
    print(f"set {meta['set']}: {len(meta['texts'])} texts; largest difference between the two machines' vectors "
          f"{float(np.abs(native - other).max()):.2e}, lowest cosine {float(cosines.min()):.7f}")
    print(f"{'figure':22} {meta['native_cpu']:>40} {cpu:>40}")
    for key in FIGURES:
        print(f"{key:22} {str(summaries[0].get(key)):>40} {str(summaries[1].get(key)):>40}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["record", "embed", "replay"])
    parser.add_argument("--set", default="samples", choices=list(SETS))
    parser.add_argument("--out", type=Path, default=PROJECT / "var" / "machine-check")
    args = parser.parse_args()
    {"record": record, "embed": embed, "replay": replay}[args.step](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
