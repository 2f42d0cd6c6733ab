"""The reusable inversion (``inversion_from`` / ``inversion_result_from``) on every backend:
the kernel path's numbers, the library's terms, its options, and JAX's transformations.

The kernel path is ``log_likelihood_function_via_visibility_terms_from`` on the same visibility
terms (the done-when of the performance issue: 1e-12); the library's numbers are the dev
reference and its positive-only and AdaptSplit runs (``../shared/data``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autokern import get_kernel
from autokern.catalogue import BACKEND_NAMES
from autokern.data import testing
from autokern.errors import InputShapeError, InputTypeError
from autokern.inversion import Inversion, InversionResult
from helpers import relative_error
from test_inversion import reference

TERMS = ("chi_squared", "regularization_term", "log_det_curvature_reg_matrix_term",
         "log_det_regularization_matrix_term", "noise_normalization")


def _inversion(case: testing.Case, backend: str, **options) -> Inversion:
    return get_kernel("inversion_from", backend)(case.value("visibility_terms"),
                                                 case.dataset.native_index_for_slim_index,
                                                 **options)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_matches_the_kernel_path_and_the_library_on_the_dev_reference(backend, dev_case):
    mesh = dev_case.mesh
    inversion = _inversion(dev_case, backend)
    regularization = get_kernel("constant_regularization_matrix_from", backend)(
        dev_case.coefficient, mesh.neighbors, mesh.neighbors_sizes)
    result = get_kernel("inversion_result_from", backend)(
        inversion, mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index,
        regularization)
    assert isinstance(result, InversionResult)
    kernel_path = get_kernel("log_likelihood_function_via_visibility_terms_from", backend)(
        dev_case.value("visibility_terms"), dev_case.dataset.native_index_for_slim_index,
        mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index,
        mesh.neighbors, mesh.neighbors_sizes, dev_case.coefficient)
    assert abs(float(result.log_evidence) / kernel_path - 1.0) <= 1e-12
    ref = dev_case.reference
    assert abs(float(result.log_evidence) / ref["log_evidence_linear"] - 1.0) <= 1e-10
    assert relative_error(result.reconstruction, ref["reconstruction_linear"]) <= 1e-9
    for term in TERMS:
        assert abs(float(getattr(result, term)) / ref[f"{term}_linear"] - 1.0) <= 1e-9, term
    assert result.curvature_matrix is None and result.regularization_matrix is None


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("name", ["positive", "adaptive"])
def test_positive_only_and_any_h_match_the_library(backend, name, dev_case):
    ref = reference(name)
    # the feature runs share the dev run's visibilities and mask (../shared/data/README.md)
    for key in ("data", "uv_wavelengths", "native_index_for_slim_index"):
        assert np.array_equal(ref[key], dev_case.reference[key]), key
    inversion = _inversion(dev_case, backend)
    result = get_kernel("inversion_result_from", backend)(
        inversion, ref["pix_indexes_for_sub_slim_index"], ref["pix_weights_for_sub_slim_index"],
        ref["regularization_matrix"], solver="positive_only",
        zeroed_pixels=ref["zeroed_pixels"], matrices=True)
    assert abs(float(result.log_evidence) / ref["log_evidence"] - 1.0) <= 1e-9
    assert relative_error(result.reconstruction, ref["reconstruction"]) <= 1e-8
    for term in TERMS:
        assert abs(float(getattr(result, term)) / ref[term] - 1.0) <= 1e-9, term
    assert relative_error(result.curvature_matrix, ref["curvature_matrix"]) <= 1e-10
    assert relative_error(result.regularization_matrix, ref["regularization_matrix"]) == 0.0


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_fixed_h_reuses_its_log_det_and_every_route_agrees(backend, get_case):
    case = get_case("small")
    mesh = case.mesh
    arguments = (mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index,
                 case.value("regularization_matrix"))
    result_from = get_kernel("inversion_result_from", backend)
    first = result_from(_inversion(case, backend), *arguments)
    again = result_from(_inversion(case, backend), *arguments,
                        log_det_regularization_matrix_term=first.log_det_regularization_matrix_term)
    assert float(again.log_evidence) == float(first.log_evidence)
    for method in ("direct", "sparse", "fft"):
        routed = result_from(_inversion(case, backend, curvature_method=method), *arguments)
        assert abs(float(routed.log_evidence) / float(first.log_evidence) - 1.0) <= 1e-11, method


def test_an_inversion_built_on_one_backend_runs_on_another(get_case):
    case = get_case("tiny")
    mesh = case.mesh
    arguments = (mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index,
                 case.value("regularization_matrix"))
    on_numba = _inversion(case, "numba")
    expected = get_kernel("inversion_result_from", "numba")(on_numba, *arguments)
    on_jax = get_kernel("inversion_result_from", "jax")(on_numba, *arguments)
    assert abs(float(on_jax.log_evidence) / float(expected.log_evidence) - 1.0) <= 1e-11


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_bad_calls_name_the_argument(backend, get_case):
    case = get_case("tiny")
    mesh = case.mesh
    result_from = get_kernel("inversion_result_from", backend)
    inversion = _inversion(case, backend)
    regularization = case.value("regularization_matrix")
    with pytest.raises(InputTypeError, match=r"inversion must be an autokern\.inversion"):
        result_from(case.value("visibility_terms"), mesh.pix_indexes_for_sub_slim_index,
                    mesh.pix_weights_for_sub_slim_index, regularization)
    with pytest.raises(InputShapeError, match="inconsistent M"):
        result_from(inversion, mesh.pix_indexes_for_sub_slim_index[:-1],
                    mesh.pix_weights_for_sub_slim_index[:-1], regularization)
    with pytest.raises(InputTypeError, match="matrices must be True or False"):
        result_from(inversion, mesh.pix_indexes_for_sub_slim_index,
                    mesh.pix_weights_for_sub_slim_index, regularization, matrices="yes")
    with pytest.raises(InputTypeError, match="visibility_terms must be"):
        get_kernel("inversion_from", backend)(inversion, case.dataset.native_index_for_slim_index)


# --- JAX: jit, vmap and grad of a whole call, in a subprocess (see test_inversion) -----------

_JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax, jax.numpy as jnp
    import numpy as np
    from autokern import get_kernel, testing

    case = testing.load_dev_reference()
    mesh = case.mesh
    kern = {n: get_kernel(n, "jax", checked=False) for n in
            ("inversion_from", "inversion_result_from", "constant_regularization_matrix_from")}
    terms = get_kernel("visibility_terms_from", "jax")(
        case.dataset.data, case.dataset.noise_map, case.dataset.uv_wavelengths,
        case.dataset.grid_radians_slim, case.dataset.native_index_for_slim_index,
        case.dataset.pixel_scale)
    inversion = kern["inversion_from"](terms, jnp.asarray(case.dataset.native_index_for_slim_index))
    indexes = jnp.asarray(mesh.pix_indexes_for_sub_slim_index)
    weights = jnp.asarray(mesh.pix_weights_for_sub_slim_index)
    neighbors, sizes = jnp.asarray(mesh.neighbors), jnp.asarray(mesh.neighbors_sizes)

    def log_evidence(inversion, coefficient):
        regularization = kern["constant_regularization_matrix_from"](coefficient, neighbors,
                                                                     sizes)
        return kern["inversion_result_from"](inversion, indexes, weights,
                                             regularization).log_evidence

    jitted = jax.jit(log_evidence)  # the inversion is an argument: a pytree
    coefficients = jnp.array([0.5, 2.0, 8.0])
    batched = jax.vmap(jitted, in_axes=(None, 0))(inversion, coefficients)
    single = [float(jitted(inversion, c)) for c in coefficients]
    grad = float(jax.grad(log_evidence, argnums=1)(inversion, 2.0))
    h = 1e-4
    finite = (float(jitted(inversion, 2.0 + h)) - float(jitted(inversion, 2.0 - h))) / (2 * h)
    print(json.dumps({"batched": [float(b) for b in batched], "single": single,
                      "grad": grad, "finite": finite}))
""")


def test_jax_jit_vmap_and_grad_of_a_whole_call(dev_case):
    run = subprocess.run([sys.executable, "-c", _JAX_SCRIPT], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert np.allclose(out["batched"], out["single"], rtol=1e-12, atol=0)
    assert abs(out["single"][1] / dev_case.reference["log_evidence_linear"] - 1.0) <= 1e-10
    assert np.isfinite(out["grad"])
    assert abs(out["grad"] - out["finite"]) <= 1e-5 * max(1.0, abs(out["finite"]))

