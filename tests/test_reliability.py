"""Regression tests of the second reliability round: one behaviour on every backend.

Each test names the item of the reliability issue it pins and runs on every backend that
provides the kernels involved.
"""

from __future__ import annotations

import numpy as np
import pytest

from autokern import get_kernel
from autokern._api.dispatch import provides
from autokern.catalogue import BACKEND_NAMES
from autokern.data import testing
from autokern.errors import (
    ConfigurationError,
    InputTypeError,
    InputValueError,
    MemoryBudgetError,
)
from helpers import relative_error

LIKELIHOODS = ["log_likelihood_function_via_w_compact_from",
               "log_likelihood_function_via_w_tilde_from"]


def providers(*kernels: str) -> list[str]:
    return [b for b in BACKEND_NAMES if all(provides(b, k) for k in kernels)]


# --- 2: complex visibilities are required --------------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("kernel", ["w_tilde_data_interferometer_from", "visibility_terms_from",
                                    *LIKELIHOODS])
def test_real_valued_data_is_refused(backend, kernel, get_case):
    arguments = get_case("tiny").arguments(kernel)
    arguments["data"] = arguments["data"].real.copy()
    with pytest.raises(InputTypeError, match=f"^{kernel}: data must be a complex128 array"):
        get_kernel(kernel, backend)(**arguments)


# --- 3: off-lattice grids take the exact sums ----------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_grid_slightly_off_its_lattice_is_summed_exactly(backend):
    rng = np.random.default_rng(3)
    d = 0.05 * np.pi / 648000
    rows, cols = np.indices((20, 20)).reshape(2, -1)
    grid = np.stack([-rows * d, cols * d], axis=1)
    grid[cols == 19, 1] += 5e-7 * d  # the last column, half a millionth of a pixel off
    k = 8_000  # enough work for method="auto" to pick the NUFFT on a lattice
    uv = rng.uniform(-1e6, 1e6, (k, 2))
    data = rng.normal(size=k) + 1j * rng.normal(size=k)
    noise = (1.0 + 1j) * np.ones(k)
    dirty = get_kernel("w_tilde_data_interferometer_from", backend)
    exact = get_kernel("w_tilde_data_interferometer_from", "original")(
        data, noise, uv, grid, method="direct")
    assert relative_error(dirty(data, noise, uv, grid), exact) <= 1e-12


# --- 4: non-mutual neighbour lists ---------------------------------------------------------

def _non_mutual(case: testing.Case) -> dict:
    """The tiny case where every fifth pixel also lists the next pixel, one way only."""
    arguments = case.arguments("log_likelihood_function_via_w_compact_from")
    neighbors = np.pad(arguments["neighbors"], ((0, 0), (0, 1)), constant_values=-1)
    sizes = arguments["neighbors_sizes"].copy()
    pixels = len(neighbors)
    for i in range(0, pixels, 5):
        j = (i + 1) % pixels
        if j not in neighbors[i, : sizes[i]] and i not in neighbors[j, : sizes[j]]:
            neighbors[i, sizes[i]] = j
            sizes[i] += 1
    return {**arguments, "neighbors": neighbors, "neighbors_sizes": sizes}


def test_non_mutual_neighbours_count_each_listing_as_half_an_edge(get_case):
    arguments = _non_mutual(get_case("tiny"))
    neighbors, sizes = arguments["neighbors"], arguments["neighbors_sizes"]
    coefficient = 1.7
    expected = 1e-8 * np.eye(len(neighbors))
    for i in range(len(neighbors)):
        for j in neighbors[i, : sizes[i]]:
            edge = np.zeros(len(neighbors))
            edge[i], edge[j] = 1.0, -1.0
            expected += coefficient**2 / 2 * np.outer(edge, edge)
    for backend in BACKEND_NAMES:
        regularization = np.asarray(get_kernel("constant_regularization_matrix_from", backend)(
            coefficient, neighbors, sizes))
        assert np.array_equal(regularization, regularization.T)
        assert relative_error(regularization, expected) <= 1e-14
        assert np.linalg.eigvalsh(regularization).min() > 0


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_non_mutual_neighbours_give_one_evidence_on_every_backend(backend, get_case):
    arguments = _non_mutual(get_case("tiny"))
    name = "log_likelihood_function_via_w_compact_from"
    expected = get_kernel(name, "original")(**arguments)
    assert np.isfinite(expected)
    assert get_kernel(name, backend)(**arguments) == pytest.approx(expected, rel=1e-10)


# --- 5, 7: a factorisation that fails is the same clear error everywhere --------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_huge_coefficient_is_a_clear_error_on_every_backend(backend, get_case):
    name = "log_likelihood_function_via_w_compact_from"
    arguments = {**get_case("tiny").arguments(name), "coefficient": 1e12}
    with pytest.raises(InputValueError, match=rf"^{name}: F \+ H .*coefficient 1e\+12.* not "
                                              "symmetric positive definite"):
        get_kernel(name, backend)(**arguments)


# --- 6: S × S results are budgeted ---------------------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_source_sized_results_are_refused_before_allocation(backend):
    pixels = 400_000  # an S × S float64 array of 1.3 TB
    neighbors = np.full((pixels, 3), -1, dtype=np.int64)
    sizes = np.zeros(pixels, dtype=np.int64)
    with pytest.raises(MemoryBudgetError, match=r"\(S, S\) float64 array needs 1280\.00 GB"):
        get_kernel("constant_regularization_matrix_from", backend)(1.0, neighbors, sizes)
    w_compact = np.ones((4, 7))
    native = np.zeros((5, 2), dtype=np.int64)
    indexes = np.zeros((5, 3), dtype=np.int64)
    with pytest.raises(MemoryBudgetError, match="fewer pixels"):
        get_kernel("curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from", backend)(
            w_compact, native, indexes, np.ones((5, 3)), pixels)


