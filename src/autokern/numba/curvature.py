"""Curvature matrix F = Tᵀ W̃ T from each representation of W̃ and T (Numba): the kernels over
the engine in :mod:`autokern._cpu.lattice_curvature` (W̃ gathered from a table, T in
column form, the symmetry of W̃ halving the gathers).
"""

import numba
import numpy as np

# The FFT route is SciPy's FFTs either way: one CPU implementation with the reference backend.
from autokern._cpu.fft_curvature import (
    curvature_matrix_via_w_compact_fft_from as curvature_matrix_via_w_compact_fft_from,
)
from autokern._cpu.lattice_curvature import (
    lattice_curvature,
    symmetric_curvature,
    two_pass_curvature,
)
from autokern._shared.lattice import lag_table_from_compact, lag_table_from_precision_operator
from autokern._shared.mapping import indexes_within_sizes

_JIT = {"cache": True, "nogil": True}
#: below this fraction of non-zero entries a dense T is treated as sparse
_SPARSE_DENSITY = 0.05


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


def compact_curvature(w_compact: np.ndarray, native_index_for_slim_index: np.ndarray,
                      indexes: np.ndarray, weights: np.ndarray, pixels: int) -> np.ndarray:
    """F from w-compact and the sparse mapping (the direct kernel's core)."""
    return lattice_curvature(lag_table_from_compact(w_compact), native_index_for_slim_index,
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
    return two_pass_curvature(lag_table_from_compact(w_compact), native_index_for_slim_index,
                              pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                              pixels)

def curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    return compact_curvature(w_compact, native_index_for_slim_index,
                             pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             pixels)


def curvature_matrix_via_nufft_precision_operator_from(
        nufft_precision_operator, pix_indexes_for_sub_slim_index, pix_sizes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, native_index_for_slim_index, pixels):
    # Every pair of mapping entries, cross terms within one image pixel included (F = Tᵀ W̃ T).
    indexes = indexes_within_sizes(np, pix_indexes_for_sub_slim_index,
                                   pix_sizes_for_sub_slim_index)
    return lattice_curvature(lag_table_from_precision_operator(nufft_precision_operator),
                              native_index_for_slim_index, indexes,
                              pix_weights_for_sub_slim_index, pixels)
