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

#: The smallest tolerance ducc0 reaches in double precision.
MIN_EPS = 2e-13
#: Work per visibility of one chunk: coordinates, strengths and their temporaries.
_BYTES_PER_VISIBILITY = 96


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
    """One reduction as a NUFFT problem: Σ_k c_k exp(i (a α_k + b β_k)) for a ∈ [a0, a0 + rows),
    b ∈ [b0, b0 + cols).  Arrays may be NumPy or JAX; ``shape`` and ``first`` are static."""

    strengths: Any
    alpha: Any
    beta: Any
    shape: tuple[int, int]
    first: tuple[int, int]
    #: an extra phase per visibility, folded into the one complex exponential of :meth:`points`
    phase: Any = None
    #: leading rows of the box the result leaves out: a box centred on lag 0 needs no mode
    #: shift, so no complex exponential per visibility (it cost more than the taller FFT)
    rows_dropped: int = 0

    def points(self, xp: Any, k: slice = slice(None)) -> tuple[Any, Any, Any]:
        """(shifted strengths, α, β) of visibilities ``k``, ready for a centred type-1 NUFFT
        (the JAX route's; the CPU one makes the same in :func:`_points_into`).

        The centred modes [-n//2, (n-1)//2] of an n-point transform land on [a0, a0 + n) once
        the strengths are multiplied by exp(i (a0 + n//2) α) (likewise for b).  The phases are
        wrapped into [-π, π) (finufft needs it), which changes nothing for integer modes.
        """
        (rows, cols), (a0, b0) = self.shape, self.first
        a_phase = (self.alpha[k] + xp.pi) % (2.0 * xp.pi) - xp.pi
        b_phase = (self.beta[k] + xp.pi) % (2.0 * xp.pi) - xp.pi
        a_shift, b_shift = a0 + rows // 2, b0 + cols // 2
        if a_shift == b_shift == 0 and self.phase is None:  # a box centred on lag 0
            return self.strengths[k], a_phase, b_phase
        shift = a_shift * a_phase + b_shift * b_phase
        if self.phase is not None:
            shift = shift + self.phase[k]
        return self.strengths[k] * xp.exp(1j * shift), a_phase, b_phase


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
    return LatticeSum(1.0 / noise_map_real**2 + 0j, -2.0 * xp.pi * d * uv_wavelengths[:, 1],
                      2.0 * xp.pi * d * uv_wavelengths[:, 0], **_half_plane(ny, nx, centred))


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
    return LatticeSum(1.0 / noise_map_real**2 + 0j, 2.0 * xp.pi * dy * uv_wavelengths[:, 1],
                      -2.0 * xp.pi * dx * uv_wavelengths[:, 0], **_half_plane(ny, nx, centred))


def dirty_problem(xp: Any, data: Any, noise_map: Any, uv_wavelengths: Any,
                  lattice: Lattice) -> LatticeSum:
    """The dirty image on the pixels' bounding box, for a grid on ``lattice``.

    phase_ik = 2π (x_i u + y_i v) = 2π (x0 u + y0 v) + c_i (2π dx u) + r_i (-2π dy v).
    """
    y0, x0, dy, dx = lattice.y0, lattice.x0, lattice.dy, lattice.dx
    u, v = uv_wavelengths[:, 0], uv_wavelengths[:, 1]
    weights = data.real / noise_map.real**2 + 1j * (data.imag / noise_map.imag**2)
    return LatticeSum(weights, -2.0 * xp.pi * dy * v, 2.0 * xp.pi * dx * u,
                      lattice.shape, (0, 0),
                      phase=2.0 * xp.pi * (x0 * u + y0 * v))


@numba.njit(parallel=True, cache=True, nogil=True)
def _points_into(strengths, alpha, beta, phase, a_shift, b_shift, values, coord):
    """values = strengths · exp(i (a_shift α + b_shift β + phase)) and coord = (α, β), in one
    parallel pass (``phase`` empty: none; no exponential at all for a box centred on lag 0).
    ducc0 wraps periodic coordinates itself.  NumPy took 4-6 passes and a complex exponential
    on one thread (~330 of the 1 050 ms of almahigh35's precompute, with the stacking)."""
    with_phase = phase.shape[0] > 0
    centred = a_shift == 0 and b_shift == 0 and not with_phase
    for i in numba.prange(strengths.shape[0]):
        a, b = alpha[i], beta[i]
        coord[i, 0] = a
        coord[i, 1] = b
        if centred:
            values[i] = strengths[i]
            continue
        shift = a_shift * a + b_shift * b
        if with_phase:
            shift += phase[i]
        values[i] = strengths[i] * complex(np.cos(shift), np.sin(shift))


def lattice_sum(problem: LatticeSum, eps: float, chunk_size: int | str = "auto") -> np.ndarray:
    """The complex (rows, cols) values of ``problem`` by ducc0, chunk by chunk (the points of
    each chunk made by :func:`_points_into` in buffers reused from chunk to chunk)."""
    ducc0 = _ducc0()
    out = np.zeros(problem.shape, dtype=np.complex128)
    work = np.empty(problem.shape, dtype=np.complex128)
    (rows, cols), (a0, b0) = problem.shape, problem.first
    a_shift, b_shift = a0 + rows // 2, b0 + cols // 2
    phase = np.empty(0) if problem.phase is None else problem.phase
    chunks = list(_memory.chunk_slices(len(problem.strengths), chunk_size,
                                       _BYTES_PER_VISIBILITY))
    longest = max((k.stop - k.start for k in chunks), default=0)
    values_buffer = np.empty(longest, dtype=np.complex128)
    coord_buffer = np.empty((longest, 2))
    for k in chunks:
        n = k.stop - k.start
        values, coord = values_buffer[:n], coord_buffer[:n]
        _points_into(problem.strengths[k], problem.alpha[k], problem.beta[k],
                     phase[k] if phase.size else phase, a_shift, b_shift, values, coord)
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
