"""Curvature matrix F = Tᵀ W̃ T from each representation of W̃ and T (reference).

The compact and precision-operator routes build W̃ a block of rows at a time from the lattice
lags, so memory stays O(block × M) whatever M is; the dense routes take W̃ as given.
"""

import numpy as np

from autokern._cpu.fft_curvature import (
    curvature_matrix_via_w_compact_fft_from as curvature_matrix_via_w_compact_fft_from,
)
from autokern._shared.lattice import compact_index, precision_operator_index
from autokern._shared.mapping import indexes_within_sizes
from autokern.original.mapping import mapping_matrix_from

ROW_BLOCK = 256


def _row_blocks(layout, index_of, native_index_for_slim_index):
    """Yield (rows, W̃[rows, :]) for consecutive blocks of ROW_BLOCK rows of W̃ stored in
    ``layout`` (a w-compact or a precision operator, read with ``index_of``)."""
    for start in range(0, len(native_index_for_slim_index), ROW_BLOCK):
        rows = slice(start, start + ROW_BLOCK)
        yield rows, layout[index_of(layout.shape, native_index_for_slim_index[rows],
                                    native_index_for_slim_index)]


def _omega(layout, index_of, native_index_for_slim_index, mapping_matrix):
    """Ω = W̃ T, built block by block."""
    omega = np.empty_like(mapping_matrix)
    for rows, w_block in _row_blocks(layout, index_of, native_index_for_slim_index):
        omega[rows] = w_block @ mapping_matrix
    return omega


def curvature_matrix_via_w_tilde_from(w_tilde, mapping_matrix):
    return mapping_matrix.T @ (w_tilde @ mapping_matrix)


def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
        w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    mapping_matrix = mapping_matrix_from(pix_indexes_for_sub_slim_index,
                                         pix_weights_for_sub_slim_index, pixels)
    return mapping_matrix.T @ (w_tilde @ mapping_matrix)


def curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    mapping_matrix = mapping_matrix_from(pix_indexes_for_sub_slim_index,
                                         pix_weights_for_sub_slim_index, pixels)
    omega = _omega(w_compact, compact_index, native_index_for_slim_index, mapping_matrix)
    return mapping_matrix.T @ omega


def curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    mapping_matrix = mapping_matrix_from(pix_indexes_for_sub_slim_index,
                                         pix_weights_for_sub_slim_index, pixels)
    curvature = np.zeros((pixels, pixels))
    for rows, w_block in _row_blocks(w_compact, compact_index, native_index_for_slim_index):
        curvature += mapping_matrix[rows].T @ (w_block @ mapping_matrix)
    return curvature


def curvature_matrix_via_nufft_precision_operator_from(
        nufft_precision_operator, pix_indexes_for_sub_slim_index, pix_sizes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, native_index_for_slim_index, pixels):
    indexes = indexes_within_sizes(np, pix_indexes_for_sub_slim_index,
                                   pix_sizes_for_sub_slim_index)
    mapping_matrix = mapping_matrix_from(indexes, pix_weights_for_sub_slim_index, pixels)
    omega = _omega(nufft_precision_operator, precision_operator_index, native_index_for_slim_index,
                   mapping_matrix)
    return mapping_matrix.T @ omega
