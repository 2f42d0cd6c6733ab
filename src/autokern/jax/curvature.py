"""Curvature matrix F = Tᵀ W̃ T from each representation of W̃ and T (JAX).

The lattice routes (w-compact, preload) never hold the whole M × M W̃: a ``lax.scan`` over
blocks of image pixels gathers W̃[block, :] (R × M) from the lag table, and T is applied from
its sparse form by scatter-adds of contiguous rows:

    Ωᵀ[:, block] = Tᵀ W̃[block, :]ᵀ  (S × R: the rows of Ω = W̃ T for the block, transposed)
    F = Tᵀ Ω                          (two-pass route: Ω is kept, M × S)
    F += T[block]ᵀ Ω[block]           (direct route: only the S × S output is kept)
"""

from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

from autokern._lattice import compact_index, preload_index
from autokern.catalogue import implements
from autokern.jax.mapping import (
    bcoo_mapping_matrix,
    scatter_target,
    transpose_matmul,
)

kernel = partial(implements, backend="jax")

#: float64 entries of one gathered W̃ block (M × R): 8 MB
BLOCK_ENTRIES = 1 << 20


def _blocks(native_index_for_slim_index, *per_pixel):
    """Split the image pixels into blocks of R: (n_blocks, R, ...) arrays, padded with
    pixel 0 for the lattice index and with ``fill`` for the others."""
    n = native_index_for_slim_index.shape[0]
    size = max(1, min(n, BLOCK_ENTRIES // n))
    n_blocks = -(-n // size)
    pad = n_blocks * size - n

    def split(x, fill):
        x = jnp.concatenate([x, jnp.full((pad, *x.shape[1:]), fill, x.dtype)]) if pad else x
        return x.reshape(n_blocks, size, *x.shape[1:])

    native = split(native_index_for_slim_index, 0)
    return native, tuple(split(x, fill) for x, fill in per_pixel)


def _omega_t_block(w_lags, index_of, native_index_for_slim_index, native_block, target,
                   weights, pixels):
    """Ωᵀ[:, block] = Tᵀ W̃[block, :]ᵀ, (S × R)."""
    rows = w_lags[index_of(w_lags.shape, native_block, native_index_for_slim_index)]
    return transpose_matmul(rows.T, target, weights, pixels)


def _lattice_two_pass(w_lags, index_of, native_index_for_slim_index, target, weights, pixels):
    native_blocks, _ = _blocks(native_index_for_slim_index)
    omega_t = lax.map(
        lambda block: _omega_t_block(w_lags, index_of, native_index_for_slim_index, block,
                                     target, weights, pixels), native_blocks)
    n = native_index_for_slim_index.shape[0]
    omega = omega_t.transpose(0, 2, 1).reshape(-1, pixels)[:n]
    return transpose_matmul(omega, target, weights, pixels)


def _lattice_direct(w_lags, index_of, native_index_for_slim_index, target, weights, pixels):
    native_blocks, (target_blocks, weight_blocks) = _blocks(
        native_index_for_slim_index, (target, pixels), (weights, 0.0))

    def step(curvature, block):
        native_block, target_block, weight_block = block
        omega_t = _omega_t_block(w_lags, index_of, native_index_for_slim_index, native_block,
                                 target, weights, pixels)
        return curvature + transpose_matmul(omega_t.T, target_block, weight_block, pixels), None

    curvature, _ = lax.scan(step, jnp.zeros((pixels, pixels), w_lags.dtype),
                            (native_blocks, target_blocks, weight_blocks))
    return curvature


@jax.jit
def _via_w_tilde(w_tilde, mapping_matrix):
    # Tᵀ (W̃ T) = (Tᵀ W̃) T with W̃ symmetric; written with T on the left so a BCOO T works.
    left = mapping_matrix.T @ w_tilde
    return (mapping_matrix.T @ left.T).T


@kernel("curvature_matrix_via_w_tilde_from")
def curvature_matrix_via_w_tilde_from(w_tilde, mapping_matrix):
    return _via_w_tilde(w_tilde, mapping_matrix)


@partial(jax.jit, static_argnames="pixels")
def curvature_via_w_tilde_sparse(w_tilde, pix_indexes_for_sub_slim_index,
                                 pix_weights_for_sub_slim_index, pixels):
    target = scatter_target(pix_indexes_for_sub_slim_index, pixels)
    omega_t = transpose_matmul(w_tilde, target, pix_weights_for_sub_slim_index, pixels)
    return transpose_matmul(omega_t.T, target, pix_weights_for_sub_slim_index, pixels).T


@kernel("curvature_matrix_via_w_tilde_sparse_mapping_matrix_from")
def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
        w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    return curvature_via_w_tilde_sparse(w_tilde, pix_indexes_for_sub_slim_index,
                                        pix_weights_for_sub_slim_index, pixels=pixels)


@partial(jax.jit, static_argnames="pixels")
def _via_compact_two_pass(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                          pix_weights_for_sub_slim_index, pixels):
    return _lattice_two_pass(w_compact, compact_index, native_index_for_slim_index,
                             scatter_target(pix_indexes_for_sub_slim_index, pixels),
                             pix_weights_for_sub_slim_index, pixels)


@kernel("curvature_matrix_via_w_compact_sparse_mapping_matrix_from")
def curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    return _via_compact_two_pass(w_compact, native_index_for_slim_index,
                                 pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                 pixels=pixels)


@partial(jax.jit, static_argnames="pixels")
def curvature_via_compact_direct(w_compact, native_index_for_slim_index,
                                 pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                 pixels):
    return _lattice_direct(w_compact, compact_index, native_index_for_slim_index,
                           scatter_target(pix_indexes_for_sub_slim_index, pixels),
                           pix_weights_for_sub_slim_index, pixels)


@kernel("curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from")
def curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    return curvature_via_compact_direct(w_compact, native_index_for_slim_index,
                                        pix_indexes_for_sub_slim_index,
                                        pix_weights_for_sub_slim_index, pixels=pixels)


@partial(jax.jit, static_argnames="pixels")
def _via_compact_bcoo(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                      pix_weights_for_sub_slim_index, pixels):
    mapping = bcoo_mapping_matrix(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                  pixels=pixels)
    native_blocks, _ = _blocks(native_index_for_slim_index)
    omega_t = lax.map(
        lambda block: mapping.T @ w_compact[compact_index(
            w_compact.shape, block, native_index_for_slim_index)].T, native_blocks)
    n = native_index_for_slim_index.shape[0]
    omega = omega_t.transpose(0, 2, 1).reshape(-1, pixels)[:n]
    return mapping.T @ omega


@kernel("curvature_matrix_via_w_compact_sparse_mapping_matrix_from_BCOO")
def curvature_matrix_via_w_compact_sparse_mapping_matrix_from_BCOO(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    return _via_compact_bcoo(w_compact, native_index_for_slim_index,
                             pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             pixels=pixels)


@partial(jax.jit, static_argnames="pixels")
def _via_preload(curvature_preload, pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                 pix_weights_for_sub_slim_index, native_index_for_slim_index, pixels):
    beyond_size = (jnp.arange(pix_indexes_for_sub_slim_index.shape[1])
                   >= pix_size_for_sub_slim_index[:, None])
    indexes = jnp.where(beyond_size, -1, pix_indexes_for_sub_slim_index)
    return _lattice_two_pass(curvature_preload, preload_index, native_index_for_slim_index,
                             scatter_target(indexes, pixels), pix_weights_for_sub_slim_index,
                             pixels)


@kernel("curvature_matrix_via_w_tilde_curvature_preload_interferometer_from")
def curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
        curvature_preload, pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
        pix_weights_for_sub_slim_index, native_index_for_slim_index, pix_pixels):
    return _via_preload(curvature_preload, pix_indexes_for_sub_slim_index,
                        pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                        native_index_for_slim_index, pixels=pix_pixels)
