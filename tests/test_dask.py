"""autokern.dask: visibility terms over Dask chunks, a tree of additions, on every scheduler.

One 2-process LocalCluster serves the module (starting one is the slow part); the local
schedulers (threads, synchronous) run in this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import autokern
from autokern.data import datasets, testing
from autokern.errors import InputShapeError, InputTypeError, InputValueError
from autokern.terms import VisibilityTerms, visibility_terms_from_chunks

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
akd = pytest.importorskip("autokern.io.dask")
from dask import array as da  # noqa: E402
from dask import bag as db  # noqa: E402
from dask.core import get_dependencies  # noqa: E402

from helpers import relative_error  # noqa: E402

# each scheduler's HTTP server asks for port 8787 and takes another when a cluster (the
# benchmark's, another session's) holds it
pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use")

RTOL = 1e-12
CHUNK_ROWS = 90  # K = 1 000: 12 chunks (the last one shorter)


@pytest.fixture(scope="module")
def dataset() -> datasets.Interferometer:
    return testing.mock_case("small", seed=1).dataset


@pytest.fixture(scope="module")
def geometry(dataset):
    return dataset.grid_radians_slim, dataset.native_index_for_slim_index, dataset.pixel_scale


def _slices(k: int, rows: int = CHUNK_ROWS) -> list[slice]:
    return [slice(start, min(start + rows, k)) for start in range(0, k, rows)]


@pytest.fixture(scope="module")
def chunk_tuples(dataset):
    return [(dataset.data[s], dataset.noise_map[s], dataset.uv_wavelengths[s])
            for s in _slices(len(dataset.data))]


@pytest.fixture(scope="module")
def expected(dataset, geometry):
    def of(backend: str) -> VisibilityTerms:
        if backend not in cache:
            cache[backend] = autokern.get_kernel("visibility_terms_from", backend)(
                dataset.data, dataset.noise_map, dataset.uv_wavelengths, *geometry)
        return cache[backend]

    cache: dict[str, VisibilityTerms] = {}
    return of


@pytest.fixture(scope="module")
def client():
    with akd.local_client(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as client:
        yield client


def assert_terms_equal(actual: VisibilityTerms, expected: VisibilityTerms) -> None:
    assert isinstance(actual, VisibilityTerms)
    for field in ("w_compact", "dirty_image", "data_chi_squared", "noise_normalization"):
        error = relative_error(getattr(actual, field), getattr(expected, field))
        assert error <= RTOL, f"{field}: relative error {error:.2e}"
    assert actual.n_visibilities == expected.n_visibilities


def read_rows(directory: str, rows: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """A reader of the kind autokern.io provides: one chunk of visibilities from disk."""
    start, stop = rows
    return tuple(np.load(Path(directory) / f"{name}.npy", mmap_mode="r")[start:stop].copy()
                 for name in ("data", "noise_map", "uv_wavelengths"))


# ----------------------------------------------------------------------------------------------
# Equal to the in-memory terms


@pytest.mark.parametrize("backend", ["numba", "original"])
def test_a_cluster_gives_the_in_memory_terms(client, chunk_tuples, geometry, expected, backend):
    chunks = [dask.delayed(chunk) for chunk in chunk_tuples]
    total = akd.visibility_terms_from_dask(chunks, *geometry, backend=backend, split_every=3)
    result = client.compute(total).result()
    assert_terms_equal(result, expected(backend))
    folded = visibility_terms_from_chunks(chunk_tuples, *geometry, backend=backend,
                                          progress=False)
    assert_terms_equal(result, folded)


def test_jax_on_the_cluster(client, chunk_tuples, geometry, expected):
    # equal-length chunks: each worker compiles JAX's kernels once (x64 on by importing them)
    chunks = [dask.delayed(chunk) for chunk in chunk_tuples[:-1]]
    result = akd.compute_visibility_terms(chunks, *geometry, backend="jax", progress=False,
                                          scheduler=client)
    data, noise_map, uv = (np.concatenate(parts) for parts in zip(*chunk_tuples[:-1],
                                                                   strict=True))
    reference = autokern.get_kernel("visibility_terms_from", "numba")(data, noise_map, uv,
                                                                       *geometry)
    assert_terms_equal(result, reference)


@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
def test_local_schedulers_give_the_in_memory_terms(dataset, geometry, expected, scheduler):
    chunks = akd.chunks_from_arrays(dataset.data, dataset.noise_map, dataset.uv_wavelengths,
                                    chunk_rows=CHUNK_ROWS)
    assert len(chunks) == 12
    result = akd.compute_visibility_terms(chunks, *geometry, scheduler=scheduler,
                                          progress=False)
    assert_terms_equal(result, expected("numba"))


def test_chunks_read_on_the_workers(client, dataset, geometry, expected, tmp_path):
    for name in ("data", "noise_map", "uv_wavelengths"):
        np.save(tmp_path / f"{name}.npy", getattr(dataset, name))
    parts = [(s.start, s.stop) for s in _slices(len(dataset.data), 128)]
    chunks = akd.delayed_chunks(partial(read_rows, str(tmp_path)), parts)
    # the grid scattered to every worker ahead of time, as a Future
    grid = client.scatter(geometry[0], broadcast=True)
    result = akd.compute_visibility_terms(chunks, grid, *geometry[1:], progress=False)
    assert_terms_equal(result, expected("numba"))


def test_a_bag_and_dask_arrays(dataset, geometry, expected):
    k = len(dataset.data)
    bag = db.from_sequence(
        [(dataset.data[s], dataset.noise_map[s], dataset.uv_wavelengths[s])
         for s in _slices(k, 50)], npartitions=3)
    result = akd.compute_visibility_terms(bag, *geometry, scheduler="synchronous",
                                          progress=False)
    assert_terms_equal(result, expected("numba"))
    data = da.from_array(dataset.data, chunks=300)
    chunks = akd.chunks_from_arrays(data, dataset.noise_map, dataset.uv_wavelengths)
    assert len(chunks) == 4
    result = akd.compute_visibility_terms(chunks, *geometry, scheduler="synchronous",
                                          progress=False)
    assert_terms_equal(result, expected("numba"))


def test_one_chunk(dataset, geometry, expected):
    chunk = (dataset.data, dataset.noise_map, dataset.uv_wavelengths)
    result = akd.compute_visibility_terms([chunk], *geometry, scheduler="synchronous",
                                          progress=False)
    assert_terms_equal(result, expected("numba"))


# ----------------------------------------------------------------------------------------------
# The graph


def _is_addition(key) -> bool:
    return str(key).startswith("visibility-terms-sum-")


def _additions_deep(graph: dict, key) -> int:
    """The most additions on a path from ``key`` down to the chunks."""
    below = max((_additions_deep(graph, dep) for dep in get_dependencies(graph, key)), default=0)
    return below + _is_addition(key)


@pytest.mark.parametrize(("n", "split_every", "depth"),
                         [(1, 8, 1), (8, 8, 1), (9, 8, 2), (64, 4, 3), (65, 4, 4), (100, 10, 2)])
def test_the_reduction_is_a_tree(geometry, n, split_every, depth):
    chunk = (np.ones(1, complex), np.ones(1, complex), np.zeros((1, 2)))
    chunks = [dask.delayed(chunk, name=f"chunk-{i}") for i in range(n)]
    total = akd.visibility_terms_from_dask(chunks, *geometry, split_every=split_every)
    graph = dict(total.__dask_graph__())
    assert _additions_deep(graph, total.key) == depth
    assert sum(str(key).startswith("visibility-terms-chunk-") for key in graph) == n
    additions = [key for key in graph if _is_addition(key)]
    assert all(len(get_dependencies(graph, key)) <= split_every for key in additions)
    # the grid and pixel index are one task each, read by every chunk task
    assert sum("-grid-" in str(key) for key in graph) == 1
    assert sum("-native-index-" in str(key) for key in graph) == 1


# ----------------------------------------------------------------------------------------------
# Errors


def test_no_chunks_is_refused(geometry):
    with pytest.raises(InputValueError, match="no chunks"):
        akd.visibility_terms_from_dask([], *geometry)
    empty = db.from_sequence([], npartitions=1)
    with pytest.raises(InputValueError, match="no visibilities"):  # one empty partition
        akd.compute_visibility_terms(empty, *geometry, scheduler="synchronous",
                                     progress=False)


def test_empty_chunks_add_nothing(dataset, geometry, expected):
    empty = (np.zeros(0, complex), np.zeros(0, complex), np.zeros((0, 2)))
    whole = (dataset.data, dataset.noise_map, dataset.uv_wavelengths)
    result = akd.compute_visibility_terms([empty, whole, empty], *geometry,
                                          scheduler="synchronous", progress=False)
    assert_terms_equal(result, expected("numba"))
    result = akd.compute_visibility_terms(db.from_sequence([empty, whole, empty], npartitions=2),
                                          *geometry, scheduler="synchronous", progress=False)
    assert_terms_equal(result, expected("numba"))
    with pytest.raises(InputValueError, match="no visibilities"):
        akd.compute_visibility_terms([empty, empty], *geometry, scheduler="synchronous",
                                     progress=False)


def test_a_bad_chunk_names_itself(client, dataset, geometry):
    good = (dataset.data[:10], dataset.noise_map[:10], dataset.uv_wavelengths[:10])
    bad = (dataset.data[:10], dataset.noise_map[:9], dataset.uv_wavelengths[:10])
    total = akd.visibility_terms_from_dask([good, bad], *geometry)
    with pytest.raises(InputShapeError, match="chunk 1"):  # the type survives the cluster
        client.compute(total).result()
    with pytest.raises(InputTypeError, match="chunk 0 must be"):
        akd.compute_visibility_terms([dask.delayed([1, 2])], *geometry,
                                     scheduler="synchronous", progress=False)


def test_terms_of_different_images_do_not_add(dataset, geometry):
    terms_from = autokern.get_kernel("visibility_terms_from", "numba")
    chunk = (dataset.data[:10], dataset.noise_map[:10], dataset.uv_wavelengths[:10])
    grid, native, scale = geometry
    parts = [dask.delayed(terms_from)(*chunk, grid, native, scale),
             dask.delayed(terms_from)(*chunk, grid[:50], native[:50], scale)]
    with pytest.raises(ValueError, match="cannot add VisibilityTerms of different images"):
        akd.tree_sum(parts).compute(scheduler="synchronous")


@pytest.mark.parametrize(("arguments", "error", "match"), [
    ({"split_every": 1}, InputValueError, "split_every"),
    ({"threads": 0}, InputValueError, "threads"),
    ({"chunk_sise": 10}, InputTypeError, "unknown option"),
    ({"backend": "fortran"}, autokern.errors.BackendError, "fortran"),
])
def test_bad_arguments_fail_before_anything_runs(chunk_tuples, geometry, arguments, error, match):
    with pytest.raises(error, match=match):
        akd.visibility_terms_from_dask(chunk_tuples, *geometry, **arguments)


def test_bad_geometry_fails_before_anything_runs(chunk_tuples, geometry):
    grid, native, scale = geometry
    with pytest.raises(InputShapeError, match="same M"):
        akd.visibility_terms_from_dask(chunk_tuples, grid[:-1], native, scale)
    with pytest.raises(InputShapeError, match=r"must be \(M, 2\)"):
        akd.visibility_terms_from_dask(chunk_tuples, grid.T, native, scale)


def test_without_dask_the_error_names_the_extra():
    code = ("import sys; sys.modules['dask'] = None\n"
            "import autokern.dask as akd\n"
            "try:\n"
            "    akd.delayed_chunks(print, [1])\n"
            "except ImportError as error:\n"
            "    print(type(error).__name__, error)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert run.stdout.startswith("MissingDependencyError")
    assert 'pip install "autokern[ms]"' in run.stdout
    # inside autokern/io/dask.py, `dask` is the real Dask, not the module itself
    assert Path(akd._require("dask").__file__).parent.name == "dask"


# ----------------------------------------------------------------------------------------------
# Progress and the cluster's settings


def test_progress_on_a_cluster_and_locally(client, chunk_tuples, geometry, expected, capsys,
                                           monkeypatch):
    shown = []
    monkeypatch.setattr(distributed, "progress",
                        lambda *futures, real=distributed.progress: shown.append(
                            real(*futures)))
    # the default client (local_client's) is Dask's current scheduler
    result = akd.compute_visibility_terms(chunk_tuples, *geometry, progress=True)
    assert_terms_equal(result, expected("numba"))
    assert len(shown) == 1  # distributed.progress, on the cluster
    # synchronous, not threads: Numba's OpenMP layer started from a worker thread leaves
    # OpenBLAS deaf to threadpoolctl in this process (tests/test_threads.py would see it)
    result = akd.compute_visibility_terms(chunk_tuples, *geometry, progress=True,
                                          scheduler="synchronous", threads=1)
    assert_terms_equal(result, expected("numba"))
    assert len(shown) == 1
    assert "100% Completed" in capsys.readouterr().out  # dask.diagnostics.ProgressBar


def test_local_client_sets_the_kernels_threads(client):
    settings = client.run(lambda: (os.environ.get("AUTOKERN_NUM_THREADS"),
                                   os.environ.get("NUMBA_NUM_THREADS")))
    assert len(settings) == 2
    assert set(settings.values()) == {("1", "1")}


# ----------------------------------------------------------------------------------------------
# Benchmarks


def test_synthetic_chunks_are_seeded_and_made_where_used(client, geometry):
    chunks = akd.synthetic_chunks(2_500, 1_000, max_uv=2.0e5, seed=3)
    assert len(chunks) == 3
    made = dask.compute(*chunks, scheduler="synchronous")
    again = dask.compute(*akd.synthetic_chunks(2_500, 1_000, max_uv=2.0e5, seed=3),
                         scheduler="synchronous")
    assert [len(chunk[0]) for chunk in made] == [1_000, 1_000, 500]
    for first, second in zip(made, again, strict=True):
        for a, b in zip(first, second, strict=True):
            np.testing.assert_array_equal(a, b)
    result = akd.compute_visibility_terms(chunks, *geometry, progress=False)  # on the cluster
    assert_terms_equal(result, visibility_terms_from_chunks(made, *geometry, backend="numba",
                                                            progress=False))


def test_the_benchmark_entry(capsys):
    assert akd.main(["--visibilities", "3000", "--chunk-rows", "1000", "--preset", "tiny"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["n_visibilities"] == 3_000
    assert summary["n_chunks"] == 3
    assert summary["n_workers"] == 2
    assert len(summary["worker_peak_rss_mb"]) == 2
    assert summary["seconds"] > 0 and summary["visibilities_per_second"] > 0


# ----------------------------------------------------------------------------------------------
# Measurement Sets (autokern.io), read on the workers


def test_a_measurement_set_on_the_cluster(client, dataset, geometry, tmp_path):
    io = pytest.importorskip("autokern.io")
    pytest.importorskip("casacore")
    nu = 2.3e11  # Hz: one channel
    k = len(dataset.data)
    uvw = np.column_stack([dataset.uv_wavelengths * io.SPEED_OF_LIGHT / nu, np.zeros(k)])
    block = io.RowBlock.from_stokes_i(uvw, dataset.data[:, None], dataset.noise_map.real)
    path = io.write_measurement_set(tmp_path / "mock.ms", block, spectral_windows=[nu])
    parts = io.measurement_set_parts(path, chunk_rows=128)
    assert len(parts) == 8
    chunks = akd.delayed_chunks(partial(io.read_measurement_set_part, data_column="DATA"),
                                parts)
    result = akd.compute_visibility_terms(chunks, *geometry, progress=False, scheduler=client)
    # the same visibilities read in this process (single-precision DATA, as the MS stores it)
    read = list(io.measurement_set_chunks(path, chunk_rows=128))
    assert_terms_equal(result, visibility_terms_from_chunks(read, *geometry, backend="numba",
                                                            progress=False))
    assert result.n_visibilities == k
