"""The router: every choice of route a kernel makes, one inspectable function per decision,
calibrated by measurement where it is a cost model.

- :func:`nufft_route` — direct sums or a NUFFT for a reduction over visibilities
  (:func:`use_nufft` is its yes/no);
- :func:`curvature_route` — the sparse two-pass, the direct or the FFT curvature kernel
  (:func:`curvature_method` is its choice);
- :func:`jax_engine_route` — on the JAX backend, the CPU engine in a host callback or XLA's own
  code, by the platform.

Each returns a :class:`Route`: the choice and why.  :func:`autokern.explain` asks them for a
call without running it; which *backend* runs a kernel (the fallback when the chosen one lacks
it) is :func:`autokern.resolve_backend`'s.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from autokern.errors import InputValueError, MissingDependencyError


class Route(NamedTuple):
    """One routing decision: what was chosen and why (a sentence with the numbers it used)."""

    decision: str
    choice: str
    why: str

    def __str__(self) -> str:
        return f"{self.decision}: {self.choice} — {self.why}"


#: method name → catalogue kernel, for curvature_matrix_via_w_compact_from
CURVATURE_ROUTES: dict[str, str] = {
    "sparse": "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "direct": "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
    "fft": "curvature_matrix_via_w_compact_fft_from",
}

#: Seconds per unit of work of each route, fitted (relative least squares) to Numba medians on
#: the 2-core development machine at its default two threads (2026-11-30, after the direct
#: core's column relabelling; ``pytest benchmarks/test_methods.py -k curvature --preset P``):
#: sparse ~ M²·B gathers + M·B·S; direct ~ M²·B/2 (symmetric half) + M·B·S; fft ~
#: S·(4NyNx)·log₂(4NyNx).  Measured (sparse, direct, fft), ms: small 0.63, 0.70, 16; medium
#: 9.1, 5.6, 175; large 53, 25, 1 160; sma35 17, 9.8, 404; alma35 110, 37, 1 680; almahigh35
#: 703, 342, 6 734.  The fit is within 25 % from medium up (small's sub-millisecond times are
#: mostly overhead).  With B = 3 and S = 1 500 the FFT route is 20-47× slower at every science
#: geometry; direct wins from medium up (at small the two-pass route is 10 % ahead, 0.07 ms).
CURVATURE_SECONDS_PER_UNIT = {
    "sparse": (3.9e-11, 9.2e-10),
    "direct": (2.5e-11, 5.2e-10),
    "fft": (9.0e-10, 0.0),
}


def curvature_costs(image_pixels: int, source_pixels: int, mappings_per_pixel: int,
                    extent: tuple[int, int]) -> dict[str, float]:
    """Predicted seconds of each curvature route."""
    m, s, b = image_pixels, source_pixels, mappings_per_pixel
    box = 4 * extent[0] * extent[1]
    units = {
        "sparse": (m * m * b, m * b * s),
        "direct": (m * m * b / 2, m * b * s),
        "fft": (s * box * math.log2(max(box, 2)), 0.0),
    }
    return {k: sum(u * c for u, c in zip(units[k], CURVATURE_SECONDS_PER_UNIT[k], strict=True))
            for k in units}


def curvature_route(image_pixels: int, source_pixels: int, mappings_per_pixel: int,
                    extent: tuple[int, int], method: str = "auto") -> Route:
    """The curvature route: ``method`` when it names one, else the cheapest predicted."""
    costs = curvature_costs(image_pixels, source_pixels, mappings_per_pixel, extent)
    predicted = ", ".join(f"{k} {v * 1e3:.3g} ms" for k, v in costs.items())
    if method != "auto":
        return Route("curvature", method, f'method="{method}" asked for (predicted: {predicted})')
    choice = min(costs, key=costs.get)
    return Route("curvature", choice,
                 f"cheapest predicted for M={image_pixels}, S={source_pixels}, "
                 f"B={mappings_per_pixel}, extent {extent[0]}×{extent[1]}: {predicted}")


def curvature_method(image_pixels: int, source_pixels: int, mappings_per_pixel: int,
                     extent: tuple[int, int]) -> str:
    """The curvature route ``method="auto"`` takes: "sparse", "direct" or "fft"."""
    return curvature_route(image_pixels, source_pixels, mappings_per_pixel, extent).choice


#: The NUFFT costs ~1e-7 s per visibility (spreading) plus its FFT; Numba's direct lag sums
#: ~1.2e-9 s per visibility and lag (two GEMMs).  Measured crossovers (w-compact, Numba): at
#: extent 12 the direct sums win at every K, at extent 30 the NUFFT wins from K = 10⁴, at 60
#: and 120 from K = 10³ (extent 120, K = 10⁵: 16 ms vs 114 ms).  So "auto" takes the NUFFT when
#: Ny·Nx ≥ NUFFT_MIN_LAGS and K·Ny·Nx ≥ NUFFT_WORK_THRESHOLD.
NUFFT_MIN_LAGS = 400
NUFFT_WORK_THRESHOLD = 3.0e6


def nufft_route(kernel: str, method: str, eps: float, n_visibilities: int,
                extent: tuple[int, int], *, available: bool, min_eps: float = 0.0,
                library: str = "the NUFFT") -> Route:
    """Direct sums or a NUFFT for a reduction over visibilities: ``method`` "nufft" always (or
    an error naming the missing extra, or one for an ``eps`` below the ``min_eps`` that
    ``library`` reaches), "direct" never, "auto" when the library is ``available``, ``eps`` is
    reachable and K·Ny·Nx is past :data:`NUFFT_WORK_THRESHOLD`."""
    if method == "direct":
        return Route("reduction", "direct", 'method="direct" asked for')
    if method == "nufft":
        if not available:
            raise MissingDependencyError(
                f'{kernel}: method="nufft" needs the NUFFT extra: pip install "autokern[nufft]"')
        if not min_eps <= eps < 1e-1:
            raise InputValueError(
                f"{kernel}: eps must lie in [{min_eps:g}, 0.1) for the NUFFT ({library} cannot "
                f"reach below {min_eps:g} in double precision), got {eps:g}; use "
                'method="direct" for exact sums')
        return Route("reduction", "nufft", f'method="nufft" asked for ({library})')
    lags = extent[0] * extent[1]
    work = n_visibilities * lags
    if not available:
        return Route("reduction", "direct", f"{library} is not installed (the nufft extra)")
    if not min_eps <= eps < 1e-1:
        return Route("reduction", "direct", f"eps={eps:g} is below what {library} reaches "
                                            f"({min_eps:g})")
    if lags < NUFFT_MIN_LAGS or work < NUFFT_WORK_THRESHOLD:
        return Route("reduction", "direct",
                     f"Ny·Nx = {lags} (NUFFT from {NUFFT_MIN_LAGS}) and K·Ny·Nx = {work:.3g} "
                     f"(from {NUFFT_WORK_THRESHOLD:.0e}): the direct sums are cheaper")
    return Route("reduction", "nufft", f"{library}: Ny·Nx = {lags} ≥ {NUFFT_MIN_LAGS} and "
                                       f"K·Ny·Nx = {work:.3g} ≥ {NUFFT_WORK_THRESHOLD:.0e}")


def use_nufft(kernel: str, method: str, eps: float, n_visibilities: int,
              extent: tuple[int, int], *, available: bool, min_eps: float = 0.0,
              library: str = "the NUFFT") -> bool:
    """Whether a reduction runs as a NUFFT (:func:`nufft_route`'s choice)."""
    return nufft_route(kernel, method, eps, n_visibilities, extent, available=available,
                       min_eps=min_eps, library=library).choice == "nufft"


def jax_engine_route(platform: str) -> Route:
    """Where the JAX backend's direct curvature and its factorisations of F + H and H run: on
    the CPU, the CPU engines (:mod:`autokern._cpu`, Numba) in host callbacks — XLA has no
    counterpart of their contiguous lag-table segments (its gathers ~10× slower), and its
    LAPACK fights its own thread pool; on other platforms XLA's own code."""
    if platform == "cpu":
        return Route("jax engine", "cpu-engine",
                     "platform cpu: Numba's curvature and Cholesky in host callbacks "
                     "(differentiable by their own rules)")
    return Route("jax engine", "xla", f"platform {platform}: XLA's gathers and factorisations")
