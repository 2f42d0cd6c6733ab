"""Regularization, solve and the log evidence (reference)."""

from functools import partial

import numpy as np

from autokern import _evidence, terms
from autokern.catalogue import implements
from autokern.original.curvature import (
    curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from,
    curvature_matrix_via_w_tilde_sparse_mapping_matrix_from,
)
from autokern.original.mapping import sparse_mapping_matrix_transpose_matmul

kernel = partial(implements, backend="original")


@kernel("constant_regularization_matrix_from")
def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    pixels = len(neighbors_sizes)
    strength = coefficient**2
    within_size = np.arange(neighbors.shape[1]) < neighbors_sizes[:, None]
    rows, slots = np.nonzero(within_size & (neighbors >= 0))
    regularization = np.diag(1e-8 + strength * neighbors_sizes.astype(float))
    np.add.at(regularization, (rows, neighbors[rows, slots]), -strength)
    return regularization.reshape(pixels, pixels)


@kernel("reconstruction_positive_negative_from")
def reconstruction_positive_negative_from(data_vector, curvature_reg_matrix):
    factor = _evidence.cholesky(
        curvature_reg_matrix, "reconstruction_positive_negative_from: curvature_reg_matrix")
    return _evidence.solve_cholesky(factor, data_vector)


@kernel("noise_normalization_complex_from")
def noise_normalization_complex_from(noise_map):
    return _evidence.noise_normalization(noise_map)


def _log_evidence(curvature, dirty_image, data_chi_squared, noise_normalization,
                  pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors,
                  neighbors_sizes, coefficient):
    pixels = len(neighbors)
    data_vector = sparse_mapping_matrix_transpose_matmul(
        dirty_image, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    regularization = constant_regularization_matrix_from(coefficient, neighbors,
                                                         neighbors_sizes)
    return _evidence.log_evidence_from_terms(curvature, regularization, data_vector,
                                             data_chi_squared, noise_normalization)


@kernel("log_likelihood_function_via_w_tilde_from")
def log_likelihood_function_via_w_tilde_from(dirty_image, data, noise_map, w_tilde,
                                             pix_indexes_for_sub_slim_index,
                                             pix_weights_for_sub_slim_index, neighbors,
                                             neighbors_sizes, coefficient):
    curvature = curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
        w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, len(neighbors))
    return _log_evidence(curvature, dirty_image, _evidence.data_term(data, noise_map),
                         _evidence.noise_normalization(noise_map), pix_indexes_for_sub_slim_index,
                         pix_weights_for_sub_slim_index, neighbors, neighbors_sizes, coefficient)


@kernel("log_likelihood_function_via_w_compact_from")
def log_likelihood_function_via_w_compact_from(dirty_image, data, noise_map, w_compact,
                                               native_index_for_slim_index,
                                               pix_indexes_for_sub_slim_index,
                                               pix_weights_for_sub_slim_index, neighbors,
                                               neighbors_sizes, coefficient):
    curvature = curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, len(neighbors))
    return _log_evidence(curvature, dirty_image, _evidence.data_term(data, noise_map),
                         _evidence.noise_normalization(noise_map), pix_indexes_for_sub_slim_index,
                         pix_weights_for_sub_slim_index, neighbors, neighbors_sizes, coefficient)


@kernel("log_likelihood_function_via_visibility_terms_from")
def log_likelihood_function_via_visibility_terms_from(**arguments):
    return terms.log_likelihood_with("original", **arguments)
