"""Parallelism: thread counts (autokern's, Numba's, BLAS's), Numba's fork-safe threading layer,
and what a forked child may not run.  The settings are ``AUTOKERN_NUM_THREADS`` and
``AUTOKERN_DETERMINISTIC`` (see :mod:`autokern._runtime.memory`)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from autokern._runtime.memory import positive_setting
from autokern.errors import ConfigurationError

#: the thread count set in code (set_num_threads / threads), over AUTOKERN_NUM_THREADS
_threads_in_code: int | None = None


def num_threads() -> int:
    """Threads for the CPU NUFFT and FFTs: the count set by :func:`set_num_threads` or
    :func:`threads`, else ``AUTOKERN_NUM_THREADS``, else every core."""
    if _threads_in_code is not None:
        return _threads_in_code
    return int(positive_setting("AUTOKERN_NUM_THREADS", os.cpu_count() or 1, integer=True))


def _checked_count(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigurationError(f"a thread count must be a positive int, got {n!r}")
    return n


#: the layer chosen, once per process (see :func:`choose_fork_safe_threading_layer`)
_layer_chosen: list[str] = []


def choose_fork_safe_threading_layer() -> str:
    """Numba's threading layer for autokern's parallel kernels, chosen before Numba starts its
    threads: TBB (the ``tbb`` wheel, a dependency on Linux x86-64) when it loads, so that a
    fork-based process pool (multiprocessing on Linux, a sampler's ``number_of_cores``) works
    after the parent ran a kernel.  GNU OpenMP, Numba's other thread-safe layer, makes every
    forked child abort ("fork() called from a process already using GNU OpenMP") and the pool
    hang; ``workqueue`` is fork-safe but refuses parallel kernels from two threads at once.

    A layer named in ``NUMBA_THREADING_LAYER`` is the user's choice and kept; so is the layer
    of a process whose Numba threads already started.  Returns the layer asked for.
    """
    if _layer_chosen:
        return _layer_chosen[0]
    import numba
    from numba.np.ufunc import parallel

    chosen = str(numba.config.THREADING_LAYER)
    if ("NUMBA_THREADING_LAYER" not in os.environ and not parallel._is_initialized
            and _load_tbb()):
        numba.config.THREADING_LAYER = chosen = "tbb"
    _layer_chosen.append(chosen)
    return chosen


def _load_tbb() -> bool:
    """Load the ``tbb`` wheel's libtbb process-wide, where Numba's TBB layer finds it.  pip puts
    it in the environment's ``lib/``, which the dynamic loader does not search (Numba's own
    advice, ``pip install tbb``, is not enough in a virtual environment)."""
    import ctypes
    from importlib import metadata

    try:
        files = metadata.files("tbb") or []
    except metadata.PackageNotFoundError:
        return False
    for file in files:
        if file.name in ("libtbb.so.12", "tbb12.dll"):
            try:
                ctypes.CDLL(str(file.locate()), mode=ctypes.RTLD_GLOBAL)
            except OSError:
                return False
            return True
    return False


#: backends that cannot run in this process because it was forked after they started: XLA
#: (JAX's CPU client) cannot compile in a forked child — its compiler's thread pool and locks
#: did not survive the fork, and JAX itself warns that fork deadlocks it
UNUSABLE_AFTER_FORK: set[str] = set()


def mark_unusable_after_fork(backend: str) -> None:
    """Record, in a forked child, that ``backend`` started in the parent and cannot run here."""
    UNUSABLE_AFTER_FORK.add(backend)


def _set_numba_threads(n: int) -> None:
    """Numba's count in the calling thread (its count is per thread): ``n``, at most its pool."""
    import numba

    choose_fork_safe_threading_layer()

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def _set_autokern_and_numba_threads(n: int) -> None:
    """The checked count ``n`` for autokern's FFTs/NUFFT and for Numba (at most its pool)."""
    global _threads_in_code

    _threads_in_code = _checked_count(n)
    _set_numba_threads(n)


