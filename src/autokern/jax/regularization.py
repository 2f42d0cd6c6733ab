"""The regularization matrix (JAX).  The solve and the log evidence are written once for every
backend (:mod:`autokern._api.composed`) over jitted pieces, so ``jax.grad`` with respect to
``coefficient`` or the mapping weights and ``jax.vmap`` over coefficients go through them.
"""

import jax
import jax.numpy as jnp


@jax.jit
def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    pixels, per_pixel = neighbors.shape
    half = coefficient**2 / 2.0  # each listing i → j is half an edge
    valid = (jnp.arange(per_pixel) < neighbors_sizes[:, None]) & (neighbors >= 0)
    rows = jnp.broadcast_to(jnp.arange(pixels)[:, None], neighbors.shape)
    # Entries past neighbors_sizes or -1 go to the out-of-range index and are dropped.
    cols = jnp.where(valid, neighbors, pixels)
    degree = valid.sum(axis=1) + jnp.zeros(pixels, jnp.int64).at[cols].add(1, mode="drop")
    diagonal = jnp.diag(1e-8 + half * degree.astype(jnp.float64))
    return (diagonal.at[rows, cols].add(-half, mode="drop")
            .at[cols, rows].add(-half, mode="drop"))
