"""W̃ and its compact forms: chunked reductions over visibilities and exact re-indexings (JAX).

Every lag table (w-compact, the precision operator, dense W̃ on a lattice) is
Σ_k w_k cos(2π(x_q u_k + y_p v_k)) on a box of lags (p, q).  The cosine of a sum factorises,

    cos(2π x_q u + 2π y_p v) = cos(2π x_q u) cos(2π y_p v) - sin(2π x_q u) sin(2π y_p v),

so one chunk costs two small trig tables (chunk × lags in y, chunk × lags in x) and a matrix
product, instead of a cosine per (visibility, output entry).  The lags are symmetric
(x_{-q} = -x_q exactly), so only q >= 0 is tabulated: with P = Σ w cos·cos and Q = Σ w sin·sin,
the column q holds P - Q and the column -q holds P + Q: the half plane p >= 0 in w-compact layout.
The lag table over both signs of p follows by the exact point symmetry (p, q) -> (-p, -q)
(:func:`autokern._shared.lattice.lag_table_from_compact`).

The dirty image factorises the same way over the distinct y and distinct x values of the grid;
they are found with NumPy when the grid is concrete, and a direct (chunk × M) version runs when
it is traced.

Each reduction is the contribution of one chunk of visibilities, summed by
:func:`autokern.jax._chunks.chunked_sum`: weights (1/σ², V/σ²) are derived chunk by chunk,
NumPy inputs stream to the device, and under :func:`autokern.jax.sharded` the visibilities are
split across devices.  ``chunk_size="auto"`` picks the largest chunk whose trig tables fit
:func:`autokern._runtime.memory.chunk_budget_bytes`; any chunk gives the same result to round-off.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from autokern._cpu import nufft as _nufft
from autokern._shared import lattice as _lattice
from autokern._shared.lattice import ARCSEC_TO_RADIANS, compact_index, precision_operator_index
from autokern.jax import _chunks, nufft

TWO_PI = 2.0 * np.pi


def _concrete(x) -> np.ndarray | None:
    """``x`` as a NumPy array, or None when it is a tracer (inside jit/grad/vmap)."""
    if isinstance(x, jax.core.Tracer):
        return None
    return np.asarray(x)


def _longest_baselines(uv_wavelengths) -> np.ndarray | None:
    """(1, 2) max |u|, max |v| (what the lattice test reads of the baselines), without a
    K-sized temporary or a copy of a device array to the host; None when traced."""
    if isinstance(uv_wavelengths, jax.core.Tracer):
        return None
    if isinstance(uv_wavelengths, np.ndarray):
        if uv_wavelengths.shape[0] == 0:
            return uv_wavelengths
        return np.maximum(uv_wavelengths.max(axis=0), -uv_wavelengths.min(axis=0))[None]
    return np.asarray(_abs_max(uv_wavelengths))


@jax.jit
def _abs_max(uv_wavelengths):
    return jnp.max(jnp.abs(uv_wavelengths), axis=0, initial=0.0)[None]


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (sorted) and, for each entry, the position of its value among them."""
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, inverse.reshape(-1)


def _lag_sums(static, lags, valid, noise_map_real, uv_wavelengths):
    """One chunk's (P, Q) = Σ_k w_k (cos·cos, sin·sin) of (2π v_k y_p, 2π u_k x_q): (2, Py, Px)
    for ``lags`` = (y_lags (Py,), x_lags (Px,)), w_k = valid_k / (Re σ_k)²."""
    y_lags, x_lags = lags
    weight = valid / noise_map_real**2
    ty = TWO_PI * uv_wavelengths[:, 1, None] * y_lags[None, :]
    tx = TWO_PI * uv_wavelengths[:, 0, None] * x_lags[None, :]
    left = jnp.stack([weight[:, None] * jnp.cos(ty), weight[:, None] * jnp.sin(ty)])
    right = jnp.stack([jnp.cos(tx), jnp.sin(tx)])
    return jnp.einsum("kcp,kcq->kpq", left, right)


@jax.jit
def _half_plane_of(sums):
    cos_cos, sin_sin = sums
    return jnp.concatenate([(cos_cos + sin_sin)[:, :0:-1], cos_cos - sin_sin], axis=1)


def _half_plane(noise_map_real, uv_wavelengths, y_lags, x_lags, chunk):
    """Σ_k w_k cos(2π(x_q u_k + y_p v_k)) for p = y_lags (p >= 0) and q = -x_lags[::-1] ∪
    x_lags, i.e. shape (len(y_lags), 2 len(x_lags) - 1); x_lags[0] must be 0."""
    sums = _chunks.chunked_sum(_lag_sums, (2, y_lags.shape[0], x_lags.shape[0]), jnp.float64,
                               (noise_map_real, uv_wavelengths), chunk,
                               constants=(y_lags, x_lags))
    return _half_plane_of(sums)


