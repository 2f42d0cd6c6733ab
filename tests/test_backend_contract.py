"""A backend is a declared contract: a package that defines what
``autokern._api.dispatch.BACKEND_CONTRACT`` names and a core per kernel it implements.  A toy
backend written here, in a temporary folder, needs nothing else: one registry line."""

from __future__ import annotations

import sys
import textwrap
import uuid

import numpy as np
import pytest

import autokern
from autokern import get_kernel, resolve_backend
from autokern._api import dispatch
from autokern.catalogue import BACKEND_NAMES
from autokern.errors import BackendError
from helpers import RTOL, relative_error

TOY_INIT = """
from autokern._shared.evidence import NUMPY_OPS as OPS

ARRAYS = "numpy"
"""
# one kernel of its own, written here: D = Tᵀ d
TOY_MAPPING = """
def data_vector_from(mapping_matrix, dirty_image):
    return mapping_matrix.T @ dirty_image
"""


@pytest.fixture
def toy_backend(tmp_path, monkeypatch):
    """Register a fresh toy backend package (a unique name: the dispatcher caches per name)."""
    def make(init: str = TOY_INIT, modules: dict[str, str] | None = None) -> str:
        name = f"toy_{uuid.uuid4().hex[:8]}"
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text(textwrap.dedent(init))
        for module, text in (modules or {"mapping": TOY_MAPPING}).items():
            (package / f"{module}.py").write_text(textwrap.dedent(text))
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.setitem(dispatch.BACKEND_MODULES, name, name)
        yield_name.append(name)
        return name

    yield_name: list[str] = []
    yield make
    for name in yield_name:
        sys.modules.pop(name, None)


def test_a_toy_backend_needs_only_the_contract(toy_backend, get_case):
    toy = toy_backend()
    case = get_case("small")
    # its own kernel, checked at the same public edge as every backend's
    arguments = case.arguments("data_vector_from")
    assert resolve_backend("data_vector_from", toy) == toy
    result = get_kernel("data_vector_from", toy)(**arguments)
    assert relative_error(result, get_kernel("data_vector_from", "original")(**arguments)) <= RTOL
    with pytest.raises(autokern.errors.InputShapeError):
        get_kernel("data_vector_from", toy)(arguments["mapping_matrix"],
                                            arguments["dirty_image"][:-1])
    # a kernel written once on the array namespace runs on its OPS
    name = "noise_normalization_complex_from"
    arguments = case.arguments(name)
    assert resolve_backend(name, toy) == toy
    assert relative_error(get_kernel(name, toy)(**arguments),
                          get_kernel(name, "original")(**arguments)) <= RTOL
    # what it lacks comes from the fallback backend
    assert resolve_backend("mapping_matrix_from", toy) == dispatch.FALLBACK_BACKEND
    assert autokern.get_backend(toy).ARRAYS == "numpy"


@pytest.mark.parametrize("init, missing", [
    ("from autokern._shared.evidence import NUMPY_OPS as OPS\n", "ARRAYS"),
    ('ARRAYS = "numpy"\n', "OPS"),
    ('from autokern._shared.evidence import NUMPY_OPS as OPS\nARRAYS = "cupy"\n', "cupy"),
    ('OPS = None\nARRAYS = "numpy"\n', "ArrayOps"),
])
def test_a_backend_that_breaks_the_contract_is_named(toy_backend, init, missing):
    toy = toy_backend(init)
    with pytest.raises(BackendError, match=f"backend {toy!r}.*contract.*{missing}"):
        get_kernel("data_vector_from", toy)(np.eye(3), np.ones(3))


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_every_built_in_backend_meets_the_contract(backend):
    module = dispatch.checked_backend(backend)
    assert set(dispatch.BACKEND_CONTRACT) <= set(module.__all__)
