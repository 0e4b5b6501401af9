"""One process at a time on an embedded store.

Chroma's embedded store is not safe for two processes at once (two writers on one directory is a
known cause of corruption), so the first process to open a store folder holds an advisory lock
on `<store>/.lock` until it exits, and any other process is refused with a message naming the
holder and the way to share a store: a Chroma server.  The lock is `flock`, so the kernel drops
it when its holder dies, even by SIGKILL; a stale lock file cannot block anyone.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from rag.errors import StoreError

_held: dict[Path, int] = {}  # store folder -> open descriptor holding its lock in this process


def lock_store(folder: Path) -> None:
    """Take the store's lock for this process (again is fine); StoreError if another has it."""
    folder = folder.resolve()
    if folder in _held:
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return  # a store this process cannot write is one it cannot corrupt either
        raise StoreError(f"cannot open the store at {folder} ({exc.strerror}); check RAG_STORE_DIR") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise StoreError(
            f"the store at {folder} is in use by another process (pid {holder}); wait for it or stop "
            f"it, or share the store through a Chroma server: `chroma run --path {folder}` and set "
            "RAG_CHROMA_URL for every process"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode("ascii"))
    _held[folder] = fd


def unlock_store(folder: Path) -> None:
    """Release the lock early (tests, or a process done with the store)."""
    fd = _held.pop(folder.resolve(), None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
