"""Visibility terms over a Dask collection of chunks, reduced as a tree on any Dask scheduler.

Survey-scale data (files × row ranges × channels) is a collection of chunks, each a
``(data, noise_map, uv_wavelengths)`` triple small enough for one worker.  Each chunk becomes one
task computing ``visibility_terms_from`` (see :mod:`autokern.terms`); the small
:class:`~autokern.terms.VisibilityTerms` of the chunks are then added in a tree of fan-in
``split_every``, so no task receives more than ``split_every`` of them and the graph is
``ceil(log_split_every(n))`` additions deep.  The grid and pixel index are one task each,
shared by every chunk task (not copied into each)::

    from functools import partial
    from autokern import dask as akd
    from autokern.io import measurement_set_parts, read_measurement_set_part

    chunks = akd.delayed_chunks(partial(read_measurement_set_part, data_column="DATA"),
                                measurement_set_parts(path, chunk_rows=1_000_000))
    with akd.local_client(n_workers=2) as client:
        terms = akd.compute_visibility_terms(chunks, grid_radians_slim,
                                             native_index_for_slim_index, pixel_scale)

The order of the additions is fixed by the graph, so a result does not depend on the scheduler
or on which worker finished first.

Dask is optional (``pip install "autokern[ms]"``): this module imports without it, and its
functions raise :class:`~autokern.errors.MissingDependencyError` on first use.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import operator
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from autokern._api.dispatch import get_kernel, resolve_backend
from autokern._runtime.parallelism import threads as autokern_threads
from autokern._shared.visibility_terms import VisibilityTerms
from autokern.errors import (
    AutokernError,
    InputShapeError,
    InputTypeError,
    InputValueError,
    optional_module,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from distributed import Client

__all__ = [
    "ClusterRun",
    "chunks_from_arrays",
    "compute_visibility_terms",
    "delayed_chunks",
    "local_client",
    "main",
    "run_on_local_cluster",
    "synthetic_chunks",
    "tree_sum",
    "visibility_terms_from_dask",
]

_KERNEL = "visibility_terms_from"
_PREFIX = "visibility-terms"


def _require(module: str) -> ModuleType:
    """``module`` (``dask``, ``dask.bag``, ``distributed`` …), or a clear error naming the extra."""
    return optional_module(
        module, f"autokern.dask needs {module.split('.')[0]} (Dask with its distributed "
        'scheduler), which is not installed: pip install "autokern[ms]"')


# ----------------------------------------------------------------------------------------------
# Tasks: module-level functions, so workers unpickle them by reference


def _unpacked(chunk: Any, where: str) -> tuple[Any, Any, Any]:
    if not isinstance(chunk, (tuple, list)) or len(chunk) != 3:
        raise InputTypeError(
            f"visibility_terms_from_dask: {where} must be a (data, noise_map, uv_wavelengths) "
            f"tuple, got {type(chunk).__name__}"
            + (f" of length {len(chunk)}" if isinstance(chunk, (tuple, list)) else "")
        )
    return chunk[0], chunk[1], chunk[2]


def _terms_of(chunk: Any, where: str, grid_radians_slim: Any, native_index_for_slim_index: Any,
              pixel_scale: float, backend: str, threads: int | None,
              options: dict[str, Any]) -> VisibilityTerms | None:
    data, noise_map, uv_wavelengths = _unpacked(chunk, where)
    if all(len(array) == 0 for array in (data, noise_map, uv_wavelengths)):
        return None  # e.g. an MS part whose rows are all flagged: it adds nothing
    kernel = get_kernel(_KERNEL, backend)  # imports the backend once per worker process
    try:
        with contextlib.nullcontext() if threads is None else autokern_threads(threads):
            return kernel(data, noise_map, uv_wavelengths, grid_radians_slim,
                          native_index_for_slim_index, pixel_scale, **options)
    except AutokernError as error:
        # a worker's traceback does not say which chunk it was given: the message does
        raise type(error)(f"{where}: {error}") from error


def _chunk_terms(chunk: Any, index: int, *args: Any) -> VisibilityTerms | None:
    return _terms_of(chunk, f"chunk {index}", *args)


def _partition_terms(partition: Iterable[Any], index: int, *args: Any) -> VisibilityTerms | None:
    """The summed terms of one Bag partition's chunks, None when they are all empty."""
    total = None
    for position, chunk in enumerate(partition):
        total = _sum_terms(total, _terms_of(chunk, f"partition {index}, chunk {position}", *args))
    return total


