"""Curvature matrix F = Tᵀ W̃ T from each representation of W̃ and T (JAX).

The lattice routes (w-compact, precision operator) never hold the whole M × M W̃.  W̃ is first
re-indexed (exactly) into the lag table E of every lag (p, q), |p| < Ny, |q| < Nx, so that with
L_i = row_i (2Nx - 1) + col_i each entry is one flat gather, W̃[i, j] = E.flat[L_i - L_j + c].
A scan over blocks of R image pixels then gathers W̃[block, :]ᵀ (M × R) and applies Tᵀ:

    Ωᵀ[:, block] = Tᵀ W̃[block, :]ᵀ  (S × R: the rows of Ω = W̃ T for the block, transposed)
    F = Tᵀ Ω                          (two-pass route: Ω is kept, M × S)
    F += T[block]ᵀ Ω[block]           (direct route: only the S × S output is kept)

Tᵀ is applied in the gather form of :mod:`autokern.jax.mapping` when the mapping is concrete
(two-pass routes), else by scatter-adds (the direct route always).

On the CPU the direct w-compact route — the one the likelihoods and the reusable inversion
take — calls the CPU engine's core (:mod:`autokern._cpu`) through ``jax.pure_callback``
instead: XLA has no counterpart of its contiguous lag-table segments, and its gathers and
scatter-adds run ~10× slower.  Its reverse derivative (``jax.custom_vjp``) is that core's exact
adjoint with respect to w-compact and the mapping weights
(:func:`autokern._cpu.lattice_curvature.lattice_curvature_cotangents`), so ``grad`` and ``vmap``
work as on the XLA route; forward-mode derivatives (``jvp``) of F need the XLA route
(``jax.config`` platform other than cpu).
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from autokern._cpu import lattice_curvature as cpu_curvature
from autokern._runtime import memory, parallelism, routes
from autokern._shared.lattice import lag_table_from_compact, lag_table_from_precision_operator
from autokern._shared.mapping import indexes_within_sizes
from autokern.jax.mapping import (
    bcoo_mapping_matrix,
    per_source_bucket,
    products,
    scatter_target,
    transpose_matmul,
)
from autokern.jax.w_tilde import nufft_precision_operator_via_w_compact_from

#: float64 entries of one gathered block of W̃ (M × R): 4 MB, cache-sized
BLOCK_ENTRIES = 1 << 19
#: a dense T with at most this many entries per row (or S / 16) is applied in sparse form
MAX_ROW_ENTRIES = 16


def _flat_lags(lag_table, native_index_for_slim_index):
    """(E.ravel(), L, c) with W̃[i, j] = E.ravel()[L_i - L_j + c]."""
    height, width = lag_table.shape
    flat = native_index_for_slim_index[:, 0] * width + native_index_for_slim_index[:, 1]
    return lag_table.ravel(), flat, (height // 2) * width + width // 2


def _blocks(n, *per_pixel):
    """Split image-pixel arrays into (n_blocks, R, ...) blocks, each padded with its fill."""
    size = max(1, min(n, BLOCK_ENTRIES // n))
    n_blocks = -(-n // size)
    pad = n_blocks * size - n

    def split(x, fill):
        x = jnp.concatenate([x, jnp.full((pad, *x.shape[1:]), fill, x.dtype)]) if pad else x
        return x.reshape(n_blocks, size, *x.shape[1:])

    return tuple(split(x, fill) for x, fill in per_pixel)


def _omega_t_blocks(lag_table, native_index_for_slim_index, t_matmul, *per_pixel):
    """Scan-ready pieces: the blocks of ``per_pixel`` (lattice offsets first) and a function
    block ↦ Ωᵀ[:, block] = Tᵀ W̃[block, :]ᵀ (S × R)."""
    lags, flat, centre = _flat_lags(lag_table, native_index_for_slim_index)
    # Padding repeats pixel 0, so that every gathered lag lies inside the box.
    blocks = _blocks(flat.shape[0], (flat, flat[0]), *per_pixel)

    def omega_t(flat_block):
        return t_matmul(lags[flat_block[None, :] - flat[:, None] + centre])

    return blocks, omega_t


def _omega(omega_t, flat_blocks, n):
    """Ω (M × S) from its transposed blocks."""
    blocks = lax.map(omega_t, flat_blocks)
    return blocks.transpose(0, 2, 1).reshape(-1, blocks.shape[1])[:n]


def _two_pass(lag_table, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
              pix_weights_for_sub_slim_index, pixels, per_source):
    t_matmul, _ = products(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                           pixels, per_source)
    (flat_blocks,), omega_t = _omega_t_blocks(lag_table, native_index_for_slim_index, t_matmul)
    return t_matmul(_omega(omega_t, flat_blocks, native_index_for_slim_index.shape[0]))


def _direct(lag_table, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
            pix_weights_for_sub_slim_index, pixels):
    # Scatter form throughout: inside the scan body the gather form's layout can go wrong
    # (see autokern.jax.mapping.products).
    t_matmul, _ = products(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                           pixels, None)
    target = scatter_target(pix_indexes_for_sub_slim_index, pixels)
    # Padding pixels map to the dropped source pixel with weight 0.
    blocks, omega_t = _omega_t_blocks(lag_table, native_index_for_slim_index, t_matmul,
                                      (target, pixels), (pix_weights_for_sub_slim_index, 0.0))

    def step(curvature, block):
        flat_block, target_block, weight_block = block
        return curvature + transpose_matmul(omega_t(flat_block).T, target_block, weight_block,
                                            pixels), None

    curvature, _ = lax.scan(step, jnp.zeros((pixels, pixels), lag_table.dtype), blocks)
    return curvature


@jax.jit
def _via_w_tilde(w_tilde, mapping_matrix):
    # Tᵀ (W̃ T) = (Tᵀ W̃) T, written with T on the left so that a BCOO T works too.
    left = mapping_matrix.T @ w_tilde
    return (mapping_matrix.T @ left.T).T


def _sparse_rows(mapping_matrix):
    """(indexes, weights), -1 padded, of a concrete dense T with few entries per row; None
    for a traced or BCOO T, or one dense enough that the matrix products win."""
    if isinstance(mapping_matrix, jax.core.Tracer) or not isinstance(mapping_matrix, jax.Array):
        return None
    matrix = np.asarray(mapping_matrix)
    rows, columns = np.nonzero(matrix)
    counts = np.bincount(rows, minlength=matrix.shape[0])
    width = max(int(counts.max(initial=0)), 1)
    if width > max(MAX_ROW_ENTRIES, matrix.shape[1] // 16):
        return None
    slot = np.arange(rows.size) - (np.cumsum(counts) - counts)[rows]
    indexes = np.full((matrix.shape[0], width), -1)
    weights = np.zeros((matrix.shape[0], width))
    indexes[rows, slot] = columns
    weights[rows, slot] = matrix[rows, columns]
    return indexes, weights


def curvature_matrix_via_w_tilde_from(w_tilde, mapping_matrix):
    # A mapping matrix is sparse in practice (B entries per row): its sparse form turns the
    # two dense products (O(M² S)) into row gathers (O(M² B)).
    sparse_rows = _sparse_rows(mapping_matrix)
    if sparse_rows is None:
        return _via_w_tilde(w_tilde, mapping_matrix)
    indexes, weights = sparse_rows
    pixels = mapping_matrix.shape[1]
    return curvature_via_w_tilde_sparse(w_tilde, indexes, weights, pixels=pixels,
                                        per_source=per_source_bucket(indexes, pixels))


@partial(jax.jit, static_argnames=("pixels", "per_source"))
def curvature_via_w_tilde_sparse(w_tilde, pix_indexes_for_sub_slim_index,
                                 pix_weights_for_sub_slim_index, pixels, per_source):
    t_matmul, matmul_t = products(pix_indexes_for_sub_slim_index,
                                  pix_weights_for_sub_slim_index, pixels, per_source)
    # F = (Tᵀ W̃) T: row gathers of W̃, and only the S × M product is transposed.
    return matmul_t(t_matmul(w_tilde))


def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
        w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    return curvature_via_w_tilde_sparse(
        w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels=pixels,
        per_source=per_source_bucket(pix_indexes_for_sub_slim_index, pixels))


@partial(jax.jit, static_argnames=("pixels", "per_source"))
def _via_compact_two_pass(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                          pix_weights_for_sub_slim_index, pixels, per_source):
    return _two_pass(lag_table_from_compact(w_compact), native_index_for_slim_index,
                     pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels,
                     per_source)


def curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    return _via_compact_two_pass(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels=pixels,
        per_source=per_source_bucket(pix_indexes_for_sub_slim_index, pixels))


@partial(jax.jit, static_argnames="pixels")
def curvature_via_compact_direct(w_compact, native_index_for_slim_index,
                                 pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                 pixels):
    return _direct(lag_table_from_compact(w_compact), native_index_for_slim_index,
                   pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)


@partial(jax.custom_vjp, nondiff_argnums=(4,))
def _lattice_curvature_on_cpu(lag_table, native_index_for_slim_index,
                              pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                              pixels):
    """F from a lag table by the Numba core (one call per vmap member)."""
    def numba_core(table, native, indexes, weights):
        with parallelism.numba_threads_here():  # this runs on one of XLA's threads
            return cpu_curvature.lattice_curvature(
                np.asarray(table), np.asarray(native), np.asarray(indexes),
                np.asarray(weights), pixels)

    return jax.pure_callback(numba_core, jax.ShapeDtypeStruct((pixels, pixels), lag_table.dtype),
                             lag_table, native_index_for_slim_index,
                             pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             vmap_method="sequential")


def _lattice_curvature_on_cpu_forward(lag_table, native_index_for_slim_index,
                                      pix_indexes_for_sub_slim_index,
                                      pix_weights_for_sub_slim_index, pixels):
    arguments = (lag_table, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                 pix_weights_for_sub_slim_index)
    return _lattice_curvature_on_cpu(*arguments, pixels), arguments


def _lattice_curvature_on_cpu_backward(pixels, arguments, cotangent):
    lag_table, native, indexes, weights = arguments

    def numba_adjoint(table, native, indexes, weights, cotangent):
        with parallelism.numba_threads_here():
            return cpu_curvature.lattice_curvature_cotangents(
                np.asarray(table), np.asarray(native), np.asarray(indexes),
                np.asarray(weights), np.asarray(cotangent))

    by_table, by_weight = jax.pure_callback(
        numba_adjoint, (jax.ShapeDtypeStruct(lag_table.shape, lag_table.dtype),
                        jax.ShapeDtypeStruct(weights.shape, weights.dtype)),
        lag_table, native, indexes, weights, cotangent, vmap_method="sequential")
    return by_table, None, None, by_weight


_lattice_curvature_on_cpu.defvjp(_lattice_curvature_on_cpu_forward,
                                 _lattice_curvature_on_cpu_backward)


@partial(jax.jit, static_argnames="pixels")
def _curvature_via_compact_on_cpu(w_compact, native_index_for_slim_index,
                                  pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                  pixels):
    return _lattice_curvature_on_cpu(lag_table_from_compact(w_compact),
                                     native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                                     pix_weights_for_sub_slim_index, pixels)


def curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    engine = routes.jax_engine_route(jax.default_backend()).choice
    route = _curvature_via_compact_on_cpu if engine == "cpu-engine" else \
        curvature_via_compact_direct
    return route(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                 pix_weights_for_sub_slim_index, pixels=pixels)


@partial(jax.jit, static_argnames="pixels")
def _via_compact_bcoo(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                      pix_weights_for_sub_slim_index, pixels):
    mapping = bcoo_mapping_matrix(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                  pixels=pixels)
    (flat_blocks,), omega_t = _omega_t_blocks(lag_table_from_compact(w_compact),
                                              native_index_for_slim_index,
                                              lambda columns: mapping.T @ columns)
    return mapping.T @ _omega(omega_t, flat_blocks, native_index_for_slim_index.shape[0])


def curvature_matrix_via_w_compact_sparse_mapping_matrix_from_BCOO(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels):
    return _via_compact_bcoo(w_compact, native_index_for_slim_index,
                             pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             pixels=pixels)


@partial(jax.jit, static_argnames=("pixels", "per_source"))
def _via_precision_operator(nufft_precision_operator, pix_indexes_for_sub_slim_index,
                 pix_weights_for_sub_slim_index, native_index_for_slim_index, pixels,
                 per_source):
    return _two_pass(lag_table_from_precision_operator(nufft_precision_operator),
                     native_index_for_slim_index,
                     pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels,
                     per_source)


def curvature_matrix_via_nufft_precision_operator_from(
        nufft_precision_operator, pix_indexes_for_sub_slim_index, pix_sizes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, native_index_for_slim_index, pixels):
    indexes = indexes_within_sizes(jnp, pix_indexes_for_sub_slim_index,
                                   pix_sizes_for_sub_slim_index)
    return _via_precision_operator(nufft_precision_operator, indexes,
                                   pix_weights_for_sub_slim_index, native_index_for_slim_index,
                                   pixels=pixels,
                        per_source=per_source_bucket(indexes, pixels))


@partial(jax.jit, static_argnames=("pixels", "batch"))
def _fft_curvature(precision_operator, rows, cols, pix_indexes_for_sub_slim_index,
                   pix_weights_for_sub_slim_index, pixels, batch):
    """F by FFT convolution with the precision operator, ``batch`` source columns per step of
    lax.map."""
    box = precision_operator.shape
    kernel_ft = jnp.fft.rfft2(precision_operator)
    indexes, weights = pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index
    entry_rows = jnp.broadcast_to(rows[:, None], indexes.shape).ravel()
    entry_cols = jnp.broadcast_to(cols[:, None], indexes.shape).ravel()
    # F[:, batch] gathers Tᵀ by source; -1 and out-of-batch entries go to a dropped slot.
    sources = jnp.where(indexes >= 0, indexes, pixels).ravel()

    def columns_of(start):
        local = jnp.where((indexes >= start) & (indexes < start + batch), indexes - start,
                          batch).ravel()
        padded = jnp.zeros((batch, *box)).at[local, entry_rows, entry_cols].add(
            weights.ravel(), mode="drop")
        convolved = jnp.fft.irfft2(jnp.fft.rfft2(padded) * kernel_ft, s=box)
        omega = convolved[:, rows, cols].T  # (M, batch) = W̃ T[:, start:start + batch]
        contributions = (weights[:, :, None] * omega[:, None, :]).reshape(-1, batch)
        return jnp.zeros((pixels, batch)).at[sources].add(contributions, mode="drop")

    blocks = lax.map(columns_of, jnp.arange(0, pixels, batch))
    return jnp.moveaxis(blocks, 0, 1).reshape(pixels, -1)[:, :pixels]


def curvature_matrix_via_w_compact_fft_from(w_compact, native_index_for_slim_index,
                                            pix_indexes_for_sub_slim_index,
                                            pix_weights_for_sub_slim_index, pixels):
    ny, nx = w_compact.shape[0], (w_compact.shape[1] + 1) // 2
    batch = memory.resolve_chunk_size("auto", pixels, 48 * 4 * ny * nx)
    rows = native_index_for_slim_index[:, 0] - native_index_for_slim_index[:, 0].min()
    cols = native_index_for_slim_index[:, 1] - native_index_for_slim_index[:, 1].min()
    return _fft_curvature(nufft_precision_operator_via_w_compact_from(w_compact), rows, cols,
                          pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                          pixels, batch)
