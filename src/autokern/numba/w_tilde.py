"""W̃ and its compact forms: reductions over visibilities and exact re-indexings (Numba).

Every lag sum factorises over the two image axes, cos(α + β) = cos α cos β - sin α sin β with
α = 2π x u, β = 2π y v, so for lags x_q, y_p

    X[p, q] = Σ_k w_k cos(2π y_p v_k) cos(2π x_q u_k),   Y[p, q] = Σ_k w_k sin(·) sin(·)

are two GEMMs per chunk of visibilities (BLAS, through NumPy) over trig tables of only
K × (Ny + Nx) entries (built by jitted loops, parallel over visibilities), and the value at the
lag (±y_p, ±x_q) is X - (±)(±) Y.  This turns K·Ny·(2Nx-1) cosines into K·(Ny + Nx) and puts
the remaining O(K·Ny·Nx) work on BLAS.  Chunks of ``chunk_size`` visibilities bound the work
space; the result depends on the chunking only through float64 round-off.

W̃ for a pair of lattice pixels is read from the full lag table ``L`` of shape
(2Ny - 1, 2Nx - 1), L[a + Ny - 1, b + Nx - 1] = W̃ for the offset (a, b) = (row_i - row_j,
col_i - col_j): flat index ``base[i] + offset[j]`` (:func:`lag_gather`).  The curvature kernels
use the same table.
"""

import math
from functools import partial

import numba
import numpy as np

from autokern import _memory
from autokern.catalogue import implements

kernel = partial(implements, backend="numba")

_JIT = {"cache": True, "nogil": True}
ARCSEC_TO_RADIANS = np.pi / 648000.0
#: reseed the angle-addition recurrence of the trig tables from cos/sin this often (round-off
#: grows by ~1 ulp per step, so 16 steps keep tables within ~1e-15)
_RESEED = 16
#: the bound on |phase error| accepted when W̃ is read from a fitted lattice instead of pairs
_LATTICE_PHASE_TOLERANCE = 1e-12


@numba.njit(parallel=True, **_JIT)
def _trig_tables(frequency, lags, weight, progression):
    """(weight_k cos(f_k lag_j), weight_k sin(f_k lag_j)); ``progression``: lag_j = j lag_1."""
    n = lags.shape[0]
    cos_table = np.empty((frequency.shape[0], n))
    sin_table = np.empty((frequency.shape[0], n))
    for k in numba.prange(frequency.shape[0]):
        f = frequency[k]
        w = weight[k]
        if progression and n > 1:
            rotate_c = math.cos(f * lags[1])
            rotate_s = math.sin(f * lags[1])
            c = 1.0
            s = 0.0
            for j in range(n):
                if j % _RESEED == 0:
                    c = math.cos(f * lags[j])
                    s = math.sin(f * lags[j])
                else:
                    c, s = c * rotate_c - s * rotate_s, s * rotate_c + c * rotate_s
                cos_table[k, j] = w * c
                sin_table[k, j] = w * s
        else:
            for j in range(n):
                cos_table[k, j] = w * math.cos(f * lags[j])
                sin_table[k, j] = w * math.sin(f * lags[j])
    return cos_table, sin_table


def _chunks(n_visibilities: int, chunk_size: int | str, bytes_per_visibility: int):
    step = _memory.resolve_chunk_size(chunk_size, n_visibilities, bytes_per_visibility)
    for start in range(0, n_visibilities, step):
        yield slice(start, min(start + step, n_visibilities))


