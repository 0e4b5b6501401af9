"""Ingest robustness against bad input, on a real embedded Chroma in a temporary folder.

Every bad input must end as one line in the report that names the file and says why, while the run
goes on: the good files in the same run are loaded and nothing stored before is lost.  Files saved
on Windows (cp1252, UTF-16 with or without BOM, CRLF) must give exactly the same paragraphs and
chunks as the UTF-8 original.  The last tests drive `python ingest.py` as a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DECISIONS_DIR, PROJECT, FakeEmbedder

from rag import Bot, Settings, parse_decision
from rag.sources import read_file
from rag.store import Store

# Stored before each bad run; must survive it untouched.
PRE_STORED = DECISIONS_DIR / "24-003-230.txt"
PRE_REF = "24 003 230"
# The good file that sits next to the bad ones in each run; must be loaded.
GOOD = DECISIONS_DIR / "19-012-512.txt"
GOOD_REF = "19 012 512"
# The decision with the most non-ASCII characters (£ – ‘ ’ “ ” • … and no-break spaces).
RICH = DECISIONS_DIR / "18-009-360.txt"
RICH_REF = "18 009 360"

PNG_LIKE = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"
    b"\x5c\x72\xa8\x66\x00\x00\x00\x04sBIT\x08\x08\x08\x08|\x08d\x88" + bytes(range(256)) * 8
)


# -- helpers ------------------------------------------------------------------------------------


def _state(store: Store) -> tuple[dict, dict]:
    """Everything stored: chunk id -> (document, metadata), and the registry."""
    got = store._chunks.get(include=["documents", "metadatas"])
    chunks = {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
    return chunks, store.registry()


def _chunks_of(store: Store, ref: str) -> dict[str, tuple[str, dict]]:
    """A decision's chunks as id -> (document, metadata without `source`)."""
    return {
        c["id"]: (c["text"], {k: v for k, v in c["metadata"].items() if k != "source"})
        for c in store.get_chunks(store.chunk_ids(ref))
    }


def _assert_run(bot: Bot, report, before, bad: dict[str, str], good: list[str]) -> None:
    """Each bad input is named once with a reason matching its pattern; the good refs are loaded;
    everything stored before the run is still there, byte for byte."""
    names = [name for name, _ in report.failures]
    assert sorted(names) == sorted(bad), report.failures
    assert report.failed == len(bad)
    reasons = dict(report.failures)
    for name, pattern in bad.items():
        assert re.search(pattern, reasons[name], re.I), f"{name}: unclear reason {reasons[name]!r}"

    registry = bot.store.registry()
    for ref in good:
        assert ref in registry, f"good decision {ref} was not loaded"
        ids = bot.store.chunk_ids(ref)
        assert ids and len(ids) == registry[ref]["chunks"]

    chunks_before, registry_before = before
    chunks_after, registry_after = _state(bot.store)
    assert {i: chunks_after.get(i) for i in chunks_before} == chunks_before, "stored chunks were lost"
    assert {r: registry_after.get(r) for r in registry_before} == registry_before
    assert report.decisions == len(registry_before) + len(good) == len(registry_after)
    assert report.chunks == len(chunks_after)


@pytest.fixture
def before(fake_bot):
    """The store holds one decision before the run under test; returns its full state."""
    report = fake_bot.ingest([PRE_STORED])
    assert (report.added, report.failed) == (1, 0)
    return _state(fake_bot.store)


