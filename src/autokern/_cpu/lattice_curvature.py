"""Curvature matrix F = Tᵀ W̃ T gathered from a table (Numba): the engine of the Numba backend's
curvature kernels and of the JAX backend's CPU route.

All variants share one access pattern: W̃[m, n] = ``table[base[m] + offset[n]]``, where the
table is dense W̃ (base = m M, offset = n) or the full lattice lag table of a w-compact or
precision operator (:func:`autokern._shared.lattice.lag_gather`), and T is used in column form, so
that

    ω_m[t] = Σ_{n ∈ column t} W̃[m, n] T[n, t]

is a gather-and-dot per (m, t): M · nnz(T) multiply-adds, never the M² · S of a dense product.

Pixels are processed in **lanes**: runs of up to _LANE_CAP consecutive pixels of one image row,
whose table entries for any n are consecutive.  For a lane and a column t, ω over the lane is
a sum of contiguous table segments times weights (four per pass, a loop LLVM vectorises), kept
in an S × width block; the block is transposed once per lane and each mapping entry of the
lane adds one contiguous row of it into the output.

The direct kernels also exploit the symmetry of W̃: with ω_m restricted to n < m (plus half the
n = m term), A = Σ_m T[m]ᵀ ω_m satisfies F = A + Aᵀ, halving the gathers.  Columns are
relabelled in the order of their first image pixel, so that the columns with an entry before a
lane's end are a prefix: ω is zero past it, and the transposes and the scatter stop there (about
half of S per lane; the labels are undone row by row at the end).  The threads split
the source columns t (balanced by work) and each runs every lane on its own columns, so they
write disjoint parts of one S × S output: no per-thread copies to sum, memory traffic that does
not grow with the thread count, and every entry summed in the same order whatever the thread
count (results are bitwise the same on 1 or 16 threads).  Memory: S² floats plus 2 S · lane
per thread; no M × S intermediate.
"""

import numba
import numpy as np

from autokern._cpu.sparse_columns import columns, transpose_matmul
from autokern._runtime.parallelism import choose_fork_safe_threading_layer
from autokern._shared.lattice import lag_gather

choose_fork_safe_threading_layer()

_JIT = {"cache": True, "nogil": True}
# Contraction to FMA only (no reassociation): rounding differs from separate multiply-adds by
# an ulp per term, and is the same on every run.
_FMA = {**_JIT, "fastmath": {"contract"}}
_TILE = 64
#: the longest lane (pixels): a whole image row up to this length (S · lane floats of work space
#: per thread, twice)
_LANE_CAP = 512
#: below this fraction of non-zero entries a dense T is treated as sparse


@numba.njit(inline="always", **_FMA)
def _lane_gather(table, lane_base, width, pointers, end, col_offset, col_weights, first, last,
                 block):
    """block[t, j] = Σ_{e in column t, e < end[t]} table[lane_base + col_offset[e] + j] w_e for
    the ``width`` pixels j of one lane and the columns t in [first, last): contiguous segments,
    four entries per pass."""
    for t in range(first, last):
        out = block[t]
        for j in range(width):
            out[j] = 0.0
        e, stop = pointers[t], end[t]
        while e + 3 < stop:
            w1, w2 = col_weights[e], col_weights[e + 1]
            w3, w4 = col_weights[e + 2], col_weights[e + 3]
            s1 = table[lane_base + col_offset[e]:]
            s2 = table[lane_base + col_offset[e + 1]:]
            s3 = table[lane_base + col_offset[e + 2]:]
            s4 = table[lane_base + col_offset[e + 3]:]
            for j in range(width):
                out[j] += (s1[j] * w1 + s2[j] * w2) + (s3[j] * w3 + s4[j] * w4)
            e += 4
        while e < stop:
            w1 = col_weights[e]
            s1 = table[lane_base + col_offset[e]:]
            for j in range(width):
                out[j] += s1[j] * w1
            e += 1


@numba.njit(inline="always", **_JIT)
def _transpose(block, width, first, last, out):
    """out[j, t] = block[t, j] for j < width and t in [first, last), in tiles so that both
    sides stay in cache."""
    for t0 in range(first, last, 32):
        t1 = min(t0 + 32, last)
        tile = block[t0:t1]
        for j in range(width):
            row = out[j, t0:t1]
            for k in range(t1 - t0):
                row[k] = tile[k, j]


