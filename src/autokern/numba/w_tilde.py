"""W̃ and its compact forms: reductions over visibilities and exact re-indexings (Numba).

Every lag sum factorises over the two image axes, cos(α + β) = cos α cos β - sin α sin β with
α = 2π x u, β = 2π y v, so for lags x_q, y_p

    X[p, q] = Σ_k w_k cos(2π y_p v_k) cos(2π x_q u_k),   Y[p, q] = Σ_k w_k sin(·) sin(·)

are two GEMMs per chunk of visibilities (BLAS, through NumPy) over trig tables of only
K × (Ny + Nx) entries (jitted loops, mostly complex rotations instead of cos/sin calls), and
the value at the lag (±y_p, ±x_q) is X - (±)(±) Y.  This turns K·Ny·(2Nx-1) cosines into
K·(Ny + Nx) and puts the remaining O(K·Ny·Nx) work on BLAS.  Chunks of at most ``chunk_size``
visibilities (and at most _FAST_CHUNK, to stay in cache) bound the work space; the result
depends on the chunking only through float64 round-off.

W̃ for a pair of lattice pixels is read from the full lag table ``L`` of shape
(2Ny - 1, 2Nx - 1), L[a + Ny - 1, b + Nx - 1] = W̃ for the offset (a, b) = (row_i - row_j,
col_i - col_j): flat index ``base[i] + offset[j]`` (:func:`lag_gather`).  The curvature kernels
use the same table.
"""

import math

import numba
import numpy as np

from autokern._cpu import nufft
from autokern._cpu.nufft_points import fill_points
from autokern._runtime import memory
from autokern._shared import lattice as _lattice
from autokern._shared.lattice import (
    ARCSEC_TO_RADIANS,
    lag_gather,
    lag_table_from_compact,
    lag_table_from_precision_operator,
)

# The exact re-indexings are NumPy index maths shared with the reference backend.
from autokern._shared.lattice import (
    nufft_precision_operator_via_w_compact_from as nufft_precision_operator_via_w_compact_from,
)
from autokern._shared.lattice import (
    w_compact_via_nufft_precision_operator_from as w_compact_via_nufft_precision_operator_from,
)

_JIT = {"cache": True, "nogil": True}
#: reseed the rotation recurrence of the trig tables from cos/sin this often (round-off grows
#: by ~1 ulp per step, so tables stay within ~1e-14)
_RESEED = 32
#: visibilities per block of the trig tables (the rotation state of a block stays in L1)
_K_BLOCK = 256
#: the largest chunk of visibilities the reductions use, whatever chunk_size allows
_FAST_CHUNK = 4096
#: the |phase error| accepted from a rotation-built trig table (it bounds the error of a lag
#: sum by this times Σ w)
_LATTICE_PHASE_TOLERANCE = _lattice.DEFAULT_EPS


@numba.njit(**_JIT)
def _trig_tables(frequency, lags, weight, step, cos_table, sin_table):
    """Fill (n, K) tables weight_k cos(f_k lag_j) and weight_k sin(f_k lag_j).

    With ``step`` ≠ 0 (lags an arithmetic progression of that step) rows between reseeds come
    from the previous row by one complex rotation, vectorised over k; otherwise every entry is
    a cos/sin call.  Lag-major layout: contiguous rows for the rotation and for the GEMMs.
    Serial on purpose: it runs between BLAS calls, whose thread pool it would contend with."""
    n, count = lags.shape[0], frequency.shape[0]
    for k0 in range(0, count, _K_BLOCK):
        f = frequency[k0:k0 + _K_BLOCK]
        w = weight[k0:k0 + _K_BLOCK]
        size = f.shape[0]
        c = np.empty(size)
        s = np.empty(size)
        rotate_c = np.cos(f * step)
        rotate_s = np.sin(f * step)
        for j in range(n):
            out_c = cos_table[j, k0:k0 + size]
            out_s = sin_table[j, k0:k0 + size]
            if step == 0.0 or j % _RESEED == 0:
                for i in range(size):
                    c[i] = math.cos(f[i] * lags[j])
                    s[i] = math.sin(f[i] * lags[j])
                    out_c[i] = w[i] * c[i]
                    out_s[i] = w[i] * s[i]
            else:
                for i in range(size):
                    c_next = c[i] * rotate_c[i] - s[i] * rotate_s[i]
                    s_next = s[i] * rotate_c[i] + c[i] * rotate_s[i]
                    c[i] = c_next
                    s[i] = s_next
                    out_c[i] = w[i] * c_next
                    out_s[i] = w[i] * s_next