@pytest.fixture
def inbox(tmp_path) -> Path:
    """A folder with one good decision file; tests add bad files next to it."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(GOOD, folder / GOOD.name)
    return folder


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Store:
    """A separate store built from the UTF-8 originals, to compare re-encoded copies against."""
    settings = Settings(store_dir=tmp_path_factory.mktemp("reference") / "store", data_dir=DECISIONS_DIR)
    bot = Bot(settings, embedder=FakeEmbedder())
    report = bot.ingest([DECISIONS_DIR])
    assert (report.added, report.failed) == (5, 0)
    return bot.store


# -- one bad file next to a good one -------------------------------------------------------------

BAD_FILES = {
    # id: (file name, bytes, pattern the reason must match)
    "empty": ("empty.txt", b"", r"empty"),
    "whitespace-only": ("blank.txt", b"  \n\t\r\n   \n\n", r"empty"),
    "bom-only": ("bom.txt", b"\xef\xbb\xbf", r"empty"),
    "binary-png": ("scan.txt", PNG_LIKE, r"binary"),
    "binary-no-nul": ("noise.md", bytes(range(0x80, 0x100)) * 16, r"binary|cannot decode"),
    "not-a-decision": (
        "notes.txt",
        "Minutes of the budget meeting\n\nThe council agreed to review parking charges.\n"
        "Action: circulate the report by Friday.\n".encode(),
        r"no LGO case reference.*Derbyshire County Council \(18 011 812\)",
    ),
    "header-without-paragraphs": (
        "stub.txt",
        b"Derbyshire County Council (18 011 812)\n\nCategory : Children's care services > Other\n",
        r"18 011 812 has no paragraphs",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_file_is_reported_and_the_run_goes_on(fake_bot, before, inbox, case):
    name, data, pattern = BAD_FILES[case]
    bad = inbox / name
    bad.write_bytes(data)

    report = fake_bot.ingest([inbox])

    assert (report.added, report.updated, report.unchanged) == (1, 0, 0)
    _assert_run(fake_bot, report, before, {str(bad): pattern}, [GOOD_REF])


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe" + "Derbyshire County Council (18 011 812)\n".encode("utf-16-le") + b"\x0a",
        b"\xff\xfe" + b"\x00\xd8" + "A council (18 011 812)\n".encode("utf-16-le"),
    ],
    ids=["odd-byte-count", "lone-surrogate"],
)
def test_corrupt_utf16_file_is_reported_and_the_run_goes_on(fake_bot, before, inbox, data):
    bad = inbox / "broken-utf16.txt"
    bad.write_bytes(data)

    report = fake_bot.ingest([inbox])

    _assert_run(fake_bot, report, before, {str(bad): r"decode|UTF-16"}, [GOOD_REF])


def test_unsupported_suffix_given_explicitly(fake_bot, before, inbox, tmp_path):
    pdf = tmp_path / "decision.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + GOOD.read_bytes())
    (inbox / "ignored.pdf").write_bytes(b"%PDF-1.7\n")  # inside a folder: skipped, not reported

    report = fake_bot.ingest([pdf, inbox])

    _assert_run(fake_bot, report, before, {str(pdf): r"unsupported file type '\.pdf'.*\.txt"}, [GOOD_REF])


def test_missing_paths(fake_bot, before, inbox, tmp_path):
    missing_file = tmp_path / "nope" / "18-011-812.txt"
    missing_dir = tmp_path / "no-such-folder"

    report = fake_bot.ingest([missing_file, inbox, missing_dir])

    _assert_run(
        fake_bot,
        report,
        before,
        {str(missing_file): r"no such file", str(missing_dir): r"no such file or folder"},
        [GOOD_REF],
    )


def test_file_over_the_size_limit(tmp_path, inbox):
    limit = GOOD.stat().st_size  # the good file is exactly at the limit, which is allowed
    assert PRE_STORED.stat().st_size <= limit < RICH.stat().st_size
    settings = Settings(store_dir=tmp_path / "store", data_dir=DECISIONS_DIR, max_file_bytes=limit)
    bot = Bot(settings, embedder=FakeEmbedder())
    bot.ingest([PRE_STORED])
    before = _state(bot.store)
    big = inbox / "big.txt"
    shutil.copy(RICH, big)

    report = bot.ingest([inbox])

    size = big.stat().st_size
    pattern = rf"{size:,} bytes, over the limit of {limit:,} \(RAG_MAX_FILE_BYTES\)"
    _assert_run(bot, report, before, {str(big): pattern}, [GOOD_REF])
    assert RICH_REF not in bot.store.registry()


def test_same_decision_under_two_names(fake_bot, before, inbox, reference):
    copy = inbox / "copy-of-the-good-one.txt"
    shutil.copy(GOOD, copy)
    first, second = sorted([str(inbox / GOOD.name), str(copy)])

    report = fake_bot.ingest([inbox])

    assert (report.added, report.chunks_written) == (1, len(reference.chunk_ids(GOOD_REF)))
    _assert_run(fake_bot, report, before, {second: rf"same decision {GOOD_REF} as {re.escape(first)}"},
                [GOOD_REF])
    assert fake_bot.store.registry()[GOOD_REF]["source"] == first
    assert _chunks_of(fake_bot.store, GOOD_REF) == _chunks_of(reference, GOOD_REF), "one set of chunks"

    again = fake_bot.ingest([inbox])  # the duplicate is reported again, nothing is rewritten
    assert (again.unchanged, again.failed, again.chunks_written) == (1, 1, 0)


def test_jsonl_good_record_loaded_bad_lines_reported(fake_bot, before, inbox, reference):
    url = "https://example.org/lgo/18-011-812"
    batch = inbox / "batch.jsonl"
    lines = [
        json.dumps({"text": (DECISIONS_DIR / "18-011-812.txt").read_text(encoding="utf-8"), "url": url}),
        '{"text": "Derbyshire County Council (18 011 812)", ',  # cut off: invalid JSON
        "",  # blank lines are skipped, and still counted for line numbers
        json.dumps({"url": "https://example.org/no-text", "body": "no text field"}),
    ]
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = fake_bot.ingest([inbox])

    assert report.added == 2
    _assert_run(
        fake_bot,
        report,
        before,
        {f"{batch}#2": r"invalid JSON", f"{batch}#4": r"no string field 'text'"},
        [GOOD_REF, "18 011 812"],
    )
    meta = fake_bot.store.registry()["18 011 812"]
    assert meta["url"] == url and meta["source"] == f"{batch}#1"
    stored = _chunks_of(fake_bot.store, "18 011 812")
    assert {m["url"] for _, m in stored.values()} == {url}
    expected = _chunks_of(reference, "18 011 812")
    assert {i: d for i, (d, _) in stored.items()} == {i: d for i, (d, _) in expected.items()}


# -- Windows encodings ---------------------------------------------------------------------------

ENCODINGS = {
    "cp1252": lambda text: text.encode("cp1252"),
    "cp1252-crlf": lambda text: text.replace("\n", "\r\n").encode("cp1252"),
    "utf-16-bom": lambda text: text.encode("utf-16"),
    "utf-16-bom-crlf": lambda text: text.replace("\n", "\r\n").encode("utf-16"),
    "utf-16-le-no-bom": lambda text: text.encode("utf-16-le"),
    "utf-16-be-no-bom": lambda text: text.encode("utf-16-be"),
    "utf-8-bom": lambda text: text.encode("utf-8-sig"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS), ids=list(ENCODINGS))
def test_windows_encodings_give_the_same_paragraphs_and_chunks(
    fake_bot, before, inbox, reference, encoding
):
    original = RICH.read_text(encoding="utf-8")
    data = ENCODINGS[encoding](original)
    assert data != original.encode("utf-8")
    if encoding.startswith("cp1252"):  # the curly quotes really are different bytes
        assert "\u2019".encode("cp1252") in data and "\u2019".encode("utf-8") not in data
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    copy = inbox / f"{RICH.stem}-{encoding}.txt"
    copy.write_bytes(data)

    [source] = read_file(copy, Settings().max_file_bytes)
    want = parse_decision(original)
    got = parse_decision(source.text)
    assert [p.text for p in got.paragraphs] == [p.text for p in want.paragraphs]
    assert any("\u2019" in p.text for p in got.paragraphs)
    assert got.content_hash == want.content_hash

    report = fake_bot.ingest([inbox])

    assert report.added == 2
    _assert_run(fake_bot, report, before, {}, [GOOD_REF, RICH_REF])
    assert _chunks_of(fake_bot.store, RICH_REF) == _chunks_of(reference, RICH_REF)
    assert fake_bot.store.registry()[RICH_REF]["doc_hash"] == want.content_hash


# -- everything at once --------------------------------------------------------------------------


def test_all_bad_inputs_in_one_run_then_again(fake_bot, fake_embedder, before, inbox, tmp_path):
    bad: dict[str, str] = {}
    for name, data, pattern in BAD_FILES.values():
        (inbox / name).write_bytes(data)
        bad[str(inbox / name)] = pattern
    shutil.copy(RICH, inbox / "zz-rich.txt")  # a second good file, sorted after the bad ones
    (inbox / "zz-rich-copy.txt").write_bytes(RICH.read_text(encoding="utf-8").encode("cp1252"))
    bad[str(inbox / "zz-rich.txt")] = rf"same decision {RICH_REF} as .*zz-rich-copy\.txt"
    pdf, missing = tmp_path / "x.pdf", tmp_path / "missing.md"
    pdf.write_bytes(b"%PDF-1.4\n")
    bad[str(pdf)], bad[str(missing)] = r"unsupported", r"no such file"

    report = fake_bot.ingest([pdf, inbox, missing])

    assert (report.added, report.updated, report.unchanged) == (2, 0, 0)
    _assert_run(fake_bot, report, before, bad, [GOOD_REF, RICH_REF])

    after_first = _state(fake_bot.store)
    calls = fake_embedder.calls
    again = fake_bot.ingest([pdf, inbox, missing])
    assert (again.added, again.updated, again.unchanged, again.chunks_written) == (0, 0, 2, 0)
    assert sorted(again.failures) == sorted(report.failures)
    assert fake_embedder.calls == calls
    assert _state(fake_bot.store) == after_first


def test_a_file_that_turned_bad_keeps_its_decision_even_with_prune(fake_bot, inbox):
    fake_bot.ingest([inbox])
    before = _state(fake_bot.store)
    (inbox / GOOD.name).write_bytes(b"")  # e.g. truncated by a failed copy

    report = fake_bot.ingest([inbox], prune=True)

    assert report.failures == [(str(inbox / GOOD.name), "file is empty")]
    assert report.pruned == 0
    assert _state(fake_bot.store) == before


# -- the command line ----------------------------------------------------------------------------


def _cli(args: list[str], store_dir: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    clean.update(RAG_STORE_DIR=str(store_dir), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **env)
    return subprocess.run(
        [sys.executable, str(PROJECT / "ingest.py"), *args],
        cwd=PROJECT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_cli_reports_bad_file_and_loads_the_good_one(tmp_path):
    """The only CLI run that embeds (with the real packaged model)."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(PRE_STORED, folder / PRE_STORED.name)  # the smallest decision
    bad = folder / "broken.txt"
    bad.write_bytes(PNG_LIKE)
    store = tmp_path / "store"

    run = _cli([str(folder), "--json"], store)

    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    summary, end = json.JSONDecoder().raw_decode(run.stdout)
    assert run.stdout[end:].strip() == "", "stdout must be exactly one JSON object"
    assert isinstance(summary, dict)
    assert {"added", "updated", "unchanged", "failed", "decisions", "chunks"} <= summary.keys()
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (1, 0, 0)
    assert (summary["failed"], summary["decisions"]) == (1, 1) and summary["chunks"] > 0
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == summary["failed"] == 1, run.stderr
    assert str(bad) in lines[0] and "binary" in lines[0]
    assert store.is_dir()


