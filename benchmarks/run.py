"""Benchmarks: `python benchmarks/run.py [--quick] [--json] [--no-report] [--million CHUNKS] [--million-from JSON]`.

`--million-only JSON` measures just the archive tier and takes the other stages from JSON.

Measures, on this machine and in one run, our ingest against LangChain's tutorial pipeline, question
latency at several store sizes with and without filters, the store alone at a million chunks,
cold start, and the Chroma server against the embedded store.  Every figure comes from a job run
in its own process (benchmarks/jobs.py), and the report `docs/benchmarks.md` is written from them.
The results so far are saved to `var/benchmarks-partial.json` as each stage starts, so a failure in
the two-hour full run keeps what was already measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from benchmarks.index_scale import run as run_index_scale  # noqa: E402
from benchmarks.million import run as run_million  # noqa: E402
from benchmarks.report import write_report  # noqa: E402
from benchmarks.synthetic import write_corpus  # noqa: E402
from rag.embed import MINILM_NAME  # noqa: E402

QUICK = {"ingest_decisions": 8, "tiers": [1000], "server_tier": 1000, "million": 0, "rounds": 1,
         "server_ingest_chunks": 500, "index_scale": 0}
FULL = {"ingest_decisions": 300, "tiers": [1000, 10000, 100000], "server_tier": 100000, "million": 1_000_000,
        "rounds": 3, "server_ingest_chunks": 5000, "index_scale": 11}
PARTIAL = PROJECT / "var" / "benchmarks-partial.json"


def job(name: str, module: str = "benchmarks.jobs", **params: Any) -> dict:
    """Run one job in a fresh interpreter; its last output line is its JSON result."""
    env = dict(os.environ, PYTHONPATH=str(PROJECT), HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.run([sys.executable, "-m", module, name, json.dumps(params)], cwd=PROJECT,
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark job {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float) -> float:
    """Seconds until `url` answers 200 (raises after `seconds`)."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def app_start(store: Path) -> float:
    """`python app.py` to serving its page, on an already ingested store."""
    port = free_port()
    env = dict(os.environ, RAG_STORE_DIR=str(store), GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=PROJECT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return wait_for(f"http://127.0.0.1:{port}/", 120)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def chroma_server(path: Path, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/api/v2/heartbeat", timeout)
    return proc, url


def run_server(work: Path, tier_store: Path, tier_chunks: int, ingest_chunks: int) -> dict:
    """The same tier served by `chroma run`: first answer (indexes pulled over HTTP), then latency;
    and ingest of a small corpus into the server against the embedded store."""
    served = work / "served"
    shutil.copytree(tier_store, served, ignore=shutil.ignore_patterns("lexical", "dense"))
    proc, url = chroma_server(served)
    try:
        result = {"tier": tier_chunks, "latency": job("latency", store=str(work / "client-cache"), chroma_url=url,
                                                       rounds=2)}
        result["ingest_server"] = job("build_tier", corpus=str(work / "srv-corpus"), store=str(work / "srv-cache"),
                                      chunks=ingest_chunks, chroma_url=url, collection="ingest_bench")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result["ingest_embedded"] = job("build_tier", corpus=str(work / "emb-corpus"), store=str(work / "emb-store"),
                                    chunks=ingest_chunks)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run, under two minutes")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--million", type=int, metavar="CHUNKS",
                        help="size of the archive tier (default: 1,000,000 in the full run, none with --quick)")
    parser.add_argument("--million-from", type=Path, metavar="JSON",
                        help="take the archive tier's figures from an earlier run's results (its "
                        "var/benchmarks-partial.json or --json output) instead of re-running its two hours")
    parser.add_argument("--million-only", type=Path, metavar="JSON",
                        help="measure only the archive tier, and take every other stage from an earlier "
                        "run's results (the reverse of --million-from)")
    args = parser.parse_args(argv)
    if args.million_only:
        return _million_only(args, parser)
    plan = dict(QUICK if args.quick else FULL)
    earlier = _earlier_million(args.million_from) if args.million_from else None
    if args.million is not None:
        plan["million"] = args.million
    if earlier:
        plan["million"] = 0
    command = "python benchmarks/run.py" + (" --quick" if args.quick else "") + \
        (f" --million {args.million}" if args.million is not None else "") + \
        (f" --million-from {args.million_from}" if earlier else "")
    results: dict[str, Any] = {"command": command, "plan": plan, **(earlier or {})}
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        work = Path(tmp)
        progress(f"ingest: {plan['ingest_decisions']} synthetic decisions, ours then the baseline")
        write_corpus(work / "corpus", plan["ingest_decisions"], PROJECT / "data" / "decisions")
        results["ingest"] = {"ours": job("ingest_ours", corpus=str(work / "corpus"), store=str(work / "ingest")),
                             "baseline": job("ingest_baseline", corpus=str(work / "corpus"))}
        results["ingest"]["ours_search"] = job("latency", store=str(work / "ingest"), rounds=plan["rounds"])
        results["tiers"] = {}
        for chunks in plan["tiers"]:
            progress(f"tier of {chunks:,} chunks: build, then question latency", results)
            store = work / f"tier-{chunks}"
            built = job("build_tier", corpus=str(work / f"corpus-{chunks}"), store=str(store), chunks=chunks)
            results["tiers"][str(chunks)] = {"build": built, **job("latency", store=str(store),
                                                                   rounds=plan["rounds"])}
        if plan["index_scale"] and "100000" in results["tiers"]:
            progress(f"the 100k tier's rows {plan['index_scale']} times over: restart and memory", results)
            results["index_scale"] = run_index_scale(work / "tier-100000", work, plan["index_scale"])
        if plan["million"]:
            million_stage(work, plan, results)
        progress("cold start and app start on the bundled decisions", results)
        seeds = work / "seeds-store"
        job("ingest_ours", corpus=str(PROJECT / "data" / "decisions"), store=str(seeds))
        results["cold_start"] = job("cold_start", store=str(seeds))
        results["app_start_s"] = round(app_start(seeds), 2)
        progress("Chroma server against the embedded store", results)
        results["server"] = run_server(work, work / f"tier-{plan['server_tier']}", plan["server_tier"],
                                       plan["server_ingest_chunks"])
    progress("done", results)
    text = write_report(results, None if args.no_report else PROJECT / "docs" / "benchmarks.md")
    print(json.dumps(results) if args.json else text)
    return 0


def million_stage(work: Path, plan: dict, results: dict) -> None:
    """The archive tier: the store alone at a million chunks, then the whole archive on it."""
    progress(f"store alone at {plan['million']:,} chunks (precomputed vectors)", results)
    store = work / "tier-1m"
    built = job("build_store_only", store=str(store), chunks=plan["million"])
    results["million"] = {"build": built, **job("store_only", store=str(store), embedder=MINILM_NAME),
                          "disk_mb": round(disk_mb(store), 1)}
    progress("the whole archive at a million chunks: open, answer, restart, HNSW, server, updates", results)
    results["archive"] = run_million(work / "million", store, "lgo_decisions", plan["rounds"], job, chroma_server)
    shutil.rmtree(store, ignore_errors=True)


def _million_only(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Only the archive tier (about two and a half hours); every other stage is taken from the results
    of an earlier full run, whose command the report names."""
    if args.quick or args.million_from:
        parser.error("--million-only cannot be combined with --quick or --million-from")
    try:
        earlier = json.loads(args.million_only.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--million-only {args.million_only}: cannot read it ({exc})") from None
    if not earlier.get("tiers") or not earlier.get("cold_start"):
        raise SystemExit(f"--million-only {args.million_only}: it holds no complete run of the other stages")
    plan = dict(FULL, million=args.million or FULL["million"])
    command = "python benchmarks/run.py" + (f" --million {args.million}" if args.million else "") + \
        f" --million-only {args.million_only}"
    results = {key: value for key, value in earlier.items() if key not in ("million", "archive", "million_command")}
    results.update(command=command, plan=plan, others_command=earlier.get("others_command") or earlier["command"])
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        million_stage(Path(tmp), plan, results)
    progress("done", results)
    text = write_report(results, None if args.no_report else PROJECT / "docs" / "benchmarks.md")
    print(json.dumps(results) if args.json else text)
    return 0


def _earlier_million(path: Path) -> dict:
    """The archive tier's results (and the command that measured them) from an earlier run."""
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--million-from {path}: cannot read it ({exc})") from None
    if not earlier.get("million") or not earlier.get("archive"):
        raise SystemExit(f"--million-from {path}: it holds no complete archive tier (run it to the end first)")
    return {"million": earlier["million"], "archive": earlier["archive"],
            "million_command": earlier.get("million_command") or earlier["command"]}


def disk_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def progress(message: str, results: dict | None = None) -> None:
    """Log a stage to stderr and, when given, save the results so far, so that a failure late in a
    two-hour run does not lose the stages already measured."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
    if results is not None:
        PARTIAL.parent.mkdir(parents=True, exist_ok=True)
        PARTIAL.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
