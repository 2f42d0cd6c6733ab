"""The downstream library (PyAutoArray) against autokern, side by side, at the science presets.

    pytest benchmarks/test_library.py                          # sma35 (or --preset alma35, ...)
    AUTOKERN_BENCH_LIBRARY_PRESETS=sma35,alma35,almahigh35 pytest benchmarks/test_library.py
    pytest benchmarks/test_library.py --benchmark-disable      # smoke: sma35, one call each

Skipped where the library (``autoarray``) is not installed.  The presets: those named in
``AUTOKERN_BENCH_LIBRARY_PRESETS`` (comma separated, or ``all`` for the three science presets),
else ``--preset`` when it is a science preset (``sma35``, ``alma35``, ``almahigh35``), else
``sma35`` — so the CI smoke run (default preset ``small``) takes seconds.

Each preset (S = 1 500 Delaunay, B = 3, the mock case of :func:`autokern.testing.mock_case`)
runs at 1 thread and at every core (``autokern.threads(n)``: Numba's threads, BLAS/LAPACK's
through threadpoolctl, and autokern's own FFT/NUFFT threads; restored afterwards).  The JAX
contenders run on XLA's own pool, which is fixed when JAX starts, whatever ``threads`` says; the
library's serial Numba kernels and its ``scipy.fft`` calls use one thread whatever it says.

Group ``library <preset> threads=<n>``: the work of one likelihood call, given the mapping
(``pix_indexes``/``pix_weights``, device arrays for JAX) and the neighbour graph:

- ``library-F-numba-direct_conv``, ``-symmetric``, ``-parallel``: the library's curvature
  kernels (``inversion_interferometer_numba_util.curvature_direct_conv``,
  ``curvature_direct_conv_symmetric``, ``direct_conv_parallel_kernel()``), each with the
  per-call marshalling ``InversionInterferometerSparseNumba`` does (``kernel_inputs_from``, and
  ``symmetric_restriction_inputs_from`` for the symmetric kernel).  Under the installed config
  (``numba: parallel: false``) the library runs the symmetric kernel when its work fraction is
  at most ``interferometer_direct_conv_symmetric_max_work_fraction``, else the full one.
- ``library-F-fft-numpy``, ``library-F-fft-jax``: the FFT route
  (``InterferometerSparseOperator.curvature_matrix_diag_from`` on the triplets of
  ``mapper_util.sparse_triplets_from``), NumPy/SciPy, and JAX under ``jax.jit``.
- ``library-likelihood``: the library's whole positive-negative log evidence (autokern's
  default solver; the library's config defaults to its positive-only fnnls), assembled from
  its utilities as ``InversionInterferometerSparse(Numba)`` and
  ``FitInterferometer.log_evidence`` compute it: F on the route its factory picks (the cost model
  ``curvature_route_seconds_from``; the route is in ``extra_info["library_route"]``), D from the
  slim triplets, H (``constant_regularization_matrix_from``, through ``block_diag``), one
  ``cho_factor`` of F + H for the solve and log det, ``fast_chi_squared`` (whose data term the
  library reduces over the visibilities on every call when the dataset holds them),
  ``log_det_sparse_spd_from`` for log det H, ``fit_util.log_evidence_from``.
- ``autokern-F-numba``, ``autokern-F-jax``: ``curvature_matrix_via_w_compact_from`` (bare).
- ``autokern-numba``, ``autokern-jax``, ``autokern-jax-jit``: the reusable inversion, bare
  cores — ``constant_regularization_matrix_from(1.0, …)`` + ``inversion_result_from(inv, …)``
  (``autokern-jax-jit``: the same two under one ``jax.jit``).

Group ``library precompute <preset> threads=<n>``: ``library-precompute``
(``Interferometer(...)`` + ``apply_sparse_operator()``: the precision operator W̃ by finufft,
the dirty image by ``TransformerNUFFT``, the two scalars) against ``autokern-precompute-numba``
(``visibility_terms_from`` on Numba).

Every contender's first call (outside the timing; it compiles what it JIT-compiles) is checked
before it is timed: F against autokern's Numba F and log evidences against autokern's Numba
``inversion_result_from`` to 1e-9, the library's W̃, dirty image and scalars against autokern's
terms to 1e-9.  Then one warm-up call, whose time sizes the timed rounds (``bench.repeats_for``:
2 to 20 rounds in about 10 s), and ``benchmark.pedantic``; where the first call took over 5 s
(almahigh35's library routes) it was the warm-up, and 2 rounds are timed.  On two cores sma35
takes about 1.5 minutes, alma35 5, almahigh35 about 15.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import scipy.linalg

import autokern
from autokern import get_kernel
from autokern._runtime import routes
from autokern.apps import bench
from autokern.data import datasets, testing

pytest.importorskip("autoarray")

import autoarray as aa
from autoarray.fit import fit_util
from autoarray.inversion.inversion import inversion_util
from autoarray.inversion.inversion.interferometer_numba import (
    inversion_interferometer_numba_util as numba_util,
)
from autoarray.inversion.inversion.interferometer_numba import (
    sparse as numba_sparse,
)
from autoarray.inversion.mappers import mapper_util
from autoarray.inversion.regularization.constant import (
    constant_regularization_matrix_from,
)
from autoarray.settings import Settings

#: environment variable naming the presets to run (comma separated, or "all")
PRESETS_VARIABLE = "AUTOKERN_BENCH_LIBRARY_PRESETS"
THREADS = sorted({1, os.cpu_count() or 1})
COEFFICIENT = 1.0
RTOL = 1e-9
#: seconds of timed rounds per contender (bench.repeats_for, 2 to 20 rounds)
BUDGET_S = 10.0
#: a first call slower than this was the warm-up: no further warm-up round
WARMUP_LIMIT_S = 5.0
#: the library's curvature kernel arguments after the preload, in argument order
KERNEL_KEYS = ("iy", "ix", "flat", "indptr", "col", "val", "cscptr", "csc_row", "csc_val",
               "ny", "nx", "pix_pixels")


def library_presets(config) -> list[str]:
    raw = os.environ.get(PRESETS_VARIABLE, "").strip()
    if raw:
        names = list(datasets.SCIENCE_PRESETS) if raw == "all" else raw.replace(",", " ").split()
        unknown = [name for name in names if name not in datasets.PRESETS]
        if unknown:
            raise pytest.UsageError(f"{PRESETS_VARIABLE}: unknown preset(s) {unknown}; choose "
                                    f"from {list(datasets.PRESETS)} or 'all'")
        return names
    preset = config.getoption("--preset")
    return [preset] if preset in datasets.SCIENCE_PRESETS else ["sma35"]


def pytest_generate_tests(metafunc):
    if "library_preset" in metafunc.fixturenames:
        metafunc.parametrize("library_preset", library_presets(metafunc.config))
        metafunc.parametrize("threads", THREADS, ids=[f"threads{n}" for n in THREADS])
        metafunc.parametrize("contender", list(CONTENDERS))


# --- one preset's state, built once (outside any timing) ------------------------------------

def library_dataset_from(case: testing.Case) -> Any:
    """The library's ``Interferometer`` of the case's visibilities and mask (TransformerNUFFT)."""
    ds = case.dataset
    mask = aa.Mask2D(mask=ds.real_space_mask, pixel_scales=(ds.pixel_scale, ds.pixel_scale))
    return aa.Interferometer(data=aa.Visibilities(ds.data),
                             noise_map=aa.VisibilitiesNoiseMap(ds.noise_map),
                             uv_wavelengths=ds.uv_wavelengths, real_space_mask=mask)


@dataclass(eq=False)
class Setup:
    """One preset: the mock case, the library's dataset with its sparse operator, autokern's
    terms and Numba inversion, the reference F and log evidence, the library's route."""

    case: testing.Case
    dataset: Any  # the library's Interferometer with its sparse operator applied
    terms: Any
    inversion: Any
    curvature: np.ndarray
    log_evidence: float
    info: dict[str, Any] = field(default_factory=dict)
    _jax: dict[str, Any] = field(default_factory=dict)

    @property
    def operator(self) -> Any:
        return self.dataset.sparse_operator

    @property
    def mesh(self) -> datasets.SourceMesh:
        return self.case.mesh

    @property
    def extent(self) -> tuple[int, int]:
        return tuple(int(n) for n in self.dataset.real_space_mask.shape_native_masked_pixels)

    @property
    def extent_index(self) -> np.ndarray:
        """The flat extent-grid index of every masked pixel (the mask's own array)."""
        return np.asarray(self.dataset.real_space_mask.extent_index_for_masked_pixel)

    @property
    def pixels(self) -> int:
        return self.mesh.pixels

    def jax(self) -> dict[str, Any]:
        """The JAX arrays and inversion (imports autokern.jax, which turns on float64)."""
        if not self._jax:
            jax = pytest.importorskip("jax")
            import autokern.jax  # noqa: F401  (x64 before any JAX array is made)

            jnp = jax.numpy
            mesh = self.mesh
            self._jax.update(
                inversion=get_kernel("inversion_from", "jax")(
                    self.terms, self.case.dataset.native_index_for_slim_index),
                pix_indexes=jnp.asarray(mesh.pix_indexes_for_sub_slim_index),
                pix_weights=jnp.asarray(mesh.pix_weights_for_sub_slim_index),
                neighbors=jnp.asarray(mesh.neighbors),
                neighbors_sizes=jnp.asarray(mesh.neighbors_sizes))
        return self._jax


