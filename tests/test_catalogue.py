"""The catalogue is the single source of names, signatures and docstrings for every backend."""

import importlib
import inspect

import pytest

from autokern import catalogue, get_backend
from autokern.catalogue import BACKEND_NAMES, KERNELS, MODULES, kernels_for


def test_catalogue_lists_every_spec_kernel_once():
    # the 25 of SPEC §4, plus the FFT/auto curvature and the streaming terms and likelihood
    assert len(KERNELS) == 29
    assert all(k.family in {"grid", "reductions", "expansions", "mapping", "curvature",
                            "solve", "evidence"} for k in KERNELS.values())


def test_original_provides_every_kernel_declared_for_it():
    module = get_backend("original")
    for k in kernels_for("original"):
        assert hasattr(module, k.name), k.name


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_backend_exports_only_catalogue_kernels_with_catalogue_signatures(backend):
    module = get_backend(backend)
    exported = {n for n in dir(module) if n in KERNELS or n.endswith("_from")}
    assert exported <= {k.name for k in kernels_for(backend)}
    for name in exported:
        fn = getattr(module, name)
        kernel = KERNELS[name]
        assert inspect.signature(fn) == kernel.signature
        assert fn.__doc__ == kernel.doc
        assert kernel.implementations[backend] is fn


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_backends_share_module_names(backend):
    module = get_backend(backend)
    for name in module.__dict__:
        fn = getattr(module, name)
        if name in KERNELS:
            assert fn.__module__ == f"autokern.{backend}.{KERNELS[name].module}"
    for module_name in MODULES:
        if any(k.module == module_name for k in kernels_for(backend)
               if backend in k.implementations):
            importlib.import_module(f"autokern.{backend}.{module_name}")


def test_docstrings_describe_every_argument_with_its_shape():
    for kernel in KERNELS.values():
        for arg in kernel.args:
            assert f"{arg.name} :" in kernel.doc
        assert "Returns" in kernel.doc
    assert "(K, 2)" in KERNELS["w_tilde_curvature_interferometer_from"].doc


def test_reductions_take_chunk_size_keyword_only():
    for kernel in KERNELS.values():
        has_chunk = "chunk_size" in kernel.signature.parameters
        assert has_chunk == (kernel.family == "reductions")
        if has_chunk:
            param = kernel.signature.parameters["chunk_size"]
            assert param.kind is inspect.Parameter.KEYWORD_ONLY and param.default == "auto"


def test_implements_refuses_a_backend_the_catalogue_does_not_declare():
    with pytest.raises(ValueError, match="does not declare"):
        catalogue.implements("mapping_matrix_from_BCOO", backend="original")


def test_readme_lists_every_kernel():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name in KERNELS:
        assert f"`{name}`" in readme, name
