"""Regularization, solve and the log evidence (Numba kernels, NumPy/SciPy linear algebra).

The log likelihoods compose the fastest pieces: F from the symmetric curvature core, D = Tᵀ d
by a column gather, H by a jitted loop, and one Cholesky factorisation of F + H for both the
solve and its log determinant (:mod:`autokern._evidence`).
"""

from functools import partial

import numba
import numpy as np

from autokern import _evidence, terms
from autokern.catalogue import implements
from autokern.numba.curvature import compact_curvature, dense_curvature
from autokern.numba.mapping import columns, transpose_matmul

kernel = partial(implements, backend="numba")


@numba.njit(cache=True, nogil=True)
def _fill_regularization(strength, neighbors, neighbors_sizes, out):
    for i in range(out.shape[0]):
        out[i, i] += 1e-8 + strength * neighbors_sizes[i]
        for j in range(neighbors_sizes[i]):
            if neighbors[i, j] >= 0:
                out[i, neighbors[i, j]] -= strength


def _regularization(strength: float, neighbors: np.ndarray,
                    neighbors_sizes: np.ndarray) -> np.ndarray:
    out = np.zeros((len(neighbors_sizes), len(neighbors_sizes)))  # NumPy: huge pages
    _fill_regularization(strength, neighbors, neighbors_sizes, out)
    return out


@kernel("constant_regularization_matrix_from")
def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    return _regularization(coefficient**2, neighbors, neighbors_sizes)


@kernel("reconstruction_positive_negative_from")
def reconstruction_positive_negative_from(data_vector, curvature_reg_matrix):
    factor = _evidence.cholesky(
        curvature_reg_matrix, "reconstruction_positive_negative_from: curvature_reg_matrix")
    return _evidence.solve_cholesky(factor, data_vector)


@kernel("noise_normalization_complex_from")
def noise_normalization_complex_from(noise_map):
    return _evidence.noise_normalization(noise_map)


def _log_evidence(curvature: np.ndarray, dirty_image: np.ndarray, data: np.ndarray,
                  noise_map: np.ndarray, indexes: np.ndarray, weights: np.ndarray,
                  neighbors: np.ndarray, neighbors_sizes: np.ndarray,
                  coefficient: float) -> float:
    data_vector = transpose_matmul(columns(indexes, weights, len(neighbors)), dirty_image)
    regularization = _regularization(coefficient**2, neighbors, neighbors_sizes)
    return _evidence.log_evidence(curvature, regularization, data_vector, data, noise_map)


@kernel("log_likelihood_function_via_w_tilde_from")
def log_likelihood_function_via_w_tilde_from(dirty_image, data, noise_map, w_tilde,
                                             pix_indexes_for_sub_slim_index,
                                             pix_weights_for_sub_slim_index, neighbors,
                                             neighbors_sizes, coefficient):
    curvature = dense_curvature(w_tilde, pix_indexes_for_sub_slim_index,
                                pix_weights_for_sub_slim_index, len(neighbors))
    return _log_evidence(curvature, dirty_image, data, noise_map, pix_indexes_for_sub_slim_index,
                         pix_weights_for_sub_slim_index, neighbors, neighbors_sizes, coefficient)


@kernel("log_likelihood_function_via_w_compact_from")
def log_likelihood_function_via_w_compact_from(dirty_image, data, noise_map, w_compact,
                                               native_index_for_slim_index,
                                               pix_indexes_for_sub_slim_index,
                                               pix_weights_for_sub_slim_index, neighbors,
                                               neighbors_sizes, coefficient):
    curvature = compact_curvature(w_compact, native_index_for_slim_index,
                                  pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                  len(neighbors))
    return _log_evidence(curvature, dirty_image, data, noise_map, pix_indexes_for_sub_slim_index,
                         pix_weights_for_sub_slim_index, neighbors, neighbors_sizes, coefficient)


@kernel("log_likelihood_function_via_visibility_terms_from")
def log_likelihood_function_via_visibility_terms_from(**arguments):
    return terms.log_likelihood_with("numba", **arguments)
