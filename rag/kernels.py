"""The few loops that NumPy cannot do fast or in a fixed order, compiled with Numba.

Two needs.  The dense scan reads a million int8 rows per question: NumPy has no fast int8 product
(it widens to float first, five times slower than the float scan it replaces), so the scan is a
plain loop of integer multiply-adds that LLVM vectorises.  Integer sums are exact, so the scan
gives the same numbers on every CPU (no saturating u8s8 instructions, unlike int8 GEMM libraries).

And the exact score of a shortlisted row is a float64 sum in index order.  BLAS sums in an order
that depends on where a row sits in the matrix, so two identical vectors (the Ombudsman's
boilerplate recurs word for word) can get scores that differ in the last bit and swap places
between an index updated in place and one rebuilt.  A fixed-order sum cannot.

The loops themselves are in rag/jit.py, imported on first use: a store searched as a float matrix
never loads Numba.
"""

from __future__ import annotations

import numpy as np

Q_LEVELS = 32767  # the question is quantized to int16: its share of the error bound is negligible


def query_levels(dim: int) -> int:
    """int16 levels for the question such that an int32 sum over `dim` products cannot overflow."""
    return max(1, min(Q_LEVELS, (2**31 - 1) // (127 * max(1, dim))))


def quantize_query(query: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(int16 codes, scale, error norm) of a float vector."""
    levels = query_levels(len(query))
    peak = float(np.max(np.abs(query))) if query.size else 0.0
    scale = peak / levels if peak > 0 else 1.0
    codes = np.clip(np.rint(query / scale), -levels, levels).astype(np.int16)
    error = float(np.linalg.norm(query.astype(np.float64) - codes.astype(np.float64) * scale))
    return codes, scale, error


def quantize_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row int8 codes, each row's scale, and each row's reconstruction error (its distance to
    the float row), which bounds how far a scanned score can be from the exact one."""
    vectors = np.asarray(vectors, dtype=np.float32)
    peak = np.max(np.abs(vectors), axis=1) if vectors.size else np.zeros(len(vectors), np.float32)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = np.clip(np.rint(vectors / scale[:, None]), -127, 127).astype(np.int8)
    residual = vectors.astype(np.float64) - codes.astype(np.float64) * scale[:, None].astype(np.float64)
    error = np.sqrt(np.sum(residual * residual, axis=1)).astype(np.float32)
    return codes, scale, error


def scan(codes: np.ndarray, scale: np.ndarray, query: np.ndarray, factor: float,
         rows: np.ndarray | None = None) -> np.ndarray:
    """Scanned scores of int8 rows (all, or `rows`) with an int16 question: the exact integer dot
    product times the row's and the question's scales (float32: a relative error of 1e-7)."""
    out = np.empty(codes.shape[0] if rows is None else len(rows), dtype=np.float32)
    if len(out):
        from rag.jit import dot_all, dot_rows

        if rows is None:
            dot_all(codes, scale, query, np.float32(factor), out)
        else:
            dot_rows(codes, scale, np.ascontiguousarray(rows, dtype=np.int64), query, np.float32(factor), out)
    return out


def exact_scores(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Cosines of float rows with the (unit) question, each summed in float64 in index order."""
    out = np.empty(len(vectors), dtype=np.float64)
    if len(out):
        from rag.jit import exact

        exact(np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(query, dtype=np.float32), out)
    return out


def warm() -> None:
    """Load the compiled kernels (from Numba's cache: most of a second the first time in a
    process), so that the first question does not pay for it."""
    codes = np.zeros((2, 4), dtype=np.int8)
    scale = np.ones(2, dtype=np.float32)
    query = np.zeros(4, dtype=np.int16)
    scan(codes, scale, query, 1.0)
    scan(codes, scale, query, 1.0, np.arange(2))
    exact_scores(np.zeros((2, 4), dtype=np.float32), np.zeros(4, dtype=np.float32))