@numba.njit(parallel=True, **_FMA)
def _half_products(table, base, offset, pointers, col_offset, col_weights, labels, indexes,
                   weights, first_rows, lanes, splits, widest, out):
    """out[s, label[t]] = (Σ_m T[m]ᵀ ω_m)[s, t] with ω_m over n < m plus half of n = m.  A lane
    is ≤ _LANE_CAP consecutive pixels m with base[m] = base[first] + j; thread i computes the
    relabelled columns [splits[i], splits[i+1]) of every lane, so the threads write disjoint
    columns of ``out``.  Columns are labelled by their first image pixel (``first_rows``
    ascending, ``labels`` = the relabelled ``indexes``), so a lane's ω is zero past the columns
    that start before its end: gathers, transposes and the scatter stop there."""
    pixels = pointers.shape[0] - 1
    for part in numba.prange(splits.shape[0] - 1):
        first, last = splits[part], splits[part + 1]
        end = pointers[:-1].copy()  # end[t]: first entry of column t with row ≥ the lane
        omega = np.empty((pixels, widest))  # omega[t, m - m0]
        omega_rows = np.empty((widest, pixels))  # its transpose
        for lane in range(lanes.shape[0] - 1):
            m0, m1 = lanes[lane], lanes[lane + 1]
            stop = min(last, np.searchsorted(first_rows, m1))
            if stop <= first:
                continue  # no column of this part has an entry before the lane's end
            _lane_gather(table, base[m0], m1 - m0, pointers, end, col_offset, col_weights,
                         first, stop, omega)
            # pairs inside the lane: n < m both in it, and half the n = m term
            for n in range(m0, m1):
                for j in range(labels.shape[1]):
                    t = labels[n, j]
                    if first <= t < last:
                        w = weights[n, j]
                        omega[t, n - m0] += 0.5 * table[base[n] + offset[n]] * w
                        for m in range(n + 1, m1):
                            omega[t, m - m0] += table[base[m] + offset[n]] * w
            _transpose(omega, m1 - m0, first, stop, omega_rows)
            # Slices from 0: a loop from `first` kept LLVM from vectorising (3× slower).
            for m in range(m0, m1):
                row = omega_rows[m - m0, first:stop]
                for j in range(indexes.shape[1]):
                    s = indexes[m, j]
                    if s >= 0:
                        w = weights[m, j]
                        target = out[s, first:stop]
                        for t in range(stop - first):
                            target[t] += w * row[t]
            for n in range(m0, m1):
                for j in range(labels.shape[1]):
                    t = labels[n, j]
                    if first <= t < last:
                        end[t] += 1


@numba.njit(parallel=True, **_JIT)
def _unlabel_columns(out, label):
    """out[s, t] ← out[s, label[t]] row by row (each row through a copy of itself)."""
    for s in numba.prange(out.shape[0]):
        row = out[s].copy()
        target = out[s]
        for t in range(out.shape[1]):
            target[t] = row[label[t]]


@numba.njit(**_JIT)
def _first_rows(indexes, pixels):
    """The first image pixel mapping to each source pixel (M where none does)."""
    first = np.full(pixels, indexes.shape[0], dtype=np.int64)
    for m in range(indexes.shape[0] - 1, -1, -1):
        for b in range(indexes.shape[1]):
            s = indexes[m, b]
            if s >= 0:
                first[s] = m
    return first


@numba.njit(parallel=True, **_JIT)
def _symmetric_sum(out):
    """out ← A + Aᵀ in place, tile pair by tile pair (both tiles read, both written), so that
    the transposed reads stay in cache; out[i, j] and out[j, i] get the same value, so F is
    exactly symmetric."""
    pixels = out.shape[0]
    n_tiles = (pixels + _TILE - 1) // _TILE
    for ti in numba.prange(n_tiles):
        i0, i1 = ti * _TILE, min((ti + 1) * _TILE, pixels)
        for tj in range(ti, n_tiles):
            j0, j1 = tj * _TILE, min((tj + 1) * _TILE, pixels)
            for i in range(i0, i1):
                for j in range(max(j0, i), j1):
                    total = out[i, j] + out[j, i]
                    out[i, j] = total
                    out[j, i] = total


@numba.njit(parallel=True, **_FMA)
def _omega(table, base, pointers, col_offset, col_weights, lanes, widest, omega):
    """Ω = W̃ T (M × S), lane by lane; each lane writes only its own rows."""
    pixels = pointers.shape[0] - 1
    end = pointers[1:]
    for lane in numba.prange(lanes.shape[0] - 1):
        m0, m1 = lanes[lane], lanes[lane + 1]
        block = np.empty((pixels, widest))
        _lane_gather(table, base[m0], m1 - m0, pointers, end, col_offset, col_weights, 0,
                     pixels, block)
        _transpose(block, m1 - m0, 0, pixels, omega[m0:m1])


