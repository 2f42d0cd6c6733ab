"""Curvature matrix F = Tᵀ W̃ T from each representation of W̃ and T (Numba).

All variants share one access pattern: W̃[m, n] = ``table[base[m] + offset[n]]``, where the
table is dense W̃ (base = m M, offset = n) or the full lattice lag table of a w-compact or
preload (:func:`autokern.numba.w_tilde.lag_gather`), and T is used in column form, so that

    ω_m[t] = Σ_{n ∈ column t} W̃[m, n] T[n, t]

is a gather-and-dot per (m, t) with sequential writes: M · nnz(T) multiply-adds, never the
M² · S of a dense product.

The direct kernels also exploit the symmetry of W̃: with ω_m restricted to n < m (plus half the
n = m term), A = Σ_m T[m]ᵀ ω_m satisfies F = A + Aᵀ, halving the gathers.  Rows m are split
into one block per thread, balanced by work; each block accumulates its own S × S A and the
blocks are summed in a fixed order, so results are bitwise reproducible for a given thread
count.  Memory: (threads + 1) S² floats, no M × S intermediate.
"""

from functools import partial

import numba
import numpy as np

from autokern.catalogue import implements
from autokern.numba.mapping import columns, transpose_matmul
from autokern.numba.w_tilde import lag_gather, lag_table_from_compact, lag_table_from_preload

kernel = partial(implements, backend="numba")

_JIT = {"cache": True, "nogil": True}
_TILE = 64
#: below this fraction of non-zero entries a dense T is treated as sparse
_SPARSE_DENSITY = 0.05


@numba.njit(parallel=True, **_JIT)
def _half_products(table, base, offset, pointers, col_offset, col_weights, col_rows, indexes,
                   weights, bounds):
    """Per block of rows [bounds[i], bounds[i+1]): Σ_m T[m]ᵀ ω_m with ω_m over n < m."""
    pixels = pointers.shape[0] - 1
    n_blocks = bounds.shape[0] - 1
    acc = np.zeros((n_blocks, pixels, pixels))
    for block in numba.prange(n_blocks):
        first, last = bounds[block], bounds[block + 1]
        out = acc[block]
        end = np.empty(pixels, dtype=np.int64)  # end[t]: first entry of column t with row ≥ m
        for t in range(pixels):
            e = pointers[t]
            while e < pointers[t + 1] and col_rows[e] < first:
                e += 1
            end[t] = e
        omega = np.empty(pixels)
        for m in range(first, last):
            row_base = base[m]
            for t in range(pixels):
                total = 0.0
                for e in range(pointers[t], end[t]):
                    total += table[row_base + col_offset[e]] * col_weights[e]
                omega[t] = total
            half_diagonal = 0.5 * table[row_base + offset[m]]
            for j in range(indexes.shape[1]):
                if indexes[m, j] >= 0:
                    omega[indexes[m, j]] += half_diagonal * weights[m, j]
            for j in range(indexes.shape[1]):
                s = indexes[m, j]
                if s >= 0:
                    w = weights[m, j]
                    for t in range(pixels):
                        out[s, t] += w * omega[t]
            for j in range(indexes.shape[1]):
                if indexes[m, j] >= 0:
                    end[indexes[m, j]] += 1
    return acc


@numba.njit(parallel=True, **_JIT)
def _symmetric_sum(acc):
    """Σ_blocks (A + Aᵀ), tile by tile so that the transposed reads stay in cache."""
    pixels = acc.shape[1]
    out = np.empty((pixels, pixels))
    n_tiles = (pixels + _TILE - 1) // _TILE
    for ti in numba.prange(n_tiles):
        i0, i1 = ti * _TILE, min((ti + 1) * _TILE, pixels)
        for tj in range(ti, n_tiles):
            j0, j1 = tj * _TILE, min((tj + 1) * _TILE, pixels)
            for i in range(i0, i1):
                for j in range(max(j0, i), j1):
                    total = 0.0
                    for b in range(acc.shape[0]):
                        total += acc[b, i, j] + acc[b, j, i]
                    out[i, j] = total
                    out[j, i] = total
    return out


@numba.njit(parallel=True, **_JIT)
def _omega(table, base, pointers, col_offset, col_weights):
    """Ω = W̃ T (M × S), one row per iteration."""
    pixels = pointers.shape[0] - 1
    omega = np.empty((base.shape[0], pixels))
    for m in numba.prange(base.shape[0]):
        row_base = base[m]
        for t in range(pixels):
            total = 0.0
            for e in range(pointers[t], pointers[t + 1]):
                total += table[row_base + col_offset[e]] * col_weights[e]
            omega[m, t] = total
    return omega


@numba.njit(**_JIT)
def _padded_rows(matrix):
    """The non-zeros of a dense T as (M, B) -1-padded indexes and weights."""
    counts = np.zeros(matrix.shape[0], dtype=np.int64)
    for m in range(matrix.shape[0]):
        for s in range(matrix.shape[1]):
            if matrix[m, s] != 0.0:
                counts[m] += 1
    width = max(1, counts.max()) if counts.shape[0] else 1
    indexes = np.full((matrix.shape[0], width), -1, dtype=np.int64)
    weights = np.zeros((matrix.shape[0], width))
    for m in range(matrix.shape[0]):
        j = 0
        for s in range(matrix.shape[1]):
            if matrix[m, s] != 0.0:
                indexes[m, j] = s
                weights[m, j] = matrix[m, s]
                j += 1
    return indexes, weights


