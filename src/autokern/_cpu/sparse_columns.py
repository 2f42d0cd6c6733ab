"""T in compressed-column form and Tᵀ X with it (Numba): for each source pixel s the image
pixels that map to it, in increasing order, so that ``Tᵀ X`` is a gather per output row and
threads own disjoint output rows (results do not depend on scheduling).  Shared by the Numba
backend and the CPU curvature engine."""

import numba
import numpy as np

from autokern._runtime.parallelism import choose_fork_safe_threading_layer

choose_fork_safe_threading_layer()

_JIT = {"cache": True, "nogil": True}


@numba.njit(**_JIT)
def _columns(indexes, weights, pixels):
    counts = np.zeros(pixels + 1, dtype=np.int64)
    for m in range(indexes.shape[0]):
        for b in range(indexes.shape[1]):
            if indexes[m, b] >= 0:
                counts[indexes[m, b] + 1] += 1
    pointers = np.cumsum(counts)
    fill = pointers[:-1].copy()
    rows = np.empty(pointers[-1], dtype=np.int64)
    values = np.empty(pointers[-1])
    for m in range(indexes.shape[0]):
        for b in range(indexes.shape[1]):
            s = indexes[m, b]
            if s >= 0:
                rows[fill[s]] = m
                values[fill[s]] = weights[m, b]
                fill[s] += 1
    return pointers, rows, values


def columns(pix_indexes_for_sub_slim_index: np.ndarray, pix_weights_for_sub_slim_index: np.ndarray,
            pixels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """T in compressed-column form: (pointers (S+1,), image rows, weights); -1 entries dropped.

    The entries of column s are ``rows[pointers[s]:pointers[s+1]]``, in increasing row order.
    """
    return _columns(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)


@numba.njit(parallel=True, **_JIT)
def _transpose_matmul(pointers, rows, values, matrix, out):
    # out[s] = Σ_{e in column s} w_e matrix[row_e]: one output row per iteration, no races.
    pixels = pointers.shape[0] - 1
    for s in numba.prange(pixels):
        for e in range(pointers[s], pointers[s + 1]):
            weight = values[e]
            source = matrix[rows[e]]
            for j in range(matrix.shape[1]):
                out[s, j] += weight * source[j]


@numba.njit(**_JIT)
def _transpose_matvec(pointers, rows, values, vector):
    # Serial: a vector is too little work to repay waking the thread pool.
    out = np.zeros(pointers.shape[0] - 1)
    for s in range(out.shape[0]):
        for e in range(pointers[s], pointers[s + 1]):
            out[s] += values[e] * vector[rows[e]]
    return out


def transpose_matmul(column_form: tuple[np.ndarray, np.ndarray, np.ndarray],
                     matrix: np.ndarray) -> np.ndarray:
    """Tᵀ @ matrix for T in :func:`columns` form and any (M, ...) float64 ``matrix``."""
    if matrix.ndim == 1:
        return _transpose_matvec(*column_form, matrix)
    flat = np.ascontiguousarray(matrix.reshape(matrix.shape[0], -1))
    # outputs are allocated by NumPy (huge pages for big arrays) and filled by the jitted cores
    out = np.zeros((len(column_form[0]) - 1, flat.shape[1]))
    _transpose_matmul(*column_form, flat, out)
    return out.reshape(out.shape[0], *matrix.shape[1:])
