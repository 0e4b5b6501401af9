"""The derived indexes alone at about a million rows, in minutes instead of hours.

`python -m benchmarks.index_scale STORE [--copies 10] [--folder DIR]` reads the chunks of a tier
store built by `python -m benchmarks.jobs build_tier '{"corpus": C, "store": STORE, "chunks": 100000}'`
and writes them `--copies` times over (each copy under other ids and references, its vectors
jittered) into an index folder, without Chroma.  A second run, in a fresh process, opens that
folder and times the dense and BM25 searches with each kind of filter, and the memory: what the
million-chunk tier of benchmarks/run.py measures, minus Chroma and the rest of the answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from benchmarks.jobs import QUESTIONS, peak_rss_mb, percentiles, rss_mb  # noqa: E402


def build(store: Path, folder: Path, copies: int) -> float:
    from rag import Bot, Settings
    from rag.bm25 import row_tokens
    from rag.manifest import Manifest, write_manifest
    from rag.segment import Rows, write_segment

    bot = Bot(Settings(store_dir=store))
    chunks = [(c["id"], c["metadata"]["ref"], c["metadata"].get("section_kind", "other"),
               bool(c["metadata"].get("reported")), np.asarray(c["vector"], np.float32),
               row_tokens(c["metadata"], c["text"])) for c in bot.store.iter_chunks(vectors=True)]
    rng = np.random.default_rng(0)
    started, segments = time.perf_counter(), []
    folder.mkdir(parents=True, exist_ok=True)
    for copy in range(copies):
        rows = Rows()
        for chunk_id, ref, kind, reported, vector, tokens in chunks:
            jittered = vector + rng.normal(0, 0.01, size=vector.shape).astype(np.float32) if copy else vector
            rows.add(f"{chunk_id}#{copy}", f"{ref}#{copy}", kind, reported, jittered, tokens)
        segments.append({"name": write_segment(folder, rows, len(chunks[0][4])), "rows": len(rows), "deleted": []})
    write_manifest(folder, Manifest(basis="scale", dim=len(chunks[0][4]), generation=1, segments=segments))
    return time.perf_counter() - started


def measure(folder: Path) -> dict:
    from rag.embed import OnnxMiniLMEmbedder
    from rag.indexes import open_indexes
    from rag.manifest import read_manifest

    started = time.perf_counter()
    index = open_indexes(folder, read_manifest(folder), "scale")
    out: dict = {"rows": index.table.total, "open_s": round(time.perf_counter() - started, 2)}
    model = OnnxMiniLMEmbedder.packaged()
    vectors = [model.embed_query(q) for q in QUESTIONS]
    names = index.table.by_ref.names
    for label, allowed in (("none", None), ("half the decisions", frozenset(names[::2])),
                           ("300 decisions", frozenset(names[:300]))):
        for kind in ("dense", "bm25"):
            samples = []
            for _ in range(3):
                for question, vector in zip(QUESTIONS, vectors):
                    t = time.perf_counter()
                    if kind == "dense":
                        index.dense.search(vector, 60, allowed)
                    else:
                        index.lexical.search(question, 60, allowed)
                    samples.append(time.perf_counter() - t)
            out[f"{kind} / {label}"] = percentiles(samples)
    out["rss_mb"], out["peak_rss_mb"] = round(rss_mb()), round(peak_rss_mb())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/rag-index-scale"))
    args = parser.parse_args()
    if not (args.folder / "manifest.json").exists():
        print(f"built in {build(args.store, args.folder, args.copies):.0f} s; run again to measure", file=sys.stderr)
        return 0
    print(json.dumps(measure(args.folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
