"""Behaviours every backend shares: chunking, the -1 sentinel, re-indexings, input checks.

Each test runs on every backend that provides the kernel it exercises.
"""

import time

import numpy as np
import pytest

from autokern import get_backend, get_kernel
from autokern._api.dispatch import provides
from autokern.catalogue import BACKEND_NAMES, KERNELS
from autokern.errors import InputShapeError, InputTypeError, InputValueError, MemoryBudgetError
from helpers import relative_error


def providers(*kernels: str) -> list[str]:
    return [b for b in BACKEND_NAMES if all(provides(b, k) for k in kernels)]


REDUCTIONS = [k.name for k in KERNELS.values() if k.family == "reductions"]
SENTINEL_KERNELS = [k.name for k in KERNELS.values()
                    if "pix_indexes_for_sub_slim_index" in k.signature.parameters]


def _cases(kernels):
    return [(b, k) for k in kernels for b in providers(k)]


@pytest.mark.parametrize("backend, kernel", _cases(REDUCTIONS))
def test_chunk_size_does_not_change_reductions(backend, kernel, get_case):
    fn = get_kernel(kernel, backend)
    args = get_case("tiny").arguments(kernel)
    whole = fn(**args, chunk_size="auto")
    for chunk_size in (1, 7, 64, 10_000):
        assert relative_error(fn(**args, chunk_size=chunk_size), whole) <= 1e-12


@pytest.mark.parametrize("backend, kernel", _cases(SENTINEL_KERNELS))
def test_padding_with_the_sentinel_changes_nothing(backend, kernel, get_case):
    """A column of -1 entries, even with non-zero weights, contributes nothing."""
    case = get_case("tiny")
    args = case.arguments(kernel)
    expected = get_kernel(kernel, backend)(**args)
    idx, w = args["pix_indexes_for_sub_slim_index"], args["pix_weights_for_sub_slim_index"]
    args["pix_indexes_for_sub_slim_index"] = np.column_stack([idx, np.full(len(idx), -1)])
    args["pix_weights_for_sub_slim_index"] = np.column_stack([w, np.full(len(w), 7.0)])
    result = get_kernel(kernel, backend)(**args)
    assert relative_error(result, expected) <= 1e-12


@pytest.mark.parametrize("backend", providers("w_compact_via_nufft_precision_operator_from",
                                              "nufft_precision_operator_via_w_compact_from"))
def test_compact_and_preload_are_exact_reindexings(backend, get_case):
    kern = get_backend(backend)
    w_compact = get_case("tiny").value("w_compact")
    precision_operator = np.asarray(kern.nufft_precision_operator_via_w_compact_from(w_compact))
    np.testing.assert_array_equal(
        np.asarray(kern.w_compact_via_nufft_precision_operator_from(precision_operator)), w_compact)
    ny, nx = w_compact.shape[0], (w_compact.shape[1] + 1) // 2
    assert np.all(precision_operator[ny] == 0) and np.all(precision_operator[:, nx] == 0)


@pytest.mark.parametrize("backend", providers("w_tilde_via_compact_from",
                                              "w_tilde_via_nufft_precision_operator_from"))
def test_expansions_give_a_symmetric_w_tilde(backend, get_case):
    kern, case = get_backend(backend), get_case("tiny")
    native = case.value("native_index_for_slim_index")
    from_compact = np.asarray(kern.w_tilde_via_compact_from(case.value("w_compact"), native))
    from_preload = np.asarray(kern.w_tilde_via_nufft_precision_operator_from(
        case.value("nufft_precision_operator"), native))
    np.testing.assert_array_equal(from_compact, from_compact.T)
    np.testing.assert_array_equal(from_compact, from_preload)


@pytest.mark.parametrize("backend", providers("sparse_mapping_matrix_transpose_matmul",
                                              "mapping_matrix_from"))
def test_transpose_matmul_takes_a_block_of_columns(backend, get_case):
    kern, case = get_backend(backend), get_case("tiny")
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(len(case.value("native_index_for_slim_index")), 5))
    mapping = case.value("mapping_matrix")
    result = kern.sparse_mapping_matrix_transpose_matmul(
        matrix, case.value("pix_indexes_for_sub_slim_index"),
        case.value("pix_weights_for_sub_slim_index"), case.value("pixels"))
    assert relative_error(result, mapping.T @ matrix) <= 1e-12


@pytest.mark.parametrize("backend", providers(
    "curvature_matrix_via_nufft_precision_operator_from"))