def library_route(setup: Setup) -> tuple[str, dict[str, Any]]:
    """The curvature route the library's factory (``_use_interferometer_numba``) and
    ``InversionInterferometerSparseNumba.curvature_matrix_diag`` take under the installed
    config, and the numbers it decides on."""
    settings = Settings()
    mesh = setup.mesh
    parallel = numba_sparse._numba_parallel()
    threshold = settings.interferometer_direct_conv_symmetric_max_work_fraction
    fraction = numba_util.symmetric_work_fraction_from(
        pix_indexes_for_sub_slim_index=mesh.pix_indexes_for_sub_slim_index,
        pix_sizes_for_sub_slim_index=mesh.pix_sizes_for_sub_slim_index,
        extent_index_for_masked_pixel=setup.extent_index, extent_shape=setup.extent,
        pix_pixels=setup.pixels)
    symmetric = not parallel and threshold > 0.0 and fraction <= threshold
    nnz = int(mesh.pix_sizes_for_sub_slim_index.sum())
    t_fft, t_direct_conv = numba_util.curvature_route_seconds_from(
        source_pixels=setup.pixels, nnz=nnz, extent_shape=setup.extent,
        work_fraction=fraction if symmetric else None)
    forced = settings.interferometer_route
    nnz_max = settings.interferometer_numba_nnz_per_source_max
    if forced in ("fft", "numba"):
        numba = forced == "numba"
    elif nnz_max is not None:
        numba = nnz_max > 0 and nnz / setup.pixels <= nnz_max
    else:
        numba = t_direct_conv <= t_fft
    kernel = "numba-parallel" if parallel else "numba-symmetric" if symmetric else \
        "numba-direct_conv"
    info = {"library_route": kernel if numba else "fft-numpy", "nnz": nnz,
            "symmetric_work_fraction": float(fraction),
            "library_predicted_fft_s": float(t_fft),
            "library_predicted_direct_conv_s": float(t_direct_conv)}
    return info["library_route"], info


