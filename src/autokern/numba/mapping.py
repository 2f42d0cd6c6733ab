"""The mapping matrix T and products with it (Numba).

T arrives in its row form, (M, B) source indexes and weights padded with -1.  Products that
reduce over image pixels use the column form of T (:func:`columns`): for each source pixel s
the image pixels that map to it, in increasing order.  With it, ``Tᵀ X`` is a gather per
output row, so threads own disjoint output rows and results do not depend on scheduling.
"""

import numba
import numpy as np

from autokern._cpu.sparse_columns import columns as columns
from autokern._cpu.sparse_columns import transpose_matmul as transpose_matmul
from autokern._shared import mapping

_JIT = {"cache": True, "nogil": True}


@numba.njit(**_JIT)
def _mapping_matrix(indexes, weights, out):
    for m in range(indexes.shape[0]):
        for b in range(indexes.shape[1]):
            if indexes[m, b] >= 0:
                out[m, indexes[m, b]] += weights[m, b]


def mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    out = np.zeros((len(pix_indexes_for_sub_slim_index), pixels))
    _mapping_matrix(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, out)
    return out


def data_vector_from(mapping_matrix, dirty_image):
    # A dense matrix-vector product: BLAS.
    return mapping_matrix.T @ dirty_image


def sparse_mapping_matrix_transpose_matmul(matrix, pix_indexes_for_sub_slim_index,
                                           pix_weights_for_sub_slim_index, pixels):
    column_form = columns(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                          pixels)
    return transpose_matmul(column_form, matrix)


@numba.njit(cache=True, nogil=True)
def _reduce_sub_pixels(indexes, weights, sizes, slim, sub_fraction, image_pixels):
    """Per image pixel, the distinct (source, summed weight) pairs sorted by source, in a
    (M, W) buffer wide enough for all its sub-pixels' entries; returns buffers and counts."""
    sub_pixels, per_row = indexes.shape
    counts = np.zeros(image_pixels + 1, dtype=np.int64)
    for j in range(sub_pixels):
        counts[slim[j] + 1] += 1
    widest = 0
    for m in range(image_pixels):
        widest = max(widest, counts[m + 1])
        counts[m + 1] += counts[m]
    order = np.empty(sub_pixels, dtype=np.int64)
    filled = counts[:-1].copy()
    for j in range(sub_pixels):
        order[filled[slim[j]]] = j
        filled[slim[j]] += 1
    out_indexes = np.full((image_pixels, max(widest * per_row, 1)), -1, dtype=np.int64)
    out_weights = np.zeros(out_indexes.shape)
    out_sizes = np.zeros(image_pixels, dtype=np.int64)
    for m in range(image_pixels):
        used = 0
        for t in range(counts[m], counts[m + 1]):
            j = order[t]
            for k in range(min(sizes[j], per_row)):
                source = indexes[j, k]
                if source < 0:
                    continue
                slot = 0  # insertion into the sorted, merged row
                while slot < used and out_indexes[m, slot] < source:
                    slot += 1
                if slot < used and out_indexes[m, slot] == source:
                    out_weights[m, slot] += weights[j, k]
                    continue
                for s in range(used, slot, -1):
                    out_indexes[m, s] = out_indexes[m, s - 1]
                    out_weights[m, s] = out_weights[m, s - 1]
                out_indexes[m, slot] = source
                out_weights[m, slot] = weights[j, k]
                used += 1
        for s in range(used):
            out_weights[m, s] *= sub_fraction[m]
        out_sizes[m] = used
    return out_indexes, out_weights, out_sizes


def mapping_from_sub_pixels(pix_indexes_for_sub_slim_index: np.ndarray,
                            pix_weights_for_sub_slim_index: np.ndarray,
                            pix_sizes_for_sub_slim_index: np.ndarray,
                            slim_index_for_sub_slim_index: np.ndarray, sub_fraction: np.ndarray,
                            pixels: int, max_per_pixel: int | None = None,
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per image pixel: indexes (M, B') −1 padded and sorted, weights (M, B'), sizes
    (M,), as :func:`autokern.original.mapping.mapping_from_sub_pixels` (``pixels`` = S)."""
    indexes, weights, sizes = _reduce_sub_pixels(
        pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
        pix_sizes_for_sub_slim_index, slim_index_for_sub_slim_index, sub_fraction,
        len(sub_fraction))
    width = mapping.output_width("mapping_from_sub_pixels", sizes, max_per_pixel)
    indexes, weights = mapping.pad_columns(indexes, weights, width)
    return np.ascontiguousarray(indexes), np.ascontiguousarray(weights), sizes