def test_preload_curvature_ignores_entries_past_pix_size(backend, get_case):
    case = get_case("tiny")
    fn = get_backend(backend).curvature_matrix_via_nufft_precision_operator_from
    args = case.arguments(fn.kernel)
    expected = fn(**args)
    idx = args["pix_indexes_for_sub_slim_index"].copy()
    sizes = args["pix_sizes_for_sub_slim_index"]
    past = np.arange(idx.shape[1]) >= sizes[:, None]
    idx[past] = 0  # a real source pixel, but past the row's size
    args["pix_indexes_for_sub_slim_index"] = idx
    assert relative_error(fn(**args), expected) <= 1e-12


@pytest.mark.parametrize("backend", providers("constant_regularization_matrix_from"))
def test_regularization_reads_only_the_first_sizes_neighbours(backend):
    neighbors = np.array([[1, 2, 0], [0, -1, -1], [0, -1, -1]])
    sizes = np.array([2, 1, 1])
    h = np.asarray(get_backend(backend).constant_regularization_matrix_from(2.0, neighbors,
                                                                            sizes))
    expected = np.array([[8.0, -4.0, -4.0], [-4.0, 4.0, 0.0], [-4.0, 0.0, 4.0]])
    np.testing.assert_allclose(h, expected + 1e-8 * np.eye(3), rtol=0, atol=1e-15)


# --- input checks ---------------------------------------------------------------------------

@pytest.mark.parametrize("backend", providers("w_tilde_data_interferometer_from"))
def test_inconsistent_lengths_name_the_argument(backend, get_case):
    args = get_case("tiny").arguments("w_tilde_data_interferometer_from")
    args["uv_wavelengths"] = args["uv_wavelengths"][:-1]
    fn = get_backend(backend).w_tilde_data_interferometer_from
    with pytest.raises(InputShapeError, match=r"inconsistent K: 200 from data .* 199 from "
                                              r"uv_wavelengths"):
        fn(**args)


@pytest.mark.parametrize("backend", providers("w_tilde_data_interferometer_from"))
def test_real_data_where_complex_is_meant_is_refused(backend, get_case):
    args = get_case("tiny").arguments("w_tilde_data_interferometer_from")
    args["uv_wavelengths"] = args["uv_wavelengths"].astype(complex)
    with pytest.raises(InputTypeError, match="uv_wavelengths must be a float64 array"):
        get_backend(backend).w_tilde_data_interferometer_from(**args)


@pytest.mark.parametrize("backend", providers("mapping_matrix_from"))
def test_bad_mapping_arguments_are_refused(backend, get_case):
    fn = get_backend(backend).mapping_matrix_from
    args = get_case("tiny").arguments("mapping_matrix_from")
    with pytest.raises(InputTypeError, match="pix_indexes_for_sub_slim_index must be an int64"):
        fn(**{**args, "pix_indexes_for_sub_slim_index":
              args["pix_indexes_for_sub_slim_index"].astype(float)})
    with pytest.raises(InputValueError, match="pixels must be positive, got 0"):
        fn(**{**args, "pixels": 0})
    with pytest.raises(InputShapeError, match="pix_weights_for_sub_slim_index must have shape"):
        fn(**{**args, "pix_weights_for_sub_slim_index": np.ones(3)})


@pytest.mark.parametrize("backend", providers("w_compact_curvature_interferometer_from"))
def test_bad_grid_size_and_chunk_size_are_refused(backend, get_case):
    fn = get_backend(backend).w_compact_curvature_interferometer_from
    args = get_case("tiny").arguments(fn.kernel)
    with pytest.raises(InputValueError, match="grid_size must be positive"):
        fn(**{**args, "grid_size": (0, 4)})
    with pytest.raises(InputTypeError, match="chunk_size must be an integer"):
        fn(**args, chunk_size="big")


@pytest.mark.parametrize("backend", providers("w_tilde_curvature_interferometer_from"))
def test_dense_w_tilde_that_cannot_fit_fails_fast_naming_w_compact(backend):
    image_pixels = 80_000  # a 51 GB W̃
    grid = np.zeros((image_pixels, 2))
    start = time.perf_counter()
    with pytest.raises(MemoryBudgetError, match="w_compact_curvature_interferometer_from"):
        get_backend(backend).w_tilde_curvature_interferometer_from(
            np.ones(10), np.zeros((10, 2)), grid)
    assert time.perf_counter() - start < 1.0


def test_memory_budget_is_configurable(monkeypatch, get_case):
    from autokern import original

    monkeypatch.setenv("AUTOKERN_MEMORY_BUDGET_MB", "0.01")
    case = get_case("tiny")
    with pytest.raises(MemoryBudgetError, match="AUTOKERN_MEMORY_BUDGET_MB"):
        original.w_tilde_via_compact_from(case.value("w_compact"),
                                          case.value("native_index_for_slim_index"))
