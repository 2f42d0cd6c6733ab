"""The mapping matrix T and products with it (reference)."""

import numpy as np

from autokern._shared import mapping


def valid_entries(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index):
    """(image pixel, source pixel, weight) of every mapping entry that is not -1."""
    rows, cols = np.nonzero(pix_indexes_for_sub_slim_index >= 0)
    return (rows, pix_indexes_for_sub_slim_index[rows, cols],
            pix_weights_for_sub_slim_index[rows, cols])


def mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    image, source, weight = valid_entries(pix_indexes_for_sub_slim_index,
                                          pix_weights_for_sub_slim_index)
    mapping_matrix = np.zeros((len(pix_indexes_for_sub_slim_index), pixels))
    np.add.at(mapping_matrix, (image, source), weight)
    return mapping_matrix


def data_vector_from(mapping_matrix, dirty_image):
    return mapping_matrix.T @ dirty_image


def sparse_mapping_matrix_transpose_matmul(matrix, pix_indexes_for_sub_slim_index,
                                           pix_weights_for_sub_slim_index, pixels):
    image, source, weight = valid_entries(pix_indexes_for_sub_slim_index,
                                          pix_weights_for_sub_slim_index)
    out = np.zeros((pixels, *matrix.shape[1:]))
    weight = weight.reshape(-1, *([1] * (matrix.ndim - 1)))
    np.add.at(out, source, weight * matrix[image])
    return out


def mapping_from_sub_pixels(pix_indexes_for_sub_slim_index: np.ndarray,
                            pix_weights_for_sub_slim_index: np.ndarray,
                            pix_sizes_for_sub_slim_index: np.ndarray,
                            slim_index_for_sub_slim_index: np.ndarray, sub_fraction: np.ndarray,
                            pixels: int, max_per_pixel: int | None = None,
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduce a sub-pixel mapping (M_sub, B) to one row per image pixel: indexes (M, B') −1
    padded and sorted by source pixel, weights (M, B') (sub_fraction[m] × the summed sub-pixel
    weights, 0 in padding), sizes (M,); M = len(sub_fraction), B' = max distinct per row."""
    image_pixels = len(sub_fraction)
    per_row = pix_indexes_for_sub_slim_index.shape[1]
    valid = ((np.arange(per_row) < pix_sizes_for_sub_slim_index[:, None])
             & (pix_indexes_for_sub_slim_index >= 0))
    sub_rows, slots = np.nonzero(valid)
    image_rows = slim_index_for_sub_slim_index[sub_rows]
    keys = image_rows * np.int64(pixels) + pix_indexes_for_sub_slim_index[sub_rows, slots]
    unique_keys, run = np.unique(keys, return_inverse=True)
    summed = np.bincount(run, weights=pix_weights_for_sub_slim_index[sub_rows, slots],
                         minlength=len(unique_keys))
    rows, sources = np.divmod(unique_keys, np.int64(pixels))
    sizes = np.bincount(rows, minlength=image_pixels).astype(np.int64)
    width = mapping.output_width("mapping_from_sub_pixels", sizes, max_per_pixel)
    ranks = np.arange(len(unique_keys)) - np.searchsorted(rows, rows)  # keys sort by row first
    indexes = np.full((image_pixels, width), -1, dtype=np.int64)
    weights = np.zeros((image_pixels, width))
    indexes[rows, ranks] = sources
    weights[rows, ranks] = sub_fraction[rows] * summed
    return indexes, weights, sizes
