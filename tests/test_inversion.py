"""The downstream library's real inversion on every backend, against its own numbers.

``../shared/data/sma_delaunay_dev_{positive,adaptive,subpixel}.npz`` (see its README): the
positive-only solve with zeroed pixels, the log evidence with any H (constant, AdaptSplit), the
sub-pixel mapping reduction — through the public kernels, end to end from w-compact included.
The JAX gradient and vmap checks run in a subprocess with a timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize

from autokern import get_kernel
from autokern._shared import nnls as _nnls
from autokern.catalogue import BACKEND_NAMES
from autokern.data import testing
from autokern.errors import InputValueError
from helpers import relative_error

FILES = {name: f"sma_delaunay_dev_{name}.npz" for name in ("positive", "adaptive", "subpixel")}
_LOADED: dict[str, dict] = {}


def reference(name: str) -> dict:
    if name not in _LOADED:
        found = testing.default_data_dir()
        path = None if found is None else found / FILES[name]
        if path is None or not path.is_file():
            if os.environ.get("CI"):
                pytest.fail(f"{FILES[name]} is missing on CI")
            pytest.skip(f"{FILES[name]} not found in ../shared/data (set AUTOKERN_DATA_DIR)")
        with np.load(path, allow_pickle=False) as npz:
            _LOADED[name] = {key: npz[key] for key in npz.files}
    return _LOADED[name]


# --- the positive-only solve ---------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("name", ["positive", "adaptive"])
def test_positive_only_reconstruction_matches_the_library(backend, name):
    ref = reference(name)
    solve = get_kernel("reconstruction_positive_only_from", backend)
    solution = np.asarray(solve(ref["data_vector"],
                                ref["curvature_matrix"] + ref["regularization_matrix"],
                                zeroed_pixels=ref["zeroed_pixels"]))
    assert relative_error(solution, ref["reconstruction"]) <= 1e-8
    assert np.all(solution[ref["zeroed_pixels"]] == 0.0) and np.all(solution >= 0.0)


@pytest.mark.parametrize("rounds", [0, 1, 2])
def test_numba_fnnls_paths_match(rounds, monkeypatch):
    # 0: plain fnnls, every entering and leaving variable through the factor up/downdates;
    # 1, 2: block exchanges that stop short, then fnnls from the last projected point.
    from autokern.numba import solve

    ref = reference("positive")
    monkeypatch.setattr(solve, "PIVOTING_ITERATIONS", rounds)
    solution = solve.reconstruction_positive_only_from(
        ref["data_vector"], ref["curvature_matrix"] + ref["regularization_matrix"],
        ref["zeroed_pixels"])
    assert relative_error(solution, ref["reconstruction"]) <= 1e-8


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_random_problems_match_scipy_nnls(backend):
    solve = get_kernel("reconstruction_positive_only_from", backend)
    rng = np.random.default_rng(7)
    for pixels in (1, 12, 60):
        mixing = rng.standard_normal((2 * pixels, pixels))
        curvature_reg = mixing.T @ mixing + 0.1 * np.eye(pixels)
        curvature_reg = 0.5 * (curvature_reg + curvature_reg.T)
        data_vector = curvature_reg @ rng.standard_normal(pixels)
        zeroed = np.sort(rng.choice(pixels, size=pixels // 6, replace=False))
        keep = np.setdiff1d(np.arange(pixels), zeroed)
        lower = np.linalg.cholesky(curvature_reg[np.ix_(keep, keep)])
        expected = np.zeros(pixels)
        expected[keep] = scipy.optimize.nnls(
            lower.T, scipy.linalg.solve_triangular(lower, data_vector[keep], lower=True))[0]
        solution = solve(data_vector, curvature_reg, zeroed_pixels=zeroed)
        assert relative_error(solution, expected) <= 1e-9, pixels


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_non_convergence_is_an_error_naming_the_kernel(backend, monkeypatch):
    from autokern.jax import solve as jax_solve
    from autokern.numba import solve

    ref = reference("positive")
    monkeypatch.setattr(_nnls, "max_iterations", lambda pixels: 1)
    # the JAX core reads the cap when it traces: a fresh trace for this test (JAX ≥ 0.11
    # also caches the trace of the inner vmap-able core, so its caches are cleared too)
    monkeypatch.setattr(jax_solve, "_positive_only_jit", jax_solve._positive_only)
    jax_solve.jax.clear_caches()
    monkeypatch.setattr(solve, "PIVOTING_ITERATIONS", 0)
    try:
        with pytest.raises(InputValueError, match=r"^reconstruction_positive_only_from"):
            get_kernel("reconstruction_positive_only_from", backend)(
                ref["data_vector"], ref["curvature_matrix"] + ref["regularization_matrix"],
                zeroed_pixels=ref["zeroed_pixels"])
    finally:  # nor may the capped trace outlive the test
        jax_solve.jax.clear_caches()


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_zeroed_pixels_out_of_range_are_refused(backend):
    ref = reference("positive")
    with pytest.raises(InputValueError, match="zeroed_pixels must lie in"):
        get_kernel("reconstruction_positive_only_from", backend)(
            ref["data_vector"], ref["curvature_matrix"] + ref["regularization_matrix"],
            zeroed_pixels=np.array([0, 338]))


# --- the log evidence ----------------------------------------------------------------------

#: (file, variant): "" the file's own fit (positive-only, zeroed), "_linear" the linear solve,
#: "_positive_unzeroed" positive-only without zeroing
EVIDENCE_CASES = [("positive", ""), ("positive", "_linear"), ("positive", "_positive_unzeroed"),
                  ("adaptive", ""), ("adaptive", "_linear")]


def _solver(variant: str, ref: dict) -> dict:
    return {"solver": "positive_negative" if variant == "_linear" else "positive_only",
            "zeroed_pixels": None if variant == "_positive_unzeroed" else ref["zeroed_pixels"]}


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize(("name", "variant"), EVIDENCE_CASES)
def test_log_evidence_from_matches_the_library(backend, name, variant):
    ref = reference(name)
    log_evidence = get_kernel("log_evidence_from", backend)(
        ref["curvature_matrix"], ref["regularization_matrix"], ref["data_vector"], ref["data"],
        ref["noise_map"], **_solver(variant, ref))
    assert log_evidence == pytest.approx(ref[f"log_evidence{variant}"], rel=1e-9)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("variant", ["", "_linear", "_positive_unzeroed"])
def test_likelihood_from_w_compact_matches_the_library_end_to_end(backend, variant):
    """From the library's precision operator, dirty image and Delaunay mapping: F, H (coefficient
    0.1), D, the solve and the evidence — all autokern's."""
    ref = reference("positive")
    w_compact = get_kernel("w_compact_via_nufft_precision_operator_from", "original")(
        ref["nufft_precision_operator"])
    log_evidence = get_kernel("log_likelihood_function_via_w_compact_from", backend)(
        ref["dirty_image_weighted"], ref["data"], ref["noise_map"], w_compact,
        ref["native_index_for_slim_index"], ref["pix_indexes_for_sub_slim_index"],
        ref["pix_weights_for_sub_slim_index"], ref["neighbors"], ref["neighbors_sizes"],
        float(ref["coefficient"]), **_solver(variant, ref))
    assert log_evidence == pytest.approx(ref[f"log_evidence{variant}"], rel=1e-9)