def _balanced_bounds(indexes: np.ndarray, pixels: int, n_blocks: int) -> np.ndarray:
    """Row boundaries giving each block about the same work (row m costs ~ entries before m
    plus a few passes over S)."""
    entries = np.count_nonzero(indexes >= 0, axis=1)
    cost = np.cumsum(np.cumsum(entries) - entries + 2 * pixels)
    targets = cost[-1] * np.arange(1, n_blocks) / n_blocks
    inner = np.searchsorted(cost, targets)
    return np.concatenate([[0], inner, [len(indexes)]]).astype(np.int64)


def symmetric_curvature(table: np.ndarray, base: np.ndarray, offset: np.ndarray,
                        indexes: np.ndarray, weights: np.ndarray, pixels: int) -> np.ndarray:
    """F = Tᵀ W̃ T for a symmetric W̃[m, n] = table[base[m] + offset[n]] and T in (M, B) form."""
    pointers, col_rows, col_weights = columns(indexes, weights, pixels)
    bounds = _balanced_bounds(indexes, pixels, min(numba.get_num_threads(), len(indexes)))
    acc = _half_products(table.ravel(), base, offset, pointers, offset[col_rows], col_weights,
                         col_rows, indexes, weights, bounds)
    return _symmetric_sum(acc)


def _lattice_curvature(lag_table: np.ndarray, native_index_for_slim_index: np.ndarray,
                       indexes: np.ndarray, weights: np.ndarray, pixels: int) -> np.ndarray:
    base, offset = lag_gather(lag_table.shape, native_index_for_slim_index[:, 0],
                              native_index_for_slim_index[:, 1])
    return symmetric_curvature(lag_table, base, offset, indexes, weights, pixels)


def compact_curvature(w_compact: np.ndarray, native_index_for_slim_index: np.ndarray,
                      indexes: np.ndarray, weights: np.ndarray, pixels: int) -> np.ndarray:
    """F from w-compact and the sparse mapping (the direct kernel's core)."""
    return _lattice_curvature(lag_table_from_compact(w_compact), native_index_for_slim_index,
                              indexes, weights, pixels)


def dense_curvature(w_tilde: np.ndarray, indexes: np.ndarray, weights: np.ndarray,
                    pixels: int) -> np.ndarray:
    """F from dense (symmetric) W̃ and the sparse mapping."""
    rows = np.arange(len(w_tilde), dtype=np.int64)
    return symmetric_curvature(w_tilde, rows * len(w_tilde), rows, indexes, weights, pixels)


@kernel("curvature_matrix_via_w_tilde_from")
def curvature_matrix_via_w_tilde_from(w_tilde, mapping_matrix):
    # A mapping matrix is sparse in practice: use the sparse core on its non-zeros; a dense
    # one goes to BLAS.
    if np.count_nonzero(mapping_matrix) > _SPARSE_DENSITY * mapping_matrix.size:
        return mapping_matrix.T @ (w_tilde @ mapping_matrix)
    indexes, weights = _padded_rows(mapping_matrix)
    return dense_curvature(w_tilde, indexes, weights, mapping_matrix.shape[1])


@kernel("curvature_matrix_via_w_tilde_sparse_mapping_matrix_from")
def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
        w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    return dense_curvature(w_tilde, pix_indexes_for_sub_slim_index,
                           pix_weights_for_sub_slim_index, pixels)


@kernel("curvature_matrix_via_w_compact_sparse_mapping_matrix_from")
def curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    # Two passes: Ω = W̃ T (M × S, gathered from the lag table), then Tᵀ Ω (column gather).
    lag_table = lag_table_from_compact(w_compact)
    base, offset = lag_gather(lag_table.shape, native_index_for_slim_index[:, 0],
                              native_index_for_slim_index[:, 1])
    column_form = columns(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                          pixels)
    pointers, col_rows, col_weights = column_form
    omega = _omega(lag_table.ravel(), base, pointers, offset[col_rows], col_weights)
    return transpose_matmul(column_form, omega)


@kernel("curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from")
def curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    return compact_curvature(w_compact, native_index_for_slim_index,
                             pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             pixels)


@kernel("curvature_matrix_via_w_tilde_curvature_preload_interferometer_from")
def curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
        curvature_preload, pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
        pix_weights_for_sub_slim_index, native_index_for_slim_index, pix_pixels):
    # Every pair of mapping entries, cross terms within one image pixel included (F = Tᵀ W̃ T).
    beyond_size = np.arange(pix_indexes_for_sub_slim_index.shape[1]) >= \
        pix_size_for_sub_slim_index[:, None]
    indexes = np.where(beyond_size, -1, pix_indexes_for_sub_slim_index)
    return _lattice_curvature(lag_table_from_preload(curvature_preload),
                              native_index_for_slim_index, indexes,
                              pix_weights_for_sub_slim_index, pix_pixels)