def _sum_terms(*terms: VisibilityTerms | None) -> VisibilityTerms | None:
    present = [t for t in terms if t is not None]
    return functools.reduce(operator.add, present) if present else None


def _total(*terms: VisibilityTerms | None) -> VisibilityTerms:
    total = _sum_terms(*terms)
    if total is None:
        raise InputValueError("visibility_terms_from_dask: the chunks hold no visibilities "
                              "(every chunk, or every partition of the bag, is empty)")
    return total


# ----------------------------------------------------------------------------------------------
# Graph construction


def _checked_split_every(split_every: int) -> int:
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise InputValueError(
            f"visibility_terms_from_dask: split_every must be an int >= 2 (the fan-in of the "
            f"tree of additions), got {split_every!r}"
        )
    return split_every


def tree_sum(terms: Sequence[Any], *, split_every: int = 8, name: str | None = None) -> Delayed:
    """The sum of delayed :class:`~autokern.terms.VisibilityTerms`, as a tree of additions.

    Parameters
    ----------
    terms : sequence of Delayed (or distributed Futures), length n >= 1
        Each evaluates to a VisibilityTerms, or None (an empty chunk), which adds nothing.
    split_every : int
        Fan-in: each addition task takes at most this many inputs (>= 2).
    name : str, optional
        Prefix of the task keys (a token of the inputs when None).

    Returns
    -------
    Delayed
        One VisibilityTerms; ``ceil(log_split_every(n))`` levels of additions deep (one for
        n <= split_every, a single addition over a single input for n = 1).  Adding terms of
        different images raises the VisibilityTerms ``ValueError`` when computed.
    """
    dask = _require("dask")
    split_every = _checked_split_every(split_every)
    nodes = list(terms)
    if not nodes:
        raise InputValueError("tree_sum: no terms to add")
    if name is None:
        name = f"{_PREFIX}-sum-" + dask.base.tokenize([_key_of(node) for node in nodes])
    add = dask.delayed(_sum_terms, pure=True)
    level = 0
    while len(nodes) > split_every:
        level += 1
        nodes = [add(*nodes[start:start + split_every],
                     dask_key_name=f"{name}-level{level}-{start // split_every}")
                 for start in range(0, len(nodes), split_every)]
    return dask.delayed(_total, pure=True)(*nodes, dask_key_name=name)


def _key_of(node: Any) -> Any:
    return getattr(node, "key", None) or id(node)


def _shared(value: Any, what: str) -> Any:
    """One graph node for an argument every chunk task reads: Delayed and Futures as they are,
    anything else wrapped once, keyed by its content."""
    dask = _require("dask")
    if isinstance(value, _require("dask.delayed").Delayed) or _is_future(value):
        return value
    return dask.delayed(value, name=f"{_PREFIX}-{what}-{dask.base.tokenize(value)}")


def _check_geometry(grid_radians_slim: Any, native_index_for_slim_index: Any) -> None:
    """Shapes of in-memory geometry, checked on the client so that a mistake fails before any
    task runs (values are checked by the kernel on the workers)."""
    shapes = {name: getattr(value, "shape", None) for name, value in (
        ("grid_radians_slim", grid_radians_slim),
        ("native_index_for_slim_index", native_index_for_slim_index))}
    for name, shape in shapes.items():
        if shape is not None and (len(shape) != 2 or shape[1] != 2):
            raise InputShapeError(f"visibility_terms_from_dask: {name} must be (M, 2), got "
                                  f"{tuple(shape)}")
    grid, native = shapes.values()
    if grid is not None and native is not None and grid[0] != native[0]:
        raise InputShapeError(
            f"visibility_terms_from_dask: grid_radians_slim {tuple(grid)} and "
            f"native_index_for_slim_index {tuple(native)} must have the same M"
        )


