"""A lens-light likelihood's per-call cost does not depend on K (issue 27 item 3).

    pytest benchmarks/test_lens_light.py --benchmark-group-by=group

One mask and source (the ``sma35`` geometry: M = 3 852, extent 70², S = 1 500) with K = 10⁵ and
10⁶ mock visibilities.  The inversion of each dataset is built once (``visibility_terms_from``,
by the NUFFT); each timed call is what a sampler does for a new lens-light model: subtract a
parametric image (``light_subtracted_inversion_from``: W̃ I by one FFT convolution, two dot
products) and evaluate the evidence with three linear light profiles solved jointly with the
source (``inversion_result_from(..., linear_light_images=)``), on the Numba backend.  Nothing
in the call reads the visibilities, so the two K give the same time;
``test_per_call_time_does_not_grow_with_K`` checks it (best of 7 calls within 1.5×, where a
pass over the visibilities would make K = 10⁶ ten times K = 10⁵'s).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from autokern import get_kernel
from autokern.data import datasets, testing

GEOMETRY = "sma35"
K_VALUES = (100_000, 1_000_000)
BACKEND = "numba"

_SETUPS: dict[int, tuple] = {}


def _setup(n_visibilities: int) -> tuple:
    """(inversion, call) for a dataset of ``n_visibilities`` at the fixed geometry."""
    if n_visibilities not in _SETUPS:
        preset = dataclasses.replace(datasets.PRESETS[GEOMETRY], visibilities=n_visibilities)
        case = testing.mock_case(preset, seed=0)
        ds, mesh = case.dataset, case.mesh
        terms = get_kernel("visibility_terms_from", BACKEND)(
            ds.data, ds.noise_map, ds.uv_wavelengths, ds.grid_radians_slim,
            ds.native_index_for_slim_index, ds.pixel_scale, method="nufft")
        inversion = get_kernel("inversion_from", BACKEND)(terms, ds.native_index_for_slim_index)
        grid = ds.grid_radians_slim
        radius = np.hypot(*(grid - grid.mean(axis=0)).T) / np.ptp(grid[:, 0])
        image = 0.01 * np.exp(-radius / 0.05)  # a cuspy parametric lens light
        columns = np.stack([np.exp(-0.5 * (radius / width) ** 2) for width in (0.02, 0.05, 0.1)],
                           axis=1)
        regularization = get_kernel("constant_regularization_matrix_from", BACKEND)(
            1.0, mesh.neighbors, mesh.neighbors_sizes)
        subtract = get_kernel("light_subtracted_inversion_from", BACKEND)
        result_of = get_kernel("inversion_result_from", BACKEND)

        def call():
            return result_of(subtract(inversion, image), mesh.pix_indexes_for_sub_slim_index,
                             mesh.pix_weights_for_sub_slim_index, regularization,
                             linear_light_images=columns)

        _SETUPS[n_visibilities] = (inversion, call)
    return _SETUPS[n_visibilities]


@pytest.mark.parametrize("n_visibilities", K_VALUES, ids=[f"K={k:.0e}" for k in K_VALUES])
def test_lens_light_call(benchmark, n_visibilities):
    benchmark.group = f"lens light per call, {GEOMETRY} geometry, {BACKEND}"
    inversion, call = _setup(n_visibilities)
    assert inversion.n_visibilities == n_visibilities
    result = benchmark(call)
    assert np.isfinite(result.log_evidence)


def _best(call, repeats=7) -> float:
    call()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def test_per_call_time_does_not_grow_with_K():
    times = {k: _best(_setup(k)[1]) for k in K_VALUES}
    print(f"\nlens light per call ({GEOMETRY} geometry, {BACKEND}): "
          + ", ".join(f"K = {k:.0e}: {1e3 * t:.1f} ms" for k, t in times.items()))
    assert times[K_VALUES[1]] <= 1.5 * times[K_VALUES[0]], times
