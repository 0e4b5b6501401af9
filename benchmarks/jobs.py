"""Benchmark jobs, each run in a fresh process so its time and peak memory are its own.

`python -m benchmarks.jobs NAME '{"param": ...}'` prints one JSON object.  `benchmarks/run.py`
calls these and writes the report.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "Must a council involve a non-resident parent in a single assessment?",
    "Did the council contact the father before the child protection conference?",
    "How much did the Ombudsman ask the council to pay for distress?",
    "Can the Ombudsman look at a complaint that is being decided in court?",
    "What did the Ombudsman say about minutes of meetings being accurate?",
    "Should the council have told the mother about the section 47 enquiry outcome?",
    "Was there fault in how the council handled the complaint at stage two?",
    "Did the council apologise for the delay in the assessment?",
    "What does the Ombudsman expect when a parent disagrees with a social worker's report?",
    "Will the Ombudsman investigate a data protection complaint?",
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def _settings(store: str, **extra: Any):  # noqa: ANN202
    from rag.settings import Settings

    return Settings(store_dir=Path(store), **extra)


def _paragraphs(files: list[Path]) -> int:
    from rag.parse import parse_decision

    return sum(len(parse_decision(f.read_text(encoding="utf-8")).paragraphs) for f in files)


def ingest_ours(p: dict) -> dict:
    """Our ingest of a folder with the default (float32 ONNX) model, model load included."""
    from rag.bot import Bot

    started = time.perf_counter()
    bot = Bot(_settings(p["store"]))
    report = bot.ingest([Path(p["corpus"])])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "chunks": report.chunks, "decisions": report.decisions,
            "paragraphs": _paragraphs(sorted(Path(p["corpus"]).glob("*.txt"))), "peak_rss_mb": peak_rss_mb()}


def ingest_baseline(p: dict) -> dict:
    """LangChain's tutorial pipeline on the same folder: 1000/200 splits, MiniLM on PyTorch, Chroma;
    then its top-4 search latency on the benchmark questions."""
    from evals.baseline import Baseline
    from rag.embed import TorchMiniLMEmbedder

    files = sorted(Path(p["corpus"]).glob("*.txt"))
    started = time.perf_counter()
    baseline = Baseline(files, TorchMiniLMEmbedder())
    seconds = time.perf_counter() - started
    samples = []
    for question in QUESTIONS * 3:
        t = time.perf_counter()
        baseline.search(question)
        samples.append(time.perf_counter() - t)
    return {"seconds": seconds, "chunks": len(baseline.chunks), "paragraphs": _paragraphs(files),
            "search": percentiles(samples), "peak_rss_mb": peak_rss_mb()}


def build_tier(p: dict) -> dict:
    """A store of about `chunks` chunks of synthetic decisions, with precomputed vectors."""
    from benchmarks.synthetic import Generator, load_pool
    from benchmarks.vectors import PrecomputedEmbedder
    from rag.bot import Bot
    from rag.embed import OnnxMiniLMEmbedder

    generator = Generator(load_pool(PROJECT / "data" / "decisions"), seed=p.get("seed", 11))
    corpus = Path(p["corpus"])
    corpus.mkdir(parents=True, exist_ok=True)
    per_decision = 26  # about, with the summary; checked below
    for _ in range(int(p["chunks"] / per_decision) + 1):
        name, text = generator.decision()
        (corpus / name).write_text(text, encoding="utf-8")
    texts = {key: text for pairs in generator.pool.by_kind.values() for key, text in pairs}
    embedder = PrecomputedEmbedder(OnnxMiniLMEmbedder.packaged(), generator.source_of, texts)
    started = time.perf_counter()
    extra = {key: p[key] for key in ("chroma_url", "collection") if p.get(key)}
    bot = Bot(_settings(p["store"], **extra), embedder=embedder)
    report = bot.ingest([corpus])
    return {"seconds": time.perf_counter() - started, "chunks": report.chunks, "decisions": report.decisions,
            "peak_rss_mb": peak_rss_mb()}


def _filters(bot: Any) -> dict[str, dict | None]:
    return _filters_for(bot.catalog.decisions)


def _filters_for(decisions: dict[str, dict]) -> dict[str, dict | None]:
    council = sorted({m["council"] for m in decisions.values()})[0]
    return {"none": None, "council": {"council": council}, "outcome": {"outcome": "Upheld"},
            "date range": {"since": "2022-01-01", "until": "2023-06-30"}}


def latency(p: dict) -> dict:
    """Retrieval alone and the whole offline answer, unfiltered and with each kind of filter."""
    from rag.bot import Bot

    extra = {"chroma_url": p["chroma_url"]} if p.get("chroma_url") else {}
    bot = Bot(_settings(p["store"], **extra))
    started = time.perf_counter()
    bot.ask(QUESTIONS[0])  # loads the model and the indexes
    warm = time.perf_counter() - started
    out: dict[str, Any] = {"first_answer_s": round(warm, 2), "chunks": bot.store.count_chunks()}
    return {**out, **answer_latencies(bot, p.get("rounds", 3))}


def answer_latencies(bot: Any, rounds: int) -> dict[str, Any]:
    """Retrieval and whole answers with each kind of filter (percentiles), then the memory."""
    out: dict[str, Any] = {}
    for label, filters in _filters(bot).items():
        for mode in ("retrieve", "answer"):
            call = bot.retrieve if mode == "retrieve" else bot.ask
            samples = []
            for question in QUESTIONS * rounds:
                t = time.perf_counter()
                call(question, filters)
                samples.append(time.perf_counter() - t)
            out[f"{mode} / {label}"] = percentiles(samples)
    out["rss_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def cold_start(p: dict) -> dict:
    """`rag.Bot()` to the first answer, imports included (this process starts with nothing loaded)."""
    started = time.perf_counter()
    import rag

    bot = rag.Bot(_settings(p["store"]))
    answer = bot.ask(QUESTIONS[0])
    return {"seconds": time.perf_counter() - started, "citations": len(answer.citations),
            "peak_rss_mb": peak_rss_mb()}


def build_store_only(p: dict) -> dict:
    """About `chunks` chunks written straight into the store with precomputed vectors: synthetic
    decisions parsed and chunked as usual, but no lexical index (the store alone)."""
    import numpy as np

    from benchmarks.synthetic import Generator, load_pool
    from benchmarks.vectors import PrecomputedEmbedder
    from rag.chunk import chunk_decision
    from rag.embed import OnnxMiniLMEmbedder
    from rag.parse import parse_decision
    from rag.store import Store, WriteItem, make_chroma_client

    generator = Generator(load_pool(PROJECT / "data" / "decisions"), seed=p.get("seed", 13))
    texts = {key: text for pairs in generator.pool.by_kind.values() for key, text in pairs}
    embedder = PrecomputedEmbedder(OnnxMiniLMEmbedder.packaged(), generator.source_of, texts)
    settings = _settings(p["store"])
    store = Store(make_chroma_client(settings), settings.collection, embedder.name)
    started, written = time.perf_counter(), 0
    while written < p["chunks"]:
        items = []
        for _ in range(200):
            decision = parse_decision(generator.decision()[1])
            chunks = chunk_decision(decision, settings.chunk_max_tokens, embedder.name)
            vectors = np.asarray(embedder.embed_documents([c.text for c in chunks]), dtype=np.float32)
            items.append(WriteItem(decision, chunks, vectors, vectors.mean(axis=0)))
        store.write_decisions(items)
        written += sum(len(item.chunks) for item in items)
    return {"seconds": time.perf_counter() - started, "chunks": store.count_chunks(),
            "decisions": store.count_decisions(), "peak_rss_mb": peak_rss_mb()}


def store_only(p: dict) -> dict:
    """The vector side of the store alone: the first open (indexes built from Chroma, a page at a
    time), then dense search and the best chunks' texts and metadata from Chroma, with and
    without filters."""
    import numpy as np

    from rag.catalog import Catalog
    from rag.filters import Filters
    from rag.store import Store, make_chroma_client

    settings = _settings(p["store"])
    store = Store(make_chroma_client(settings), settings.collection, p["embedder"])
    catalog = Catalog(store, Path(p["store"]) / "indexes" / settings.collection)
    started = time.perf_counter()
    dense = catalog.dense
    out: dict[str, Any] = {"open_s": round(time.perf_counter() - started, 1), "chunks": len(dense)}
    rng = np.random.default_rng(3)
    vectors = dense.table.vectors(rng.integers(dense.table.total, size=40))
    for label, filters in _filters_for(catalog.decisions).items():
        allowed = catalog.matching(Filters.from_dict(filters))
        samples = []
        for vector in vectors:
            t = time.perf_counter()
            ids = [i for i, _ in dense.search(vector, 40, allowed)]
            store.get_chunks(ids[:8])
            samples.append(time.perf_counter() - t)
        out[f"query / {label}"] = percentiles(samples)
    out["rss_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


JOBS = {f.__name__: f for f in (ingest_ours, ingest_baseline, build_tier, build_store_only, latency, cold_start,
                                       store_only)}

if __name__ == "__main__":
    result = JOBS[sys.argv[1]](json.loads(sys.argv[2]))
    print(json.dumps(result))