def _lag_chunk(chunk_size, n_visibilities, n_y, n_x):
    # Work space per visibility: cos and sin tables in y and x, their weighted copies.
    return _chunks.resolve(chunk_size, n_visibilities, 4 * (n_y + n_x))


def w_compact_curvature_interferometer_from(grid_size, noise_map_real, uv_wavelengths,
                                            pixel_scale, chunk_size, method, eps):
    if nufft.chosen("w_compact_curvature_interferometer_from", method, eps,
                    noise_map_real.shape[0], grid_size):
        return nufft.w_compact(grid_size, noise_map_real, uv_wavelengths, pixel_scale, eps,
                               chunk_size)
    ny, nx = grid_size
    d = pixel_scale * ARCSEC_TO_RADIANS
    # phase = 2π d (b u - a v) = 2π (x_lag u + y_lag v) with x_lag = d b, y_lag = -d a
    y_lags = -d * jnp.arange(ny, dtype=jnp.float64)
    x_lags = d * jnp.arange(nx, dtype=jnp.float64)
    chunk = _lag_chunk(chunk_size, noise_map_real.shape[0], ny, nx)
    return _half_plane(noise_map_real, uv_wavelengths, y_lags, x_lags, chunk)


@partial(jax.jit, static_argnames="shape")
def _precision_operator_of(half_plane, shape):
    ny, nx = shape
    lag_table = _lattice.lag_table_from_compact(half_plane)
    positions = _lattice.precision_operator_positions(ny, nx)
    return jnp.zeros((2 * ny, 2 * nx)).at[positions].set(lag_table)


def nufft_precision_operator_from(noise_map_real, uv_wavelengths,
                                                  shape_masked_pixels_2d, grid_radians_2d,
                                                  chunk_size, method, eps):
    if nufft.chosen("nufft_precision_operator_from", method, eps,
                    noise_map_real.shape[0], shape_masked_pixels_2d):
        return nufft_precision_operator_via_w_compact_from(nufft.precision_operator_half_plane(
            noise_map_real, uv_wavelengths, shape_masked_pixels_2d, grid_radians_2d, eps,
            chunk_size))
    ny, nx = shape_masked_pixels_2d
    chunk = _lag_chunk(chunk_size, noise_map_real.shape[0], ny, nx)
    y_offsets, x_offsets = _lattice.precision_operator_offsets(jnp.asarray(grid_radians_2d),
                                                    shape_masked_pixels_2d)
    return _precision_operator_of(_half_plane(noise_map_real, uv_wavelengths, y_offsets, x_offsets,
                                   chunk), shape=shape_masked_pixels_2d)


# --- dirty image ---------------------------------------------------------------------------

def _dirty_weights(valid, data, noise_map):
    return valid * data.real / noise_map.real**2, valid * data.imag / noise_map.imag**2


def _dirty_box_sums(static, values, valid, data, noise_map, uv_wavelengths):
    """One chunk's dirty image on the box of distinct ``values`` = (y (Py,), x (Px,)):
    (Py, Px)."""
    y_values, x_values = values
    real_weight, imag_weight = _dirty_weights(valid, data, noise_map)
    # Σ_k wr cos(φx + φy) - wi sin(φx + φy) = Σ_k cos φx (wr cos φy - wi sin φy)
    #                                         - sin φx (wr sin φy + wi cos φy)
    ty = TWO_PI * uv_wavelengths[:, 1, None] * y_values[None, :]
    tx = TWO_PI * uv_wavelengths[:, 0, None] * x_values[None, :]
    cy, sy = jnp.cos(ty), jnp.sin(ty)
    left = jnp.concatenate([real_weight[:, None] * cy - imag_weight[:, None] * sy,
                            -(real_weight[:, None] * sy + imag_weight[:, None] * cy)])
    return left.T @ jnp.concatenate([jnp.cos(tx), jnp.sin(tx)])


def _dirty_pixel_sums(static, grid, valid, data, noise_map, uv_wavelengths):
    """One chunk's dirty image at every pixel of ``grid`` (M, 2): (M,)."""
    real_weight, imag_weight = _dirty_weights(valid, data, noise_map)
    phase = TWO_PI * (uv_wavelengths[:, 0, None] * grid[None, :, 1]
                      + uv_wavelengths[:, 1, None] * grid[None, :, 0])
    return real_weight @ jnp.cos(phase) - imag_weight @ jnp.sin(phase)


@jax.jit
def _at_pixels(box, rows, cols):
    return box[rows, cols].real


