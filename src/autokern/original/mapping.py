"""The mapping matrix T and products with it (reference)."""

import numpy as np


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