def _progression_step(lags: np.ndarray, max_frequency: float) -> float:
    """The step of ``lags`` as an arithmetic progression when the rotation recurrence built on
    it stays within _LATTICE_PHASE_TOLERANCE of the true phases, else 0.0 (direct trig)."""
    if len(lags) < 2:
        return 0.0
    step = (lags[-1] - lags[0]) / (len(lags) - 1)
    deviation = np.max(np.abs(lags - (lags[0] + step * np.arange(len(lags)))))
    # a row is < _RESEED rotations from a direct one: phase error ≤ 2 f δ (the fit) plus a few
    # ulp per rotation
    bound = max_frequency * (2.0 * deviation + _RESEED * 4e-16 * abs(step)) + _RESEED * 4e-16
    return float(step) if step != 0.0 and bound <= _LATTICE_PHASE_TOLERANCE else 0.0


def _work_space(rows: int, chunks: list[slice]) -> np.ndarray:
    """One (rows, largest chunk) buffer reused by every chunk.  Allocated by NumPy, which asks
    for transparent huge pages on big arrays: first-touch page faults otherwise cost more than
    the trig tables themselves."""
    return np.empty((rows, max(k.stop - k.start for k in chunks)))


def _lag_products(weight: np.ndarray, uv_wavelengths: np.ndarray, y_lags: np.ndarray,
                  x_lags: np.ndarray, chunk_size: int | str) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) of the module docstring, (len(y_lags), len(x_lags)) each."""
    frequency = 2.0 * np.pi * uv_wavelengths
    u = np.ascontiguousarray(frequency[:, 0])
    v = np.ascontiguousarray(frequency[:, 1])
    y_step = _progression_step(y_lags, np.abs(v).max(initial=0.0))
    x_step = _progression_step(x_lags, np.abs(u).max(initial=0.0))
    ones = np.ones(len(weight))
    ny, nx = len(y_lags), len(x_lags)
    x_sum = np.zeros((ny, nx))
    y_sum = np.zeros_like(x_sum)
    chunks = list(memory.chunk_slices(len(weight), chunk_size, 24 * (ny + nx), _FAST_CHUNK))
    tables = _work_space(2 * (ny + nx), chunks)
    for k in chunks:
        cos_y, sin_y, cos_x, sin_x = np.split(tables[:, : k.stop - k.start],
                                              [ny, 2 * ny, 2 * ny + nx])
        _trig_tables(v[k], y_lags, weight[k], y_step, cos_y, sin_y)
        _trig_tables(u[k], x_lags, ones[k], x_step, cos_x, sin_x)
        x_sum += cos_y @ cos_x.T
        y_sum += sin_y @ sin_x.T
    return x_sum, y_sum


def _full_lags(x_sum: np.ndarray, y_sum: np.ndarray) -> np.ndarray:
    """L[p + Ny - 1, q + Nx - 1] = X[|p|, |q|] - sign(p) sign(q) Y[|p|, |q|]."""
    ny, nx = x_sum.shape
    p = np.arange(-ny + 1, ny)[:, None]
    q = np.arange(-nx + 1, nx)[None, :]
    return x_sum[abs(p), abs(q)] - np.sign(p) * np.sign(q) * y_sum[abs(p), abs(q)]


@numba.njit(parallel=True, **_JIT)
def _expand(table, base, offset, out):
    for i in numba.prange(base.shape[0]):
        for j in range(offset.shape[0]):
            out[i, j] = table[base[i] + offset[j]]


def _expand_lattice(lag_table: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    base, offset = lag_gather(lag_table.shape, rows, cols)
    out = np.empty((len(base), len(base)))  # NumPy allocation: huge pages for big outputs
    _expand(lag_table.ravel(), base, offset, out)
    return out


# --- W̃ for arbitrary pixel positions -----------------------------------------------------


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


@numba.njit(**_JIT)
def _dirty_left(cos_y, sin_y, real_weight, imag_weight):
    """In place: (cos β, sin β) → (Re P, -Im P) with P = (a + ib) e^{iβ}."""
    for r in range(cos_y.shape[0]):
        for k in range(cos_y.shape[1]):
            a, b, c, s = real_weight[k], imag_weight[k], cos_y[r, k], sin_y[r, k]
            cos_y[r, k] = a * c - b * s
            sin_y[r, k] = -(a * s + b * c)


def w_tilde_data_interferometer_from(data, noise_map, uv_wavelengths, grid_radians_slim,
                                     chunk_size, method, eps):
    by_nufft = nufft.dirty_image_if_chosen(data, noise_map, uv_wavelengths, grid_radians_slim,
                                           chunk_size, method, eps, fill_points)
    if by_nufft is not None:
        return by_nufft
    # e^{i(α+β)} = e^{iβ} e^{iα}: over the distinct y and distinct x of the grid the sum is a
    # (Ny' × K)·(K × Nx') complex GEMM, done as one real GEMM on stacked (Re, -Im | Re, Im)
    # tables, then gathered at each pixel.  Grids without such structure are summed directly
    # (jitted, parallel over pixels, streaming over k).
    y, x = grid_radians_slim[:, 0], grid_radians_slim[:, 1]
    real_weight = data.real / noise_map.real**2
    imag_weight = data.imag / noise_map.imag**2
    frequency = 2.0 * np.pi * uv_wavelengths
    y_unique, y_index = np.unique(y, return_inverse=True)
    x_unique, x_index = np.unique(x, return_inverse=True)
    if len(y_unique) * len(x_unique) > 8 * len(y):
        return _dirty_direct(real_weight, imag_weight, frequency, y, x)
    u = np.ascontiguousarray(frequency[:, 0])
    v = np.ascontiguousarray(frequency[:, 1])
    y_step = _progression_step(y_unique, np.abs(v).max(initial=0.0))
    x_step = _progression_step(x_unique, np.abs(u).max(initial=0.0))
    ones = np.ones(len(data))
    ny, nx = len(y_unique), len(x_unique)
    image = np.zeros((ny, nx))
    chunks = list(memory.chunk_slices(len(data), chunk_size, 24 * (ny + nx), _FAST_CHUNK))
    left, right = np.split(_work_space(ny + nx, [slice(0, 2 * k.stop - 2 * k.start)
                                                 for k in chunks]), [ny])
    for k in chunks:
        count = k.stop - k.start
        # Re(P Q) = Re P Re Q - Im P Im Q with Q = e^{iα}: [Re P | -Im P] · [Re Q | Im Q]ᵀ
        _trig_tables(v[k], y_unique, ones[k], y_step, left[:, :count], left[:, count:2 * count])
        _dirty_left(left[:, :count], left[:, count:2 * count], real_weight[k], imag_weight[k])
        _trig_tables(u[k], x_unique, ones[k], x_step, right[:, :count],
                     right[:, count:2 * count])
        image += left[:, : 2 * count] @ right[:, : 2 * count].T
    return image[y_index, x_index]


def w_tilde_curvature_interferometer_from(noise_map_real, uv_wavelengths, grid_radians_slim,
                                          chunk_size):
    # On a lattice W̃[i, j] depends only on the lattice lag: build the lag table with the
    # two-GEMM lag sums and gather.  The lattice is used only when its fit's phase error bounds
    # |ΔW̃| below DEFAULT_EPS Σ w (autokern._shared.lattice.lattice_of); otherwise W̃ = Aᵀ A with
    # A = [√w cos φ; √w sin φ] per chunk (one SYRK-shaped BLAS product).
    weight = 1.0 / noise_map_real**2
    y, x = grid_radians_slim[:, 0], grid_radians_slim[:, 1]
    lattice = _lattice.lattice_of(grid_radians_slim, uv_wavelengths)
    if lattice is not None:
        ny, nx = lattice.shape
        # rows count down the sky: y_i - y_j = -dy (row_i - row_j)
        x_sum, y_sum = _lag_products(weight, uv_wavelengths, -lattice.dy * np.arange(ny),
                                     lattice.dx * np.arange(nx), chunk_size)
        return _expand_lattice(_full_lags(x_sum, y_sum), lattice.rows, lattice.cols)
    root_weight = np.sqrt(weight)
    w_tilde = np.zeros((len(y), len(y)))
    for k in memory.chunk_slices(len(weight), chunk_size, 40 * len(y), _FAST_CHUNK):
        phase = 2.0 * np.pi * (uv_wavelengths[k, 0, None] * x + uv_wavelengths[k, 1, None] * y)
        stacked = np.concatenate([np.cos(phase), np.sin(phase)]) * np.tile(root_weight[k], 2)[
            :, None]
        w_tilde += stacked.T @ stacked
    return w_tilde


def nufft_precision_operator_from(noise_map_real, uv_wavelengths, shape_masked_pixels_2d,
                                  grid_radians_2d, chunk_size, method, eps):
    by_nufft = nufft.precision_operator_if_chosen(noise_map_real, uv_wavelengths,
                                                  shape_masked_pixels_2d, grid_radians_2d,
                                                  chunk_size, method, eps, fill_points)
    if by_nufft is not None:
        return by_nufft
    # Rotation-built trig tables only where the grid's lags fit an arithmetic progression to
    # the phase tolerance.
    x_sum, y_sum = _lag_products(1.0 / noise_map_real**2, uv_wavelengths,
                                 *_lattice.precision_operator_offsets(grid_radians_2d,
                                                           shape_masked_pixels_2d), chunk_size)
    ny, nx = shape_masked_pixels_2d
    precision_operator = np.zeros((2 * ny, 2 * nx))
    precision_operator[_lattice.precision_operator_positions(ny, nx)] = _full_lags(x_sum, y_sum)
    return precision_operator


def w_compact_curvature_interferometer_from(grid_size, noise_map_real, uv_wavelengths,
                                            pixel_scale, chunk_size, method, eps):
    by_nufft = nufft.w_compact_if_chosen(grid_size, noise_map_real, uv_wavelengths,
                                         pixel_scale, chunk_size, method, eps,
                                         fill_points)
    if by_nufft is not None:
        return by_nufft
    # w_compact[a, b + Nx - 1] = Σ w cos(2π(d b u - d a v)) = X[a, |b|] + sign(b) Y[a, |b|]
    # with lags j·d (rotation-built trig tables); only the half-plane is computed.
    ny, nx = grid_size
    d = pixel_scale * ARCSEC_TO_RADIANS
    x_sum, y_sum = _lag_products(1.0 / noise_map_real**2, uv_wavelengths, d * np.arange(ny),
                                 d * np.arange(nx), chunk_size)
    w_compact = np.empty((ny, 2 * nx - 1))
    w_compact[:, nx - 1:] = x_sum + y_sum
    w_compact[:, : nx - 1] = (x_sum - y_sum)[:, :0:-1]
    return w_compact


def w_tilde_via_nufft_precision_operator_from(nufft_precision_operator,
                                              native_index_for_slim_index):
    return _expand_lattice(lag_table_from_precision_operator(nufft_precision_operator),
                           native_index_for_slim_index[:, 0], native_index_for_slim_index[:, 1])


def w_tilde_via_compact_from(w_compact, native_index_for_slim_index):
    return _expand_lattice(lag_table_from_compact(w_compact),
                           native_index_for_slim_index[:, 0], native_index_for_slim_index[:, 1])
