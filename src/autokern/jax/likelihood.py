"""Regularization, solve and the log evidence (JAX), differentiable end to end.

Everything after the dataset-only precomputation (w-compact or W̃, the dirty image) runs in one
jitted function per route, so ``jax.grad`` with respect to ``coefficient`` or the mapping
weights and ``jax.vmap`` over coefficients go through the public kernels.  One Cholesky
factorisation of F + H gives both the solve and log det(F + H).
"""

from functools import partial

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve

from autokern import terms
from autokern.catalogue import implements
from autokern.errors import InputValueError
from autokern.jax.curvature import curvature_via_compact_direct, curvature_via_w_tilde_sparse
from autokern.jax.mapping import per_source_bucket, products

kernel = partial(implements, backend="jax")


def _regularization(coefficient, neighbors, neighbors_sizes):
    pixels, per_pixel = neighbors.shape
    strength = coefficient**2
    valid = (jnp.arange(per_pixel) < neighbors_sizes[:, None]) & (neighbors >= 0)
    rows = jnp.broadcast_to(jnp.arange(pixels)[:, None], neighbors.shape)
    # Entries past neighbors_sizes or -1 go to the out-of-range column and are dropped.
    columns = jnp.where(valid, neighbors, pixels)
    diagonal = jnp.diag(1e-8 + strength * neighbors_sizes.astype(jnp.float64))
    return diagonal.at[rows, columns].add(-strength, mode="drop")


@jax.jit
def _regularization_jit(coefficient, neighbors, neighbors_sizes):
    return _regularization(coefficient, neighbors, neighbors_sizes)


@kernel("constant_regularization_matrix_from")
def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    return _regularization_jit(coefficient, neighbors, neighbors_sizes)


def _log_det(factor):
    return 2.0 * jnp.sum(jnp.log(jnp.diag(factor)))


@jax.jit
def _reconstruction(data_vector, curvature_reg_matrix):
    factor = cho_factor(curvature_reg_matrix, lower=True)
    # A matrix that is not positive definite leaves NaN on the factor's diagonal.
    return cho_solve(factor, data_vector), jnp.all(jnp.isfinite(jnp.diag(factor[0])))


@kernel("reconstruction_positive_negative_from")
def reconstruction_positive_negative_from(data_vector, curvature_reg_matrix):
    reconstruction, factorised = _reconstruction(data_vector, curvature_reg_matrix)
    if not isinstance(factorised, jax.core.Tracer) and not factorised:
        raise InputValueError("reconstruction_positive_negative_from: curvature_reg_matrix is "
                              "not symmetric positive definite")
    return reconstruction


def _noise_normalization(noise_map):
    return jnp.sum(jnp.log(2.0 * jnp.pi * noise_map.real**2)
                   + jnp.log(2.0 * jnp.pi * noise_map.imag**2))


_noise_normalization_jit = jax.jit(_noise_normalization)


@kernel("noise_normalization_complex_from")
def noise_normalization_complex_from(noise_map):
    return _noise_normalization_jit(noise_map)


def _log_evidence(curvature, dirty_image, data, noise_map, pix_indexes_for_sub_slim_index,
                  pix_weights_for_sub_slim_index, neighbors, neighbors_sizes, coefficient):
    # Scatter form for D = Tᵀ d: see autokern.jax.mapping.products on the gather form.
    t_matmul, _ = products(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                           neighbors.shape[0], None)
    data_vector = t_matmul(dirty_image)
    regularization = _regularization(coefficient, neighbors, neighbors_sizes)
    factor = cho_factor(curvature + regularization, lower=True)
    reconstruction = cho_solve(factor, data_vector)
    data_term = jnp.sum((data.real / noise_map.real) ** 2 + (data.imag / noise_map.imag) ** 2)
    chi_squared = (reconstruction @ curvature @ reconstruction
                   - 2.0 * reconstruction @ data_vector + data_term)
    regularization_term = reconstruction @ regularization @ reconstruction
    log_det_regularization = _log_det(jnp.linalg.cholesky(regularization))
    return -0.5 * (chi_squared + regularization_term + _log_det(factor[0])
                   - log_det_regularization + _noise_normalization(noise_map))