def _lag_products(weight: np.ndarray, uv_wavelengths: np.ndarray, y_lags: np.ndarray,
                  x_lags: np.ndarray, chunk_size: int | str,
                  progression: bool) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) of the module docstring, (len(y_lags), len(x_lags)) each."""
    frequency = 2.0 * np.pi * uv_wavelengths
    ones = np.ones(len(weight))
    x_sum = np.zeros((len(y_lags), len(x_lags)))
    y_sum = np.zeros_like(x_sum)
    for k in _chunks(len(weight), chunk_size, 16 * (len(y_lags) + len(x_lags))):
        cos_y, sin_y = _trig_tables(frequency[k, 1], y_lags, weight[k], progression)
        cos_x, sin_x = _trig_tables(frequency[k, 0], x_lags, ones[k], progression)
        x_sum += cos_y.T @ cos_x
        y_sum += sin_y.T @ sin_x
    return x_sum, y_sum


def _full_lags(x_sum: np.ndarray, y_sum: np.ndarray) -> np.ndarray:
    """L[p + Ny - 1, q + Nx - 1] = X[|p|, |q|] - sign(p) sign(q) Y[|p|, |q|]."""
    ny, nx = x_sum.shape
    p = np.arange(-ny + 1, ny)[:, None]
    q = np.arange(-nx + 1, nx)[None, :]
    return x_sum[abs(p), abs(q)] - np.sign(p) * np.sign(q) * y_sum[abs(p), abs(q)]


def lag_table_from_compact(w_compact: np.ndarray) -> np.ndarray:
    """The full (2Ny - 1, 2Nx - 1) lag table of a w-compact."""
    ny, nx = w_compact.shape[0], (w_compact.shape[1] + 1) // 2
    a = np.arange(-ny + 1, ny)[:, None]
    b = np.arange(-nx + 1, nx)[None, :]
    sign = np.where(a < 0, -1, 1)
    return np.ascontiguousarray(w_compact[abs(a), sign * b + nx - 1])


def lag_table_from_preload(preload: np.ndarray) -> np.ndarray:
    """The full (2Ny - 1, 2Nx - 1) lag table of a preload (W̃[i, j] at lag j - i)."""
    ny, nx = preload.shape[0] // 2, preload.shape[1] // 2
    a = np.arange(-ny + 1, ny)[:, None]
    b = np.arange(-nx + 1, nx)[None, :]
    return np.ascontiguousarray(preload[(-a) % (2 * ny), (-b) % (2 * nx)])


def lag_gather(lag_shape: tuple[int, int], rows: np.ndarray,
               cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(base, offset) with W̃[i, j] = lag_table.flat[base[i] + offset[j]] for lattice pixels."""
    width = lag_shape[1]
    ny, nx = (lag_shape[0] + 1) // 2, (width + 1) // 2
    base = (rows + ny - 1) * width + cols + nx - 1
    offset = -(rows * width + cols)
    return base.astype(np.int64), offset.astype(np.int64)


@numba.njit(parallel=True, **_JIT)
def _expand(table, base, offset):
    out = np.empty((base.shape[0], offset.shape[0]))
    for i in numba.prange(base.shape[0]):
        for j in range(offset.shape[0]):
            out[i, j] = table[base[i] + offset[j]]
    return out