def w_tilde_data_interferometer_from(data, noise_map, uv_wavelengths, grid_radians_slim,
                                     chunk_size, method, eps):
    n_visibilities, n_pixels = data.shape[0], grid_radians_slim.shape[0]
    per_visibility = (data, noise_map, uv_wavelengths)
    grid = _concrete(grid_radians_slim)
    baselines = _longest_baselines(uv_wavelengths)
    lattice = (_lattice.lattice_of(grid, baselines, eps)
               if grid is not None and baselines is not None else None)
    if lattice is not None and nufft.chosen("w_tilde_data_interferometer_from", method, eps,
                                            n_visibilities, _nufft.extent_of(grid)):
        return _at_pixels(nufft.dirty_box(data, noise_map, uv_wavelengths, lattice, eps,
                                          chunk_size), lattice.rows, lattice.cols)
    if grid is not None:
        y_values, y_of = _distinct(grid[:, 0])
        x_values, x_of = _distinct(grid[:, 1])
        # Worth it when the box of distinct (y, x) is not much bigger than the pixel list.
        if y_values.size * x_values.size <= 4 * n_pixels:
            chunk = _chunks.resolve(chunk_size, n_visibilities,
                                    4 * (y_values.size + x_values.size))
            box = _chunks.chunked_sum(_dirty_box_sums, (y_values.size, x_values.size),
                                      jnp.float64, per_visibility, chunk,
                                      constants=(y_values, x_values))
            return _at_pixels(box, y_of, x_of)
    chunk = _chunks.resolve(chunk_size, n_visibilities, 3 * n_pixels)
    return _chunks.chunked_sum(_dirty_pixel_sums, (n_pixels,), jnp.float64, per_visibility,
                               chunk, constants=grid_radians_slim)


# --- dense W̃ -------------------------------------------------------------------------------


@jax.jit
def _w_tilde_of_half_plane(half_plane, y_of, x_of):
    lag_table = _lattice.lag_table_from_compact(half_plane)
    ny, nx = half_plane.shape[0], (half_plane.shape[1] + 1) // 2
    return lag_table[y_of[:, None] - y_of[None, :] + ny - 1, x_of[:, None] - x_of[None, :] + nx - 1]


def _w_tilde_sums(static, grid, valid, noise_map_real, uv_wavelengths):
    """One chunk's W̃ (M, M): cos(φ_i - φ_j) = cos φ_i cos φ_j + sin φ_i sin φ_j, so
    W̃ = Cᵀ N⁻¹ C + Sᵀ N⁻¹ S."""
    weight = valid / noise_map_real**2
    phase = TWO_PI * (uv_wavelengths[:, 0, None] * grid[None, :, 1]
                      + uv_wavelengths[:, 1, None] * grid[None, :, 0])
    trig = jnp.concatenate([jnp.cos(phase), jnp.sin(phase)])
    return (jnp.concatenate([weight, weight])[:, None] * trig).T @ trig


def w_tilde_curvature_interferometer_from(noise_map_real, uv_wavelengths, grid_radians_slim,
                                          chunk_size):
    n_visibilities, n_pixels = noise_map_real.shape[0], grid_radians_slim.shape[0]
    grid, baselines = _concrete(grid_radians_slim), _longest_baselines(uv_wavelengths)
    lattice = (_lattice.lattice_of(grid, baselines)
               if grid is not None and baselines is not None else None)
    if lattice is not None:
        ny, nx = lattice.shape
        chunk = _lag_chunk(chunk_size, n_visibilities, ny, nx)
        # rows count down the sky: y_i - y_j = -dy (row_i - row_j)
        half_plane = _half_plane(noise_map_real, uv_wavelengths, -lattice.dy * np.arange(ny),
                                 lattice.dx * np.arange(nx), chunk)
        return _w_tilde_of_half_plane(half_plane, lattice.rows, lattice.cols)
    chunk = _chunks.resolve(chunk_size, n_visibilities, 4 * n_pixels)
    return _chunks.chunked_sum(_w_tilde_sums, (n_pixels, n_pixels), jnp.float64,
                               (noise_map_real, uv_wavelengths), chunk,
                               constants=grid_radians_slim)


# --- expansions and re-indexings -----------------------------------------------------------

def w_tilde_via_nufft_precision_operator_from(nufft_precision_operator,
                                              native_index_for_slim_index):
    return _expand_precision_operator(nufft_precision_operator, native_index_for_slim_index)


def w_tilde_via_compact_from(w_compact, native_index_for_slim_index):
    return _expand_compact(w_compact, native_index_for_slim_index)


@jax.jit
def _expand_precision_operator(nufft_precision_operator, native_index_for_slim_index):
    return nufft_precision_operator[precision_operator_index(nufft_precision_operator.shape,
                                                  native_index_for_slim_index,
                                                  native_index_for_slim_index)]


@jax.jit
def _expand_compact(w_compact, native_index_for_slim_index):
    return w_compact[compact_index(w_compact.shape, native_index_for_slim_index,
                                   native_index_for_slim_index)]


w_compact_via_nufft_precision_operator_from = jax.jit(
    _lattice.w_compact_via_nufft_precision_operator_from)


@jax.jit
def nufft_precision_operator_via_w_compact_from(w_compact):
    ny, nx = w_compact.shape[0], (w_compact.shape[1] + 1) // 2
    return jnp.zeros((2 * ny, 2 * nx)).at[_lattice.precision_operator_positions(ny, nx)].set(
        _lattice.lag_table_from_compact(w_compact))
