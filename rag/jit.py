"""The compiled loops behind rag.kernels (see its docstring for why they exist).

Kept in a module of their own so that Numba, its LLVM and its threading layer (about a second and
100 MB at start-up) are loaded only by a process that scans an int8 index: a store small enough to
be searched as a float matrix (rag.dense.FLOAT_ROWS) never imports this.  Compiled code is cached
beside this file (`cache=True`), so only the first start on a machine compiles.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def dot_all(codes, scale, query, factor, out):  # noqa: ANN001, ANN202
    n, d = codes.shape
    for i in prange(n):
        acc = np.int32(0)
        for j in range(d):
            acc += np.int32(codes[i, j]) * np.int32(query[j])
        out[i] = np.float32(acc) * scale[i] * factor


@njit(parallel=True, cache=True)
def dot_rows(codes, scale, rows, query, factor, out):  # noqa: ANN001, ANN202
    d = codes.shape[1]
    for n in prange(rows.shape[0]):
        i = rows[n]
        acc = np.int32(0)
        for j in range(d):
            acc += np.int32(codes[i, j]) * np.int32(query[j])
        out[n] = np.float32(acc) * scale[i] * factor


@njit(cache=True)
def exact(vectors, query, out):  # noqa: ANN001, ANN202
    n, d = vectors.shape
    for i in range(n):
        acc = 0.0
        for j in range(d):
            acc += np.float64(vectors[i, j]) * np.float64(query[j])
        out[i] = acc
