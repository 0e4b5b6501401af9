"""The folder of derived indexes: immutable segments, and one manifest that says which are live.

    <folder>/manifest.json      which segments, which of their rows are deleted, and the registry
                                version of every decision the rows reflect
    <folder>/seg-<id>/          immutable segments (rag/segment.py)
    <folder>/registry.json      the registry the manifest reflects, with the store's change stamp
    <folder>/.lock              held (flock) by the one process writing at a time

The manifest is replaced whole (written aside, flushed, renamed), so a reader sees the old state
or the new, never half of one.  A crash before the rename leaves the old manifest, which names
what the index reflects: the next open compares that with the store's registry and applies the
difference, so a crash between writing Chroma and saving the index is repaired there.

Several processes may share a folder (and a snapshot folder is one shared on purpose): writers
take the lock and re-read the manifest under it, so no update is lost or applied twice; readers
take no lock, because nothing they have opened is ever changed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT = 2  # 2: segments keep each chunk's text and metadata
MANIFEST = "manifest.json"


@dataclass
class Manifest:
    basis: str  # what every row depends on (embedder, tokenizer, format): a change means a rebuild
    dim: int = 0
    generation: int = 0
    segments: list[dict] = field(default_factory=list)  # {"name", "rows", "deleted": [local rows]}
    versions: dict[str, str] = field(default_factory=dict)  # ref -> registry version reflected
    format: int = FORMAT

    def names(self) -> list[str]:
        return [s["name"] for s in self.segments]


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest, or None when there is none or it is unreadable or of another format."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None
    return manifest if manifest.format == FORMAT else None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Replace the manifest whole: a crash leaves the old one or the new one."""
    tmp = folder / f".{MANIFEST}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(json.dumps(asdict(manifest)))  # json.dump's Python encoder: slow for 50k versions
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(folder / MANIFEST)
    _fsync_dir(folder)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """The folder's writer lock (blocking); the kernel drops it if the holder dies."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def collect_garbage(folder: Path, manifest: Manifest | None) -> None:
    """Remove segments the manifest no longer lists and leftovers of interrupted writes (call
    under the lock).  A process still serving from a removed segment keeps its open files."""
    keep = set(manifest.names()) if manifest else set()
    for path in folder.iterdir():
        if path.name.startswith(".seg-") or (path.name.startswith("seg-") and path.name not in keep):
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith((f".{MANIFEST}.", f".{REGISTRY}.")):
            path.unlink(missing_ok=True)


REGISTRY = "registry.json"


def save_registry(folder: Path, stamp: str | None, registry: dict[str, dict]) -> None:
    """The registry as last read, with the store's change stamp then: while the stamp has not
    moved, a new process need not read the registry from the store (seconds for a whole archive)."""
    if not stamp or stamp.startswith("pending-"):
        (folder / REGISTRY).unlink(missing_ok=True)
        return
    tmp = folder / f".{REGISTRY}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(json.dumps({"stamp": stamp, "registry": registry}))  # one C-encoded string: json.dump
        # encodes piece by piece in Python, seconds for a whole archive's registry
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(folder / REGISTRY)


def saved_registry(folder: Path, stamp: str | None) -> dict[str, dict] | None:
    """The saved registry if it was saved at this very stamp, else None."""
    if not stamp or stamp.startswith("pending-"):
        return None
    try:
        data = json.loads((folder / REGISTRY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data["registry"] if isinstance(data, dict) and data.get("stamp") == stamp else None


def _link_or_copy(source: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for item in source.iterdir():
        try:
            os.link(item, tmp / item.name)  # same file system: instant, and segments never change
        except OSError:
            shutil.copy2(item, tmp / item.name)
    _fsync_dir(tmp)
    tmp.rename(target)


def copy_index(source: Path, target: Path, held: Path) -> Manifest | None:
    """Make `target` hold `source`'s index (only the segments it lacks are copied); the manifest
    written, or None when `source` has none.  The caller holds the lock of `held` (one of the
    two: a second flock of the same file from this process would wait for itself); this takes
    the other's."""
    other = target if held == source else source
    with locked(other):
        manifest = read_manifest(source)
        if manifest is None:
            return None
        target.mkdir(parents=True, exist_ok=True)
        for name in manifest.names():
            if not (target / name).is_dir():
                _link_or_copy(source / name, target / name)
        if (source / REGISTRY).exists():
            shutil.copyfile(source / REGISTRY, target / f".{REGISTRY}.copy")
            (target / f".{REGISTRY}.copy").replace(target / REGISTRY)
        write_manifest(target, manifest)
        collect_garbage(target, manifest)
    return manifest