_BLAS_CONTROLLER: list = []


def blas_counts() -> list[tuple[Any, int]]:
    """(threadpoolctl's controller, thread count) of each BLAS library loaded (NumPy's and
    SciPy's OpenBLAS: one process-wide count each)."""
    if not _BLAS_CONTROLLER:
        import threadpoolctl

        _BLAS_CONTROLLER.append(threadpoolctl.ThreadpoolController())
    libraries = _BLAS_CONTROLLER[0].select(user_api="blas").lib_controllers
    return [(library, library.num_threads) for library in libraries]


def set_blas_counts(counts: list[tuple[Any, int]]) -> None:
    """Set each library's count (from :func:`blas_counts`), from whichever thread calls.

    threadpoolctl (≥ 3.6) lets one Python thread at a time set OpenBLAS's process-wide count
    and silently ignores the others: after ``set_num_threads`` in the main thread, a
    ``threads(1)`` block in a worker thread (a threaded Dask scheduler, a thread-per-chain
    sampler) left BLAS on every core, and a restore made from another thread did nothing.
    autokern keeps its own bookkeeping under its locks, so it sets the count directly."""
    for library, count in counts:
        getattr(library, "_real_set_num_threads", library.set_num_threads)(count)


#: BLAS's counts are process-wide and two mechanisms set them: ``threads``/``set_num_threads``
#: (the caller's count) and :func:`one_blas_thread` sections (1 while any is open).  One lock
#: and one record: while a section is open, the caller's count is kept in ``_counts_outside``
#: and applied when the last section closes (each mechanism saving and restoring the real
#: counts on its own left BLAS on one thread for good when their blocks interleaved)
_blas_lock = threading.Lock()
_open_sections = 0
_counts_outside: list[tuple[Any, int]] = []


def _wanted_blas_counts() -> list[tuple[Any, int]]:
    """The counts BLAS has outside one-thread sections (call under ``_blas_lock``)."""
    return _counts_outside if _open_sections else blas_counts()


def _set_wanted_blas_counts(counts: list[tuple[Any, int]]) -> None:
    """Set the counts outside one-thread sections: now, or when the last open one closes
    (call under ``_blas_lock``)."""
    global _counts_outside
    if _open_sections:
        _counts_outside = counts
    else:
        set_blas_counts(counts)