# --- 7: one error class for one mistake; errors name the kernel ----------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_the_same_bad_call_raises_the_same_class_everywhere(backend):
    name = "w_compact_curvature_interferometer_from"
    fn = get_kernel(name, backend)
    with pytest.raises(InputTypeError, match=f"^{name}: pixel_scale must be a real number"):
        fn((24, 24), np.ones(3), np.zeros((3, 2)), (0.2, 0.2))
    with pytest.raises(InputTypeError, match=rf"^{name}\(.*missing a required argument: "
                                             "'pixel_scale'"):
        fn((24, 24), np.ones(3), np.zeros((3, 2)), pixelscale=0.2)


# --- 8: environment settings are checked, naming the variable ------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("variable, value", [
    ("AUTOKERN_CHUNK_BUDGET_MB", "abc"), ("AUTOKERN_CHUNK_BUDGET_MB", "0"),
    ("AUTOKERN_CHUNK_BUDGET_MB", "-5"), ("AUTOKERN_MEMORY_BUDGET_MB", "abc"),
])
def test_bad_budget_settings_name_the_variable(backend, variable, value, monkeypatch,
                                              get_case):
    kernel = "w_tilde_curvature_interferometer_from"  # budgeted and chunked
    arguments = get_case("tiny").arguments(kernel)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=f"^environment variable {variable} must be"):
        get_kernel(kernel, backend)(**arguments)


@pytest.mark.parametrize("backend", ["original", "numba"])  # the CPU NUFFT and FFT threads
@pytest.mark.parametrize("value", ["abc", "0"])
def test_bad_thread_setting_names_the_variable(backend, value, monkeypatch, get_case):
    kernel = "w_compact_curvature_interferometer_from"
    arguments = get_case("tiny").arguments(kernel)
    monkeypatch.setenv("AUTOKERN_NUM_THREADS", value)
    with pytest.raises(ConfigurationError, match="AUTOKERN_NUM_THREADS must be a positive int"):
        get_kernel(kernel, backend)(**arguments, method="nufft")


def test_a_wrong_data_directory_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOKERN_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match="AUTOKERN_DATA_DIR names"):
        testing.default_data_dir()


# --- 9: unequal real and imaginary noise ---------------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("kernel", ["visibility_terms_from", *LIKELIHOODS])
def test_unequal_noise_is_refused_where_w_tilde_is_used(backend, kernel, get_case):
    arguments = get_case("tiny").arguments(kernel)
    noise = arguments["noise_map"]
    arguments["noise_map"] = noise.real + 1.1j * noise.imag
    with pytest.raises(InputValueError, match=f"^{kernel}: noise_map has unequal.*Pool them"):
        get_kernel(kernel, backend)(**arguments)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_unequal_noise_is_fine_for_the_dirty_image(backend, get_case):
    kernel = "w_tilde_data_interferometer_from"
    arguments = get_case("tiny").arguments(kernel)
    arguments["noise_map"] = arguments["noise_map"].real + 1.1j * arguments["noise_map"].imag
    expected = get_kernel(kernel, "original")(**arguments, method="direct")
    assert relative_error(get_kernel(kernel, backend)(**arguments), expected) <= 1e-11


# --- 10: bitwise-reproducible CPU NUFFT ----------------------------------------------------

@pytest.mark.parametrize("backend", ["original", "numba"])
def test_deterministic_setting_makes_the_nufft_bitwise_reproducible(backend, monkeypatch):
    case = testing.mock_case("medium", seed=2)  # K = 8192 visibilities over 2 threads
    kernel = "w_compact_curvature_interferometer_from"
    arguments = case.arguments(kernel)
    monkeypatch.setenv("AUTOKERN_DETERMINISTIC", "1")
    fn = get_kernel(kernel, backend)
    first = fn(**arguments, method="nufft")
    for _ in range(5):
        assert np.array_equal(fn(**arguments, method="nufft"), first)
    monkeypatch.setenv("AUTOKERN_DETERMINISTIC", "yes")
    with pytest.raises(ConfigurationError, match="AUTOKERN_DETERMINISTIC must be 0 or 1"):
        fn(**arguments, method="nufft")


# --- 11: types, signs, reprs, messages -----------------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("kernel", LIKELIHOODS)
def test_likelihoods_return_a_python_float(backend, kernel, get_case):
    result = get_kernel(kernel, backend)(**get_case("tiny").arguments(kernel))
    assert type(result) is float


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_negative_coefficient_is_refused(backend, get_case):
    name = "log_likelihood_function_via_w_compact_from"
    arguments = {**get_case("tiny").arguments(name), "coefficient": -1.0}
    with pytest.raises(InputValueError, match=f"^{name}: coefficient must be non-negative"):
        get_kernel(name, backend)(**arguments)


def test_reprs_are_short_and_messages_read_well(get_case):
    case = get_case("tiny")
    assert len(repr(case)) < 400 and "array(" not in repr(case)
    with pytest.raises(InputTypeError, match="must be an int64 array"):
        get_kernel("mapping_matrix_from", "original")(np.zeros((3, 2)), np.ones((3, 2)), 4)
    with pytest.raises(MemoryBudgetError, match=r"the \(M, M\) float64 array"):
        get_kernel("w_tilde_via_compact_from", "original")(
            np.ones((300, 599)), np.zeros((80_000, 2), dtype=np.int64))
