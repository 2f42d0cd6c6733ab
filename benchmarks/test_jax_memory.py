"""Peak memory of the JAX reductions over visibilities beyond their inputs, in fresh processes.

    pytest benchmarks/test_jax_memory.py --preset alma35 --benchmark-group-by=group
    AUTOKERN_BENCH_MEMORY_K=5000000 AUTOKERN_BENCH_MEMORY_EXTENT=100 \\
        pytest benchmarks/test_jax_memory.py --benchmark-group-by=group

Each case runs :mod:`autokern.jax._peak_memory` once in a fresh process: K synthetic
visibilities on a square extent of pixels (the preset's K and extent unless the two variables
above say otherwise), NumPy or JAX inputs, the direct sums or the NUFFT.  ``extra_info``
(``--benchmark-json`` keeps it) holds ``inputs_bytes`` (resident once the inputs exist and JAX
is up), ``peak_bytes``, ``overhead_bytes`` (peak - inputs: work space, compiled programs, any
copy of the inputs) and ``overhead_bytes_per_visibility``.  The chunk work space follows
``AUTOKERN_CHUNK_BUDGET_MB`` (default 256 MB), so at small K the compiled programs and one
chunk dominate; the tests (tests/test_jax_memory.py) check that nothing grows with K.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from autokern.data import datasets

pytest.importorskip("jax")


def _size(variable: str, default: int) -> int:
    return int(float(os.environ.get(variable) or default))


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
@pytest.mark.parametrize("inputs", ["numpy", "jax"])
@pytest.mark.parametrize("method", ["direct", "nufft"])
@pytest.mark.parametrize("kernel", ["w_compact", "dirty_image"])
def test_jax_reduction_peak_memory(benchmark, preset, kernel, method, inputs):
    if method == "nufft":
        pytest.importorskip("jax_finufft")
    sizes = datasets.PRESETS[preset].sizes()
    n_visibilities = _size("AUTOKERN_BENCH_MEMORY_K", sizes["K"])
    extent = _size("AUTOKERN_BENCH_MEMORY_EXTENT", max(sizes["Ny"], sizes["Nx"]))
    benchmark.group = f"JAX peak memory K={n_visibilities} extent={extent}"

    def measure():
        run = subprocess.run([sys.executable, "-m", "autokern.jax._peak_memory", kernel, method,
                              str(n_visibilities), str(extent), "--inputs", inputs],
                             capture_output=True, text=True, timeout=3600)
        assert run.returncode == 0, run.stderr[-4000:]
        return json.loads(run.stdout.strip().splitlines()[-1])

    memory = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(memory)
    benchmark.extra_info["overhead_bytes_per_visibility"] = \
        memory["overhead_bytes"] / n_visibilities
    assert memory["peak_bytes"] >= memory["inputs_bytes"] > 0
