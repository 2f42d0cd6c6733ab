"""The structure: one validation per public call, bare cores, no import cycles, shared code named.

- The dispatcher is the only caller of the input checks, once per public call; cores call cores.
- ``get_kernel(..., checked=False)`` is the bare core with the catalogue's defaults.
- The layers are the folders (``LAYERS``, lowest first): imports point down, no backend
  imports another, and no module takes part in an import cycle.
- Where two backends run the same code for a kernel, the parity tests do not compare it with
  itself: the list of such kernels is pinned here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autokern import get_kernel
from autokern._api import validation
from autokern.catalogue import BACKEND_NAMES, KERNELS
from helpers import RTOL, relative_error, shares_code_with_reference

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "autokern"


@pytest.fixture
def count_checks(monkeypatch):
    calls: list[str] = []
    check = validation.check

    def counted(kernel, arguments, arrays):
        calls.append(kernel.name)
        return check(kernel, arguments, arrays)

    monkeypatch.setattr(validation, "check", counted)
    return calls


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("kernel", [
    "log_likelihood_function_via_w_compact_from",  # composed of three other kernels
    "curvature_matrix_via_w_compact_from",  # routed to another kernel
    "visibility_terms_from",  # composed of two reductions
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",  # calls the mapping core
    "inversion_result_from",  # composed: a routed F, D, the solve and every evidence term
])
def test_one_public_call_runs_the_checks_exactly_once(backend, kernel, count_checks, get_case):
    arguments = get_case("tiny").arguments(kernel)
    public = get_kernel(kernel, backend)
    count_checks.clear()  # the case computes its arguments with the reference's kernels
    public(**arguments)
    assert count_checks == [kernel]


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_unchecked_core_skips_the_checks_and_fills_defaults(backend, count_checks, get_case):
    name = "log_likelihood_function_via_w_compact_from"
    case = get_case("tiny")
    checked = get_kernel(name, backend)
    arguments = {k: v for k, v in case.arguments(name).items() if k != "coefficient"}
    expected = checked(**arguments)  # coefficient takes its default, 1.0
    count_checks.clear()
    bare = get_kernel(name, backend, checked=False)
    if backend == "jax":
        import jax.numpy as jnp

        arguments = {k: jnp.asarray(v) for k, v in arguments.items()}
    result = bare(*arguments.values())
    assert count_checks == []
    assert relative_error(result, expected) <= RTOL
    assert bare is get_kernel(name, backend, checked=False)
    assert "without input checks" in bare.__doc__ and bare.__name__ == name


def test_unchecked_reductions_take_their_options_by_keyword(count_checks, get_case):
    name = "w_compact_curvature_interferometer_from"
    arguments = get_case("tiny").arguments(name)
    expected = get_kernel(name, "numba")(**{**arguments, "method": "direct"})
    count_checks.clear()
    bare = get_kernel(name, "numba", checked=False)
    positional = [arguments[a.name] for a in KERNELS[name].args if not a.keyword_only]
    assert relative_error(bare(*positional, method="direct"), expected) <= RTOL
    assert count_checks == []


def test_internal_calls_do_not_surface_public_errors(monkeypatch, get_case):
    # The reference's direct curvature builds a dense T internally; with a memory budget below
    # that T, it must neither run the mapping kernel's public checks nor name it in an error.
    name = "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from"
    arguments = get_case("tiny").arguments(name)
    expected = get_kernel(name, "original")(**arguments)
    # between the (S, S) output (18 kB) and the dense (M, S) T (43 kB) of the tiny case
    monkeypatch.setenv("AUTOKERN_MEMORY_BUDGET_MB", "0.03")
    with pytest.raises(MemoryError, match=r"^mapping_matrix_from"):
        get_kernel("mapping_matrix_from", "original")(
            arguments["pix_indexes_for_sub_slim_index"],
            arguments["pix_weights_for_sub_slim_index"], arguments["pixels"])
    assert relative_error(get_kernel(name, "original")(**arguments), expected) == 0.0


def test_shared_code_is_declared_not_compared_with_itself():
    shared = {(b, k) for b in ("numba", "jax") for k in KERNELS
              if b in KERNELS[k].backends and shares_code_with_reference(b, k)}
    assert shared == {
        # pure Python on the checked tuples
        ("numba", "mask_2d_centres_from"), ("jax", "mask_2d_centres_from"),
        # NumPy index maths (autokern._shared.lattice)
        ("numba", "w_compact_via_nufft_precision_operator_from"),
        ("numba", "nufft_precision_operator_via_w_compact_from"),
        # SciPy FFTs (autokern._cpu.fft_curvature)
        ("numba", "curvature_matrix_via_w_compact_fft_from"),
        # NumPy/SciPy shared maths over the same namespace (autokern._shared.evidence; Numba's own
        # sums over visibilities make its noise_normalization_complex_from its own)
        ("numba", "reconstruction_positive_negative_from"),
        # packs the visibility terms into an Inversion of NumPy arrays (autokern._api.composed)
        ("numba", "inversion_from"),
    }


# --- imports ---------------------------------------------------------------------------------

def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _imports(module: str) -> set[str]:
    """Every autokern module ``module`` imports, anywhere in its text (lazy imports count)."""
    path = PACKAGE.parent.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    known = set(_modules())
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("autokern")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if not base.startswith("autokern"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return found - {module}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """An import cycle of ``graph`` (module -> the modules it imports), or None."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> list[str] | None:
        if module in done:
            return None
        if module in visiting:
            return [*visiting[visiting.index(module):], module]
        visiting.append(module)
        for target in sorted(graph.get(module, ())):
            if (cycle := visit(target)) is not None:
                return cycle
        visiting.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if (cycle := visit(module)) is not None:
            return cycle
    return None


