"""The catalogue is the single source of names, signatures and docstrings for every backend."""

import importlib
import inspect

import pytest

from autokern import get_backend, get_kernel
from autokern.catalogue import BACKEND_NAMES, KERNELS, MODULES, kernels_for
from autokern.errors import InputTypeError


def test_catalogue_lists_every_spec_kernel_once():
    # the 25 of SPEC §4, plus the FFT/auto curvature, the streaming terms and likelihood, and
    # the library's real inversion (positive-only solve, log_evidence_from, sub-pixel mapping),
    # light profiles through W̃ (w_tilde_image_from, light_subtracted_inversion_from)
    assert len(KERNELS) == 36
    assert all(k.family in {"grid", "reductions", "expansions", "mapping", "curvature",
                            "solve", "evidence"} for k in KERNELS.values())
    assert all(key == kernel.name for key, kernel in KERNELS.items())  # keyed by its name


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
        assert get_kernel(name, backend, fallback=False) is fn
        # the public function binds the catalogue's arguments: an unknown one is refused
        with pytest.raises(InputTypeError, match=f"{name}\\("):
            fn(not_an_argument=1)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_backends_share_module_names(backend):
    module = get_backend(backend)
    for name in module.__dict__:
        fn = getattr(module, name)
        if name in KERNELS:
            # kernels written once live in one module; the others in the backend's own
            expected = ("autokern._api.composed" if KERNELS[name].composed
                        else f"autokern.{backend}.{KERNELS[name].module}")
            assert fn.__module__ == expected
    for module_name in MODULES:
        if any(k.module == module_name and not k.composed for k in kernels_for(backend)):
            core_module = importlib.import_module(f"autokern.{backend}.{module_name}")
            for k in kernels_for(backend):
                if k.module == module_name and not k.composed:
                    assert callable(getattr(core_module, k.name)), (backend, k.name)


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


def test_a_backend_the_catalogue_does_not_declare_provides_nothing():
    from autokern._api.dispatch import core
    from autokern.errors import BackendError

    with pytest.raises(BackendError, match="has no kernel"):
        core("mapping_matrix_from_BCOO", "original")


def test_the_developers_guide_lists_every_kernel():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "developers.md").read_text()
    for name in KERNELS:
        assert f"`{name}`" in guide, name
