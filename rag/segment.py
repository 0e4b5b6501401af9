"""One immutable piece of the derived indexes: the rows of some decisions, as flat files.

An update never rewrites what is on disk: it writes the new rows as a new segment and lists the
old rows they replace as deleted (see rag/manifest.py).  So a process can keep serving from files
that another process is adding to, a crash part-way leaves only an unlisted folder behind, and a
shared snapshot can hard-link the files instead of copying them.

Each segment holds, per row: the chunk id, its decision, section kind and "only reported speech"
flag; the float32 unit vector (read with pread for the few rows a question rescores, never held
in memory); the chunk's text and metadata (read with pread for the few rows an answer quotes, so
answering never reads the store: an embedded Chroma loads a whole collection's vectors, 1.7 GB
at a million chunks, on its first read); its int8 codes with a per-row scale and error bound
(memory-mapped and scanned by every question); and, for BM25, the row's token count and the
postings (row, term frequency) of each token, keyed by a stable 64-bit hash of the token so that
no vocabulary has to be loaded to answer.  The token strings are kept too, read only when asked
for (`doc_freq`).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import weakref
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from rag.kernels import quantize_rows

MERGE_TOKENS = 1 << 16  # tokens merged at once: bounds the memory a merge takes


class Rows:
    """What a segment is built from: rows added one at a time, kept compact (float32 vectors,
    each row's tokens as vocabulary numbers and counts), so a rebuild a page at a time stays small."""

    def __init__(self, ids: Sequence[str] = (), refs: Sequence[str] = (), kinds: Sequence[str] = (),
                 reported: Sequence[bool] = (), vectors: Sequence[Sequence[float]] | np.ndarray = (),
                 tokens: Sequence[list[str]] = (), texts: Sequence[str] | None = None,
                 metadatas: Sequence[dict] | None = None) -> None:
        self.ids: list[str] = []
        self.docs: list[bytes] = []
        self.refs: list[str] = []
        self.kinds: list[str] = []
        self.reported: list[bool] = []
        self._vectors: list[np.ndarray] = []
        self.vocab: dict[str, int] = {}
        self.token_ids: list[np.ndarray] = []
        self.token_tf: list[np.ndarray] = []
        self.lengths: list[int] = []
        texts = texts if texts is not None else [""] * len(ids)
        metadatas = metadatas if metadatas is not None else [{}] * len(ids)
        for row in zip(ids, refs, kinds, reported, vectors, tokens, texts, metadatas):
            self.add(*row)

    def add(self, chunk_id: str, ref: str, kind: str, reported: bool, vector: Sequence[float],
            tokens: list[str], text: str = "", metadata: dict | None = None) -> None:
        self.ids.append(chunk_id)
        self.docs.append(encode_doc(text, metadata or {}))
        self.refs.append(ref)
        self.kinds.append(kind)
        self.reported.append(bool(reported))
        self._vectors.append(np.asarray(vector, dtype=np.float32))
        counts = Counter(tokens)
        self.token_ids.append(np.fromiter((self.vocab.setdefault(t, len(self.vocab)) for t in counts),
                                          dtype=np.int32, count=len(counts)))
        self.token_tf.append(np.fromiter(counts.values(), dtype=np.int32, count=len(counts)))
        self.lengths.append(len(tokens))

    @property
    def vectors(self) -> np.ndarray:
        return np.vstack(self._vectors) if self._vectors else np.zeros((0, 1), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids)


def encode_doc(text: str, metadata: dict) -> bytes:
    return json.dumps([text, metadata], ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def unit_rows(vectors: Sequence[Sequence[float]] | np.ndarray, dim: int) -> np.ndarray:
    """Float32 rows scaled to unit length (a zero row stays zero), exactly as the old index did."""
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim).copy()
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms == 0, 1.0, norms)
    return matrix


