"""The Numba backend: coverage of the catalogue, lazy compilation, determinism, chunking, the -1
sentinel and the fallbacks of its fast paths.  Parity with ``original`` on every kernel is in
test_backends.py; here are the properties specific to this backend.
"""

import subprocess
import sys
from functools import partial

import numpy as np
import pytest

from autokern import numba, original
from autokern._api.dispatch import provides
from autokern.catalogue import kernels_for
from autokern.data import testing
from helpers import relative_error

MAIN_KERNELS = [
    "w_compact_curvature_interferometer_from",
    "nufft_precision_operator_from",
    "w_tilde_data_interferometer_from",
    "w_tilde_curvature_interferometer_from",
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
    "curvature_matrix_via_nufft_precision_operator_from",
    "log_likelihood_function_via_w_compact_from",
    "log_likelihood_function_via_w_tilde_from",
]
REDUCTIONS = MAIN_KERNELS[:4]


def test_numba_provides_every_kernel_the_catalogue_declares():
    missing = [k.name for k in kernels_for("numba") if not provides("numba", k.name)]
    assert missing == []


def test_import_is_fast_and_compiles_nothing():
    script = """
import sys, time
start = time.perf_counter()
import autokern.numba
elapsed = time.perf_counter() - start
from numba.core.registry import CPUDispatcher
compiled = [f"{m}.{n}" for m, module in list(sys.modules.items())
            if m.startswith(("autokern.numba", "autokern._cpu"))
            for n, f in vars(module).items() if isinstance(f, CPUDispatcher) and f.signatures]
print(elapsed, len(compiled), compiled)
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    elapsed, count, names = run.stdout.split(maxsplit=2)
    assert float(elapsed) < 3.0
    assert int(count) == 0, names


@pytest.mark.parametrize("kernel", MAIN_KERNELS)
def test_repeated_calls_are_bitwise_identical(kernel, get_case):
    fn = getattr(numba, kernel)
    args = get_case("small").arguments(kernel)
    first = np.asarray(fn(**args))
    for _ in range(2):
        np.testing.assert_array_equal(np.asarray(fn(**args)), first)


def _direct(kernel: str) -> dict:
    """Pin the Numba summation (the reductions may otherwise pick a NUFFT by size)."""
    return {"method": "direct"} if "method" in getattr(numba, kernel).kernel.signature.parameters \
        else {}


@pytest.mark.parametrize("kernel", REDUCTIONS)
def test_chunk_size_changes_only_round_off(kernel, get_case):
    fn = partial(getattr(numba, kernel), **_direct(kernel))
    args = get_case("small").arguments(kernel)
    whole = fn(**args, chunk_size="auto")
    for chunk_size in (1, 7):
        assert relative_error(fn(**args, chunk_size=chunk_size), whole) <= 1e-12


SENTINEL_KERNELS = [
    "mapping_matrix_from",
    "sparse_mapping_matrix_transpose_matmul",
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
    "curvature_matrix_via_nufft_precision_operator_from",
    "log_likelihood_function_via_w_compact_from",
]


@pytest.mark.parametrize("kernel", SENTINEL_KERNELS)
def test_rows_of_sentinels_contribute_nothing(kernel, get_case):
    """Image pixels whose entries are all -1 (with non-zero weights) add nothing: the result
    equals the reference with those pixels' weights set to zero."""
    args = get_case("small").arguments(kernel)
    indexes = args["pix_indexes_for_sub_slim_index"].copy()
    weights = args["pix_weights_for_sub_slim_index"].copy()
    empty = np.arange(0, len(indexes), 5)
    indexes[empty] = -1
    weights[empty] = 3.0
    zeroed = args["pix_weights_for_sub_slim_index"].copy()
    zeroed[empty] = 0.0
    result = getattr(numba, kernel)(**{**args, "pix_indexes_for_sub_slim_index": indexes,
                                       "pix_weights_for_sub_slim_index": weights})
    expected = getattr(original, kernel)(**{**args, "pix_weights_for_sub_slim_index": zeroed})
    assert relative_error(result, expected) <= 1e-12