def _expand_lattice(lag_table: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    base, offset = lag_gather(lag_table.shape, rows, cols)
    return _expand(lag_table.ravel(), base, offset)


# --- W̃ for arbitrary pixel positions -----------------------------------------------------

def _lattice_axis(values: np.ndarray) -> tuple[np.ndarray, float, float, int] | None:
    """Fit ``values`` ≈ v0 + index·step: (index, step, max deviation, extent), or None when the
    lattice would have more than 4 points per value."""
    unique = np.unique(values)
    if len(unique) == 1:
        return np.zeros(len(values), dtype=np.int64), 0.0, 0.0, 1
    span = unique[-1] - unique[0]
    steps = round(span / np.diff(unique).min())
    if steps + 1 > 4 * len(values):
        return None
    step = span / steps
    index = np.rint((values - unique[0]) / step).astype(np.int64)
    deviation = float(np.max(np.abs(values - (unique[0] + index * step))))
    return index, step, deviation, steps + 1


@numba.njit(parallel=True, **_JIT)
def _dirty_direct(real_weight, imag_weight, frequency, y, x):
    out = np.zeros(y.shape[0])
    for i in numba.prange(y.shape[0]):
        total = 0.0
        for k in range(frequency.shape[0]):
            phase = frequency[k, 0] * x[i] + frequency[k, 1] * y[i]
            total += real_weight[k] * math.cos(phase) - imag_weight[k] * math.sin(phase)
        out[i] = total
    return out


@kernel("w_tilde_data_interferometer_from")
def w_tilde_data_interferometer_from(data, noise_map, uv_wavelengths, grid_radians_slim,
                                     chunk_size):
    # e^{i(α+β)} = e^{iβ} e^{iα}: over the distinct y and distinct x of the grid the sum is a
    # (Ny' × K)·(K × Nx') complex GEMM, done as one real GEMM on stacked (Re, -Im | Re, Im)
    # tables, then gathered at each pixel.  Grids without such structure are summed directly
    # (jitted, parallel over pixels, streaming over k).
    y, x = grid_radians_slim[:, 0], grid_radians_slim[:, 1]
    real_weight = data.real / noise_map.real**2
    imag_weight = data.imag / noise_map.imag**2
    y_unique, y_index = np.unique(y, return_inverse=True)
    x_unique, x_index = np.unique(x, return_inverse=True)
    if len(y_unique) * len(x_unique) > 8 * len(y):
        return _dirty_direct(real_weight, imag_weight, 2.0 * np.pi * uv_wavelengths, y, x)
    frequency = 2.0 * np.pi * uv_wavelengths
    ones = np.ones(len(data))
    image = np.zeros((len(y_unique), len(x_unique)))
    for k in _chunks(len(data), chunk_size, 64 * (len(y_unique) + len(x_unique))):
        cos_y, sin_y = _trig_tables(frequency[k, 1], y_unique, ones[k], False)
        cos_x, sin_x = _trig_tables(frequency[k, 0], x_unique, ones[k], False)
        a, b = real_weight[k, None], imag_weight[k, None]
        # P = (a + ib) e^{iβ}, Q = e^{iα}: Re(P Q) = Re P Re Q - Im P Im Q
        left = np.concatenate([a * cos_y - b * sin_y, -(a * sin_y + b * cos_y)])
        image += left.T @ np.concatenate([cos_x, sin_x])
    return image[y_index, x_index]


@kernel("w_tilde_curvature_interferometer_from")
def w_tilde_curvature_interferometer_from(noise_map_real, uv_wavelengths, grid_radians_slim,
                                          chunk_size):
    # On a lattice W̃[i, j] depends only on the lattice lag: build the lag table with the
    # two-GEMM lag sums and gather.  The lattice is fitted to the grid and used only when the
    # fit's phase error, 2π·2(δx max|u| + δy max|v|), bounds |ΔW̃| below 1e-12 Σ w; otherwise
    # W̃ = Aᵀ A with A = [√w cos φ; √w sin φ] per chunk (one SYRK-shaped BLAS product).
    weight = 1.0 / noise_map_real**2
    y, x = grid_radians_slim[:, 0], grid_radians_slim[:, 1]
    y_fit, x_fit = _lattice_axis(y), _lattice_axis(x)
    if y_fit is not None and x_fit is not None:
        (rows, dy, y_dev, ny), (cols, dx, x_dev, nx) = y_fit, x_fit
        max_u, max_v = np.abs(uv_wavelengths).max(axis=0)
        if 4.0 * np.pi * (x_dev * max_u + y_dev * max_v) <= _LATTICE_PHASE_TOLERANCE:
            x_sum, y_sum = _lag_products(weight, uv_wavelengths, dy * np.arange(ny),
                                         dx * np.arange(nx), chunk_size, True)
            return _expand_lattice(_full_lags(x_sum, y_sum), rows, cols)
    root_weight = np.sqrt(weight)
    w_tilde = np.zeros((len(y), len(y)))
    for k in _chunks(len(weight), chunk_size, 40 * len(y)):
        phase = 2.0 * np.pi * (uv_wavelengths[k, 0, None] * x + uv_wavelengths[k, 1, None] * y)
        stacked = np.concatenate([np.cos(phase), np.sin(phase)]) * np.tile(root_weight[k], 2)[
            :, None]
        w_tilde += stacked.T @ stacked
    return w_tilde


@kernel("w_tilde_curvature_preload_interferometer_from")
def w_tilde_curvature_preload_interferometer_from(noise_map_real, uv_wavelengths,
                                                  shape_masked_pixels_2d, grid_radians_2d,
                                                  chunk_size):
    # Lags read off the grid itself (as the reference does), so the trig tables are direct.
    ny, nx = shape_masked_pixels_2d
    y_lags = grid_radians_2d[0, 0, 0] - grid_radians_2d[:ny, 0, 0]
    x_lags = grid_radians_2d[0, 0, 1] - grid_radians_2d[0, :nx, 1]
    x_sum, y_sum = _lag_products(1.0 / noise_map_real**2, uv_wavelengths, y_lags, x_lags,
                                 chunk_size, False)
    lags = _full_lags(x_sum, y_sum)
    p = np.arange(-ny + 1, ny) % (2 * ny)
    q = np.arange(-nx + 1, nx) % (2 * nx)
    preload = np.zeros((2 * ny, 2 * nx))
    preload[np.ix_(p, q)] = lags
    return preload


@kernel("w_compact_curvature_interferometer_from")
def w_compact_curvature_interferometer_from(grid_size, noise_map_real, uv_wavelengths,
                                            pixel_scale, chunk_size):
    # w_compact[a, b + Nx - 1] = Σ w cos(2π(d b u - d a v)) = X[a, |b|] + sign(b) Y[a, |b|]
    # with lags j·d (angle-addition trig tables); only the half-plane is computed.
    ny, nx = grid_size
    d = pixel_scale * ARCSEC_TO_RADIANS
    x_sum, y_sum = _lag_products(1.0 / noise_map_real**2, uv_wavelengths, d * np.arange(ny),
                                 d * np.arange(nx), chunk_size, True)
    w_compact = np.empty((ny, 2 * nx - 1))
    w_compact[:, nx - 1:] = x_sum + y_sum
    w_compact[:, : nx - 1] = (x_sum - y_sum)[:, :0:-1]
    return w_compact


@kernel("w_tilde_via_preload_from")
def w_tilde_via_preload_from(w_tilde_preload, native_index_for_slim_index):
    return _expand_lattice(lag_table_from_preload(w_tilde_preload),
                           native_index_for_slim_index[:, 0], native_index_for_slim_index[:, 1])


@kernel("w_tilde_via_compact_from")
def w_tilde_via_compact_from(w_compact, native_index_for_slim_index):
    return _expand_lattice(lag_table_from_compact(w_compact),
                           native_index_for_slim_index[:, 0], native_index_for_slim_index[:, 1])


@kernel("w_compact_from_preload")
def w_compact_from_preload(w_tilde_preload):
    ny, nx = w_tilde_preload.shape[0] // 2, w_tilde_preload.shape[1] // 2
    b = np.arange(-nx + 1, nx) % (2 * nx)
    return np.ascontiguousarray(w_tilde_preload[:ny, b])


@kernel("preload_from_w_compact")
def preload_from_w_compact(w_compact):
    # preload[p mod 2Ny, q mod 2Nx] = w_compact[|p|, sign(p) q + Nx - 1], the reference's
    # convention (the same numbers as the lag (-p, -q) because W̃ is symmetric).
    ny, nx = w_compact.shape[0], (w_compact.shape[1] + 1) // 2
    p = np.arange(-ny + 1, ny) % (2 * ny)
    q = np.arange(-nx + 1, nx) % (2 * nx)
    preload = np.zeros((2 * ny, 2 * nx))
    preload[np.ix_(p, q)] = lag_table_from_compact(w_compact)
    return preload
