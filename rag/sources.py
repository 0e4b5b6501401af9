"""Find decision files and read them into text, whatever their encoding.

Decisions come as `.txt`/`.md` files (one decision each), `.html` pages saved from the LGO website
(see rag.lgo_html), or `.jsonl` files (one decision per line: `text`, plus optional `url` and the
metadata fields of public LGO datasets, used where the text is silent).  Files saved on Windows
arrive in cp1252 or UTF-16, so decoding tries the likely encodings in turn; binary files and
oversize files are refused with a reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InputError
from rag.lgo_html import html_to_text
from rag.refs import ref_key

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
# Fields of public LGO datasets, and the Decision fields they fill when the text is silent.
DATASET_FIELDS = {"case_id": "ref", "council": "council", "category": "category",
                  "subcategory": "subcategory", "outcome": "outcome", "date": "decision_date"}


@dataclass(frozen=True)
class SourceText:
    """One decision's text and where it came from (`name` is a file, or file#line for JSONL)."""

    name: str
    text: str
    url: str | None = None
    error: str | None = None  # a bad JSONL line is reported without stopping the file
    defaults: dict | None = None  # metadata that came with the record (see DATASET_FIELDS)


def find_files(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Decision files under `paths` in a stable order, and (path, reason) for paths that fail."""
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        elif path.is_file():
            if path.suffix.lower() in SUFFIXES:
                files.append(path)
            else:
                problems.append((str(path), f"unsupported file type {path.suffix or '(none)'!r}; "
                                 "use .txt, .md, .html or .jsonl"))
        else:
            problems.append((str(path), "no such file or folder"))
    pages = {p.with_suffix("") for p in files if p.suffix.lower() in HTML_SUFFIXES}
    # the archive keeps a page and its extracted text side by side: read the page only
    files = [p for p in files if not (p.suffix.lower() == ".txt" and p.with_suffix("") in pages)]
    return list(dict.fromkeys(files)), problems


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern), then cp1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"cannot decode as UTF-16 despite its byte-order mark ({exc.reason})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        sample = data[:4096]
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        # UTF-16 text has NULs in nearly every other byte; a few non-Latin characters may not.
        if max(even, odd) > len(sample) // 4 and min(even, odd) <= len(sample) // 100:
            try:
                return data.decode("utf-16-le" if odd else "utf-16-be")
            except UnicodeDecodeError:
                pass
        raise InputError("binary file (NUL bytes), not a text decision")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError("cannot decode as UTF-8, UTF-16 or cp1252") from None
    if _looks_binary(text):
        raise InputError("binary file, not a text decision")
    return text


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return control > len(sample) * 0.05


def read_file(path: Path, max_bytes: int) -> Iterator[SourceText]:
    """The decision texts in one file.  Raises InputError for the file as a whole."""
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(f"file is {size:,} bytes, over the limit of {max_bytes:,} (RAG_MAX_FILE_BYTES)")
    text = decode(path.read_bytes())
    if not text.strip():
        raise InputError("file is empty")
    if path.suffix.lower() in JSONL_SUFFIXES:
        yield from _jsonl_records(path, text)
    elif path.suffix.lower() in HTML_SUFFIXES:
        yield SourceText(name=str(path), text=html_to_text(text, path.name), url=_sidecar_url(path))
    else:
        yield SourceText(name=str(path), text=text)


def _jsonl_records(path: Path, text: str) -> Iterator[SourceText]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name = f"{path}#{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield SourceText(name=name, text="", error=f"invalid JSON: {exc.msg}")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            yield SourceText(name=name, text="", error="record has no string field 'text'")
            continue
        url = record.get("url") if isinstance(record.get("url"), str) else None
        try:
            defaults = dataset_defaults(record)
        except InputError as exc:
            yield SourceText(name=name, text="", error=str(exc))
            continue
        yield SourceText(name=name, text=record["text"], url=url, defaults=defaults)


def dataset_defaults(record: dict) -> dict:
    """Decision fields from a dataset record's metadata; a bad field is named in the error."""
    out: dict = {}
    for key, target in DATASET_FIELDS.items():
        value = record.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise InputError(f"field {key!r} must be text, not {type(value).__name__}")
        out[target] = value.strip()
    if "ref" in out:
        try:
            ref_key(out["ref"])
        except ValueError:
            raise InputError(f"field 'case_id' {out['ref']!r} is not an LGO reference like 18-011-812") from None
    if "decision_date" in out:
        try:
            out["decision_date"] = dt.date.fromisoformat(out["decision_date"][:10])
        except ValueError:
            raise InputError(f"field 'date' {out['decision_date']!r} is not a date like 2019-03-28") from None
    if "category" in out and ">" in out["category"]:
        head, _, tail = out["category"].partition(">")
        out["category"] = head.strip()
        out.setdefault("subcategory", tail.strip())
    return out


def _sidecar_url(path: Path) -> str | None:
    """The page's address, from the archive's record beside a saved page (see rag.archive)."""
    try:
        record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record.get("url") if isinstance(record, dict) and isinstance(record.get("url"), str) else None