def setup_from(preset: str) -> Setup:
    case = testing.mock_case(preset, seed=0)
    ds, mesh = case.dataset, case.mesh
    dataset = library_dataset_from(case).apply_sparse_operator()
    terms = get_kernel("visibility_terms_from", "numba")(
        ds.data, ds.noise_map, ds.uv_wavelengths, ds.grid_radians_slim,
        ds.native_index_for_slim_index, ds.pixel_scale)
    inversion = get_kernel("inversion_from", "numba")(terms, ds.native_index_for_slim_index)
    curvature = get_kernel("curvature_matrix_via_w_compact_from", "numba")(
        terms.w_compact, ds.native_index_for_slim_index, mesh.pix_indexes_for_sub_slim_index,
        mesh.pix_weights_for_sub_slim_index, mesh.pixels)
    regularization = get_kernel("constant_regularization_matrix_from", "numba")(
        COEFFICIENT, mesh.neighbors, mesh.neighbors_sizes)
    log_evidence = float(get_kernel("inversion_result_from", "numba")(
        inversion, mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index,
        regularization).log_evidence)
    setup = Setup(case, dataset, terms, inversion, curvature, log_evidence)
    m, b = mesh.pix_indexes_for_sub_slim_index.shape
    _, route_info = library_route(setup)
    setup.info.update(preset=preset, K=len(ds.data), M=m, S=mesh.pixels, B=b,
                      extent=list(setup.extent),
                      autokern_curvature_method=routes.curvature_method(m, mesh.pixels, b,
                                                                        setup.extent),
                      **route_info)
    return setup


