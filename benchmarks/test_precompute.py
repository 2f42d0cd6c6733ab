"""The once-per-dataset precompute against its floor: the raw ducc0 NUFFTs it is made of.

    pytest benchmarks/test_precompute.py --preset almahigh35 --benchmark-group-by=group

``visibility_terms_from`` (w-compact, the dirty image, Σ (V/σ)², the noise normalization) by
the NUFFT route, against ducc0's ``nu2u`` alone on the same points, strengths, grids and
tolerance — the two type-1 transforms autokern runs (w-compact on the box (2Ny-1, 2Nx-1)
centred on lag 0, which needs no mode shift; the dirty image on (Ny, Nx)) with their
coordinates and strengths prepared outside the timing (by the same ``nufft_points.fill_points``), in
one call each.  The ratio is what autokern
adds to the floor of this method.  Threads: ducc0 and Numba use every core (state yours with
``AUTOKERN_NUM_THREADS``).  ``test_precompute_peak_memory`` runs it once in a fresh process and
records the peak resident memory (``VmHWM``, restarted once the inputs are in memory) and the
inputs' share in ``extra_info`` (``--benchmark-json`` keeps them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from autokern import get_kernel
from autokern._cpu import nufft as _nufft
from autokern._cpu import nufft_points
from autokern._runtime import parallelism
from autokern._shared import lattice as _lattice
from autokern._shared.lattice import DEFAULT_EPS

ducc0 = pytest.importorskip("ducc0")


def _arguments(case):
    ds = case.dataset
    return (ds.data, ds.noise_map, ds.uv_wavelengths, ds.grid_radians_slim,
            ds.native_index_for_slim_index, ds.pixel_scale)


def test_precompute_autokern(benchmark, case):
    benchmark.group = f"precompute {case.name}"
    terms_from = get_kernel("visibility_terms_from", "numba")
    terms = benchmark(terms_from, *_arguments(case), method="nufft")
    assert terms.n_visibilities == len(case.dataset.data)


def test_precompute_ducc0_floor(benchmark, case):
    benchmark.group = f"precompute {case.name}"
    ds = case.dataset
    lattice = _lattice.lattice_of(ds.grid_radians_slim, ds.uv_wavelengths, DEFAULT_EPS)
    problems = [
        _nufft.w_compact_problem(np, ds.shape_masked_pixels_2d, ds.noise_map_real,
                                 ds.uv_wavelengths, ds.pixel_scale, centred=True),
        _nufft.dirty_problem(np, ds.data, ds.noise_map, ds.uv_wavelengths, lattice),
    ]
    prepared = []
    for problem in problems:
        n = len(problem.uv_wavelengths)
        values, coord = np.empty(n, dtype=np.complex128), np.empty((n, 2))
        nufft_points.fill_points(problem, slice(None), values, coord)
        prepared.append((values, coord, np.empty(problem.shape, dtype=np.complex128)))
    threads = parallelism.nufft_threads()

    def floor():
        for values, coord, out in prepared:
            ducc0.nufft.nu2u(points=values, coord=coord, forward=False, epsilon=DEFAULT_EPS,
                             nthreads=threads, out=out)

    benchmark(floor)


_PEAK_SCRIPT = """
import json, sys
from autokern import get_kernel, testing

def status(key):
    return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) * 1024

ds = testing.mock_case(sys.argv[1]).dataset
arguments = (ds.data, ds.noise_map, ds.uv_wavelengths, ds.grid_radians_slim,
             ds.native_index_for_slim_index, ds.pixel_scale)
inputs = status("VmRSS")
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")  # the peak (VmHWM) restarts from the current resident size
get_kernel("visibility_terms_from", "numba")(*arguments, method="nufft")
print(json.dumps({"inputs_bytes": inputs, "peak_bytes": status("VmHWM")}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
def test_precompute_peak_memory(benchmark, case):
    """Peak resident memory of the precompute, in a fresh process (inputs included), in
    ``extra_info``: ``peak_bytes`` and ``inputs_bytes``."""
    benchmark.group = f"precompute {case.name}"

    def measure():
        run = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, case.name],
                             capture_output=True, text=True, timeout=600, check=True)
        return json.loads(run.stdout.strip().splitlines()[-1])

    memory = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(memory)
    assert memory["peak_bytes"] >= memory["inputs_bytes"] > 0
