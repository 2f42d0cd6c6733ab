"""The mapping matrix T and products with it (JAX).

The sparse form (indexes, weights) is applied with scatter-adds: a -1 entry is sent to the
out-of-range row/column ``pixels`` and dropped (``mode="drop"``), so it adds nothing and needs
no mask on the weights.
"""

from functools import partial

import jax
import jax.numpy as jnp
from jax.experimental import sparse

from autokern.catalogue import implements

kernel = partial(implements, backend="jax")


def scatter_target(pix_indexes_for_sub_slim_index, pixels):
    """Source pixel of each mapping entry, with -1 replaced by the dropped index ``pixels``."""
    return jnp.where(pix_indexes_for_sub_slim_index >= 0, pix_indexes_for_sub_slim_index, pixels)


def transpose_matmul(matrix, target, weights, pixels):
    """Tᵀ @ matrix: row m of ``matrix``, scaled by each weight of row m of T, added to the
    row of its source pixel (one scatter of contiguous rows per mapping slot)."""
    out = jnp.zeros((pixels, *matrix.shape[1:]), matrix.dtype)
    shape = (-1,) + (1,) * (matrix.ndim - 1)
    for slot in range(target.shape[1]):
        out = out.at[target[:, slot]].add(weights[:, slot].reshape(shape) * matrix,
                                          mode="drop")
    return out


@partial(jax.jit, static_argnames="pixels")
def dense_mapping_matrix(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                         pixels):
    image_pixels = pix_indexes_for_sub_slim_index.shape[0]
    rows = jnp.broadcast_to(jnp.arange(image_pixels)[:, None],
                            pix_indexes_for_sub_slim_index.shape)
    columns = scatter_target(pix_indexes_for_sub_slim_index, pixels)
    return jnp.zeros((image_pixels, pixels)).at[rows, columns].add(
        pix_weights_for_sub_slim_index, mode="drop")


@kernel("mapping_matrix_from")
def mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    return dense_mapping_matrix(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                pixels=pixels)


@partial(jax.jit, static_argnames="pixels")
def bcoo_mapping_matrix(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    image_pixels, per_pixel = pix_indexes_for_sub_slim_index.shape
    valid = pix_indexes_for_sub_slim_index >= 0
    # A -1 entry becomes an explicit zero at column 0: no reliance on BCOO dropping
    # out-of-range indices, and the number of stored entries (M B) stays static.
    rows = jnp.repeat(jnp.arange(image_pixels), per_pixel)
    cols = jnp.where(valid, pix_indexes_for_sub_slim_index, 0).ravel()
    weights = jnp.where(valid, pix_weights_for_sub_slim_index, 0.0).ravel()
    return sparse.BCOO((weights, jnp.stack([rows, cols], axis=1)),
                       shape=(image_pixels, pixels))


@kernel("mapping_matrix_from_BCOO")
def mapping_matrix_from_BCOO(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             pixels):
    return bcoo_mapping_matrix(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                               pixels=pixels)


@jax.jit
def _data_vector(mapping_matrix, dirty_image):
    return mapping_matrix.T @ dirty_image


@kernel("data_vector_from")
def data_vector_from(mapping_matrix, dirty_image):
    return _data_vector(mapping_matrix, dirty_image)


@partial(jax.jit, static_argnames="pixels")
def _transpose_matmul(matrix, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                      pixels):
    return transpose_matmul(matrix, scatter_target(pix_indexes_for_sub_slim_index, pixels),
                            pix_weights_for_sub_slim_index, pixels)


@kernel("sparse_mapping_matrix_transpose_matmul")
def sparse_mapping_matrix_transpose_matmul(matrix, pix_indexes_for_sub_slim_index,
                                           pix_weights_for_sub_slim_index, pixels):
    return _transpose_matmul(matrix, pix_indexes_for_sub_slim_index,
                             pix_weights_for_sub_slim_index, pixels=pixels)
