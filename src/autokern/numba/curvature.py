"""Curvature matrix F = Tᵀ W̃ T from each representation of W̃ and T (Numba).

All variants share one access pattern: W̃[m, n] = ``table[base[m] + offset[n]]``, where the
table is dense W̃ (base = m M, offset = n) or the full lattice lag table of a w-compact or
preload (:func:`autokern.numba.w_tilde.lag_gather`), and T is used in column form, so that

    ω_m[t] = Σ_{n ∈ column t} W̃[m, n] T[n, t]

is a gather-and-dot per (m, t) with sequential writes: M · nnz(T) multiply-adds, never the
M² · S of a dense product.

Consecutive pixels of one image row read consecutive table entries, so rows are processed in
lanes of eight such pixels: each column entry feeds eight contiguous loads (and the index
arithmetic is unsigned, so no negative-index check sits on the loads).

The direct kernels also exploit the symmetry of W̃: with ω_m restricted to n < m (plus half the
n = m term), A = Σ_m T[m]ᵀ ω_m satisfies F = A + Aᵀ, halving the gathers.  Rows m are split
into one block per thread, balanced by work; each block accumulates its own S × S A and the
blocks are summed in a fixed order, so results are bitwise reproducible for a given thread
count.  Memory: (threads + 1) S² floats, no M × S intermediate.
"""

import numba
import numpy as np

# The FFT route is SciPy's FFTs either way: one CPU implementation with the reference backend.
from autokern._fft_curvature import (
    curvature_matrix_via_w_compact_fft_from as curvature_matrix_via_w_compact_fft_from,
)
from autokern._lattice import lag_gather, lag_table_from_compact, lag_table_from_preload
from autokern._mapping import indexes_within_sizes
from autokern.numba.mapping import columns, transpose_matmul

_JIT = {"cache": True, "nogil": True}
_TILE = 64
#: pixels per lane of the curvature core (the eight accumulators of _lane_sums)
_LANES = 8
#: below this fraction of non-zero entries a dense T is treated as sparse
_SPARSE_DENSITY = 0.05


@numba.njit(inline="always", **_JIT)
def _lane_sums(table, lane_base, pointers, end, col_offset, col_weights, omega):
    """omega[j, t] = Σ_{e in column t, e < end[t]} table[lane_base + j + col_offset[e]] w_e for
    the _LANES pixels j of one lane: eight contiguous loads per entry into scalar accumulators.
    Indexes are unsigned so that no negative-index wrap-around check sits on the loads."""
    u1, u2, u3, u4 = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    u5, u6, u7 = np.uint64(5), np.uint64(6), np.uint64(7)
    for t in range(pointers.shape[0] - 1):
        c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = 0.0
        for e in range(pointers[t], end[t]):
            w = col_weights[e]
            o = lane_base + col_offset[e]
            c0 += table[o] * w
            c1 += table[o + u1] * w
            c2 += table[o + u2] * w
            c3 += table[o + u3] * w
            c4 += table[o + u4] * w
            c5 += table[o + u5] * w
            c6 += table[o + u6] * w
            c7 += table[o + u7] * w
        omega[0, t] = c0
        omega[1, t] = c1
        omega[2, t] = c2
        omega[3, t] = c3
        omega[4, t] = c4
        omega[5, t] = c5
        omega[6, t] = c6
        omega[7, t] = c7


