"""W̃ and its compact forms: reductions over visibilities and exact re-indexings (reference).

Each reduction builds the phases of one chunk of visibilities against its whole output, so its
work space is ``chunk_size × output`` and never grows with K.
"""

import numpy as np

from autokern._cpu import nufft
from autokern._runtime import memory
from autokern._shared import lattice
from autokern._shared.lattice import ARCSEC_TO_RADIANS, compact_index, precision_operator_index

# The exact re-indexings are NumPy index maths shared with the Numba backend.
from autokern._shared.lattice import (
    nufft_precision_operator_via_w_compact_from as nufft_precision_operator_via_w_compact_from,
)
from autokern._shared.lattice import (
    w_compact_via_nufft_precision_operator_from as w_compact_via_nufft_precision_operator_from,
)


def w_tilde_data_interferometer_from(data, noise_map, uv_wavelengths, grid_radians_slim,
                                     chunk_size, method, eps):
    by_nufft = nufft.dirty_image_if_chosen(data, noise_map, uv_wavelengths, grid_radians_slim,
                                           chunk_size, method, eps)
    if by_nufft is not None:
        return by_nufft
    y, x = grid_radians_slim[:, 0], grid_radians_slim[:, 1]
    real_weight = data.real / noise_map.real**2
    imag_weight = data.imag / noise_map.imag**2
    dirty = np.zeros(len(grid_radians_slim))
    for k in memory.chunk_slices(len(data), chunk_size, 16 * len(y)):
        phase = 2.0 * np.pi * (
            uv_wavelengths[k, 0, None] * x[None, :] + uv_wavelengths[k, 1, None] * y[None, :]
        )
        dirty += real_weight[k] @ np.cos(phase) - imag_weight[k] @ np.sin(phase)
    return dirty


def w_tilde_curvature_interferometer_from(noise_map_real, uv_wavelengths, grid_radians_slim,
                                          chunk_size):
    # cos(φ_i - φ_j) = cos φ_i cos φ_j + sin φ_i sin φ_j: W̃ = Cᵀ N⁻¹ C + Sᵀ N⁻¹ S, per chunk.
    y, x = grid_radians_slim[:, 0], grid_radians_slim[:, 1]
    weight = 1.0 / noise_map_real**2
    w_tilde = np.zeros((len(y), len(y)))
    for k in memory.chunk_slices(len(weight), chunk_size, 32 * len(y)):
        phase = 2.0 * np.pi * (
            uv_wavelengths[k, 0, None] * x[None, :] + uv_wavelengths[k, 1, None] * y[None, :]
        )
        cos, sin = np.cos(phase), np.sin(phase)
        w_tilde += (weight[k, None] * cos).T @ cos + (weight[k, None] * sin).T @ sin
    return w_tilde


def _lag_sum(weight, uv_wavelengths, y_lags, x_lags, chunk_size):
    """Σ_k weight_k cos(2π (x_lag u_k + y_lag v_k)) on the (len(y_lags), len(x_lags)) box."""
    out = np.zeros((len(y_lags), len(x_lags)))
    for k in memory.chunk_slices(len(weight), chunk_size, 16 * out.size):
        u = uv_wavelengths[k, 0, None, None]
        v = uv_wavelengths[k, 1, None, None]
        phase = 2.0 * np.pi * (x_lags[None, None, :] * u + y_lags[None, :, None] * v)
        out += np.einsum("k,kab->ab", weight[k], np.cos(phase))
    return out


def nufft_precision_operator_from(noise_map_real, uv_wavelengths, shape_masked_pixels_2d,
                                  grid_radians_2d, chunk_size, method, eps):
    by_nufft = nufft.precision_operator_if_chosen(noise_map_real, uv_wavelengths,
                                                  shape_masked_pixels_2d, grid_radians_2d,
                                                  chunk_size, method, eps)
    if by_nufft is not None:
        return by_nufft
    ny, nx = shape_masked_pixels_2d
    y_offsets, x_offsets = lattice.precision_operator_offsets(grid_radians_2d,
                                                              shape_masked_pixels_2d)
    y_lags = np.concatenate([-y_offsets[:0:-1], y_offsets])
    x_lags = np.concatenate([-x_offsets[:0:-1], x_offsets])
    precision_operator = np.zeros((2 * ny, 2 * nx))
    precision_operator[lattice.precision_operator_positions(ny, nx)] = _lag_sum(
        1.0 / noise_map_real**2, uv_wavelengths, y_lags, x_lags, chunk_size)
    return precision_operator


def w_compact_curvature_interferometer_from(grid_size, noise_map_real, uv_wavelengths,
                                            pixel_scale, chunk_size, method, eps):
    by_nufft = nufft.w_compact_if_chosen(grid_size, noise_map_real, uv_wavelengths,
                                         pixel_scale, chunk_size, method, eps)
    if by_nufft is not None:
        return by_nufft
    ny, nx = grid_size
    d = pixel_scale * ARCSEC_TO_RADIANS
    a = np.arange(ny)
    b = np.arange(-nx + 1, nx)
    # phase = 2π d (b u - a v) = 2π (x_lag u + y_lag v) with x_lag = d b, y_lag = -d a
    return _lag_sum(1.0 / noise_map_real**2, uv_wavelengths, -d * a, d * b, chunk_size)


def w_tilde_via_nufft_precision_operator_from(nufft_precision_operator,
                                              native_index_for_slim_index):
    return nufft_precision_operator[precision_operator_index(nufft_precision_operator.shape,
                                                  native_index_for_slim_index,
                                                  native_index_for_slim_index)]


def w_tilde_via_compact_from(w_compact, native_index_for_slim_index):
    return w_compact[compact_index(w_compact.shape, native_index_for_slim_index,
                                   native_index_for_slim_index)]
