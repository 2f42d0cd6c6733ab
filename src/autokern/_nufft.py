"""Reductions over visibilities as non-uniform FFTs, on the CPU (ducc0), shared by the CPU backends.

Every reduction over K here is the real part of a 2-D type-1 NUFFT onto integer lattice lags:

    H[a, b] = Re Σ_k c_k exp(i (a α_k + b β_k)),   a ∈ [0, Ny),  b ∈ (-Nx, Nx)

- w-compact:  c_k = 1/(Re σ_k)², α_k = -2π d v_k, β_k = 2π d u_k (d the pixel scale in radians);
- preload:    the same half-plane with the grid's own spacings, re-indexed to wrap-around order;
- dirty image: c_k = Re V_k/(Re σ_k)² + i Im V_k/(Im σ_k)² on the bounding box of the unmasked
  pixels, read back at each pixel (the grid must be a lattice).

Rows a ≥ 0 only (cos is even, so the half-plane holds everything): the modes are shifted so
that an Ny-point transform covers [0, Ny) instead of a (2Ny-1)-point one covering (-Ny, Ny).
Points are wrapped into [-π, π) (ducc0 wraps them itself), which changes nothing for integer
modes.  Work runs in chunks of visibilities, so memory is O(chunk + Ny·Nx) whatever K is.

ducc0 was chosen over finufft by measurement on the 2-core development machine (both agree
with the direct sums to ~1e-14): w-compact at extent 60 / K = 8 192 took 1.6 ms (ducc0) vs
4.7 ms (finufft), at extent 120 / K = 10⁵ 9.4 vs 17 ms, at extent 300 / K = 10⁷ 0.95 vs 1.5 s,
single-threaded.  ducc0 needs ``eps >= 2e-13`` in double precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from autokern import _lattice, _memory, cost
from autokern._lattice import ARCSEC_TO_RADIANS, Lattice
from autokern.errors import optional_module

_memory.choose_fork_safe_threading_layer()  # before a kernel here starts Numba's threads

#: The smallest tolerance ducc0 reaches in double precision.
MIN_EPS = 2e-13
#: Work per visibility of one chunk: its strengths (16 B) and coordinates (16 B), ducc0's sort
#: index and bookkeeping (measured: 49 B per visibility in all at K = 5·10⁶, one chunk)
_BYTES_PER_VISIBILITY = 50


def available() -> bool:
    """Whether the CPU NUFFT library (ducc0) can be imported."""
    try:
        import ducc0  # noqa: F401
    except ImportError:
        return False
    return True


def _ducc0() -> Any:
    return optional_module("ducc0", 'method="nufft" needs ducc0: pip install "autokern[nufft]"')


@dataclass(frozen=True)
class LatticeSum:
    """One reduction as a NUFFT problem: H[a, b] = Σ_k c_k exp(i (a α_k + b β_k + φ_k)) for
    a ∈ [a0, a0 + rows), b ∈ [b0, b0 + cols), where

    - α_k = ``alpha_per_v`` v_k and β_k = ``beta_per_u`` u_k;
    - φ_k = 2π (x0 u_k + y0 v_k) for ``origin`` = (x0, y0), else 0;
    - c_k = 1/(Re σ_k)² when ``data`` is None (``noise_map`` then holds Re σ), else
      Re V_k/(Re σ_k)² + i Im V_k/(Im σ_k)².

    A recipe, not the per-visibility arrays: each route derives them chunk by chunk (no
    K-sized temporaries).  Arrays may be NumPy or JAX; ``shape`` and ``first`` are static."""

    noise_map: Any
    uv_wavelengths: Any
    alpha_per_v: Any
    beta_per_u: Any
    shape: tuple[int, int]
    first: tuple[int, int]
    data: Any = None
    origin: tuple[Any, Any] | None = None
    #: leading rows of the box the result leaves out: a box centred on lag 0 needs no mode
    #: shift, so no complex exponential per visibility (it cost more than the taller FFT)
    rows_dropped: int = 0

    @property
    def mode_shift(self) -> tuple[int, int]:
        """(a0 + rows//2, b0 + cols//2): the centred modes [-n//2, (n-1)//2] of an n-point
        transform land on [a0, a0 + n) once c_k is multiplied by exp(i (a0 + n//2) α_k)
        (likewise for b)."""
        (rows, cols), (a0, b0) = self.shape, self.first
        return a0 + rows // 2, b0 + cols // 2

    def points(self, xp: Any, k: slice = slice(None)) -> tuple[Any, Any, Any]:
        """(shifted strengths, α, β) of visibilities ``k``, ready for a centred type-1 NUFFT
        (the JAX route's; the CPU one makes the same in :func:`_points_into`).  The phases
        are wrapped into [-π, π) (finufft needs it), which changes nothing for integer modes.
        """
        u, v = self.uv_wavelengths[k, 0], self.uv_wavelengths[k, 1]
        a_phase = (self.alpha_per_v * v + xp.pi) % (2.0 * xp.pi) - xp.pi
        b_phase = (self.beta_per_u * u + xp.pi) % (2.0 * xp.pi) - xp.pi
        if self.data is None:
            strengths = 1.0 / self.noise_map[k] ** 2 + 0j
        else:
            data, noise = self.data[k], self.noise_map[k]
            strengths = data.real / noise.real**2 + 1j * (data.imag / noise.imag**2)
        a_shift, b_shift = self.mode_shift
        if a_shift == b_shift == 0 and self.origin is None:  # a box centred on lag 0
            return strengths, a_phase, b_phase
        shift = a_shift * a_phase + b_shift * b_phase
        if self.origin is not None:
            x0, y0 = self.origin
            shift = shift + 2.0 * xp.pi * (x0 * u + y0 * v)
        return strengths * xp.exp(1j * shift), a_phase, b_phase


def _half_plane(ny: int, nx: int, centred: bool) -> dict[str, Any]:
    """The box of lags a ∈ [0, Ny), b ∈ (-Nx, Nx); ``centred``: the full box a ∈ (-Ny, Ny)
    with the rows a < 0 dropped from the result (no mode shift)."""
    if centred:
        return {"shape": (2 * ny - 1, 2 * nx - 1), "first": (-ny + 1, -nx + 1),
                "rows_dropped": ny - 1}
    return {"shape": (ny, 2 * nx - 1), "first": (0, -nx + 1)}


def w_compact_problem(xp: Any, grid_size: tuple[int, int], noise_map_real: Any,
                      uv_wavelengths: Any, pixel_scale: Any, centred: bool = False) -> LatticeSum:
    """w-compact: c_k = 1/(Re σ_k)², α = -2π d v, β = 2π d u on a ∈ [0, Ny), b ∈ (-Nx, Nx)."""
    ny, nx = grid_size
    d = pixel_scale * ARCSEC_TO_RADIANS
    return LatticeSum(noise_map_real, uv_wavelengths, -2.0 * xp.pi * d, 2.0 * xp.pi * d,
                      **_half_plane(ny, nx, centred))


def preload_problem(xp: Any, noise_map_real: Any, uv_wavelengths: Any,
                    shape_masked_pixels_2d: tuple[int, int], grid_radians_2d: Any,
                    centred: bool = False) -> LatticeSum:
    """The preload's lags p ≥ 0 in w-compact layout, with the grid's own spacings.

    preload[p, q] is the lag (row_j - row_i, col_j - col_i) = (p, q): phase
    2π (p dy v - q dx u) with dy = y[0,0] - y[1,0] and dx = x[0,1] - x[0,0].
    """
    ny, nx = shape_masked_pixels_2d
    dy = grid_radians_2d[0, 0, 0] - grid_radians_2d[1, 0, 0] if grid_radians_2d.shape[0] > 1 \
        else 0.0
    dx = grid_radians_2d[0, 1, 1] - grid_radians_2d[0, 0, 1] if grid_radians_2d.shape[1] > 1 \
        else 0.0
    return LatticeSum(noise_map_real, uv_wavelengths, 2.0 * xp.pi * dy, -2.0 * xp.pi * dx,
                      **_half_plane(ny, nx, centred))


def dirty_problem(xp: Any, data: Any, noise_map: Any, uv_wavelengths: Any,
                  lattice: Lattice) -> LatticeSum:
    """The dirty image on the pixels' bounding box, for a grid on ``lattice``.

    phase_ik = 2π (x_i u + y_i v) = 2π (x0 u + y0 v) + c_i (2π dx u) + r_i (-2π dy v).
    """
    return LatticeSum(noise_map, uv_wavelengths, -2.0 * xp.pi * lattice.dy,
                      2.0 * xp.pi * lattice.dx, lattice.shape, (0, 0), data=data,
                      origin=(lattice.x0, lattice.y0))


# sin and cos for the points' phases (below): Cody–Waite reduction by π/2 in three parts of
# 33 bits (n·part exact for |n| < 2²⁰) and fdlibm's minimax polynomials on [-π/4, π/4]
# (k_sin.c, k_cos.c) — within 2.5e-16 of libm for |x| < _SINCOS_LIMIT, and vectorised, where
# libm's are one call each (~12 ns a pair): 60 → 12 ms at K = 5·10⁶ on two threads
_INV_PIO2 = 6.36619772367581382433e-01
_PIO2_1, _PIO2_2, _PIO2_3 = 1.57079632673412561417e+00, 6.07710050630396597660e-11, \
    2.02226624871116645580e-21
_S = (-1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04,
      2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10)
_C = (4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05,
      -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11)
#: beyond this |x| the reduction loses bits (|n| ≥ 2¹⁹): libm's sin and cos are used instead
_SINCOS_LIMIT = 8.0e5
#: visibilities per block of :func:`_points_into` (a thread's unit of work)
_POINTS_BLOCK = 4096


@numba.njit(inline="always", fastmath={"contract"})
def _sincos(x):
    n = np.rint(x * _INV_PIO2)
    r = ((x - n * _PIO2_1) - n * _PIO2_2) - n * _PIO2_3
    z = r * r
    s1, s2, s3, s4, s5, s6 = _S
    c1, c2, c3, c4, c5, c6 = _C
    sin = r + r * z * (s1 + z * (s2 + z * (s3 + z * (s4 + z * (s5 + z * s6)))))
    cos = 1.0 - 0.5 * z + z * z * (c1 + z * (c2 + z * (c3 + z * (c4 + z * (c5 + z * c6)))))
    quadrant = np.int64(n) & 3
    if quadrant & 1:
        sin, cos = cos, -sin
    if quadrant & 2:
        sin, cos = -sin, -cos
    return sin, cos


@numba.njit(inline="always")
def _strength(noise_real, noise_imag, data, with_data, i):
    """c_i of :class:`LatticeSum`: V/σ² part by part, or 1/(Re σ)² without data."""
    if with_data:
        return complex(data[i].real / noise_real[i] ** 2, data[i].imag / noise_imag[i] ** 2)
    return complex(1.0 / noise_real[i] ** 2, 0.0)


@numba.njit(inline="always", fastmath={"contract"})
def _phase(a, b, u, v, a_shift, b_shift, x0, y0, with_origin):
    """The phase of the mode shift (and of the image origin) of one point."""
    shift = a_shift * a + b_shift * b
    if with_origin:
        shift += 2.0 * np.pi * (x0 * u + y0 * v)
    return shift


@numba.njit(parallel=True, cache=True, nogil=True, fastmath={"contract"})
def _points_into(noise_real, noise_imag, data, uv_wavelengths, alpha_per_v, beta_per_u, x0, y0,
                 with_origin, a_shift, b_shift, values, coord):
    """:meth:`LatticeSum.points` of a chunk in one parallel pass, into ``values`` and
    ``coord`` (α, β) — unwrapped: ducc0 wraps periodic coordinates itself.  ``data`` empty: the
    strengths are 1/(Re σ)²; no exponential at all for a box centred on lag 0.  NumPy took
    ~10 passes, K-sized temporaries and a complex exponential on one thread (~450 of the
    1 050 ms of almahigh35's precompute)."""
    with_data = data.shape[0] > 0
    centred = a_shift == 0 and b_shift == 0 and not with_origin
    n = values.shape[0]
    for block in numba.prange((n + _POINTS_BLOCK - 1) // _POINTS_BLOCK):
        start, stop = block * _POINTS_BLOCK, min((block + 1) * _POINTS_BLOCK, n)
        largest = 0.0
        # Slices from 0: a loop from `start` was not vectorised.
        uv, out_coord, out_values = (uv_wavelengths[start:stop], coord[start:stop],
                                     values[start:stop])
        real = noise_real[start:stop]
        imag = noise_imag[start:stop] if with_data else noise_imag
        visibilities = data[start:stop] if with_data else data
        for i in range(stop - start):
            u, v = uv[i, 0], uv[i, 1]
            a, b = alpha_per_v * v, beta_per_u * u
            out_coord[i, 0] = a
            out_coord[i, 1] = b
            strength = _strength(real, imag, visibilities, with_data, i)
            if centred:
                out_values[i] = strength
                continue
            shift = _phase(a, b, u, v, a_shift, b_shift, x0, y0, with_origin)
            sin, cos = _sincos(shift)
            out_values[i] = strength * complex(cos, sin)
            largest = max(largest, abs(shift))
        if largest >= _SINCOS_LIMIT:  # redo the block's largest phases with libm
            for i in range(start, stop):
                shift = _phase(coord[i, 0], coord[i, 1], uv_wavelengths[i, 0],
                               uv_wavelengths[i, 1], a_shift, b_shift, x0, y0, with_origin)
                if abs(shift) >= _SINCOS_LIMIT:
                    values[i] = _strength(noise_real, noise_imag, data, with_data, i) * \
                        complex(np.cos(shift), np.sin(shift))


#: the empty stand-ins :func:`_points_into` takes for "no data" (w-compact, preload)
_NONE = np.empty(0)
_NO_DATA = np.empty(0, dtype=np.complex128)


def fill_points(problem: LatticeSum, k: slice, values: np.ndarray, coord: np.ndarray) -> None:
    """The strengths (into ``values``, complex) and coordinates (into ``coord``, (n, 2)) of
    visibilities ``k`` of a NumPy ``problem``, as ducc0 takes them (:func:`_points_into`)."""
    a_shift, b_shift = problem.mode_shift
    x0, y0 = (0.0, 0.0) if problem.origin is None else problem.origin
    with_data = problem.data is not None
    noise = problem.noise_map[k]
    _points_into(noise.real, noise.imag if with_data else _NONE,
                 problem.data[k] if with_data else _NO_DATA, problem.uv_wavelengths[k],
                 float(problem.alpha_per_v), float(problem.beta_per_u), float(x0), float(y0),
                 problem.origin is not None, a_shift, b_shift, values, coord)


def lattice_sum(problem: LatticeSum, eps: float, chunk_size: int | str = "auto") -> np.ndarray:
    """The complex (rows, cols) values of ``problem`` by ducc0, chunk by chunk (the points of
    each chunk made by :func:`fill_points` in buffers reused from chunk to chunk)."""
    ducc0 = _ducc0()
    out = np.zeros(problem.shape, dtype=np.complex128)
    work = np.empty(problem.shape, dtype=np.complex128)
    chunks = list(_memory.chunk_slices(len(problem.uv_wavelengths), chunk_size,
                                       _BYTES_PER_VISIBILITY))
    longest = max((k.stop - k.start for k in chunks), default=0)
    values_buffer = np.empty(longest, dtype=np.complex128)
    coord_buffer = np.empty((longest, 2))
    for k in chunks:
        n = k.stop - k.start
        values, coord = values_buffer[:n], coord_buffer[:n]
        fill_points(problem, k, values, coord)
        ducc0.nufft.nu2u(points=values, coord=coord, forward=False, epsilon=eps,
                         nthreads=_memory.nufft_threads(), out=work)
        out += work
    return out[problem.rows_dropped:]


def chosen(kernel: str, method: str, eps: float, n_visibilities: int,
           extent: tuple[int, int]) -> bool:
    """Whether a CPU reduction runs as a ducc0 NUFFT (:func:`autokern.cost.use_nufft`)."""
    return cost.use_nufft(kernel, method, eps, n_visibilities, extent, available=available(),
                          min_eps=MIN_EPS, library="ducc0")


def extent_of(grid_radians_slim: Any) -> tuple[int, int]:
    """A cheap stand-in for (Ny, Nx) of a slim grid: √M each way (for cost decisions only)."""
    side = max(1, round(np.sqrt(grid_radians_slim.shape[0])))
    return side, side


# --- the CPU backends' NUFFT routes: the result, or None where the direct sums are chosen --

def w_compact_if_chosen(grid_size: tuple[int, int], noise_map_real: np.ndarray,
                        uv_wavelengths: np.ndarray, pixel_scale: float,
                        chunk_size: int | str, method: str, eps: float) -> np.ndarray | None:
    """w-compact (Ny, 2Nx-1) by NUFFT."""
    if not chosen("w_compact_curvature_interferometer_from", method, eps, len(noise_map_real),
                  grid_size):
        return None
    problem = w_compact_problem(np, grid_size, noise_map_real, uv_wavelengths, pixel_scale,
                                centred=True)
    return lattice_sum(problem, eps, chunk_size).real.copy()


def preload_if_chosen(noise_map_real: np.ndarray, uv_wavelengths: np.ndarray,
                      shape_masked_pixels_2d: tuple[int, int], grid_radians_2d: np.ndarray,
                      chunk_size: int | str, method: str, eps: float) -> np.ndarray | None:
    """The preload (2Ny, 2Nx) by NUFFT."""
    if not chosen("nufft_precision_operator_from", method, eps,
                  len(noise_map_real), shape_masked_pixels_2d):
        return None
    problem = preload_problem(np, noise_map_real, uv_wavelengths, shape_masked_pixels_2d,
                              grid_radians_2d, centred=True)
    return _lattice.nufft_precision_operator_via_w_compact_from(
        lattice_sum(problem, eps, chunk_size).real)


def dirty_image_if_chosen(data: np.ndarray, noise_map: np.ndarray, uv_wavelengths: np.ndarray,
                          grid_radians_slim: np.ndarray, chunk_size: int | str, method: str,
                          eps: float) -> np.ndarray | None:
    """The dirty image (M,) by NUFFT onto the bounding box of the pixels, for a grid on a
    lattice to within ``eps`` (:func:`autokern._lattice.lattice_of`); off-lattice grids take
    the direct sums."""
    if not chosen("w_tilde_data_interferometer_from", method, eps, len(data),
                  extent_of(grid_radians_slim)):
        return None
    lattice = _lattice.lattice_of(grid_radians_slim, uv_wavelengths, eps)
    if lattice is None:
        return None
    box = lattice_sum(dirty_problem(np, data, noise_map, uv_wavelengths, lattice), eps,
                      chunk_size)
    return np.ascontiguousarray(box[lattice.rows, lattice.cols].real)