_SETUP: dict[str, Setup] = {}


def setup_for(preset: str) -> Setup:
    """The preset's :class:`Setup`, built once; the previous preset's is let go (the tests run
    preset by preset, and almahigh35's arrays are large)."""
    if preset not in _SETUP:
        _SETUP.clear()
        _SETUP[preset] = setup_from(preset)
    return _SETUP[preset]


# --- the library's routes, through its own functions ----------------------------------------

def library_kernel_args(setup: Setup) -> tuple[tuple, dict[str, Any]]:
    """The per-call marshalling of ``InversionInterferometerSparseNumba``: the preload and the
    mapping's CSR/CSC/extent arrays, as the curvature kernels take them."""
    mesh = setup.mesh
    inputs = numba_util.kernel_inputs_from(
        pix_indexes_for_sub_slim_index=mesh.pix_indexes_for_sub_slim_index,
        pix_sizes_for_sub_slim_index=mesh.pix_sizes_for_sub_slim_index,
        pix_weights_for_sub_slim_index=mesh.pix_weights_for_sub_slim_index,
        extent_index_for_masked_pixel=setup.extent_index, extent_shape=setup.extent,
        pix_pixels=setup.pixels)
    preload = np.ascontiguousarray(
        np.asarray(setup.operator.nufft_precision_operator, dtype=np.float64))
    return (preload, *(inputs[key] for key in KERNEL_KEYS)), inputs


def library_curvature_direct_conv(setup: Setup) -> np.ndarray:
    args, _ = library_kernel_args(setup)
    return numba_util.curvature_direct_conv(*args)


def library_curvature_symmetric(setup: Setup) -> np.ndarray:
    args, inputs = library_kernel_args(setup)
    restriction = numba_util.symmetric_restriction_inputs_from(
        iy=inputs["iy"], ix=inputs["ix"], cscptr=inputs["cscptr"], csc_row=inputs["csc_row"],
        ny=inputs["ny"], nx=inputs["nx"], pix_pixels=inputs["pix_pixels"])
    return numba_util.curvature_direct_conv_symmetric(
        *args, *(restriction[key] for key in numba_util.SYMMETRIC_KERNEL_KEYS))


def library_curvature_parallel(setup: Setup) -> np.ndarray:
    args, _ = library_kernel_args(setup)
    return numba_util.direct_conv_parallel_kernel()(*args)