@numba.njit(parallel=True, **_JIT)
def _half_products(table, base, offset, pointers, col_offset, col_weights, col_rows, indexes,
                   weights, lanes, bounds, acc):
    """Per block of lanes [bounds[i], bounds[i+1]): Σ_m T[m]ᵀ ω_m with ω_m over n < m plus
    half of n = m.  A lane is ≤ _LANES consecutive pixels m with base[m] = base[first] + j."""
    pixels = pointers.shape[0] - 1
    n_blocks = bounds.shape[0] - 1
    for block in numba.prange(n_blocks):
        out = acc[block]
        first_row = lanes[bounds[block]]
        end = np.empty(pixels, dtype=np.int64)  # end[t]: first entry of column t with row ≥ m
        for t in range(pixels):
            e = pointers[t]
            while e < pointers[t + 1] and col_rows[e] < first_row:
                e += 1
            end[t] = e
        omega = np.empty((_LANES, pixels))
        for lane in range(bounds[block], bounds[block + 1]):
            m0, m1 = lanes[lane], lanes[lane + 1]
            _lane_sums(table, base[m0], pointers, end, col_offset, col_weights, omega)
            # pairs inside the lane: n < m both in it, and half the n = m term
            for n in range(m0, m1):
                for j in range(indexes.shape[1]):
                    t = indexes[n, j]
                    if t >= 0:
                        w = weights[n, j]
                        omega[n - m0, t] += 0.5 * table[base[n] + offset[n]] * w
                        for m in range(n + 1, m1):
                            omega[m - m0, t] += table[base[m] + offset[n]] * w
            for m in range(m0, m1):
                for j in range(indexes.shape[1]):
                    s = indexes[m, j]
                    if s >= 0:
                        w = weights[m, j]
                        for t in range(pixels):
                            out[s, t] += w * omega[m - m0, t]
            for n in range(m0, m1):
                for j in range(indexes.shape[1]):
                    if indexes[n, j] >= 0:
                        end[indexes[n, j]] += 1


@numba.njit(parallel=True, **_JIT)
def _symmetric_sum(acc, out):
    """out = Σ_blocks (A + Aᵀ), tile by tile so that the transposed reads stay in cache.
    Every tile row is the same work, so the threads stay balanced; out[i, j] and out[j, i]
    add the same terms in the same order (x + y = y + x exactly), so F is exactly symmetric."""
    pixels = acc.shape[1]
    n_tiles = (pixels + _TILE - 1) // _TILE
    for ti in numba.prange(n_tiles):
        i0, i1 = ti * _TILE, min((ti + 1) * _TILE, pixels)
        for tj in range(n_tiles):
            j0, j1 = tj * _TILE, min((tj + 1) * _TILE, pixels)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    total = 0.0
                    for b in range(acc.shape[0]):
                        total += acc[b, i, j] + acc[b, j, i]
                    out[i, j] = total


@numba.njit(parallel=True, **_JIT)
def _omega(table, base, pointers, col_offset, col_weights, lanes, omega):
    """Ω = W̃ T (M × S), lane by lane; each lane writes only its own rows."""
    pixels = pointers.shape[0] - 1
    end = pointers[1:]
    for lane in numba.prange(lanes.shape[0] - 1):
        m0, m1 = lanes[lane], lanes[lane + 1]
        block = np.empty((_LANES, pixels))
        _lane_sums(table, base[m0], pointers, end, col_offset, col_weights, block)
        omega[m0:m1] = block[: m1 - m0]


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


def _lanes(base: np.ndarray) -> np.ndarray:
    """Starts of lanes: ≤ _LANES consecutive pixels whose bases step by exactly 1 (runs of one
    image row), plus len(base) at the end."""
    breaks = np.flatnonzero(np.diff(base) != 1) + 1
    run_starts = np.concatenate([[0], breaks])
    run_ends = np.concatenate([breaks, [len(base)]])
    starts = [np.arange(a, b, _LANES) for a, b in zip(run_starts, run_ends, strict=True)]
    return np.concatenate([*starts, [len(base)]]).astype(np.int64)


