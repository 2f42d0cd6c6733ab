"""The mapping matrix T and products with it (JAX)."""

from functools import partial

import jax.numpy as jnp
from jax.experimental import sparse

from autokern.catalogue import implements

kernel = partial(implements, backend="jax")


@kernel("mapping_matrix_from_BCOO")
def mapping_matrix_from_BCOO(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             pixels):
    image_pixels, per_pixel = pix_indexes_for_sub_slim_index.shape
    valid = pix_indexes_for_sub_slim_index >= 0
    # A -1 entry becomes an explicit zero at column 0: no reliance on BCOO dropping
    # out-of-range indices.
    rows = jnp.repeat(jnp.arange(image_pixels), per_pixel)
    cols = jnp.where(valid, pix_indexes_for_sub_slim_index, 0).ravel()
    weights = jnp.where(valid, pix_weights_for_sub_slim_index, 0.0).ravel()
    return sparse.BCOO((weights, jnp.stack([rows, cols], axis=1)),
                       shape=(image_pixels, pixels))