def _check_options(backend: str, options: dict[str, Any]) -> None:
    keywords = [name for name, parameter in
                inspect.signature(get_kernel(_KERNEL, backend)).parameters.items()
                if parameter.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(keywords))
    if unknown:
        raise InputTypeError(f"visibility_terms_from_dask: unknown option(s) {unknown}; "
                             f"{_KERNEL} takes {keywords}")


def _checked_threads(threads: int | None) -> int | None:
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise InputValueError(f"visibility_terms_from_dask: threads must be a positive int or "
                              f"None, got {threads!r}")
    return threads


def visibility_terms_from_dask(chunks: Any, grid_radians_slim: Any,
                               native_index_for_slim_index: Any, pixel_scale: float, *,
                               backend: str | None = "numba", split_every: int = 8,
                               threads: int | None = None, **options: Any) -> Delayed:
    """The :class:`~autokern.terms.VisibilityTerms` of a Dask collection of chunks, lazily.

    One task per chunk computes ``visibility_terms_from`` (``backend``), then a tree of
    additions of fan-in ``split_every`` (:func:`tree_sum`) sums the terms.

    Parameters
    ----------
    chunks : sequence of Delayed, or dask.bag.Bag
        Each Delayed (or distributed Future, or in-memory tuple) evaluates to a chunk
        ``(data, noise_map, uv_wavelengths)``: (K_i,) complex128 visibilities and their noise
        (Jy), (K_i, 2) float64 (u, v) in wavelengths; an empty chunk (K_i = 0, e.g. all
        flagged) adds nothing.  A Bag's elements are such chunks; each partition becomes one
        task.  Make them with :func:`delayed_chunks` or :func:`chunks_from_arrays`.
    grid_radians_slim : (M, 2) float64
        (y, x) of the unmasked pixels, radians.  Passed to the graph once (one task shared by
        every chunk task): on distributed it is sent to each worker once.  May also be a
        Delayed, or a Future from ``client.scatter(grid, broadcast=True)``.
    native_index_for_slim_index : (M, 2) int64
        (row, col) of the unmasked pixels; shared like the grid.
    pixel_scale : float
        Arcsec per pixel.
    backend : str or None
        The kernels' backend, resolved here on the client (None: ``DEFAULT_JIT`` of this
        process, not the workers').  Numba by default: a fresh worker process loads its
        compiled kernels from Numba's disk cache, whereas JAX compiles them again in every
        worker and for every distinct chunk length.
    split_every : int
        Fan-in of the tree of additions (>= 2).
    threads : int, optional
        Threads for each chunk's kernels (``autokern.threads(threads)`` around the task);
        None leaves the workers' settings.  With several tasks running at once in one
        process, give them all the same count (the counts are process-wide).
    **options
        ``chunk_size``, ``method``, ``eps`` of ``visibility_terms_from``.

    Returns
    -------
    Delayed
        One VisibilityTerms: w_compact (Ny, 2Nx-1), dirty_image (M,), data_chi_squared,
        noise_normalization and n_visibilities summed over every chunk.  A bad chunk raises the
        kernel's error (its message naming the chunk) when computed; terms of different images
        raise the VisibilityTerms ``ValueError``.
    """
    dask = _require("dask")
    split_every = _checked_split_every(split_every)
    threads = _checked_threads(threads)
    backend = resolve_backend(_KERNEL, backend)
    _check_options(backend, options)
    _check_geometry(grid_radians_slim, native_index_for_slim_index)
    grid = _shared(grid_radians_slim, "grid")
    native = _shared(native_index_for_slim_index, "native-index")
    shared_args = (grid, native, float(pixel_scale), backend, threads, dict(options))

    if _is_bag(chunks):
        parts, task = chunks.to_delayed(optimize_graph=True), _partition_terms
    else:
        if isinstance(chunks, (str, bytes)) or not isinstance(chunks, Iterable):
            raise InputTypeError(
                "visibility_terms_from_dask: chunks must be a sequence of Delayed chunks or a "
                f"dask.bag.Bag, got {type(chunks).__name__}"
            )
        parts = [_as_node(chunk) for chunk in chunks]
        task = _chunk_terms
    if not parts:
        raise InputValueError("visibility_terms_from_dask: no chunks were given")

    token = dask.base.tokenize([_key_of(part) for part in parts], _key_of(grid),
                               _key_of(native), *shared_args[2:], task.__name__)
    compute = dask.delayed(task, pure=True)
    terms = [compute(part, index, *shared_args, dask_key_name=f"{_PREFIX}-chunk-{token}-{index}")
             for index, part in enumerate(parts)]
    return tree_sum(terms, split_every=split_every, name=f"{_PREFIX}-sum-{token}")