def test_cli_usage_error_exits_2(tmp_path):
    run = _cli(["--no-such-flag"], tmp_path / "store")

    assert run.returncode == 2
    assert "--no-such-flag" in run.stderr and "Traceback" not in run.stderr
    assert run.stdout == ""
    assert not (tmp_path / "store").exists()


def test_cli_bad_setting_is_one_line_naming_the_variable(tmp_path):
    run = _cli([str(DECISIONS_DIR), "--json"], tmp_path / "store", RAG_CHUNK_MAX_TOKENS="abc")

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "RAG_CHUNK_MAX_TOKENS" in lines[0], run.stderr
    assert run.stdout == ""
    assert not (tmp_path / "store").exists()


def test_cli_output_cut_short_by_a_pipe_is_no_traceback(tmp_path):
    """`python -m rag show FILE | head` closes the pipe early: the command stops quietly."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    clean["RAG_STORE_DIR"] = str(tmp_path / "store")
    decision = sorted(DECISIONS_DIR.glob("*.txt"))[0]
    show = subprocess.Popen([sys.executable, "-m", "rag", "show", str(decision)], cwd=PROJECT, env=clean,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The reader goes before the command prints anything (it is still starting Python), so its
    # first write finds the pipe closed, as `head` leaves it once it has its lines.  (Reading a
    # line first let the whole output fit in the pipe's buffer on some runs: no broken pipe.)
    show.stdout.close()
    _, err = show.communicate(timeout=120)

    assert b"Traceback" not in err, err.decode()
    assert show.returncode == 1
