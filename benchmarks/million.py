"""The whole archive on one machine: the jobs of the million-chunk tier, and their orchestration.

Each job runs in its own process (`python -m benchmarks.million NAME '{...}'`, one JSON line out).
`run(work, store, chunks)` is called by benchmarks/run.py on a store built by `build_store_only`:

1. `open_and_answer`: the first open (indexes built from Chroma, a page at a time), then whole
   answers and retrieval with each filter, and the memory while answering;
2. `cold_start` (benchmarks/jobs.py) in a fresh process: restart to the first answer with the
   saved indexes;
3. `dense_compare`: our dense search against Chroma's own HNSW on the same questions, side by
   side (latency, recall@50 against exact float search), and our int8 scan's recall@50;
4. through `chroma run` on the same store: a new app process with an empty cache and the shared
   snapshot (first answer), then 100 decisions ingested by another process and the seconds until
   two running app processes find them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.jobs import QUESTIONS, answer_latencies, percentiles, rss_mb

PROJECT = Path(__file__).resolve().parent.parent
K = 50


def _bot(p: dict):  # noqa: ANN202
    from rag.bot import Bot
    from rag.settings import Settings

    extra = {key: (Path(p[key]) if key.endswith("_dir") else p[key])
             for key in ("chroma_url", "index_snapshot_dir", "collection") if p.get(key)}
    return Bot(Settings(store_dir=Path(p["store"]), **extra))


def open_and_answer(p: dict) -> dict:
    """First open of the indexes, then answer latency with each filter, and memory."""
    bot = _bot(p)
    started = time.perf_counter()
    state = bot.catalog.state
    out: dict[str, Any] = {"open_s": round(time.perf_counter() - started, 1), "chunks": len(state.indexes.dense),
                           "rebuilt": bot.catalog.updater.rebuilds}
    bot.ask(QUESTIONS[0])
    out.update(answer_latencies(bot, p.get("rounds", 3)))
    out["index_disk_mb"] = round(sum(f.stat().st_size for f in bot.catalog.updater.folder.rglob("*")
                                     if f.is_file()) / 2**20, 1)
    return out


def _exact_scores(index: Any, vector: Any) -> Any:
    """The old index's scores: every float vector scanned (float32, a segment at a time)."""
    import numpy as np

    t = index.table
    query = np.asarray(vector, dtype=np.float32)
    query = query / (float(np.linalg.norm(query)) or 1.0)
    scores = np.concatenate([seg.all_vectors() @ query for seg in t.segments])
    scores[~t.live] = -np.inf
    return scores


def _recall(index: Any, scores: Any, found: list[str], k: int) -> float:
    """Share of the first k results that exact search could have returned: the synthetic corpus,
    like the real one, repeats the Ombudsman's boilerplate word for word, so hundreds of chunks
    tie exactly and any k of them are a correct answer."""
    import numpy as np

    kth = float(np.partition(scores, len(scores) - k)[len(scores) - k])
    rows = [index.table.find(i) for i in found[:k]]
    return sum(1 for r in rows if r >= 0 and scores[r] >= kth - 1e-6) / k


def dense_compare(p: dict) -> dict:
    """Chroma's HNSW against our scan, unfiltered, on the same questions: latency, recall@50 against
    exact float search, and memory (HNSW loads its graph and every float vector)."""
    from evals.run import load_questions

    bot = _bot(p)
    dense = bot.catalog.dense
    questions = QUESTIONS + [q["question"] for q in load_questions("samples")][:30]
    vectors = [bot.embedder.embed_query(q) for q in questions]
    rss_before = rss_mb()
    ours, hnsw, recall_ours, recall_hnsw = [], [], [], []
    bot.store.query(vectors[0], k=60)  # loads the HNSW index
    rss_hnsw = rss_mb()
    results = []
    for vector in vectors:  # timed back to back; the exact scans (every float vector) come after
        t = time.perf_counter()
        found = [i for i, _ in dense.search(vector, 60)]
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        approx = [r["id"] for r in bot.store.query(vector, k=60)]
        hnsw.append(time.perf_counter() - t)
        results.append((found, approx))
    for vector, (found, approx) in zip(vectors, results):
        exact = _exact_scores(dense, vector)
        recall_ours.append(_recall(dense, exact, found, K))
        recall_hnsw.append(_recall(dense, exact, approx, K))
    return {"questions": len(vectors), "ours": percentiles(ours), "hnsw": percentiles(hnsw),
            "recall_ours": round(sum(recall_ours) / len(vectors), 4), "recall_ours_min": min(recall_ours),
            "recall_hnsw": round(sum(recall_hnsw) / len(vectors), 4), "recall_hnsw_min": min(recall_hnsw),
            "rss_before_hnsw_mb": round(rss_before), "rss_after_hnsw_mb": round(rss_hnsw)}