def _is_future(value: Any) -> bool:
    distributed = sys.modules.get("distributed")  # no Future without it imported
    return distributed is not None and isinstance(value, distributed.Future)


def _is_dask_array(value: Any) -> bool:
    return type(value).__module__.startswith("dask.array") and \
        isinstance(value, _require("dask.array").Array)


def _is_bag(chunks: Any) -> bool:
    return type(chunks).__module__.startswith("dask.bag") and \
        isinstance(chunks, _require("dask.bag").Bag)


def _as_node(chunk: Any) -> Any:
    dask = _require("dask")
    if isinstance(chunk, tuple):  # an in-memory chunk: one task holding it
        return dask.delayed(chunk, pure=False)
    return chunk  # a Delayed or Future; anything else fails in its task, naming the chunk


# ----------------------------------------------------------------------------------------------
# Making chunks


def delayed_chunks(read: Callable[[Any], tuple[Any, Any, Any]], parts: Iterable[Any], *,
                   name: str = "read-chunk") -> list[Delayed]:
    """One Delayed chunk per part: ``[dask.delayed(read)(part) for part in parts]``.

    Parameters
    ----------
    read : callable
        ``read(part) -> (data, noise_map, uv_wavelengths)``; picklable for the processes and
        distributed schedulers (a module-level function, or a ``functools.partial`` of one).
    parts : iterable
        Picklable descriptions of the chunks (file, row range, channel …), e.g.
        ``autokern.io.measurement_set_parts(path, chunk_rows=...)``.
    name : str
        Prefix of the task keys.

    Returns
    -------
    list of Delayed
        Each reads its part on the worker that computes its terms, so the visibilities never
        pass through the client.
    """
    dask = _require("dask")
    reader = dask.delayed(read, pure=True)
    return [reader(part, dask_key_name=f"{name}-{dask.base.tokenize(read, part)}")
            for part in parts]


def _chunk(data: Any, noise_map: Any, uv_wavelengths: Any) -> tuple[Any, Any, Any]:
    return data, noise_map, uv_wavelengths


def chunks_from_arrays(data: Any, noise_map: Any, uv_wavelengths: Any, *,
                       chunk_rows: int | None = None) -> list[Delayed]:
    """Delayed chunks of visibilities held as arrays, split along K.

    Parameters
    ----------
    data, noise_map : (K,) complex128 (NumPy or Dask arrays)
        Visibilities and their noise.
    uv_wavelengths : (K, 2) float64
        (u, v) in wavelengths.
    chunk_rows : int, optional
        Visibilities per chunk.  Required for in-memory arrays; for Dask arrays the blocks of
        ``data`` along K when None (``noise_map`` and ``uv_wavelengths`` are rechunked to them).

    Returns
    -------
    list of Delayed
        ``ceil(K / chunk_rows)`` chunks (the last one shorter), in order.
    """
    dask = _require("dask")
    k = data.shape[0] if getattr(data, "ndim", 0) >= 1 else None
    if (noise_map.shape != getattr(data, "shape", None)
            or tuple(uv_wavelengths.shape) != (k, 2) or data.ndim != 1):
        raise InputShapeError(
            f"chunks_from_arrays: data {tuple(data.shape)}, noise_map {tuple(noise_map.shape)} "
            f"and uv_wavelengths {tuple(uv_wavelengths.shape)} must be (K,), (K,) and (K, 2)"
        )
    if chunk_rows is not None and (isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int)
                                   or chunk_rows < 1):
        raise InputValueError(f"chunks_from_arrays: chunk_rows must be a positive int, got "
                              f"{chunk_rows!r}")
    arrays = (data, noise_map, uv_wavelengths)
    if any(_is_dask_array(a) for a in arrays):
        da = _require("dask.array")
        rows = chunk_rows or (data.chunks[0] if _is_dask_array(data) else None)
        if rows is None:
            raise InputValueError("chunks_from_arrays: give chunk_rows (data is not a Dask "
                                  "array, so it has no blocks to follow)")
        data = da.asarray(data).rechunk((rows,))
        blocks = [da.asarray(a).rechunk(c).to_delayed().ravel() for a, c in (
            (data, data.chunks), (noise_map, data.chunks), (uv_wavelengths, (data.chunks[0], 2)))]
        make = dask.delayed(_chunk, pure=True)
        return [make(*block) for block in zip(*blocks, strict=True)]
    if chunk_rows is None:
        raise InputValueError("chunks_from_arrays: give chunk_rows for in-memory arrays")
    return [dask.delayed((data[start:start + chunk_rows], noise_map[start:start + chunk_rows],
                          uv_wavelengths[start:start + chunk_rows]), pure=True)
            for start in range(0, k, chunk_rows)]