@numba.njit(parallel=True, **_FMA)
def _mapping_cotangent(table, base, pointers, col_offset, col_weights, lanes, widest, indexes,
                       cotangent, out):
    """out[m, b] = Σ_t (G + Gᵀ)[s, t] Ω[m, t] for s = indexes[m, b] (0 where -1): the
    derivative of ⟨G, F⟩ with respect to the mapping weights, Ω = W̃ T lane by lane."""
    pixels = pointers.shape[0] - 1
    end = pointers[1:]
    for lane in numba.prange(lanes.shape[0] - 1):
        m0, m1 = lanes[lane], lanes[lane + 1]
        block = np.empty((pixels, widest))
        rows = np.empty((widest, pixels))
        _lane_gather(table, base[m0], m1 - m0, pointers, end, col_offset, col_weights, 0,
                     pixels, block)
        _transpose(block, m1 - m0, 0, pixels, rows)
        for m in range(m0, m1):
            omega = rows[m - m0]
            for b in range(indexes.shape[1]):
                s = indexes[m, b]
                total = 0.0
                if s >= 0:
                    for t in range(pixels):
                        total += (cotangent[s, t] + cotangent[t, s]) * omega[t]
                out[m, b] = total


@numba.njit(parallel=True, **_FMA)
def _lag_cotangent(base, pointers, col_offset, col_weights, lanes, bounds, widest, indexes,
                   weights, cotangent, acc):
    """acc[part][base[m] + offset[n]] += (T G Tᵀ)[m, n] over the lanes of each part: the
    derivative of ⟨G, F⟩ with respect to the table, as segment scatters (the transpose of
    _lane_gather), one copy of the table per part."""
    pixels = pointers.shape[0] - 1
    for part in numba.prange(bounds.shape[0] - 1):
        out = acc[part]
        rows = np.empty((widest, pixels))  # rows[j] = (T G)[m0 + j]
        block = np.empty((pixels, widest))
        for lane in range(bounds[part], bounds[part + 1]):
            m0, m1 = lanes[lane], lanes[lane + 1]
            width = m1 - m0
            for j in range(width):
                row = rows[j]
                for t in range(pixels):
                    row[t] = 0.0
                for b in range(indexes.shape[1]):
                    s = indexes[m0 + j, b]
                    if s >= 0:
                        w = weights[m0 + j, b]
                        for t in range(pixels):
                            row[t] += w * cotangent[s, t]
            for t0 in range(0, pixels, 32):
                for j in range(width):
                    for t in range(t0, min(t0 + 32, pixels)):
                        block[t, j] = rows[j, t]
            lane_base = base[m0]
            for t in range(pixels):
                source = block[t]
                for e in range(pointers[t], pointers[t + 1]):
                    w = col_weights[e]
                    segment = out[lane_base + col_offset[e]:]
                    for j in range(width):
                        segment[j] += w * source[j]