def token_hash(tokens: Sequence[str]) -> np.ndarray:
    """Stable 64-bit keys of tokens (Python's own hash changes from process to process)."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little")
                        for t in tokens), dtype=np.uint64, count=len(tokens))


def _save(folder: Path, name: str, array: np.ndarray) -> None:
    with open(folder / name, "wb") as out:
        np.ascontiguousarray(array).tofile(out)
        out.flush()
        os.fsync(out.fileno())


def _postings(rows: Rows) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(vocabulary sorted by hash, hashes, pointers, rows, term frequencies) of some rows' tokens."""
    words = list(rows.vocab)
    hashes = token_hash(words)
    order = np.argsort(hashes, kind="stable")
    if len(np.unique(hashes)) != len(hashes):  # 2**-64 per pair: would merge two tokens silently
        raise ValueError("two tokens share a 64-bit hash; change the hash seed")
    rank = np.empty(len(words), dtype=np.int64)
    rank[order] = np.arange(len(words))
    empty = np.zeros(0, np.int64)
    ids = np.concatenate(rows.token_ids).astype(np.int64) if rows.token_ids else empty
    tf = np.concatenate(rows.token_tf) if rows.token_tf else empty
    row_of = np.repeat(np.arange(len(rows), dtype=np.int32), [len(t) for t in rows.token_ids])
    key = rank[ids]
    by_token = np.argsort(key, kind="stable")  # rows stay in order within a token
    pointers = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=len(words)), out=pointers[1:])
    return [words[i] for i in order], hashes[order], pointers, row_of[by_token], tf[by_token]


def _save_docs(path: Path, docs: Iterable[bytes], n: int) -> np.ndarray:
    """Write the rows' documents one after another; their n + 1 byte offsets."""
    pointers = np.zeros(n + 1, dtype=np.int64)
    with open(path, "wb") as out:
        for i, doc in enumerate(docs):
            out.write(doc)
            pointers[i + 1] = pointers[i] + len(doc)
        out.flush()
        os.fsync(out.fileno())
    return pointers


def _tf_dtype(tf: np.ndarray) -> np.dtype:
    return np.dtype(np.uint16 if tf.size == 0 or int(tf.max()) < 65536 else np.uint32)


def write_segment(parent: Path, rows: Rows, dim: int) -> str:
    """Write rows as a new segment folder under `parent`; its name.  The folder appears whole
    (written under a temporary name, flushed, then renamed) or not at all."""
    vocab, hashes, pointers, post_rows, tf = _postings(rows)
    return _write(parent, dim, rows.ids, rows.refs, rows.kinds, np.asarray(rows.reported, dtype=np.uint8),
                  unit_rows(rows.vectors, dim), None, rows.docs, np.asarray(rows.lengths, dtype=np.int32),
                  vocab, hashes, pointers, post_rows, tf)


