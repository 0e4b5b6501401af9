"""The derived indexes alone at about a million rows, in minutes instead of hours.

`python -m benchmarks.index_scale STORE [--copies 10] [--folder DIR]` reads the chunks of a tier
store built by `python -m benchmarks.jobs build_tier '{"corpus": C, "store": STORE, "chunks": 100000}'`
and writes them `--copies` times over (each copy under other ids and references, its vectors
jittered) into an index folder, without Chroma.  A second run, in a fresh process, opens that
folder and times the dense and BM25 searches with each kind of filter, and the memory: what the
million-chunk tier of benchmarks/run.py measures, minus Chroma and the rest of the answer.

`--archive OUT` then makes OUT a store the whole application opens: the registry of every copied
decision written to Chroma (real metadata and vectors, so the first open reads the registry from
the store as usual) and the index folder as its saved index; its chunk collection stays empty,
since answers read chunks from the index alone (tests/test_index_updates.py checks that).  A run
with OUT existing measures, each in a fresh process, restart to the first answer (twice), the
whole answers with each filter and the memory while answering, and, through `chroma run` on a
copy, new app processes started from the shared snapshot and 100 decisions ingested: the
million-chunk tier's restart, memory and server rows in minutes instead of a two-hour store build.
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
               row_tokens(c["metadata"], c["text"]), c["text"], c["metadata"])
              for c in bot.store.iter_chunks(vectors=True)]
    rng = np.random.default_rng(0)
    started, segments = time.perf_counter(), []
    folder.mkdir(parents=True, exist_ok=True)
    for copy in range(copies):
        rows = Rows()
        for chunk_id, ref, kind, reported, vector, tokens, text, meta in chunks:
            jittered = vector + rng.normal(0, 0.01, size=vector.shape).astype(np.float32) if copy else vector
            rows.add(f"{chunk_id}#{copy}", f"{ref}#{copy}", kind, reported, jittered, tokens, text,
                     dict(meta, ref=f"{ref}#{copy}"))
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


def make_archive(store: Path, folder: Path, out: Path, copies: int) -> float:
    """A store holding the registry of every copy, with `folder` as its saved index."""
    import shutil

    from rag import Bot, Settings
    from rag.indexes import basis, version_of
    from rag.manifest import Manifest, read_manifest, write_manifest

    got = Bot(Settings(store_dir=store)).store._decisions.get(include=["metadatas", "documents", "embeddings"])
    bot = Bot(Settings(store_dir=out))
    decisions, versions = bot.store._decisions, {}  # the registry collection, written directly
    for copy in range(copies):
        metas = [dict(m, ref=f"{m['ref']}#{copy}") for m in got["metadatas"]]
        versions.update((m["ref"], version_of(m)) for m in metas)
        ids = [f"{i}#{copy}" for i in got["ids"]]
        for a in range(0, len(ids), bot.store.max_batch):
            part = slice(a, a + bot.store.max_batch)
            decisions.add(ids=ids[part], metadatas=metas[part], documents=got["documents"][part],
                          embeddings=np.asarray(got["embeddings"][part], dtype=np.float32))
    bot.store._stamp()
    target = out / "indexes" / bot.settings.collection
    shutil.copytree(folder, target)
    saved = read_manifest(target)
    write_manifest(target, Manifest(basis=basis(bot.store.embedder), dim=saved.dim, generation=1,
                                    segments=saved.segments, versions=versions))
    started = time.perf_counter()
    bot.catalog.state  # the first open: reads the registry from the store, then saves it beside the index
    assert bot.catalog.updater.reads == 0 and bot.catalog.updater.rebuilds == 0, "the saved index was not used"
    return time.perf_counter() - started


def measure_archive(out: Path) -> dict:
    from benchmarks.run import job

    restarts = [job("cold_start", store=str(out)) for _ in range(2)]
    answers = job("archive_answers", module="benchmarks.index_scale", store=str(out))
    return {"restart_s": [round(r["seconds"], 2) for r in restarts],
            "restart_peak_rss_mb": [round(r["peak_rss_mb"]) for r in restarts], **answers,
            "server": measure_server(out)}


def measure_server(out: Path) -> dict:
    """Through `chroma run` on a copy of the archive (the copy takes the writes; its index files
    are hard links, which no update writes in place): two new app processes with empty caches
    ready from the shared snapshot, then 100 decisions ingested by another process and the
    seconds until both apps find them (benchmarks/million.py's stage, at this size)."""
    import os
    import shutil
    import tempfile

    from benchmarks.million import run_server
    from benchmarks.run import chroma_server, job

    with tempfile.TemporaryDirectory(prefix="rag-scale-server-") as tmp:
        copy = Path(tmp) / "archive"
        shutil.copytree(out, copy, ignore=shutil.ignore_patterns("indexes"))
        shutil.copytree(out / "indexes", copy / "indexes", copy_function=os.link)
        return run_server(Path(tmp), copy, "lgo_decisions", job, chroma_server)


def archive_answers(p: dict) -> dict:
    """Whole answers with each filter on a restarted archive, then the memory while answering."""
    from benchmarks.jobs import answer_latencies
    from rag import Bot, Settings

    bot = Bot(Settings(store_dir=Path(p["store"])))
    started = time.perf_counter()
    rows = len(bot.catalog.state.indexes.dense)
    out = {"rows": rows, "decisions": len(bot.catalog.decisions), "open_s": round(time.perf_counter() - started, 2)}
    bot.ask(QUESTIONS[0])
    out.update(answer_latencies(bot, 3))
    out["rss_mb"], out["peak_rss_mb"] = round(out["rss_mb"]), round(out["peak_rss_mb"])
    return out


def run(store: Path, work: Path, copies: int) -> dict:
    """The three steps, each in a fresh process (benchmarks/run.py calls this on its 100k tier):
    the index folder, the archive around it, then the restart and memory measurements."""
    import os
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(PROJECT), HF_HUB_OFFLINE="1")
    base = [sys.executable, str(Path(__file__)), str(store), "--copies", str(copies),
            "--folder", str(work / "index-scale")]
    archive = ["--archive", str(work / "index-scale-archive")]
    for extra in ([], archive, archive):  # the folder, the archive around it, the measurements
        proc = subprocess.run(base + extra, cwd=PROJECT, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"index-scale archive failed:\n{proc.stderr[-3000:]}")
    return {"copies": copies, **json.loads(proc.stdout.strip().splitlines()[-1])}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "archive_answers":  # a job of measure_archive
        print(json.dumps(archive_answers(json.loads(sys.argv[2]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/rag-index-scale"))
    parser.add_argument("--archive", type=Path, help="a store around the folder, for restart and memory")
    args = parser.parse_args()
    if not (args.folder / "manifest.json").exists():
        print(f"built in {build(args.store, args.folder, args.copies):.0f} s; run again to measure", file=sys.stderr)
        return 0
    if args.archive and not args.archive.exists():
        seconds = make_archive(args.store, args.folder, args.archive, args.copies)
        print(f"archive made; its first open took {seconds:.0f} s; run again to measure", file=sys.stderr)
        return 0
    if args.archive:
        print(json.dumps(measure_archive(args.archive)))
        return 0
    print(json.dumps(measure(args.folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
