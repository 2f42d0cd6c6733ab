"""``autokern.explain``: the route each decision takes, from the router's own functions — and
the kernels take the routes it names."""

from __future__ import annotations

import numpy as np
import pytest

import autokern
from autokern import get_kernel
from autokern._cpu import nufft
from autokern._runtime import routes
from autokern.catalogue import BACKEND_NAMES
from autokern.errors import InputTypeError

REDUCTIONS = ["w_compact_curvature_interferometer_from", "nufft_precision_operator_from",
              "w_tilde_data_interferometer_from"]


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("kernel", REDUCTIONS)
@pytest.mark.parametrize("method", ["direct", "nufft"])
def test_a_reduction_explains_the_method_asked_for(kernel, backend, method, get_case):
    arguments = {**get_case("small").arguments(kernel), "method": method}
    route = autokern.explain(kernel, backend, **arguments).route(f"reduction {kernel}")
    assert route.choice == method and "asked for" in route.why


@pytest.mark.parametrize("backend", ["original", "numba"])
def test_auto_takes_the_route_explained(backend, get_case, monkeypatch):
    # small sizes take the direct sums; past the threshold the NUFFT — and the kernel does what
    # explain says (the NUFFT route spied on)
    kernel = "w_compact_curvature_interferometer_from"
    arguments = {**get_case("small").arguments(kernel), "method": "auto"}
    explained = autokern.explain(kernel, backend, **arguments).route(f"reduction {kernel}")
    assert explained.choice == "direct" and "cheaper" in explained.why
    monkeypatch.setattr(routes, "NUFFT_WORK_THRESHOLD", 1.0)
    monkeypatch.setattr(routes, "NUFFT_MIN_LAGS", 1)
    explained = autokern.explain(kernel, backend, **arguments).route(f"reduction {kernel}")
    assert explained.choice == "nufft" and "ducc0" in explained.why
    calls = []
    lattice_sum = nufft.lattice_sum
    monkeypatch.setattr(nufft, "lattice_sum", lambda *a, **k: calls.append(1) or
                        lattice_sum(*a, **k))
    get_kernel(kernel, backend)(**arguments)
    assert calls


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_curvature_route_is_the_cost_models_and_the_kernel_takes_it(backend, get_case,
                                                                    monkeypatch):
    kernel = "curvature_matrix_via_w_compact_from"
    arguments = get_case("small").arguments(kernel)
    explanation = autokern.explain(kernel, backend, **arguments)
    route = explanation.route("curvature")
    m = len(arguments["native_index_for_slim_index"])
    ny, width = np.shape(arguments["w_compact"])
    assert route.choice == routes.curvature_method(
        m, arguments["pixels"], np.shape(arguments["pix_indexes_for_sub_slim_index"])[1],
        (ny, (width + 1) // 2))
    for name in routes.CURVATURE_ROUTES:
        assert name in route.why  # every predicted cost is quoted
    if backend == "jax" and route.choice == "direct":
        assert explanation.route("jax engine").choice == "cpu-engine"
    forced = autokern.explain(kernel, backend, **{**arguments, "method": "fft"})
    assert forced.route("curvature").choice == "fft"


def test_a_kernel_a_backend_lacks_is_explained_as_the_fallback():
    name = next(k for k, v in autokern.KERNELS.items() if "original" not in v.backends)
    explanation = autokern.explain(name, "original")
    assert explanation.backend != "original"
    assert "original has no" in explanation.route("backend").why


def test_an_unknown_argument_and_an_undecided_route_are_clear_errors():
    with pytest.raises(InputTypeError, match="bogus"):
        autokern.explain("mapping_matrix_from", "numba", bogus=1)
    with pytest.raises(KeyError, match="takes no 'curvature'"):
        autokern.explain("mapping_matrix_from", "numba").route("curvature")


def test_explain_prints_one_line_per_decision(get_case):
    kernel = "visibility_terms_from"
    text = str(autokern.explain(kernel, "numba", **get_case("small").arguments(kernel)))
    assert text.splitlines()[0] == f"{kernel} on numba:"
    assert len(text.splitlines()) == 4  # backend, then the two reductions
