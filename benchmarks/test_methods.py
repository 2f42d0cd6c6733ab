"""Route against route: direct sums vs NUFFT for w-compact, and the curvature routes.

    pytest benchmarks/test_methods.py                       # Numba, K up to 10⁵
    AUTOKERN_BENCH_MAX_K=1000000 pytest benchmarks/test_methods.py -k w_compact

Groups ``w_compact_extent_<N>`` time w-compact by ``method="direct"`` and ``method="nufft"``
over K ∈ {10³, 10⁴, 10⁵, 10⁶} (capped by ``AUTOKERN_BENCH_MAX_K``, default 10⁵) at extents 60
and 120; group ``curvature_<preset>`` times the sparse, direct and FFT curvature routes at
the ``--preset`` and records which one ``method="auto"`` picks.  These timings calibrate
:mod:`autokern.cost`.
"""

import os

import numpy as np
import pytest

from autokern import get_kernel
from autokern._runtime import routes
from autokern.apps import bench

MAX_K = int(os.environ.get("AUTOKERN_BENCH_MAX_K", 100_000))
VISIBILITIES = [k for k in (10**3, 10**4, 10**5, 10**6) if k <= MAX_K]


def _uv(n_visibilities: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.uniform(-1e6, 1e6, size=(n_visibilities, 2)),
            rng.uniform(0.5, 1.5, size=n_visibilities))


@pytest.mark.parametrize("method", ["direct", "nufft"])
@pytest.mark.parametrize("n_visibilities", VISIBILITIES)
@pytest.mark.parametrize("extent", [60, 120])
def test_w_compact_direct_vs_nufft(benchmark, extent, n_visibilities, method):
    benchmark.group = f"w_compact_extent_{extent}"
    uv_wavelengths, sigma = _uv(n_visibilities)
    fn = get_kernel("w_compact_curvature_interferometer_from", "numba")

    def run():
        return fn((extent, extent), sigma, uv_wavelengths, 0.05, method=method)

    first_call_s, result = bench.timed(run)
    benchmark.extra_info.update(first_call_s=first_call_s, K=n_visibilities)
    benchmark.pedantic(run, rounds=bench.repeats_for(first_call_s), iterations=1)
    if method == "nufft":
        direct = fn((extent, extent), sigma, uv_wavelengths, 0.05, method="direct")
        assert bench.relative_difference(result, direct) <= 1e-11


@pytest.mark.parametrize("method", ["sparse", "direct", "fft"])
def test_curvature_routes(benchmark, case, preset, method):
    benchmark.group = f"curvature_{preset}"
    fn = get_kernel("curvature_matrix_via_w_compact_from", "numba")
    arguments = case.arguments(fn.kernel)
    extent = case.dataset.shape_masked_pixels_2d
    benchmark.extra_info["auto_picks"] = routes.curvature_method(
        len(arguments["native_index_for_slim_index"]), arguments["pixels"],
        arguments["pix_indexes_for_sub_slim_index"].shape[1], extent)
    first_call_s, _ = bench.timed(lambda: fn(**arguments, method=method))
    benchmark.extra_info["first_call_s"] = first_call_s
    benchmark.pedantic(lambda: fn(**arguments, method=method),
                       rounds=bench.repeats_for(first_call_s), iterations=1)

