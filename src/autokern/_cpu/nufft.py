"""Reductions over visibilities as non-uniform FFTs, on the CPU (ducc0), shared by the CPU backends.

Every reduction over K here is the real part of a 2-D type-1 NUFFT onto integer lattice lags:

    H[a, b] = Re Σ_k c_k exp(i (a α_k + b β_k)),   a ∈ [0, Ny),  b ∈ (-Nx, Nx)

- w-compact:  c_k = 1/(Re σ_k)², α_k = -2π d v_k, β_k = 2π d u_k (d the pixel scale in radians);
- precision operator: the same half-plane with the grid's own spacings, in wrap-around order;
- dirty image: c_k = Re V_k/(Re σ_k)² + i Im V_k/(Im σ_k)² on the bounding box of the unmasked
  pixels, read back at each pixel (the grid must be a lattice).

Rows a ≥ 0 only (cos is even, so the half-plane holds everything): the modes are shifted so
that an Ny-point transform covers [0, Ny) instead of a (2Ny-1)-point one covering (-Ny, Ny).
Points are wrapped into [-π, π) (ducc0 wraps them itself), which changes nothing for integer
modes.  Work runs in chunks of visibilities, so memory is O(chunk + Ny·Nx) whatever K is.

The CPU transform is ducc0 (faster than finufft at every size measured: see
docs/performance.md, *Measurements behind the code*); it needs ``eps >= 2e-13`` in double
precision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autokern._runtime import memory, parallelism, routes
from autokern._shared import lattice as _lattice
from autokern._shared.lattice import ARCSEC_TO_RADIANS, Lattice
from autokern.errors import optional_module

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
        (the JAX route's and the reference's; the Numba backend makes the same in
        :func:`autokern._cpu.nufft_points.fill_points`).  The phases
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


def precision_operator_problem(xp: Any, noise_map_real: Any, uv_wavelengths: Any,
                    shape_masked_pixels_2d: tuple[int, int], grid_radians_2d: Any,
                    centred: bool = False) -> LatticeSum:
    """The precision operator's lags p ≥ 0 in w-compact layout, with the grid's own spacings.

    precision operator[p, q] is the lag (row_j - row_i, col_j - col_i) = (p, q): phase
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


#: fills (values, coord) with the points of visibilities k of a problem (see :func:`lattice_sum`)
PointFiller = Callable[["LatticeSum", slice, np.ndarray, np.ndarray], None]


def numpy_points(problem: LatticeSum, k: slice, values: np.ndarray, coord: np.ndarray) -> None:
    """The points of visibilities ``k`` by NumPy (:meth:`LatticeSum.points`), into ``values``
    (complex strengths) and ``coord`` ((n, 2): α, β), as ducc0 takes them: the reference
    backend's filler.  The Numba backend passes :func:`autokern._cpu.nufft_points.fill_points`,
    one parallel pass without K-sized temporaries."""
    values[:], coord[:, 0], coord[:, 1] = problem.points(np, k)


def lattice_sum(problem: LatticeSum, eps: float, chunk_size: int | str = "auto",
                fill: PointFiller = numpy_points) -> np.ndarray:
    """The complex (rows, cols) values of ``problem`` by ducc0, chunk by chunk (the points of
    each chunk made by ``fill`` in buffers reused from chunk to chunk)."""
    ducc0 = _ducc0()
    out = np.zeros(problem.shape, dtype=np.complex128)
    work = np.empty(problem.shape, dtype=np.complex128)
    chunks = list(memory.chunk_slices(len(problem.uv_wavelengths), chunk_size,
                                      _BYTES_PER_VISIBILITY))
    longest = max((k.stop - k.start for k in chunks), default=0)
    values_buffer = np.empty(longest, dtype=np.complex128)
    coord_buffer = np.empty((longest, 2))
    for k in chunks:
        n = k.stop - k.start
        values, coord = values_buffer[:n], coord_buffer[:n]
        fill(problem, k, values, coord)
        ducc0.nufft.nu2u(points=values, coord=coord, forward=False, epsilon=eps,
                         nthreads=parallelism.nufft_threads(), out=work)
        out += work
    return out[problem.rows_dropped:]


def chosen(kernel: str, method: str, eps: float, n_visibilities: int,
           extent: tuple[int, int]) -> bool:
    """Whether a CPU reduction runs as a ducc0 NUFFT (:func:`autokern.cost.use_nufft`)."""
    return routes.use_nufft(kernel, method, eps, n_visibilities, extent, available=available(),
                            min_eps=MIN_EPS, library="ducc0")


def extent_of(grid_radians_slim: Any) -> tuple[int, int]:
    """A cheap stand-in for (Ny, Nx) of a slim grid: √M each way (for cost decisions only)."""
    side = max(1, round(np.sqrt(grid_radians_slim.shape[0])))
    return side, side


# --- the CPU backends' NUFFT routes: the result, or None where the direct sums are chosen --

def w_compact_if_chosen(grid_size: tuple[int, int], noise_map_real: np.ndarray,
                        uv_wavelengths: np.ndarray, pixel_scale: float,
                        chunk_size: int | str, method: str, eps: float,
                        fill: PointFiller = numpy_points) -> np.ndarray | None:
    """w-compact (Ny, 2Nx-1) by NUFFT."""
    if not chosen("w_compact_curvature_interferometer_from", method, eps, len(noise_map_real),
                  grid_size):
        return None
    problem = w_compact_problem(np, grid_size, noise_map_real, uv_wavelengths, pixel_scale,
                                centred=True)
    return lattice_sum(problem, eps, chunk_size, fill).real.copy()


def precision_operator_if_chosen(noise_map_real: np.ndarray, uv_wavelengths: np.ndarray,
                      shape_masked_pixels_2d: tuple[int, int], grid_radians_2d: np.ndarray,
                      chunk_size: int | str, method: str, eps: float,
                      fill: PointFiller = numpy_points) -> np.ndarray | None:
    """The precision operator (2Ny, 2Nx) by NUFFT."""
    if not chosen("nufft_precision_operator_from", method, eps,
                  len(noise_map_real), shape_masked_pixels_2d):
        return None
    problem = precision_operator_problem(np, noise_map_real, uv_wavelengths, shape_masked_pixels_2d,
                              grid_radians_2d, centred=True)
    return _lattice.nufft_precision_operator_via_w_compact_from(
        lattice_sum(problem, eps, chunk_size, fill).real)


def dirty_image_if_chosen(data: np.ndarray, noise_map: np.ndarray, uv_wavelengths: np.ndarray,
                          grid_radians_slim: np.ndarray, chunk_size: int | str, method: str,
                          eps: float, fill: PointFiller = numpy_points) -> np.ndarray | None:
    """The dirty image (M,) by NUFFT onto the bounding box of the pixels, for a grid on a
    lattice to within ``eps`` (:func:`autokern._shared.lattice.lattice_of`); off-lattice grids take
    the direct sums."""
    if not chosen("w_tilde_data_interferometer_from", method, eps, len(data),
                  extent_of(grid_radians_slim)):
        return None
    lattice = _lattice.lattice_of(grid_radians_slim, uv_wavelengths, eps)
    if lattice is None:
        return None
    box = lattice_sum(dirty_problem(np, data, noise_map, uv_wavelengths, lattice), eps,
                      chunk_size, fill)
    return np.ascontiguousarray(box[lattice.rows, lattice.cols].real)
