"""The mapping matrix T and products with it (JAX).

Tᵀ @ X with T in its sparse form has two implementations:

- scatter: each row of X, scaled by the weights of its image pixel, is added to the rows of its
  source pixels.  A -1 entry is sent to the out-of-range row ``pixels`` and dropped
  (``mode="drop"``), so it needs no mask.  Works for any mapping, even a traced one.
- gather: the entries are first regrouped by source pixel ("source-major": for each source
  pixel, up to Q image pixels and their weights, zero-weight padded), then Tᵀ X is a sum of Q
  row gathers, which XLA fuses into one loop.  On CPU this is several times faster than the
  scatter, but Q is a shape: it is read from the concrete indexes and rounded up to a multiple
  of 8, so a new mapping recompiles only when it lands in a new bucket of Q.
"""

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.experimental import sparse

from autokern.errors import InputValueError

Array = Any  # a jax.Array


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


#: above this many entries per source pixel the unrolled gather form stops paying off
MAX_PER_SOURCE = 64
_PER_SOURCE_STEP = 8


def per_source_bucket(pix_indexes_for_sub_slim_index, pixels) -> int | None:
    """Q for the gather form: the most entries any source pixel has, rounded up to a multiple
    of 8; None when the indexes are traced or Q exceeds :data:`MAX_PER_SOURCE`."""
    if isinstance(pix_indexes_for_sub_slim_index, jax.core.Tracer):
        return None
    indexes = np.asarray(pix_indexes_for_sub_slim_index).ravel()
    counts = np.bincount(indexes[(indexes >= 0) & (indexes < pixels)], minlength=pixels)
    most = max(int(counts.max(initial=0)), 1)
    bucket = -(-most // _PER_SOURCE_STEP) * _PER_SOURCE_STEP
    return bucket if bucket <= MAX_PER_SOURCE else None


def source_major(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels,
                 per_source):
    """(image pixels, weights), each (S, Q): the entries of T grouped by source pixel.

    Unused slots point at image pixel 0 with weight 0.  Entries are stably sorted by source
    pixel; an entry's slot is its rank within its source pixel's run.
    """
    per_pixel = pix_indexes_for_sub_slim_index.shape[1]
    source = scatter_target(pix_indexes_for_sub_slim_index, pixels).ravel()
    order = jnp.argsort(source, stable=True)
    sorted_source = source[order]
    run_start = jnp.searchsorted(sorted_source, jnp.arange(pixels + 1))
    slot = jnp.arange(source.shape[0]) - run_start[sorted_source]
    # Row ``pixels`` collects the -1 entries and is cut off.
    rows = jnp.zeros((pixels + 1, per_source), source.dtype).at[sorted_source, slot].set(
        order // per_pixel, mode="drop")
    weights = jnp.zeros((pixels + 1, per_source), pix_weights_for_sub_slim_index.dtype)
    weights = weights.at[sorted_source, slot].set(pix_weights_for_sub_slim_index.ravel()[order],
                                                  mode="drop")
    return lax.optimization_barrier((rows[:pixels], weights[:pixels]))


def gather_transpose_matmul(matrix, rows, weights):
    """Tᵀ @ matrix from the source-major form: Σ_q weights[:, q] matrix[rows[:, q]]."""
    shape = (-1,) + (1,) * (matrix.ndim - 1)
    out = jnp.zeros((rows.shape[0], *matrix.shape[1:]), matrix.dtype)
    for slot in range(rows.shape[1]):
        out = out + weights[:, slot].reshape(shape) * matrix[rows[:, slot]]
    # Materialise the sum: fused into a consumer that reads it more than once, XLA would
    # recompute all Q gathers per read.
    return lax.optimization_barrier(out)


def products(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels,
             per_source):
    """Functions X ↦ Tᵀ X and X ↦ X T = (Tᵀ Xᵀ)ᵀ (X two-dimensional for the latter): the
    gather form when ``per_source`` (Q) is given, else scatter-adds.

    Use the gather form only where its result leaves the jitted function or feeds a transpose
    or a matmul: inside a larger program (a scan body, a reduction, the likelihood) XLA CPU
    may assign its output a transposed layout, and the Q row gathers then read with a stride
    per element and run tens of times slower than the scatter.
    """
    if per_source is None:
        target = scatter_target(pix_indexes_for_sub_slim_index, pixels)

        def t_matmul(matrix):
            return transpose_matmul(matrix, target, pix_weights_for_sub_slim_index, pixels)
    else:
        rows, weights = source_major(pix_indexes_for_sub_slim_index,
                                     pix_weights_for_sub_slim_index, pixels, per_source)

        def t_matmul(matrix):
            return gather_transpose_matmul(matrix, rows, weights)

    return t_matmul, lambda matrix: t_matmul(matrix.T).T


@partial(jax.jit, static_argnames="pixels")
def dense_mapping_matrix(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                         pixels):
    image_pixels = pix_indexes_for_sub_slim_index.shape[0]
    rows = jnp.broadcast_to(jnp.arange(image_pixels)[:, None],
                            pix_indexes_for_sub_slim_index.shape)
    columns = scatter_target(pix_indexes_for_sub_slim_index, pixels)
    return jnp.zeros((image_pixels, pixels)).at[rows, columns].add(
        pix_weights_for_sub_slim_index, mode="drop")


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


def mapping_matrix_from_BCOO(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             pixels):
    return bcoo_mapping_matrix(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                               pixels=pixels)


@jax.jit
def _data_vector(mapping_matrix, dirty_image):
    return mapping_matrix.T @ dirty_image


def data_vector_from(mapping_matrix, dirty_image):
    return _data_vector(mapping_matrix, dirty_image)


@partial(jax.jit, static_argnames=("pixels", "per_source"))
def _transpose_matmul(matrix, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                      pixels, per_source):
    t_matmul, _ = products(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                           pixels, per_source)
    return t_matmul(matrix)


def sparse_mapping_matrix_transpose_matmul(matrix, pix_indexes_for_sub_slim_index,
                                           pix_weights_for_sub_slim_index, pixels):
    return _transpose_matmul(matrix, pix_indexes_for_sub_slim_index,
                             pix_weights_for_sub_slim_index, pixels=pixels,
                             per_source=per_source_bucket(pix_indexes_for_sub_slim_index,
                                                          pixels))


def _runs(indexes, sizes, slim, pixels):
    """The valid (image pixel, source) entries sorted by key = m·S + s, with run bookkeeping."""
    per_row = indexes.shape[1]
    valid = (jnp.arange(per_row) < sizes[:, None]) & (indexes >= 0)
    sentinel = jnp.iinfo(jnp.int64).max
    keys = jnp.where(valid, slim[:, None] * pixels + indexes, sentinel).ravel()
    order = jnp.argsort(keys, stable=True)
    keys = keys[order]
    first = jnp.concatenate([jnp.ones(1, dtype=bool), keys[1:] != keys[:-1]]) & (keys < sentinel)
    rows = jnp.where(keys < sentinel, keys // pixels, 0)
    return order, keys < sentinel, first, rows, keys % pixels


@partial(jax.jit, static_argnames=("pixels",))
def _distinct_counts(indexes, sizes, slim, image_pixels_like, pixels):
    _, _, first, rows, _ = _runs(indexes, sizes, slim, pixels)
    return jnp.zeros(image_pixels_like.shape[0], dtype=jnp.int64).at[rows].add(first)


@partial(jax.jit, static_argnames=("pixels", "max_per_pixel"))
def _reduce_sub_pixels(indexes, weights, sizes, slim, sub_fraction, pixels, max_per_pixel):
    image_pixels = sub_fraction.shape[0]
    order, valid, first, rows, sources = _runs(indexes, sizes, slim, pixels)
    run = jnp.cumsum(first) - 1
    summed = jax.ops.segment_sum(jnp.where(valid, weights.ravel()[order], 0.0),
                                 jnp.maximum(run, 0), num_segments=run.shape[0])
    new_row = first & jnp.concatenate([jnp.ones(1, dtype=bool), rows[1:] != rows[:-1]])
    rank = run - lax.cummax(jnp.where(new_row, run, 0))
    target = jnp.where(first & (rank < max_per_pixel), rows, image_pixels)  # else dropped
    shape = (image_pixels, max_per_pixel)
    out_indexes = jnp.full(shape, -1, dtype=jnp.int64).at[target, rank].set(sources, mode="drop")
    out_weights = jnp.zeros(shape).at[target, rank].set(
        sub_fraction[rows] * summed[jnp.maximum(run, 0)], mode="drop")
    counts = jnp.zeros(image_pixels, dtype=jnp.int64).at[rows].add(first)
    return out_indexes, out_weights, jnp.minimum(counts, max_per_pixel)


def mapping_from_sub_pixels(pix_indexes_for_sub_slim_index: Array,
                            pix_weights_for_sub_slim_index: Array,
                            pix_sizes_for_sub_slim_index: Array,
                            slim_index_for_sub_slim_index: Array, sub_fraction: Array,
                            pixels: int,
                            max_per_pixel: int | None = None) -> tuple[Array, Array, Array]:
    """One row per image pixel: indexes (M, B') −1 padded and sorted by source, weights (M, B')
    (sub_fraction[m] × summed sub-pixel weights), sizes (M,).  ``pixels`` = S and
    ``max_per_pixel`` = B' are static; B' defaults to the largest distinct count (needs concrete
    inputs).  Under ``jax.jit`` pass B': a row with more distinct sources keeps its first B'."""
    indexes = jnp.asarray(pix_indexes_for_sub_slim_index)
    sizes = jnp.asarray(pix_sizes_for_sub_slim_index)
    slim = jnp.asarray(slim_index_for_sub_slim_index)
    sub_fraction = jnp.asarray(sub_fraction)
    if max_per_pixel is None:
        if isinstance(indexes, jax.core.Tracer) or isinstance(slim, jax.core.Tracer):
            raise InputValueError("mapping_from_sub_pixels: pass max_per_pixel (B') when "
                                  "tracing (under jax.jit or jax.vmap)")
        counts = _distinct_counts(indexes, sizes, slim, sub_fraction, pixels)
        max_per_pixel = int(np.max(np.asarray(counts), initial=0))
    return _reduce_sub_pixels(indexes, jnp.asarray(pix_weights_for_sub_slim_index), sizes, slim,
                              sub_fraction, pixels, max_per_pixel)