@pytest.mark.parametrize("kernel", [
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
    "curvature_matrix_via_nufft_precision_operator_from",
])
def test_curvature_does_not_depend_on_the_pixel_order(kernel, get_case):
    """F sums over image pixels: shuffling them (which breaks every run of contiguous pixels
    the lattice kernels group into lanes) changes nothing."""
    args = get_case("small").arguments(kernel)
    expected = getattr(original, kernel)(**args)
    order = np.random.default_rng(3).permutation(len(args["native_index_for_slim_index"]))
    shuffled = {name: value[order] if name in (
        "native_index_for_slim_index", "pix_indexes_for_sub_slim_index",
        "pix_weights_for_sub_slim_index", "pix_sizes_for_sub_slim_index") else value
        for name, value in args.items()}
    assert relative_error(getattr(numba, kernel)(**shuffled), expected) <= 1e-12


def test_dense_mapping_matrix_takes_both_paths(get_case):
    """A sparse T goes through the gather core, a dense one through BLAS: both match."""
    case = get_case("small")
    w_tilde = case.value("w_tilde")
    sparse = case.value("mapping_matrix")
    dense = sparse + np.random.default_rng(0).random(sparse.shape)
    for mapping in (sparse, dense):
        expected = original.curvature_matrix_via_w_tilde_from(w_tilde, mapping)
        result = numba.curvature_matrix_via_w_tilde_from(w_tilde, mapping)
        assert relative_error(result, expected) <= 1e-12


def test_grids_without_lattice_structure_fall_back_to_direct_sums(get_case):
    """Scattered pixel positions: W̃ and the dirty image are summed pair by pair."""
    case = get_case("tiny")
    grid = case.value("grid_radians_slim")
    scattered = grid + np.random.default_rng(1).normal(scale=1e-8, size=grid.shape)
    for kernel in ("w_tilde_curvature_interferometer_from", "w_tilde_data_interferometer_from"):
        args = {**case.arguments(kernel), "grid_radians_slim": scattered, **_direct(kernel)}
        expected = getattr(original, kernel)(**args)
        for chunk_size in ("auto", 7):
            result = getattr(numba, kernel)(**args, chunk_size=chunk_size)
            assert relative_error(result, expected) <= 1e-12