# ----------------------------------------------------------------------------------------------
# Computing, with progress


def _client_of(get: Callable[..., Any]) -> Client | None:
    client = getattr(get, "__self__", None)
    if client is None:
        return None
    distributed = importlib.import_module("distributed")  # imported: a Client exists
    return client if isinstance(client, distributed.Client) else None


def compute_visibility_terms(chunks: Any, grid_radians_slim: Any,
                             native_index_for_slim_index: Any, pixel_scale: float, *,
                             backend: str | None = "numba", split_every: int = 8,
                             threads: int | None = None, progress: bool = True,
                             scheduler: Any = None, **options: Any) -> VisibilityTerms:
    """:func:`visibility_terms_from_dask`, computed, with Dask's own progress bar.

    Parameters
    ----------
    chunks, grid_radians_slim, native_index_for_slim_index, pixel_scale
        As for :func:`visibility_terms_from_dask`.
    backend, split_every, threads, options
        As for :func:`visibility_terms_from_dask`.
    progress : bool
        Show progress: ``distributed.progress`` when the scheduler is a distributed Client,
        ``dask.diagnostics.ProgressBar`` for the local schedulers.
    scheduler : str or distributed.Client, optional
        ``"threads"``, ``"processes"``, ``"synchronous"`` or a Client; None uses Dask's current
        scheduler (the default Client if one exists, else threads).

    Returns
    -------
    VisibilityTerms
        On the client: w_compact (Ny, 2Nx-1), dirty_image (M,) and the three sums.
    """
    dask = _require("dask")
    total = visibility_terms_from_dask(
        chunks, grid_radians_slim, native_index_for_slim_index, pixel_scale, backend=backend,
        split_every=split_every, threads=threads, **options)
    client = _client_of(dask.base.get_scheduler(scheduler=scheduler, collections=[total]))
    if client is not None:
        future = client.compute(total)
        if progress:
            _require("distributed").progress(future)
        return future.result()
    if not progress:
        return total.compute(scheduler=scheduler)
    with _require("dask.diagnostics").ProgressBar():
        return total.compute(scheduler=scheduler)


@contextlib.contextmanager
def local_client(n_workers: int = 2, threads_per_worker: int = 1, *, kernel_threads: int = 1,
                 **cluster_options: Any) -> Iterator[Client]:
    """A ``distributed`` Client of a fresh LocalCluster of worker processes, closed on exit.

    Parameters
    ----------
    n_workers : int
        Worker processes.
    threads_per_worker : int
        Tasks each worker runs at once.
    kernel_threads : int
        Threads each task's kernels use (``AUTOKERN_NUM_THREADS`` and ``NUMBA_NUM_THREADS`` in
        the workers' environment): 1 suits ``n_workers × threads_per_worker`` = cores, where
        more would compete for the cores of the other tasks.
    **cluster_options
        Further ``LocalCluster`` arguments (``dashboard_address`` defaults to None: no
        dashboard; ``processes`` to True).

    Yields
    ------
    distributed.Client
        Also the default client inside the block, so :func:`compute_visibility_terms` uses it.
    """
    distributed = _require("distributed")
    if isinstance(kernel_threads, bool) or not isinstance(kernel_threads, int) or \
            kernel_threads < 1:
        raise InputValueError(f"local_client: kernel_threads must be a positive int, got "
                              f"{kernel_threads!r}")
    env = {"AUTOKERN_NUM_THREADS": str(kernel_threads), "NUMBA_NUM_THREADS": str(kernel_threads),
           **cluster_options.pop("env", {})}
    cluster_options.setdefault("dashboard_address", None)
    cluster_options.setdefault("processes", True)
    with distributed.LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                                  env=env, **cluster_options) as cluster, \
            distributed.Client(cluster) as client:
        yield client