# --- sub-pixel mapping ---------------------------------------------------------------------

def _sub_pixel_arguments(ref: dict) -> tuple:
    return (ref["pix_indexes_for_sub_slim_index"], ref["pix_weights_for_sub_slim_index"],
            ref["pix_sizes_for_sub_slim_index"], ref["slim_index_for_sub_slim_index"],
            ref["sub_fraction"], ref["curvature_matrix"].shape[0])


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_sub_pixel_mapping_gives_the_library_mapping_f_and_evidence(backend):
    ref = reference("subpixel")
    reduce = get_kernel("mapping_from_sub_pixels", backend)
    indexes, weights, sizes = (np.asarray(a) for a in reduce(*_sub_pixel_arguments(ref)))
    np.testing.assert_array_equal(indexes, ref["pix_indexes_for_slim_index"])
    np.testing.assert_array_equal(sizes, ref["pix_sizes_for_slim_index"])
    assert relative_error(weights, ref["pix_weights_for_slim_index"]) <= 1e-12
    pixels = ref["curvature_matrix"].shape[0]
    curvature = get_kernel("curvature_matrix_via_nufft_precision_operator_from",
                           backend)(ref["nufft_precision_operator"], indexes, sizes, weights,
                                    ref["native_index_for_slim_index"], pixels)
    assert relative_error(curvature, ref["curvature_matrix"]) <= 1e-10
    data_vector = get_kernel("sparse_mapping_matrix_transpose_matmul", backend)(
        ref["dirty_image_weighted"], indexes, weights, pixels)
    assert relative_error(data_vector, ref["data_vector"]) <= 1e-10
    log_evidence = get_kernel("log_evidence_from", backend)(
        np.asarray(curvature), ref["regularization_matrix"], np.asarray(data_vector),
        ref["data"], ref["noise_map"])
    assert log_evidence == pytest.approx(ref["log_evidence"], rel=1e-9)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_sub_pixel_order_and_width(backend):
    ref = reference("subpixel")
    reduce = get_kernel("mapping_from_sub_pixels", backend)
    arguments = _sub_pixel_arguments(ref)
    order = np.random.default_rng(3).permutation(len(arguments[0]))
    shuffled = tuple(a[order] for a in arguments[:4]) + arguments[4:]
    indexes, weights, _ = (np.asarray(a) for a in reduce(*shuffled, max_per_pixel=13))
    assert indexes.shape[1] == 13 and np.all(indexes[:, 11:] == -1)
    np.testing.assert_array_equal(indexes[:, :11], ref["pix_indexes_for_slim_index"])
    assert relative_error(weights[:, :11], ref["pix_weights_for_slim_index"]) <= 1e-12
    if backend != "jax":  # JAX under jit keeps the first B'; eagerly every backend refuses
        with pytest.raises(InputValueError, match="max_per_pixel = 5 is less than"):
            reduce(*arguments, max_per_pixel=5)