def library_triplets(setup: Setup, rows_slim: bool, xp=np, mapping=None) -> tuple:
    """``mapper_util.sparse_triplets_from`` as ``InversionInterferometerSparse`` calls it (no
    over-sampling: slim index = sub index, sub fraction 1): extent-grid rows for F
    (``_sparse_triplets_curvature_from``), slim rows with the padding zeroed for D
    (``_sparse_triplets_slim_from``)."""
    mesh = setup.mesh
    indexes, weights = mapping if mapping is not None else (
        mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index)
    m = len(setup.extent_index)
    return mapper_util.sparse_triplets_from(
        indexes, weights, xp.arange(m), xp.asarray(setup.extent_index), xp.ones(m),
        return_rows_slim=rows_slim,
        pix_sizes_for_sub=mesh.pix_sizes_for_sub_slim_index if rows_slim else None, xp=xp)


def library_curvature_fft_numpy(setup: Setup) -> np.ndarray:
    rows, cols, vals = library_triplets(setup, rows_slim=False)
    return setup.operator.curvature_matrix_diag_from(rows=rows, cols=cols, vals=vals,
                                                     S=setup.pixels, xp=np)


LIBRARY_CURVATURE: dict[str, Callable[[Setup], np.ndarray]] = {
    "numba-direct_conv": library_curvature_direct_conv,
    "numba-symmetric": library_curvature_symmetric,
    "numba-parallel": library_curvature_parallel,
    "fft-numpy": library_curvature_fft_numpy,
}


def library_log_evidence(setup: Setup, route: str) -> float:
    """The library's positive-negative log evidence of one likelihood call (NumPy), from its
    utilities in the order its inversion and fit evaluate them."""
    mesh, operator, dataset = setup.mesh, setup.operator, setup.dataset
    curvature = LIBRARY_CURVATURE[route](setup)
    # data vector: Aᵀ d~ from the slim triplets (_data_vector_mapper_from)
    rows, cols, vals = library_triplets(setup, rows_slim=True)
    dirty_image = np.asarray(operator.dirty_image, dtype=np.float64)
    data_vector = np.bincount(cols, weights=vals * dirty_image[rows], minlength=setup.pixels)
    # regularization_matrix: block_diag of the one mapper's constant H
    regularization = scipy.linalg.block_diag(constant_regularization_matrix_from(
        COEFFICIENT, mesh.neighbors, mesh.neighbors_sizes))
    curvature_reg = np.add(curvature, regularization)
    # one Cholesky factor for the solve and log det(F + H) (_curvature_reg_matrix_cho_factor)
    factor = scipy.linalg.cho_factor(curvature_reg, lower=True, overwrite_a=False,
                                     check_finite=False)
    reconstruction = scipy.linalg.cho_solve(factor, data_vector, check_finite=False)
    log_det_curvature_reg = 2.0 * np.sum(np.log(np.diag(factor[0])))
    regularization_term = np.matmul(reconstruction.T,
                                    np.matmul(regularization, reconstruction))
    # fast_chi_squared, the data term reduced over the dataset's visibilities
    data, noise_map = dataset.data.array, dataset.noise_map.array
    chi_squared = (np.linalg.multi_dot([reconstruction.T, curvature, reconstruction])
                   - 2.0 * np.linalg.multi_dot([reconstruction.T, data_vector])
                   + np.sum(data.real**2.0 / noise_map.real**2.0)
                   + np.sum(data.imag**2.0 / noise_map.imag**2.0))
    # log det H: sparse where it pays (_log_det_symmetric_from(..., sparse=True))
    log_det_regularization = inversion_util.log_det_sparse_spd_from(matrix=regularization)
    if log_det_regularization is None:
        log_det_regularization = 2.0 * np.sum(np.log(np.diag(np.linalg.cholesky(
            regularization))))
    return float(fit_util.log_evidence_from(
        chi_squared=chi_squared, regularization_term=regularization_term,
        log_curvature_regularization_term=log_det_curvature_reg,
        log_regularization_term=log_det_regularization,
        noise_normalization=operator.noise_normalization))