# ----------------------------------------------------------------------------------------------
# Benchmarks: synthetic chunks made on the workers, a timed run on a fresh LocalCluster


def synthetic_chunks(n_visibilities: int, chunk_rows: int, *, max_uv: float = 1.0e6,
                     antennas: int = 43, seed: int = 0) -> list[Delayed]:
    """Delayed :func:`autokern.datasets.mock_chunk` chunks, each made on the worker that uses it.

    For survey-scale benchmarks without files: nothing of size K passes through the client.

    Parameters
    ----------
    n_visibilities : int
        K in all.
    chunk_rows : int
        Visibilities per chunk (the last chunk takes the remainder).
    max_uv : float
        Longest baseline, wavelengths (each chunk's Earth-rotation tracks are scaled to it).
    antennas : int
        Antennas of each chunk's random array.
    seed : int
        Chunk ``i`` draws from ``numpy.random.default_rng((seed, i))``.

    Returns
    -------
    list of Delayed
        ``ceil(n_visibilities / chunk_rows)`` chunks: (K_i,) complex128 data and noise
        (Re σ = Im σ in [0.5, 1.5)), (K_i, 2) float64 uv.
    """
    dask = _require("dask")
    for name, value in (("n_visibilities", n_visibilities), ("chunk_rows", chunk_rows)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputValueError(f"synthetic_chunks: {name} must be a positive int, got "
                                  f"{value!r}")
    from autokern.data.datasets import mock_chunk

    make = dask.delayed(functools.partial(mock_chunk, max_uv=max_uv, antennas=antennas),
                        pure=True)
    return [make(min(chunk_rows, n_visibilities - start), index, seed=seed,
                 dask_key_name=f"synthetic-chunk-{seed}-{chunk_rows}-{max_uv}-{antennas}-{index}")
            for index, start in enumerate(range(0, n_visibilities, chunk_rows))]


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


@dataclass(frozen=True)
class ClusterRun:
    """Timings of :func:`run_on_local_cluster` (seconds) and its result."""

    terms: VisibilityTerms
    n_chunks: int
    n_workers: int
    threads_per_worker: int
    startup_seconds: float  #: the cluster and its workers started
    warmup_seconds: float  #: the first chunks: imports and Numba's cache (or JAX compiling)
    seconds: float  #: every chunk read, reduced and the result on the client
    worker_peak_rss_mb: tuple[float, ...]  #: each worker process's peak resident memory

    @property
    def visibilities_per_second(self) -> float:
        return self.terms.n_visibilities / self.seconds

    def summary(self) -> dict[str, Any]:
        """The numbers, JSON-ready (no arrays)."""
        return {"n_visibilities": self.terms.n_visibilities, "n_chunks": self.n_chunks,
                "n_workers": self.n_workers, "threads_per_worker": self.threads_per_worker,
                "startup_seconds": self.startup_seconds, "warmup_seconds": self.warmup_seconds,
                "seconds": self.seconds, "visibilities_per_second": self.visibilities_per_second,
                "worker_peak_rss_mb": list(self.worker_peak_rss_mb),
                "data_chi_squared": self.terms.data_chi_squared}


def run_on_local_cluster(chunks: Sequence[Any], grid_radians_slim: Any,
                         native_index_for_slim_index: Any, pixel_scale: float, *,
                         n_workers: int = 2, threads_per_worker: int = 1, kernel_threads: int = 1,
                         backend: str | None = "numba", split_every: int = 8,
                         warm_up: bool = True, progress: bool = False,
                         **options: Any) -> ClusterRun:
    """Time :func:`compute_visibility_terms` on a fresh :func:`local_client` (a benchmark).

    Parameters
    ----------
    chunks : sequence of Delayed
        As for :func:`visibility_terms_from_dask` (e.g. :func:`delayed_chunks` of
        ``autokern.io.read_measurement_set_part``, or :func:`synthetic_chunks`).
    grid_radians_slim, native_index_for_slim_index, pixel_scale, backend, split_every, **options
        As for :func:`visibility_terms_from_dask`.
    n_workers, threads_per_worker, kernel_threads
        As for :func:`local_client`.
    warm_up : bool
        First compute the terms of one chunk per worker thread, timed apart: the kernels'
        first call on each worker (imports, Numba's cache, JAX's compiling) is not the
        throughput.  Those chunks are computed again in the timed run.
    progress : bool
        ``distributed.progress`` during the timed run.

    Returns
    -------
    ClusterRun
        The terms, and seconds to start the cluster, to warm up and for the run.
    """
    from time import perf_counter

    if isinstance(chunks, (str, bytes)) or not isinstance(chunks, Sequence) or not chunks:
        raise InputTypeError("run_on_local_cluster: chunks must be a non-empty sequence of "
                             f"Delayed chunks, got {type(chunks).__name__}")
    arguments = (grid_radians_slim, native_index_for_slim_index, pixel_scale)
    settings = {"backend": backend, "split_every": split_every, **options}
    start = perf_counter()
    with local_client(n_workers, threads_per_worker, kernel_threads=kernel_threads) as client:
        client.wait_for_workers(n_workers)
        startup = perf_counter() - start
        warmup = 0.0
        if warm_up:
            start = perf_counter()
            compute_visibility_terms(chunks[:n_workers * threads_per_worker], *arguments,
                                     progress=False, scheduler=client, **settings)
            warmup = perf_counter() - start
        start = perf_counter()
        terms = compute_visibility_terms(chunks, *arguments, progress=progress,
                                         scheduler=client, **settings)
        seconds = perf_counter() - start
        peak = tuple(client.run(_peak_rss_mb).values())
    return ClusterRun(terms, len(chunks), n_workers, threads_per_worker, startup, warmup,
                      seconds, peak)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m autokern.dask``: time the terms of synthetic survey-scale visibilities on a
    LocalCluster, over the geometry of a mock preset; prints one JSON line."""
    import argparse
    import json

    from autokern.data.datasets import PRESETS
    from autokern.data.testing import mock_case

    parser = argparse.ArgumentParser(prog="python -m autokern.dask", description=main.__doc__)
    parser.add_argument("--visibilities", type=float, default=1e8, help="K (default 1e8)")
    parser.add_argument("--chunk-rows", type=float, default=1e6, help="K per chunk (1e6)")
    parser.add_argument("--preset", default="alma35", choices=sorted(PRESETS),
                        help="mask, pixel scale and longest baseline (alma35)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads-per-worker", type=int, default=1)
    parser.add_argument("--kernel-threads", type=int, default=1)
    parser.add_argument("--backend", default="numba")
    parser.add_argument("--split-every", type=int, default=8)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)

    preset = PRESETS[args.preset]
    dataset = mock_case(args.preset).dataset  # its geometry (the preset's visibilities unused)
    chunks = synthetic_chunks(int(args.visibilities), int(args.chunk_rows),
                              max_uv=preset.max_uv, antennas=preset.antennas)
    run = run_on_local_cluster(
        chunks, dataset.grid_radians_slim, dataset.native_index_for_slim_index,
        dataset.pixel_scale, n_workers=args.workers, threads_per_worker=args.threads_per_worker,
        kernel_threads=args.kernel_threads, backend=args.backend, split_every=args.split_every,
        progress=args.progress)
    print(json.dumps({"preset": args.preset, "backend": args.backend, **run.summary()}))
    return 0


if __name__ == "__main__":
    # the importable module's functions, so that workers unpickle them by reference
    from autokern.io.dask import main as _main

    sys.exit(_main())