def test_jax_sub_pixel_mapping_under_jit():
    import jax

    from autokern.jax import mapping

    ref = reference("subpixel")
    arguments = _sub_pixel_arguments(ref)
    width = ref["pix_indexes_for_slim_index"].shape[1]
    reduce = jax.jit(lambda *a: mapping.mapping_from_sub_pixels(*a, arguments[-1], width))
    indexes, weights, _ = (np.asarray(a) for a in reduce(*arguments[:5]))
    np.testing.assert_array_equal(indexes, ref["pix_indexes_for_slim_index"])
    assert relative_error(weights, ref["pix_weights_for_slim_index"]) <= 1e-12


def test_the_old_argument_name_still_works_with_a_warning(dev_case):
    name = "curvature_matrix_via_nufft_precision_operator_from"
    arguments = dev_case.arguments(name)
    expected = get_kernel(name, "original")(**arguments)
    arguments["pix_size_for_sub_slim_index"] = arguments.pop("pix_sizes_for_sub_slim_index")
    with pytest.warns(DeprecationWarning, match="pix_size_for_sub_slim_index is deprecated"):
        result = get_kernel(name, "original")(**arguments)
    assert np.array_equal(result, expected)


# --- JAX: gradients and vmap of the positive-only likelihood, in a subprocess --------------

_JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import jax, jax.numpy as jnp
    import autokern.jax as kern

    with np.load(sys.argv[1], allow_pickle=False) as npz:
        ref = {key: npz[key] for key in npz.files}
    w_compact = kern.w_compact_via_nufft_precision_operator_from(ref["nufft_precision_operator"])
    weights0 = jnp.asarray(ref["pix_weights_for_sub_slim_index"])
    direction = jnp.asarray(np.random.default_rng(0).normal(size=weights0.shape))

    def evidence(coefficient, step=0.0):
        return kern.log_likelihood_function_via_w_compact_from(
            ref["dirty_image_weighted"], ref["data"], ref["noise_map"], w_compact,
            ref["native_index_for_slim_index"], ref["pix_indexes_for_sub_slim_index"],
            weights0 + step * direction, ref["neighbors"], ref["neighbors_sizes"], coefficient,
            solver="positive_only", zeroed_pixels=ref["zeroed_pixels"])

    def pinned(coefficient, step=0.0):
        curvature = kern.curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
            w_compact, ref["native_index_for_slim_index"], ref["pix_indexes_for_sub_slim_index"],
            weights0 + step * direction, len(ref["neighbors"]))
        data_vector = kern.sparse_mapping_matrix_transpose_matmul(
            ref["dirty_image_weighted"], ref["pix_indexes_for_sub_slim_index"],
            weights0 + step * direction, len(ref["neighbors"]))
        h = kern.constant_regularization_matrix_from(coefficient, ref["neighbors"],
                                                     ref["neighbors_sizes"])
        s = kern.reconstruction_positive_only_from(data_vector, curvature + h,
                                                   zeroed_pixels=ref["zeroed_pixels"])
        return np.asarray(s) == 0.0

    out = {"value": float(evidence(0.1))}
    grads = jax.grad(evidence, argnums=(0, 1))(0.1, 0.0)
    h = 1e-5
    for argnum, name in enumerate(("coefficient", "weights")):
        moved = [(0.1 + h, 0.0), (0.1 - h, 0.0)] if argnum == 0 else [(0.1, h), (0.1, -h)]
        same = all(np.array_equal(pinned(*m), pinned(0.1, 0.0)) for m in moved)
        values = [float(evidence(*m)) for m in moved]
        out[name] = {"grad": float(grads[argnum]), "central": (values[0] - values[1]) / (2 * h),
                     "same_active_set": same}
    coefficients = jnp.linspace(0.05, 0.5, 16)
    batched = np.asarray(jax.vmap(evidence)(coefficients))
    single = np.array([float(evidence(c)) for c in coefficients])
    out["vmap"] = float(np.max(np.abs(batched - single)) / np.max(np.abs(single)))
    print(json.dumps(out))
""")


def test_jax_positive_only_gradients_are_finite_and_correct_and_vmap_is_exact():
    path = testing.default_data_dir() / FILES["positive"]
    reference("positive")
    run = subprocess.run([sys.executable, "-c", _JAX_SCRIPT, str(path)], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["value"] == pytest.approx(float(reference("positive")["log_evidence"]), rel=1e-9)
    for name in ("coefficient", "weights"):
        result = out[name]
        assert result["same_active_set"], result
        assert np.isfinite(result["grad"]), result
        assert result["grad"] == pytest.approx(result["central"], rel=1e-5), (name, result)
    assert out["vmap"] <= 1e-12