def ingest_new(p: dict) -> dict:
    """`count` new decisions ingested through the server by a process with its own cache."""
    from benchmarks.synthetic import Generator, load_pool
    from benchmarks.vectors import PrecomputedEmbedder
    from rag.embed import OnnxMiniLMEmbedder

    generator = Generator(load_pool(PROJECT / "data" / "decisions"), seed=p.get("seed", 99))
    generator._serial = p.get("serial", 900_000)  # references no other tier uses
    corpus = Path(p["corpus"])
    corpus.mkdir(parents=True, exist_ok=True)
    for _ in range(p["count"]):
        name, text = generator.decision()
        (corpus / name).write_text(text, encoding="utf-8")
    texts = {key: text for pairs in generator.pool.by_kind.values() for key, text in pairs}
    embedder = PrecomputedEmbedder(OnnxMiniLMEmbedder.packaged(), generator.source_of, texts)
    from rag.bot import Bot

    bot = Bot(_bot(p).settings, embedder=embedder)
    started = time.perf_counter()
    report = bot.ingest([corpus])
    from rag.parse import parse_decision

    last = parse_decision(sorted(corpus.glob("*.txt"))[-1].read_text(encoding="utf-8"))
    return {"seconds": round(time.perf_counter() - started, 1), "added": report.added, "ended_at": time.time(),
            "ref": last.ref, "question": f"What did the Ombudsman decide in {last.ref}?"}


def run(work: Path, store: Path, collection: str, rounds: int, job: Callable[..., dict],
        chroma_server: Callable[..., tuple[subprocess.Popen, str]]) -> dict:
    """Every million-chunk measurement on an embedded store built by `build_store_only` (`job` and
    `chroma_server` are benchmarks/run.py's)."""

    def _job(name: str, **params: Any) -> dict:
        return job(name, module="benchmarks.million", **params)

    out: dict[str, Any] = {"answers": _job("open_and_answer", store=str(store), rounds=rounds)}
    out["restart"] = job("cold_start", store=str(store))
    out["dense"] = _job("dense_compare", store=str(store))
    return {**out, **run_server(work, store, collection, job, chroma_server)}


def run_server(work: Path, store: Path, collection: str, job: Callable[..., dict],
               chroma_server: Callable[..., tuple[subprocess.Popen, str]], serial: int = 900_000) -> dict:
    """The same store through `chroma run`: two new app processes ready from the shared snapshot,
    then 100 decisions ingested by another process, and the seconds until both apps find them."""
    out: dict[str, Any] = {}
    proc, url = chroma_server(store, timeout=600)
    snapshot = str(store / "indexes")  # the embedded store's own indexes are the shared snapshot
    try:
        base = {"chroma_url": url, "collection": collection, "index_snapshot_dir": snapshot}
        apps = [_start_watch(work / f"app{n}", base, work / "flag") for n in range(2)]
        ready = [json.loads(app.stdout.readline()) for app in apps]
        out["server_new_process"] = ready
        new = job("ingest_new", module="benchmarks.million", store=str(work / "ingester"), corpus=str(work / "new"),
                  count=100, serial=serial, **base)
        (work / "flag").write_text(json.dumps(new), encoding="utf-8")  # what the apps look for
        seen = [json.loads(app.stdout.readline()) for app in apps]
        out["incremental"] = {"ingest": new, "seconds_to_searchable": [
                                  round(s["seen_at"] - new["ended_at"], 1) if s["seen_at"] else None for s in seen],
                              "reads": [s["reads"] for s in seen]}
        for app in apps:
            app.wait(timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return out


def _start_watch(cache: Path, base: dict, flag: Path) -> subprocess.Popen:
    """An app process (`watch_flag`) that reports when it is ready, then when it finds the decision
    the flag file names."""
    import os

    script = (f"import json, sys\nfrom pathlib import Path\nfrom benchmarks.million import watch_flag\n"
              f"watch_flag(json.loads({json.dumps(json.dumps({**base, 'store': str(cache), 'flag': str(flag)}))}))\n")
    env = dict(os.environ, PYTHONPATH=str(PROJECT), HF_HUB_OFFLINE="1")
    return subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT, env=env, stdout=subprocess.PIPE, text=True)


def watch_flag(p: dict) -> None:
    """`watch`, with the decision to look for read from the flag file once it appears."""
    bot = _bot(p)
    started = time.perf_counter()
    bot.ask(QUESTIONS[0])
    print(json.dumps({"ready_s": round(time.perf_counter() - started, 2), "reads": bot.catalog.updater.reads,
                      "rebuilds": bot.catalog.updater.rebuilds, "rss_mb": round(rss_mb())}), flush=True)
    bot.catalog.watch()
    flag = Path(p["flag"])
    while not flag.exists():
        time.sleep(0.05)
    new = json.loads(flag.read_text(encoding="utf-8"))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # the question names the new decision: found once it is indexed
        if any(h.ref == new["ref"] for h in bot.retrieve(new["question"], k=5).hits):
            print(json.dumps({"seen_at": time.time(), "reads": bot.catalog.updater.reads}), flush=True)
            return
        time.sleep(0.1)
    print(json.dumps({"seen_at": None, "reads": bot.catalog.updater.reads}), flush=True)


JOBS = {f.__name__: f for f in (open_and_answer, dense_compare, ingest_new)}

if __name__ == "__main__":
    print(json.dumps(JOBS[sys.argv[1]](json.loads(sys.argv[2]))))