def test_no_module_takes_part_in_an_import_cycle():
    cycle = _cycle({m: _imports(m) for m in _modules()})
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


#: The package's layers, lowest first: each entry names the folders (or top-level modules) of
#: one layer; "" is the package itself (``autokern/__init__.py``).  A module may import from its
#: own layer and the layers below it, never from one above; a backend never imports another
#: backend.  Every other top-level module is a public path (re-exports) above all the layers.
BACKENDS = ("original", "numba", "jax")
LAYERS = [
    ("errors",),
    ("_runtime",),  # memory budgets, threads, the routes' cost model
    ("_shared",),  # maths written once over an array namespace, the value types
    ("_cpu",),  # CPU engines below the backends: NUFFT, FFT curvature, Numba engines
    ("", "catalogue", "_api"),  # the contract: catalogue, dispatcher, checks, composed kernels
    BACKENDS,
    ("data", "io"),  # grids, meshes, datasets; reading and writing visibilities, Dask
    ("apps",),  # command line, benchmarks, plots, the PyAutoLens adapter
]
#: modules of an optional extra: importing them without it raises MissingDependencyError
_OPTIONAL = {"autokern.apps.autoarray": "autoarray", "autokern.autoarray": "autoarray"}


def _room(module: str) -> str:
    """The folder or top-level module of ``module`` ("" for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(module: str) -> int:
    room = _room(module)
    return next((i for i, rooms in enumerate(LAYERS) if room in rooms), len(LAYERS))


def forbidden(module: str, imported: str) -> str | None:
    """Why ``module`` may not import ``imported``; None where it may."""
    if layer_of(imported) > layer_of(module):
        return (f"{module} (layer {layer_of(module)}) imports {imported} "
                f"(layer {layer_of(imported)}, above it)")
    if _room(module) in BACKENDS and _room(imported) in BACKENDS and \
            _room(module) != _room(imported):
        return f"backend module {module} imports another backend's {imported}"
    return None


def test_every_folder_is_a_layer():
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert folders <= {room for rooms in LAYERS for room in rooms}, folders


def test_imports_point_down_and_no_backend_imports_another():
    found = [reason for module in _modules() for imported in sorted(_imports(module))
             if (reason := forbidden(module, imported))]
    assert not found, "\n".join(found)


def test_the_layer_rule_fails_on_an_upward_or_sideways_import():
    assert forbidden("autokern._shared.evidence", "autokern._api.dispatch")
    assert forbidden("autokern._runtime.memory", "autokern._shared.lattice")
    assert forbidden("autokern._cpu.nufft", "autokern")  # the package: the dispatcher's layer
    assert forbidden("autokern.data.grids", "autokern.apps.plot")
    assert forbidden("autokern.apps.cli", "autokern.grids")  # a public path is the top
    assert forbidden("autokern.jax.linalg", "autokern.numba.linalg")
    assert forbidden("autokern.original", "autokern.jax")
    assert forbidden("autokern._api.dispatch", "autokern._shared.evidence") is None
    assert forbidden("autokern.numba.solve", "autokern.numba.linalg") is None
    assert forbidden("autokern.data.datasets", "autokern.io") is None  # peers
    assert forbidden("autokern.grids", "autokern.data.grids") is None


def test_the_cycle_check_fails_on_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_backend_imports_another_backend():
    # the engines two backends share live below them (autokern._cpu, the shared maths)
    for module in _modules():
        backend = next((b for b in BACKEND_NAMES if module.startswith(f"autokern.{b}")), None)
        if backend is None:
            continue
        others = {m for m in _imports(module) for b in BACKEND_NAMES
                  if b != backend and (m == f"autokern.{b}" or m.startswith(f"autokern.{b}."))}
        assert not others, f"{module} imports {sorted(others)}"


def test_every_module_imports_alone_in_a_fresh_interpreter():
    import importlib.util

    code = ("import importlib, sys\n"
            "for name in sys.argv[1:]:\n"
            "    importlib.import_module(name)\n")
    for module in _modules():
        run = subprocess.run([sys.executable, "-c", code, module], capture_output=True,
                             text=True, timeout=120)
        extra = _OPTIONAL.get(module)
        if extra is not None and importlib.util.find_spec(extra) is None:
            assert "MissingDependencyError" in run.stderr, f"{module}: {run.stderr[-2000:]}"
            continue
        assert run.returncode == 0, f"{module}: {run.stderr[-2000:]}"


def test_the_catalogue_is_data_only():
    # its constants, and the solver registry whose names are the solver argument's choices
    imported = _imports("autokern.catalogue")
    assert imported <= {"autokern._shared.lattice", "autokern._shared.solvers"}, imported
    assert not any(callable(getattr(k, "implementations", None)) for k in KERNELS.values())
    assert np.all([not hasattr(k, "implementations") for k in KERNELS.values()])
