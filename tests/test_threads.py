"""Thread control: ``autokern.threads`` / ``set_num_threads`` set Numba's, BLAS's and the
FFTs' threads together, and a sampler's one-likelihood-per-core workers do not slow each other
down (the performance issue: N processes × 1 thread within 1.3× of one process alone)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numba
import pytest
import threadpoolctl

import autokern
from autokern import _memory
from autokern.errors import ConfigurationError


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
            if pool["user_api"] == "blas"]


def test_threads_sets_every_pool_for_the_block_and_restores_them():
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, so threadpoolctl sees it)

    before = (numba.get_num_threads(), _memory.num_threads(), _blas_threads())
    with autokern.threads(1):
        assert numba.get_num_threads() == 1
        assert _memory.num_threads() == 1
        assert _blas_threads() and set(_blas_threads()) == {1}
    assert (numba.get_num_threads(), _memory.num_threads(), _blas_threads()) == before


@pytest.mark.parametrize("count", [0, -1, 1.5, True, "2"])
def test_a_bad_thread_count_is_refused(count):
    with pytest.raises(ConfigurationError, match="positive int"), autokern.threads(count):
        pass


_WORKER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import autokern
    from autokern import datasets, get_kernel

    autokern.set_num_threads(1)
    case = datasets.mock_case("medium", seed=3)
    mesh = case.mesh
    inversion = get_kernel("inversion_from", "numba")(case.value("visibility_terms"),
                                                      case.dataset.native_index_for_slim_index)
    result_from = get_kernel("inversion_result_from", "numba", checked=False)
    regularization = case.value("regularization_matrix")
    arguments = (inversion, mesh.pix_indexes_for_sub_slim_index,
                 mesh.pix_weights_for_sub_slim_index, regularization)
    result_from(*arguments)  # compile
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    times = []
    stop = time.perf_counter() + float(sys.argv[1])
    while time.perf_counter() < stop:
        start = time.perf_counter()
        result_from(*arguments)
        times.append(time.perf_counter() - start)
    print(np.median(times), flush=True)
""")


def _medians(processes: int, seconds: float) -> list[float]:
    """Per-call medians of ``processes`` single-thread workers run at the same time."""
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(seconds)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for _ in range(processes)]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        return [float(worker.communicate(timeout=300)[0].strip()) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()


def test_one_thread_workers_on_every_core_run_as_fast_as_one_alone():
    cores = len(os.sched_getaffinity(0))
    alone = _medians(1, 4.0)[0]
    together = _medians(cores, 4.0)
    assert max(together) <= 1.3 * alone, (alone, together)