# --- the contenders: (group kind, builder of (run, check)) ----------------------------------

Check = Callable[[Any], None]


def check_curvature(setup: Setup) -> Check:
    def check(result):
        difference = bench.relative_difference(result, setup.curvature)
        assert difference <= RTOL, f"F differs from autokern's by {difference:.2e}"
    return check


def check_log_evidence(setup: Setup) -> Check:
    def check(result):
        difference = abs(float(result) - setup.log_evidence) / abs(setup.log_evidence)
        assert difference <= RTOL, (f"log evidence {float(result)!r} differs from autokern's "
                                    f"{setup.log_evidence!r} by {difference:.2e}")
    return check


def check_precompute(w_tilde, dirty_image, data_term, noise_normalization, expected) -> None:
    for name, actual, wanted in zip(("W̃", "dirty image", "data term", "noise normalization"),
                                    (w_tilde, dirty_image, data_term, noise_normalization),
                                    expected, strict=True):
        difference = bench.relative_difference(actual, wanted)
        assert difference <= RTOL, f"{name} differs by {difference:.2e}"


def library_terms(dataset) -> tuple:
    operator = dataset.sparse_operator
    return (operator.nufft_precision_operator, operator.dirty_image, operator.data_term,
            operator.noise_normalization)


def autokern_terms(terms) -> tuple:
    preload = get_kernel("nufft_precision_operator_via_w_compact_from", "original")(terms.w_compact)
    return preload, terms.dirty_image, terms.data_chi_squared, terms.noise_normalization


def library_f(route: str):
    def build(setup: Setup):
        return (lambda: LIBRARY_CURVATURE[route](setup)), check_curvature(setup)
    return build


def library_f_fft_jax(setup: Setup):
    state = setup.jax()
    import jax
    import jax.numpy as jnp

    operator, pixels = setup.operator, setup.pixels

    @jax.jit
    def curvature(pix_indexes, pix_weights):
        rows, cols, vals = library_triplets(setup, rows_slim=False, xp=jnp,
                                            mapping=(pix_indexes, pix_weights))
        return operator.curvature_matrix_diag_from(rows=rows, cols=cols, vals=vals, S=pixels,
                                                   xp=jnp)

    def run():
        return bench.block(curvature(state["pix_indexes"], state["pix_weights"]))
    return run, check_curvature(setup)


def library_likelihood(setup: Setup):
    route = setup.info["library_route"]
    return (lambda: library_log_evidence(setup, route)), check_log_evidence(setup)


def autokern_f(backend: str):
    def build(setup: Setup):
        curvature = get_kernel("curvature_matrix_via_w_compact_from", backend, checked=False)
        if backend == "jax":
            state = setup.jax()
            inversion, indexes, weights = (state["inversion"], state["pix_indexes"],
                                           state["pix_weights"])
        else:
            inversion, indexes, weights = (setup.inversion,
                                           setup.mesh.pix_indexes_for_sub_slim_index,
                                           setup.mesh.pix_weights_for_sub_slim_index)

        def run():
            return bench.block(curvature(inversion.w_compact, inversion.native_index_for_slim_index,
                                         indexes, weights, setup.pixels))
        return run, check_curvature(setup)
    return build


def autokern_numba(setup: Setup):
    regularization = get_kernel("constant_regularization_matrix_from", "numba", checked=False)
    result = get_kernel("inversion_result_from", "numba", checked=False)
    inversion, mesh = setup.inversion, setup.mesh

    def run():
        matrix = regularization(COEFFICIENT, mesh.neighbors, mesh.neighbors_sizes)
        return result(inversion, mesh.pix_indexes_for_sub_slim_index,
                      mesh.pix_weights_for_sub_slim_index, matrix).log_evidence
    return run, check_log_evidence(setup)