def _set_blas_threads(n: int) -> None:
    with _blas_lock:
        _set_wanted_blas_counts([(library, n) for library, _ in blas_counts()])


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS/LAPACK on one thread while any caller, in any thread, is inside: the first to
    enter sets 1, the last to leave sets the counts wanted outside (those from before, or what
    ``set_num_threads``/``threads`` asked for meanwhile).  threadpoolctl's ``limit`` saves and
    restores per call, so two Python threads whose calls overlap (A in, B in, A out, B out)
    left BLAS on one thread for good."""
    global _open_sections, _counts_outside
    with _blas_lock:
        if _open_sections == 0:
            _counts_outside = blas_counts()
            set_blas_counts([(library, 1) for library, _ in _counts_outside])
        _open_sections += 1
    try:
        yield
    finally:
        with _blas_lock:
            _open_sections -= 1
            if _open_sections == 0:
                set_blas_counts(_counts_outside)
                _counts_outside = []


def set_num_threads(n: int) -> None:
    """Run autokern's CPU work on ``n`` threads from now on: Numba's parallel kernels, the
    NUFFT (ducc0), SciPy's FFTs, and BLAS/LAPACK (through threadpoolctl, for the whole
    process).  A sampler running one likelihood per core wants ``set_num_threads(1)`` in each
    worker: BLAS's and Numba's own threads would otherwise compete for the same cores.

    The JAX backend's thread pool is fixed when JAX starts: set ``XLA_FLAGS`` (e.g.
    ``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``) before importing
    JAX instead.
    """
    import threadpoolctl

    _set_autokern_and_numba_threads(n)
    threadpoolctl.threadpool_limits(n, user_api="openmp")
    _set_blas_threads(n)


#: ``threads()`` blocks open in any thread, and what to restore when the last one closes:
#: autokern's count and the BLAS limiter (BLAS and autokern's count are process-wide, so blocks
#: entered concurrently from several threads — a threaded Dask scheduler — restore once, at
#: the end, instead of each restoring what another had just set)
_blocks_lock = threading.Lock()
_open_blocks = 0
_saved: tuple[int | None, Any, list] | None = None
_per_thread = threading.local()


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """``with autokern.threads(1): ...`` — :func:`set_num_threads` for the block, the previous
    counts (autokern's, Numba's, BLAS's) restored after it.  Blocks nest; blocks open at once
    in several threads share the process-wide counts (the last entered sets them) and the
    counts from before the first are restored when the last closes."""
    global _threads_in_code, _open_blocks, _saved
    import numba
    import threadpoolctl

    n = _checked_count(n)
    stack = _per_thread.__dict__.setdefault("stack", [])
    choose_fork_safe_threading_layer()
    previous_numba = numba.get_num_threads()  # Numba's count is per thread
    with _blocks_lock:
        limiter = threadpoolctl.threadpool_limits(n, user_api="openmp")
        if _open_blocks == 0:
            with _blas_lock:
                _saved = (_threads_in_code, limiter, _wanted_blas_counts())
        _set_blas_threads(n)
        _open_blocks += 1
        _threads_in_code = n
    _set_numba_threads(n)
    stack.append(n)
    try:
        yield
    finally:
        stack.pop()
        numba.set_num_threads(previous_numba)
        with _blocks_lock:
            _open_blocks -= 1
            if _open_blocks == 0:
                (_threads_in_code, first_limiter, blas), _saved = _saved, None
                first_limiter.restore_original_limits()
                with _blas_lock:
                    _set_wanted_blas_counts(blas)
            elif stack:  # this thread's enclosing block is still open: its count again
                _threads_in_code = stack[-1]
                threadpoolctl.threadpool_limits(stack[-1], user_api="openmp")
                _set_blas_threads(stack[-1])


@contextlib.contextmanager
def numba_threads_here() -> Iterator[None]:
    """Numba on :func:`num_threads` in the calling thread for the block, its count restored
    after.  Numba's count is per thread: a callback on another library's thread (XLA's) would
    otherwise run on Numba's default, every core, whatever :func:`set_num_threads` said."""
    import numba

    choose_fork_safe_threading_layer()
    previous = numba.get_num_threads()
    _set_numba_threads(num_threads())
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def deterministic() -> bool:
    """Whether bitwise-reproducible results were asked for (``AUTOKERN_DETERMINISTIC``)."""
    raw = os.environ.get("AUTOKERN_DETERMINISTIC", "").strip()
    if raw not in ("", "0", "1"):
        raise ConfigurationError(f"environment variable AUTOKERN_DETERMINISTIC must be 0 or 1, "
                                 f"got {raw!r}")
    return raw == "1"


def check_thread_settings() -> None:
    """Read ``AUTOKERN_NUM_THREADS`` and ``AUTOKERN_DETERMINISTIC`` now (two environment
    reads): the public edge calls this first, so a bad value is the same ConfigurationError on
    every backend before any compiled code runs.  Read only where used, the JAX backend met it
    inside an XLA callback (a JaxRuntimeError) and a kernel that does not use it let it pass."""
    if _threads_in_code is None:  # as num_threads(), less its default's os.cpu_count() (6 µs)
        positive_setting("AUTOKERN_NUM_THREADS", 1, integer=True)
    deterministic()


def nufft_threads() -> int:
    """Threads for the CPU NUFFT: one when :func:`deterministic`, else :func:`num_threads`."""
    return 1 if deterministic() else num_threads()