def lattice_curvature_cotangents(lag_table: np.ndarray, native_index_for_slim_index: np.ndarray,
                                 indexes: np.ndarray, weights: np.ndarray,
                                 cotangent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(∂⟨G, F⟩/∂lag_table, ∂⟨G, F⟩/∂weights) for F = Tᵀ W̃ T from a lag table: the reverse
    derivative of :func:`lattice_curvature` (the JAX backend's CPU route uses it)."""
    pixels = cotangent.shape[0]
    base, offset = lag_gather(lag_table.shape, native_index_for_slim_index[:, 0],
                              native_index_for_slim_index[:, 1])
    pointers, col_rows, col_weights = columns(indexes, weights, pixels)
    lanes = _lanes(base)
    padded, base, offset, widest = _shifted_gather(lag_table, base, offset, lanes)
    cotangent = np.ascontiguousarray(cotangent)
    by_weight = np.zeros(indexes.shape)
    _mapping_cotangent(padded, base, pointers, offset[col_rows], col_weights, lanes, widest,
                       indexes, cotangent, by_weight)
    parts = min(numba.get_num_threads(), len(lanes) - 1)
    bounds = np.linspace(0, len(lanes) - 1, parts + 1).round().astype(np.int64)
    acc = np.zeros((parts, padded.size))
    _lag_cotangent(base, pointers, offset[col_rows], col_weights, lanes, bounds, widest,
                   indexes, weights, cotangent, acc)
    by_table = acc.sum(axis=0)[: lag_table.size].reshape(lag_table.shape)
    return by_table, by_weight


def _lanes(base: np.ndarray) -> np.ndarray:
    """Starts of lanes: ≤ _LANE_CAP consecutive pixels whose bases step by exactly 1 (runs of
    one image row), plus len(base) at the end."""
    breaks = np.flatnonzero(np.diff(base) != 1) + 1
    run_starts = np.concatenate([[0], breaks])
    run_ends = np.concatenate([breaks, [len(base)]])
    starts = [np.arange(a, b, _LANE_CAP) for a, b in zip(run_starts, run_ends, strict=True)]
    return np.concatenate([*starts, [len(base)]]).astype(np.int64)


def _column_splits(pointers: np.ndarray, col_rows: np.ndarray, first_rows: np.ndarray,
                   image_pixels: int, n_parts: int) -> np.ndarray:
    """Column boundaries giving each thread about the same work: an entry of column t at
    image row n is gathered by every pixel after it (M - n), and each column costs a pass over
    the image pixels after its first one (``first_rows``) in the output."""
    entry_cost = np.concatenate([[0], np.cumsum(image_pixels - col_rows)])
    cost = entry_cost[pointers[1:]] + 4 * np.cumsum(image_pixels - first_rows)
    inner = np.searchsorted(cost, cost[-1] * np.arange(1, n_parts) / n_parts)
    return np.concatenate([[0], inner, [len(pointers) - 1]]).astype(np.int64)


def _shifted_gather(table: np.ndarray, base: np.ndarray, offset: np.ndarray,
                    lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The table padded by the widest lane of zeros (segment reads stay in bounds), base and
    offset shifted to be non-negative (every base[m] + offset[n] is a valid index), and the
    widest lane."""
    widest = int(np.max(np.diff(lanes))) if len(lanes) > 1 else 1
    shift = offset.min()
    return (np.concatenate([table.ravel(), np.zeros(widest)]), base + shift, offset - shift,
            widest)


def symmetric_curvature(table: np.ndarray, base: np.ndarray, offset: np.ndarray,
                        indexes: np.ndarray, weights: np.ndarray, pixels: int) -> np.ndarray:
    """F = Tᵀ W̃ T for a symmetric W̃[m, n] = table[base[m] + offset[n]] and T in (M, B) form."""
    first_rows = _first_rows(indexes, pixels)
    order = np.argsort(first_rows, kind="stable")  # column order[k] is relabelled k
    label = np.empty(pixels, dtype=np.int64)
    label[order] = np.arange(pixels)
    labels = np.where(indexes >= 0, label[np.maximum(indexes, 0)], -1)
    pointers, col_rows, col_weights = columns(labels, weights, pixels)
    lanes = _lanes(base)
    padded, base, offset, widest = _shifted_gather(table, base, offset, lanes)
    first_rows = first_rows[order]
    splits = _column_splits(pointers, col_rows, first_rows, len(base),
                            min(numba.get_num_threads(), pixels))
    # The output comes from NumPy, which requests transparent huge pages for big arrays: 4 kB
    # first-touch page faults would otherwise cost as much as the gathers.
    out = np.zeros((pixels, pixels))
    _half_products(padded, base, offset, pointers, offset[col_rows], col_weights, labels,
                   indexes, weights, first_rows, lanes, splits, widest, out)
    _unlabel_columns(out, label)
    _symmetric_sum(out)
    return out


def lattice_curvature(lag_table: np.ndarray, native_index_for_slim_index: np.ndarray,
                      indexes: np.ndarray, weights: np.ndarray, pixels: int) -> np.ndarray:
    """F = Tᵀ W̃ T from a full lattice lag table (the direct kernels' core; the JAX backend's
    CPU route calls it too)."""
    base, offset = lag_gather(lag_table.shape, native_index_for_slim_index[:, 0],
                              native_index_for_slim_index[:, 1])
    return symmetric_curvature(lag_table, base, offset, indexes, weights, pixels)



def two_pass_curvature(lag_table: np.ndarray, native_index_for_slim_index: np.ndarray,
                       indexes: np.ndarray, weights: np.ndarray, pixels: int) -> np.ndarray:
    """F in two passes: Ω = W̃ T (M × S, gathered from the lag table), then Tᵀ Ω (column
    gather) — the sparse route, without the symmetric kernels' relabelling."""
    base, offset = lag_gather(lag_table.shape, native_index_for_slim_index[:, 0],
                              native_index_for_slim_index[:, 1])
    column_form = columns(indexes, weights, pixels)
    pointers, col_rows, col_weights = column_form
    lanes = _lanes(base)
    padded, base, offset, widest = _shifted_gather(lag_table, base, offset, lanes)
    omega = np.empty((len(base), pixels))
    _omega(padded, base, pointers, offset[col_rows], col_weights, lanes, widest, omega)
    return transpose_matmul(column_form, omega)