def _write(parent: Path, dim: int, ids: Sequence[str], refs: Sequence[str], kinds: Sequence[str],
           reported: np.ndarray, vectors: np.ndarray, quantized: tuple | None, docs: Iterable[bytes],
           doclen: np.ndarray, vocab: Sequence[str], hashes: np.ndarray, pointers: np.ndarray,
           post_rows: np.ndarray, tf: np.ndarray) -> str:
    name = f"seg-{uuid.uuid4().hex[:16]}"
    tmp = parent / f".{name}.tmp"
    tmp.mkdir(parents=True)
    codes, scale, error = quantized or quantize_rows(vectors)
    id_bytes = np.asarray([i.encode("utf-8") for i in ids], dtype=f"S{max([1, *map(len, ids)])}")
    ref_names = sorted(set(refs))
    ref_no = {r: n for n, r in enumerate(ref_names)}
    kind_names = sorted(set(kinds))
    kind_no = {k: n for n, k in enumerate(kind_names)}
    meta = {"rows": len(ids), "dim": dim, "id_width": id_bytes.dtype.itemsize, "refs": ref_names,
            "kinds": kind_names, "tokens": len(hashes), "postings": int(pointers[-1]) if len(pointers) else 0,
            "tf": _tf_dtype(tf).name, "total_len": int(doclen.sum())}
    for file, array in (("ids.bin", id_bytes), ("idorder.bin", np.argsort(id_bytes, kind="stable").astype(np.int32)),
                        ("refno.bin", np.fromiter((ref_no[r] for r in refs), np.int32, len(refs))),
                        ("kind.bin", np.fromiter((kind_no[k] for k in kinds), np.uint8, len(kinds))),
                        ("reported.bin", reported.astype(np.uint8)), ("vectors.f32", vectors.astype(np.float32)),
                        ("codes.i8", codes), ("scale.f32", scale), ("error.f32", error),
                        ("doclen.i32", doclen.astype(np.int32)), ("tokhash.u64", hashes.astype(np.uint64)),
                        ("tokptr.i64", pointers.astype(np.int64)), ("postrow.i32", post_rows.astype(np.int32)),
                        ("posttf.bin", tf.astype(_tf_dtype(tf)))):
        _save(tmp, file, array)
    _save(tmp, "docptr.i64", _save_docs(tmp / "docs.bin", docs, len(ids)))
    (tmp / "vocab.json").write_text(json.dumps(list(vocab)), encoding="utf-8")
    (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    tmp.rename(parent / name)
    return name


def _map(folder: Path, name: str, dtype: np.dtype | str, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only memory map (an empty array for an empty file, which mmap refuses)."""
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype=dtype)
    array = np.memmap(folder / name, dtype=dtype, mode="r", shape=shape)
    return array


class Segment:
    """An opened segment: its columns memory-mapped, its float vectors read on demand."""

    def __init__(self, folder: Path) -> None:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        n, dim = meta["rows"], meta["dim"]
        self.folder, self.name, self.rows, self.dim = folder, folder.name, n, dim
        self.ref_names: list[str] = meta["refs"]
        self.kind_names: list[str] = meta["kinds"]
        self.total_len = int(meta["total_len"])
        self.ids = _map(folder, "ids.bin", f"S{meta['id_width']}", (n,))
        self.id_order = _map(folder, "idorder.bin", np.int32, (n,))
        self.ref_no = _map(folder, "refno.bin", np.int32, (n,))
        self.kind = _map(folder, "kind.bin", np.uint8, (n,))
        self.reported = _map(folder, "reported.bin", np.uint8, (n,))
        self.codes = _map(folder, "codes.i8", np.int8, (n, dim))
        self.scale = _map(folder, "scale.f32", np.float32, (n,))
        self.error = _map(folder, "error.f32", np.float32, (n,))
        self.doclen = _map(folder, "doclen.i32", np.int32, (n,))
        self.tok_hash = _map(folder, "tokhash.u64", np.uint64, (meta["tokens"],))
        self.tok_ptr = _map(folder, "tokptr.i64", np.int64, (meta["tokens"] + 1,))
        self.post_row = _map(folder, "postrow.i32", np.int32, (meta["postings"],))
        self.post_tf = _map(folder, "posttf.bin", meta["tf"], (meta["postings"],))
        if (folder / "vectors.f32").stat().st_size != n * dim * 4:
            raise ValueError(f"segment {folder} is damaged: its vectors file has the wrong size")
        self.doc_ptr = _map(folder, "docptr.i64", np.int64, (n + 1,))
        if (folder / "docs.bin").stat().st_size != int(self.doc_ptr[-1]):
            raise ValueError(f"segment {folder} is damaged: its documents file has the wrong size")
        self._fd = os.open(folder / "vectors.f32", os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)
        self._docs_fd = os.open(folder / "docs.bin", os.O_RDONLY)
        weakref.finalize(self, os.close, self._docs_fd)
        self._vocab: list[str] | None = None
        self._sorted_ids: np.ndarray | None = None

    def vectors(self, local_rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Float rows read from disk (pread: the page cache holds them, not this process)."""
        width = self.dim * 4
        data = b"".join(os.pread(self._fd, width, int(r) * width) for r in local_rows)
        return np.frombuffer(data, dtype=np.float32).reshape(-1, self.dim)

    def doc_bytes(self, local_row: int) -> bytes:
        start, end = int(self.doc_ptr[local_row]), int(self.doc_ptr[local_row + 1])
        return os.pread(self._docs_fd, end - start, start)

    def doc(self, local_row: int) -> tuple[str, dict]:
        """A row's chunk text and metadata, read from disk."""
        text, metadata = json.loads(self.doc_bytes(local_row))  # written by encode_doc
        return text, metadata

    def all_vectors(self) -> np.ndarray:
        return np.fromfile(self.folder / "vectors.f32", dtype=np.float32).reshape(-1, self.dim)

    def find(self, chunk_id: bytes) -> int:
        """The local row of a chunk id, or -1 (a binary search over the ids in sorted order, which
        are gathered on first use: a few bytes a row)."""
        if self._sorted_ids is None:
            self._sorted_ids = np.asarray(self.ids)[np.asarray(self.id_order)]
        i = int(np.searchsorted(self._sorted_ids, chunk_id))
        if i < self.rows and self._sorted_ids[i] == chunk_id:
            return int(self.id_order[i])
        return -1

    def token_slot(self, key: np.uint64) -> int:
        """Index of a token hash in this segment's vocabulary, or -1."""
        i = int(np.searchsorted(self.tok_hash, key))
        return i if i < len(self.tok_hash) and self.tok_hash[i] == key else -1

    def postings(self, slot: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = int(self.tok_ptr[slot]), int(self.tok_ptr[slot + 1])
        return self.post_row[start:end], self.post_tf[start:end]

    def vocab(self) -> list[str]:
        """Token strings in hash order (read on first use)."""
        if self._vocab is None:
            self._vocab = json.loads((self.folder / "vocab.json").read_text(encoding="utf-8"))
        return self._vocab


def merge_segments(parent: Path, parts: Sequence[tuple[Segment, np.ndarray]]) -> str:
    """One segment holding the live rows (`keep` masks) of several, in their order; the lexical
    postings are merged a block of tokens at a time, so memory stays bounded."""
    new_row, offset = [], 0
    for seg, keep in parts:
        numbers = np.full(seg.rows, -1, dtype=np.int64)
        numbers[keep] = offset + np.arange(int(keep.sum()))
        new_row.append(numbers)
        offset += int(keep.sum())
    ids = [b.decode("utf-8") for seg, keep in parts for b in np.asarray(seg.ids)[keep].tolist()]
    refs = [seg.ref_names[n] for seg, keep in parts for n in np.asarray(seg.ref_no)[keep].tolist()]
    kinds = [seg.kind_names[n] for seg, keep in parts for n in np.asarray(seg.kind)[keep].tolist()]
    cat = lambda get: np.concatenate([np.asarray(get(seg))[keep] for seg, keep in parts])  # noqa: E731
    vectors = np.concatenate([seg.all_vectors()[keep] for seg, keep in parts])
    quantized = (cat(lambda s: s.codes), cat(lambda s: s.scale), cat(lambda s: s.error))
    union = np.unique(np.concatenate([np.asarray(seg.tok_hash) for seg, _ in parts]))
    rows_out, tf_out, counts = [], [], np.zeros(len(union), dtype=np.int64)
    for lo in range(0, len(union), MERGE_TOKENS):
        block = union[lo: lo + MERGE_TOKENS]
        keys, rows, tfs = [], [], []
        for (seg, _), numbers in zip(parts, new_row):
            a = int(np.searchsorted(seg.tok_hash, block[0], side="left"))
            b = int(np.searchsorted(seg.tok_hash, block[-1], side="right"))
            start, end = int(seg.tok_ptr[a]), int(seg.tok_ptr[b])
            slot = np.repeat(np.arange(a, b), np.diff(np.asarray(seg.tok_ptr[a:b + 1])))
            mapped = numbers[np.asarray(seg.post_row[start:end])]
            live = mapped >= 0
            keys.append(np.asarray(seg.tok_hash)[slot[live]])
            rows.append(mapped[live])
            tfs.append(np.asarray(seg.post_tf[start:end])[live])
        key = np.concatenate(keys)
        order = np.argsort(key, kind="stable")  # segment order, then row order, within a token
        rows_out.append(np.concatenate(rows)[order])
        tf_out.append(np.concatenate(tfs)[order])
        counts[lo: lo + len(block)] = np.searchsorted(key[order], block, side="right") - \
            np.searchsorted(key[order], block, side="left")
    present = counts > 0  # tokens whose every row was deleted are gone, as in a rebuild
    words = {}
    for seg, _ in parts:
        words.update(zip(np.asarray(seg.tok_hash).tolist(), seg.vocab()))
    hashes = union[present]
    pointers = np.zeros(len(hashes) + 1, dtype=np.int64)
    np.cumsum(counts[present], out=pointers[1:])
    doclen = cat(lambda s: s.doclen)
    reported = cat(lambda s: s.reported)
    empty = np.zeros(0, np.int64)
    docs = (seg.doc_bytes(r) for seg, keep in parts for r in np.flatnonzero(keep).tolist())
    return _write(parent, parts[0][0].dim, ids, refs, kinds, reported, vectors, quantized, docs, doclen,
                  [words[h] for h in hashes.tolist()], hashes, pointers,
                  np.concatenate(rows_out) if rows_out else empty, np.concatenate(tf_out) if tf_out else empty)