def autokern_jax(jit: bool):
    def build(setup: Setup):
        state = setup.jax()
        import jax

        regularization = get_kernel("constant_regularization_matrix_from", "jax", checked=False)
        result = get_kernel("inversion_result_from", "jax", checked=False)

        def log_evidence(inversion, indexes, weights, neighbors, sizes):
            matrix = regularization(COEFFICIENT, neighbors, sizes)
            return result(inversion, indexes, weights, matrix).log_evidence

        call = jax.jit(log_evidence) if jit else log_evidence
        arguments = tuple(state[key] for key in ("inversion", "pix_indexes", "pix_weights",
                                                 "neighbors", "neighbors_sizes"))

        def run():
            return bench.block(call(*arguments))
        return run, check_log_evidence(setup)
    return build


def library_precompute(setup: Setup):
    expected = autokern_terms(setup.terms)

    def run():
        return library_dataset_from(setup.case).apply_sparse_operator()
    return run, lambda dataset: check_precompute(*library_terms(dataset), expected)


def autokern_precompute(setup: Setup):
    visibility_terms = get_kernel("visibility_terms_from", "numba")
    ds = setup.case.dataset
    expected = library_terms(setup.dataset)

    def run():
        return visibility_terms(ds.data, ds.noise_map, ds.uv_wavelengths, ds.grid_radians_slim,
                                ds.native_index_for_slim_index, ds.pixel_scale)
    return run, lambda terms: check_precompute(*autokern_terms(terms), expected)


CONTENDERS: dict[str, tuple[str, Callable[[Setup], tuple[Callable[[], Any], Check]]]] = {
    "library-F-numba-direct_conv": ("likelihood", library_f("numba-direct_conv")),
    "library-F-numba-symmetric": ("likelihood", library_f("numba-symmetric")),
    "library-F-numba-parallel": ("likelihood", library_f("numba-parallel")),
    "library-F-fft-numpy": ("likelihood", library_f("fft-numpy")),
    "library-F-fft-jax": ("likelihood", library_f_fft_jax),
    "library-likelihood": ("likelihood", library_likelihood),
    "autokern-F-numba": ("likelihood", autokern_f("numba")),
    "autokern-F-jax": ("likelihood", autokern_f("jax")),
    "autokern-numba": ("likelihood", autokern_numba),
    "autokern-jax": ("likelihood", autokern_jax(jit=False)),
    "autokern-jax-jit": ("likelihood", autokern_jax(jit=True)),
    "library-precompute": ("precompute", library_precompute),
    "autokern-precompute-numba": ("precompute", autokern_precompute),
}
#: contenders on XLA's thread pool, which ``threads`` does not limit
JAX_CONTENDERS = {"library-F-fft-jax", "autokern-F-jax", "autokern-jax", "autokern-jax-jit"}


def test_library(benchmark, library_preset, threads, contender):
    kind, build = CONTENDERS[contender]
    setup = setup_for(library_preset)
    benchmark.group = (f"library {library_preset} threads={threads}" if kind == "likelihood"
                       else f"library precompute {library_preset} threads={threads}")
    benchmark.extra_info.update(setup.info, threads=threads,
                                threads_limited=contender not in JAX_CONTENDERS)
    run, check = build(setup)
    with autokern.threads(threads):
        first_call_s, result = bench.timed(run)
        check(result)
        benchmark.extra_info["first_call_s"] = first_call_s
        # one warm-up round, which sizes the timed rounds; none where the first call was slow
        # (it was the warm-up) or where pytest-benchmark is disabled (one call: the smoke run)
        call_s = first_call_s
        if first_call_s < WARMUP_LIMIT_S and not benchmark.disabled:
            call_s, _ = bench.timed(run)
        benchmark.pedantic(run, iterations=1, rounds=bench.repeats_for(
            call_s, budget_s=BUDGET_S, low=2, high=20))
