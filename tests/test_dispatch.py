"""The dispatcher: default from DEFAULT_JIT, unknown names, fallback, lazy imports."""

import os
import subprocess
import sys

import numpy as np
import pytest

import autokern
from autokern import Kernels, get_backend, get_kernel, resolve_backend
from autokern.errors import BackendError


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DEFAULT_JIT"} | env
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environment, timeout=120)


def test_import_autokern_imports_neither_numba_nor_jax():
    run = _python("import autokern, sys; "
                  "assert 'jax' not in sys.modules and 'numba' not in sys.modules")
    assert run.returncode == 0, run.stderr


# what choosing each backend may import: the reference is NumPy/SciPy (ducc0 for its NUFFT,
# loaded when used); JAX's CPU callbacks run the CPU engines (Numba) below the backends; no
# backend imports another
_IMPORTED_WITH = {"original": set(), "numba": {"numba"}, "jax": {"jax", "numba"}}


@pytest.mark.parametrize("backend", sorted(_IMPORTED_WITH))
def test_choosing_a_backend_imports_only_what_it_needs(backend):
    others = [f"autokern.{name}" for name in _IMPORTED_WITH if name != backend]
    run = _python(f"import autokern, sys; autokern.get_backend({backend!r}); "
                  "print(*sorted(m for m in ['numba', 'jax', *" + repr(others) + "] "
                  "if m in sys.modules))")
    assert run.returncode == 0, run.stderr
    assert set(run.stdout.split()) == _IMPORTED_WITH[backend]


@pytest.mark.parametrize("value, expected", [("numba", "numba"), ("original", "original"),
                                             ("jax", "jax"), ("", "jax")])
def test_default_backend_comes_from_the_environment(value, expected):
    env = {"DEFAULT_JIT": value} if value else {}
    run = _python("import autokern; print(autokern.DEFAULT_JIT, "
                  "autokern.get_backend().__name__)", **env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [expected, f"autokern.{expected}"]


def test_unknown_default_backend_names_the_valid_ones():
    run = _python("import autokern", DEFAULT_JIT="bogus")
    assert run.returncode != 0
    assert "'bogus'" in run.stderr and "original, numba, jax" in run.stderr


def test_unknown_backend_and_kernel_are_errors():
    with pytest.raises(BackendError, match="valid backends are original, numba, jax"):
        get_backend("cupy")
    with pytest.raises(BackendError, match="unknown kernel"):
        get_kernel("no_such_kernel", backend="original")
    with pytest.raises(AttributeError):
        Kernels("original").no_such_kernel  # noqa: B018


def test_backend_modules_from_the_lookup_table():
    assert get_backend("original") is autokern.original
    assert autokern.Kernels("original").mapping_matrix_from is \
        autokern.original.mapping_matrix_from


def test_bcoo_kernel_falls_back_from_the_reference_backend():
    assert resolve_backend("mapping_matrix_from_BCOO", "original") == "jax"
    fn = get_kernel("mapping_matrix_from_BCOO", backend="original")
    assert fn is autokern.jax.mapping_matrix_from_BCOO
    with pytest.raises(BackendError, match="fallback=True"):
        get_kernel("mapping_matrix_from_BCOO", backend="original", fallback=False)


def test_missing_kernel_falls_back_to_numba_first(monkeypatch):
    from autokern._api import dispatch

    name = "mapping_matrix_from"
    monkeypatch.setitem(dispatch._CORES, (name, "jax"), None)  # as if JAX lacked it
    assert resolve_backend(name, "jax") == "numba"
    assert get_kernel(name, backend="jax") is get_backend("numba").mapping_matrix_from


@pytest.mark.parametrize("backend", ["original", "numba", "jax"])
def test_former_preload_names_still_answer_with_a_deprecation_warning(backend, get_case):
    from autokern.catalogue import RENAMED_KERNELS

    module = autokern.get_backend(backend)
    for old, new in RENAMED_KERNELS.items():
        with pytest.warns(DeprecationWarning, match=f"{old} is deprecated.*{new}"):
            assert get_kernel(old, backend) is get_kernel(new, backend)
        with pytest.warns(DeprecationWarning, match=old):
            assert getattr(module, old) is getattr(module, new)
        with pytest.warns(DeprecationWarning, match=old):
            assert getattr(autokern.Kernels(backend), old) is get_kernel(new, backend)
    case = get_case("tiny")
    arguments = case.arguments("curvature_matrix_via_nufft_precision_operator_from")
    expected = get_kernel("curvature_matrix_via_nufft_precision_operator_from", backend)(
        **arguments)
    arguments["curvature_preload"] = arguments.pop("nufft_precision_operator")
    with pytest.warns(DeprecationWarning, match="curvature_preload is deprecated"):
        renamed = get_kernel("curvature_matrix_via_nufft_precision_operator_from", backend)(
            **arguments)
    assert np.array_equal(np.asarray(renamed), np.asarray(expected))