def _balanced_bounds(lanes: np.ndarray, indexes: np.ndarray, pixels: int,
                     n_blocks: int) -> np.ndarray:
    """Lane boundaries giving each thread's block about the same work (a lane costs the
    column entries before it plus a few passes over S per pixel)."""
    entries = np.concatenate([[0], np.cumsum(np.count_nonzero(indexes >= 0, axis=1))])
    first, last = lanes[:-1], lanes[1:]
    cost = np.cumsum(entries[first] + 4 * pixels * (last - first))
    inner = np.searchsorted(cost, cost[-1] * np.arange(1, n_blocks) / n_blocks)
    return np.concatenate([[0], inner, [len(first)]]).astype(np.int64)


def _unsigned_gather(table: np.ndarray, base: np.ndarray,
                     offset: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The table padded by _LANES zeros (fixed-width lane loads stay in bounds) and base/offset
    shifted to be non-negative and unsigned (every base[m] + offset[n] is a valid index)."""
    shift = offset.min()
    return (np.concatenate([table.ravel(), np.zeros(_LANES)]),
            (base + shift).astype(np.uint64), (offset - shift).astype(np.uint64))


def symmetric_curvature(table: np.ndarray, base: np.ndarray, offset: np.ndarray,
                        indexes: np.ndarray, weights: np.ndarray, pixels: int) -> np.ndarray:
    """F = Tᵀ W̃ T for a symmetric W̃[m, n] = table[base[m] + offset[n]] and T in (M, B) form."""
    pointers, col_rows, col_weights = columns(indexes, weights, pixels)
    padded, base_u, offset_u = _unsigned_gather(table, base, offset)
    lanes = _lanes(base)
    bounds = _balanced_bounds(lanes, indexes, pixels,
                              min(numba.get_num_threads(), len(lanes) - 1))
    # Work space and output come from NumPy, which requests transparent huge pages for big
    # arrays: 4 kB first-touch page faults would otherwise cost as much as the gathers.
    acc = np.zeros((len(bounds) - 1, pixels, pixels))
    _half_products(padded, base_u, offset_u, pointers, offset_u[col_rows], col_weights,
                   col_rows, indexes, weights, lanes, bounds, acc)
    out = np.empty((pixels, pixels))
    _symmetric_sum(acc, out)
    return out


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
    # Read W̃[m, n] as W̃[n, m] (symmetry) so that consecutive m are contiguous in memory.
    rows = np.arange(len(w_tilde), dtype=np.int64)
    return symmetric_curvature(w_tilde, rows, rows * len(w_tilde), indexes, weights, pixels)


def curvature_matrix_via_w_tilde_from(w_tilde, mapping_matrix):
    # A mapping matrix is sparse in practice: use the sparse core on its non-zeros; a dense
    # one goes to BLAS.
    if np.count_nonzero(mapping_matrix) > _SPARSE_DENSITY * mapping_matrix.size:
        return mapping_matrix.T @ (w_tilde @ mapping_matrix)
    indexes, weights = _padded_rows(mapping_matrix)
    return dense_curvature(w_tilde, indexes, weights, mapping_matrix.shape[1])


def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
        w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    return dense_curvature(w_tilde, pix_indexes_for_sub_slim_index,
                           pix_weights_for_sub_slim_index, pixels)


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
    padded, base_u, offset_u = _unsigned_gather(lag_table, base, offset)
    omega = np.empty((len(base), pixels))
    _omega(padded, base_u, pointers, offset_u[col_rows], col_weights, _lanes(base), omega)
    return transpose_matmul(column_form, omega)


def curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    return compact_curvature(w_compact, native_index_for_slim_index,
                             pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             pixels)


def curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
        curvature_preload, pix_indexes_for_sub_slim_index, pix_sizes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, native_index_for_slim_index, pix_pixels):
    # Every pair of mapping entries, cross terms within one image pixel included (F = Tᵀ W̃ T).
    indexes = indexes_within_sizes(np, pix_indexes_for_sub_slim_index,
                                   pix_sizes_for_sub_slim_index)
    return _lattice_curvature(lag_table_from_preload(curvature_preload),
                              native_index_for_slim_index, indexes,
                              pix_weights_for_sub_slim_index, pix_pixels)