@jax.jit
def _via_w_tilde(dirty_image, data, noise_map, w_tilde, pix_indexes_for_sub_slim_index,
                 pix_weights_for_sub_slim_index, neighbors, neighbors_sizes, coefficient):
    curvature = curvature_via_w_tilde_sparse(w_tilde, pix_indexes_for_sub_slim_index,
                                             pix_weights_for_sub_slim_index,
                                             pixels=neighbors.shape[0], per_source=None)
    return _log_evidence(curvature, dirty_image, data, noise_map, pix_indexes_for_sub_slim_index,
                         pix_weights_for_sub_slim_index, neighbors, neighbors_sizes, coefficient)


_log_evidence_jit = jax.jit(_log_evidence)


def _traced(*arrays):
    return any(isinstance(x, jax.core.Tracer) for x in arrays)


@kernel("log_likelihood_function_via_w_tilde_from")
def log_likelihood_function_via_w_tilde_from(dirty_image, data, noise_map, w_tilde,
                                             pix_indexes_for_sub_slim_index,
                                             pix_weights_for_sub_slim_index, neighbors,
                                             neighbors_sizes, coefficient):
    pixels = neighbors.shape[0]
    per_source = per_source_bucket(pix_indexes_for_sub_slim_index, pixels)
    if per_source is None or _traced(w_tilde, pix_weights_for_sub_slim_index):
        return _via_w_tilde(dirty_image, data, noise_map, w_tilde,
                            pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                            neighbors, neighbors_sizes, coefficient)
    # F does not depend on the coefficient: with a concrete W̃ and mapping it is computed once
    # (also under grad/vmap in the coefficient), in the gather form, as a program of its own so
    # that its output keeps a row-major layout (see autokern.jax.mapping.products).
    curvature = curvature_via_w_tilde_sparse(w_tilde, pix_indexes_for_sub_slim_index,
                                             pix_weights_for_sub_slim_index, pixels=pixels,
                                             per_source=per_source)
    return _log_evidence_jit(curvature, dirty_image, data, noise_map,
                             pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             neighbors, neighbors_sizes, coefficient)


@jax.jit
def log_likelihood_via_w_compact(dirty_image, data, noise_map, w_compact,
                                 native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                                 pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
                                 coefficient):
    """:func:`log_likelihood_function_via_w_compact_from` as one program (no checks); the
    public function runs it when the inputs of F are traced."""
    curvature = curvature_via_compact_direct(w_compact, native_index_for_slim_index,
                                             pix_indexes_for_sub_slim_index,
                                             pix_weights_for_sub_slim_index,
                                             pixels=neighbors.shape[0])
    return _log_evidence(curvature, dirty_image, data, noise_map, pix_indexes_for_sub_slim_index,
                         pix_weights_for_sub_slim_index, neighbors, neighbors_sizes, coefficient)


@kernel("log_likelihood_function_via_w_compact_from")
def log_likelihood_function_via_w_compact_from(dirty_image, data, noise_map, w_compact,
                                               native_index_for_slim_index,
                                               pix_indexes_for_sub_slim_index,
                                               pix_weights_for_sub_slim_index, neighbors,
                                               neighbors_sizes, coefficient):
    if _traced(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
               pix_weights_for_sub_slim_index):
        return log_likelihood_via_w_compact(dirty_image, data, noise_map, w_compact,
                                            native_index_for_slim_index,
                                            pix_indexes_for_sub_slim_index,
                                            pix_weights_for_sub_slim_index, neighbors,
                                            neighbors_sizes, coefficient)
    # Concrete F inputs: F as a program of its own (XLA schedules the two halves better apart,
    # and F is computed once under grad/vmap in the coefficient).
    curvature = curvature_via_compact_direct(w_compact, native_index_for_slim_index,
                                             pix_indexes_for_sub_slim_index,
                                             pix_weights_for_sub_slim_index,
                                             pixels=neighbors.shape[0])
    return _log_evidence_jit(curvature, dirty_image, data, noise_map,
                             pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             neighbors, neighbors_sizes, coefficient)


@kernel("log_likelihood_function_via_visibility_terms_from")
def log_likelihood_function_via_visibility_terms_from(**arguments):
    return terms.log_likelihood_with("jax", **arguments)