@pytest.mark.parametrize("regularization_kind", ["sparse", "dense"])
@pytest.mark.parametrize("solution_kind", ["linear", "given"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_evidence_in_place_matches_the_shared_maths(regularization_kind, solution_kind, order):
    """The Numba backend's F + H in F's memory (sparse or dense H, the linear solve or a given
    reconstruction, a C- or Fortran-ordered F) gives the shared maths' terms; F is consumed."""
    from autokern._shared import evidence
    from autokern.numba.linalg import evidence_terms_consuming

    rng = np.random.default_rng(3)
    pixels = 60
    factor = rng.normal(size=(pixels, 3 * pixels))
    curvature = factor @ factor.T
    if regularization_kind == "sparse":  # a chain's second differences and a floor
        regularization = 2.0 * np.eye(pixels) - np.eye(pixels, k=1) - np.eye(pixels, k=-1) \
            + 1e-3 * np.eye(pixels)
    else:
        regularization = np.exp(-np.subtract.outer(np.arange(pixels), np.arange(pixels)) ** 2
                                / 50.0) + 1e-3 * np.eye(pixels)
    data_vector = rng.normal(size=pixels)
    solution = None if solution_kind == "linear" else np.abs(rng.normal(size=pixels))
    arguments = (regularization, data_vector, 123.0, -45.0, solution)
    expected = evidence.evidence_terms(evidence.NUMPY_OPS, curvature, *arguments)
    given = np.array(curvature, order=order)
    result = evidence_terms_consuming(given, *arguments)
    for value, reference in zip(result, expected, strict=True):
        assert relative_error(np.asarray(value), np.asarray(reference)) <= 1e-12
    if order == "C":
        assert not np.array_equal(given, curvature)  # factorised in place


def test_evidence_in_place_is_nan_where_f_plus_h_is_not_positive_definite():
    from autokern.numba.linalg import evidence_terms_consuming

    pixels = 5
    result = evidence_terms_consuming(-np.eye(pixels), np.eye(pixels) * 0.5, np.ones(pixels),
                                      1.0, 0.0)
    assert np.isnan(result[0]) and np.isnan(result[4])


def _spd(pixels: int, seed: int = 5) -> np.ndarray:
    factor = np.random.default_rng(seed).normal(size=(pixels, pixels + 3))
    return factor @ factor.T + 1e-3 * np.eye(pixels)


@pytest.mark.parametrize(("pixels", "block"), [(1, 16), (2, 16), (127, 16), (129, 16),
                                               (300, 16), (127, 128), (128, 128), (129, 128),
                                               (300, 128)])
def test_blocked_cholesky_matches_lapack_on_one_thread_and_two(pixels, block):
    """The Numba backend's Cholesky of F + H (SciPy's BLAS blocks on Numba's threads) equals
    LAPACK's potrf, leaves the other triangle as it was, and gives the same bits on one thread
    and on two."""
    import scipy.linalg

    import autokern
    from autokern._runtime import parallelism
    from autokern.numba.linalg import cholesky_lower_in_place

    matrix = _spd(pixels)
    expected = scipy.linalg.cholesky(matrix, lower=True)
    factors = []
    for threads in (1, 2):
        given = matrix.copy()
        with autokern.threads(threads), parallelism.one_blas_thread():
            assert cholesky_lower_in_place(given, block, threads) == 0
        factors.append(given)
        assert relative_error(np.triu(given).T, expected) <= 1e-13  # the factor: C's upper
        assert np.array_equal(np.tril(given, -1), np.tril(matrix, -1))  # untouched
    assert np.array_equal(factors[0], factors[1])


def test_blocked_cholesky_reports_the_first_pivot_that_is_not_positive():
    """A matrix that stops being positive definite in a later block: LAPACK's 1-based column,
    and NaN from the solve and log det built on it."""
    from autokern._runtime import parallelism
    from autokern.numba.linalg import cholesky_lower_in_place, solve_log_det_in_place

    matrix = _spd(50)
    matrix[40, 40] = -1.0
    with parallelism.one_blas_thread():
        assert cholesky_lower_in_place(matrix.copy(), 16, 2) == 41
        nan_pivot = _spd(50)
        nan_pivot[20, 20] = np.nan  # OpenBLAS's own potrf reports no error for it
        assert cholesky_lower_in_place(nan_pivot, 16, 2) == 21
        solution, log_det = solve_log_det_in_place(matrix.copy(), np.ones(50))
    assert np.isnan(log_det) and np.all(np.isnan(solution))


def test_log_likelihood_matches_the_reference_run(dev_case):
    args = dev_case.arguments("log_likelihood_function_via_w_compact_from")
    expected = dev_case.expected("log_likelihood_function_via_w_compact_from")
    result = numba.log_likelihood_function_via_w_compact_from(**args)
    assert abs(result - expected) <= 1e-10 * abs(expected)


@pytest.mark.slow
@pytest.mark.parametrize("kernel", MAIN_KERNELS[:3] + MAIN_KERNELS[5:])
def test_medium_preset_matches_original(kernel):
    case = _medium_case()
    args = {**case.arguments(kernel), **_direct(kernel)}
    assert relative_error(getattr(numba, kernel)(**args),
                          getattr(original, kernel)(**args)) <= 1e-10


_MEDIUM: list[testing.Case] = []


def _medium_case() -> testing.Case:
    if not _MEDIUM:
        _MEDIUM.append(testing.mock_case("medium", seed=2))
    return _MEDIUM[0]


@pytest.mark.parametrize("threads", [1, 2])
def test_positive_only_refuses_a_matrix_that_is_not_positive_definite(threads):
    """The positive-only solve's fresh factorisation (the blocked Cholesky) finds the failed
    pivot and the solve raises the clear error, on one thread and two."""
    import autokern
    from autokern.errors import InputValueError
    from autokern.numba.solve import reconstruction_positive_only_from

    matrix = _spd(40)
    matrix[30, 30] = -1.0
    with autokern.threads(threads), pytest.raises(InputValueError, match="positive definite"):
        reconstruction_positive_only_from(np.ones(40), matrix)


@pytest.mark.parametrize("threads", [1, 2])
def test_positive_only_is_the_same_on_one_thread_and_two(threads):
    """Above the Cholesky's block (S = 300), the positive-only solve gives the same bits on
    one thread and two (its factorisations do), and a non-negative solution."""
    import autokern
    from autokern.numba.solve import reconstruction_positive_only_from

    rng = np.random.default_rng(11)
    matrix = _spd(300)
    data_vector = matrix @ rng.normal(size=300)  # about half the unconstrained solution < 0
    with autokern.threads(1):
        expected = reconstruction_positive_only_from(data_vector, matrix)
    with autokern.threads(threads):
        result = reconstruction_positive_only_from(data_vector, matrix)
    assert np.array_equal(result, expected)
    assert np.all(result >= 0.0) and np.any(result > 0.0)
