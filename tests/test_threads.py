"""Thread control: ``autokern.threads`` / ``set_num_threads`` set Numba's, BLAS's and the
FFTs' threads together, and a sampler's one-likelihood-per-core workers do not slow each other
down (the performance issue: N processes × 1 thread within 1.3× of one process alone)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable

import numba
import pytest
import threadpoolctl

import autokern
from autokern._runtime import parallelism
from autokern.errors import ConfigurationError


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
            if pool["user_api"] == "blas"]


def test_threads_sets_every_pool_for_the_block_and_restores_them():
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, so threadpoolctl sees it)

    before = (numba.get_num_threads(), parallelism.num_threads(), _blas_threads())
    with autokern.threads(1):
        assert numba.get_num_threads() == 1
        assert parallelism.num_threads() == 1
        assert _blas_threads() and set(_blas_threads()) == {1}
    assert (numba.get_num_threads(), parallelism.num_threads(), _blas_threads()) == before


@pytest.mark.parametrize("count", [0, -1, 1.5, True, "2"])
def test_a_bad_thread_count_is_refused(count):
    with pytest.raises(ConfigurationError, match="positive int"), autokern.threads(count):
        pass


_WORKER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import autokern
    from autokern import get_kernel, testing

    autokern.set_num_threads(1)
    case = testing.mock_case("medium", seed=3)
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


def test_blocks_open_at_once_in_two_threads_restore_the_counts_from_before_the_first():
    # A threaded Dask scheduler runs chunk tasks, each in `threads(n)`, side by side: A enters,
    # B enters, A leaves, B leaves.  Restoring what each block saw on entry left B's count set
    # for the rest of the process; the counts from before A must come back.
    import threading

    import threadpoolctl


    def blas_threads():
        return [p["num_threads"] for p in threadpoolctl.threadpool_info()]

    before, blas_before = parallelism._threads_in_code, blas_threads()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    inside_b_after_a_left = []

    def first():
        with autokern.threads(1):
            a_in.set()
            b_in.wait()
        a_out.set()

    def second():
        a_in.wait()
        with autokern.threads(1):
            b_in.set()
            a_out.wait()
            inside_b_after_a_left.append(parallelism.num_threads())

    workers = [threading.Thread(target=first), threading.Thread(target=second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert inside_b_after_a_left == [1]  # B's block still holds the count
    assert parallelism._threads_in_code == before
    assert blas_threads() == blas_before


def test_nested_blocks_in_one_thread_restore_the_enclosing_count():

    with autokern.threads(2):
        with autokern.threads(1):
            assert parallelism.num_threads() == 1
        assert parallelism.num_threads() == 2


def test_evidence_on_one_blas_thread_from_overlapping_threads_restores_blas():
    """Two Python threads whose evidence calls overlap: BLAS is on one thread inside every call
    and back on its count once the calls are done (threadpoolctl's per-call limit had left it
    on one thread for good in about one run of ten)."""
    import threading

    import numpy as np
    import scipy.linalg

    from autokern._shared import evidence

    controller = threadpoolctl.ThreadpoolController()

    def counts():
        return [library.num_threads for library in
                controller.select(user_api="blas").lib_controllers]

    matrix = np.eye(200) * 2.0
    inside: list[list[int]] = []
    call = evidence.on_one_blas_thread(
        lambda: (inside.append(counts()), scipy.linalg.cholesky(matrix)))

    def work():
        for _ in range(200):
            call()

    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = counts()
        for _ in range(10):
            workers = [threading.Thread(target=work) for _ in range(2)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            call()  # a restore OpenBLAS did not take is made again when a call leaves
            assert counts() == before
    assert all(seen == [1] * len(before) for seen in inside)


def test_a_worker_threads_block_limits_blas_after_set_num_threads_in_the_main_thread():
    """threadpoolctl lets one Python thread at a time set OpenBLAS's count and ignores the
    others: after ``set_num_threads`` in the main thread, a ``threads(1)`` block in a worker
    thread (a threaded Dask scheduler) left BLAS on two threads.  Its own process: the counts
    are process-wide."""
    script = textwrap.dedent("""
        import json, threading
        import numpy, scipy.linalg, threadpoolctl
        import autokern

        controller = threadpoolctl.ThreadpoolController()

        def counts():
            return sorted({library.num_threads for library in
                           controller.select(user_api="blas").lib_controllers})

        autokern.set_num_threads(2)
        seen = []

        def work():
            with autokern.threads(1):
                seen.append(counts())

        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        print(json.dumps([counts(), seen, counts()]))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[[2], [[1]], [2]]"


def _held(context) -> Callable[[], None]:
    """``context`` entered in a new thread (returns once it is in); the returned function
    leaves it and waits for the thread."""
    entered, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with context:
            entered.set()
            leave.wait()

    worker = threading.Thread(target=hold)
    worker.start()
    entered.wait()

    def release() -> None:
        leave.set()
        worker.join()

    return release


@pytest.mark.parametrize("section_first", [True, False], ids=["section-first", "block-first"])
@pytest.mark.parametrize(("before", "block"), [(2, 1), (1, 2)])
def test_a_threads_block_and_a_one_blas_thread_section_interleaved(section_first, before,
                                                                    block):
    """A ``threads(n)`` block and the evidence's one-BLAS-thread section, in two threads,
    entered and left interleaved (A in, B in, A out, B out): BLAS is on one thread while the
    section is open, on the block's count while only the block is, and back where it was after
    both.  Each saving and restoring the real counts on its own had left the section's 1 (or
    the block's count) in place for good."""
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, so threadpoolctl sees it)

    def counts() -> set[int]:
        return set(_blas_threads())

    with threadpoolctl.threadpool_limits(before, user_api="blas"):
        assert counts() == {before}
        contexts = [parallelism.one_blas_thread(), autokern.threads(block)]
        if not section_first:
            contexts.reverse()
        seen = []
        leave_first = _held(contexts[0])
        seen.append(counts())
        leave_second = _held(contexts[1])
        seen.append(counts())
        leave_first()
        seen.append(counts())
        leave_second()
        seen.append(counts())
    expected = ([{1}, {1}, {block}, {before}] if section_first
                else [{block}, {1}, {1}, {before}])
    assert seen == expected
