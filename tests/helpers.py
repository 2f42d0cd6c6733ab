"""Shared test helpers: the comparison metric of SPEC §6 and the backend × kernel table."""

from __future__ import annotations

from typing import Any

import numpy as np

from autokern.catalogue import BACKEND_NAMES, KERNELS, kernels_for

RTOL = 1e-10


def to_numpy(value: Any) -> np.ndarray:
    """A kernel result as a NumPy array (BCOO densified, VisibilityTerms flattened)."""
    from autokern._shared.inversion import Inversion
    from autokern.apps.bench import as_array
    from autokern.terms import VisibilityTerms

    if isinstance(value, VisibilityTerms | Inversion | tuple):
        return as_array(value)
    if hasattr(value, "todense"):
        value = value.todense()
    return np.asarray(value, dtype=float) if not isinstance(value, np.ndarray) or \
        value.dtype != bool else value


def relative_error(actual: Any, expected: Any) -> float:
    """max |actual - expected| / max |expected| (entries near zero make elementwise
    relative error meaningless for sums of cosines)."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    if expected.dtype == bool:
        return float(np.count_nonzero(actual != expected))
    scale = np.max(np.abs(expected))
    return float(np.max(np.abs(actual - expected)) / (scale if scale > 0 else 1.0))


def reference_name(kernel: str) -> str:
    """The reference-backend kernel that computes the same numbers as ``kernel``."""
    return KERNELS[kernel].same_as or kernel


def implementation(backend: str, name: str) -> Any:
    """What runs for kernel ``name`` on ``backend``: its core, or for a kernel written once the
    array namespace and the implementations of the cores it composes."""
    from autokern._api import composed as _composed
    from autokern._api.dispatch import core, cores_of

    kernel = KERNELS[name]
    if not kernel.composed:
        return core(name, backend)
    namespace = None
    if name not in _composed.PURE_PYTHON:
        ops = cores_of(backend).ops
        # the array module, and the backend's own versions of the shared maths this uses
        own = {(fn.__name__, ops.own[fn]) for fn in ops.own
               if fn.__name__ in _shared_maths_reached(getattr(_composed, name))}
        namespace = (ops.xp.__name__, frozenset(own))
    return (name, namespace, tuple(implementation(backend, part) for part in kernel.composed_of))


def _shared_maths_reached(function: Any) -> set[str]:
    """The functions of the shared maths (``_evidence_maths.<name>`` in ``autokern._api.composed``)
    a function of ``autokern._api.composed`` uses, through the module's helpers too."""
    import dis

    from autokern._api import composed as _composed

    reached: set[str] = set()
    seen: set[str] = set()
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        codes.extend(c for c in code.co_consts if hasattr(c, "co_names"))
        previous = None
        for instruction in dis.get_instructions(code):
            if previous == "_evidence_maths" and instruction.opname == "LOAD_ATTR":
                reached.add(instruction.argval)
            if instruction.opname == "LOAD_GLOBAL":
                helper = getattr(_composed, instruction.argval, None)
                if getattr(helper, "__module__", None) == _composed.__name__ and \
                        hasattr(helper, "__code__") and instruction.argval not in seen:
                    seen.add(instruction.argval)
                    codes.append(helper.__code__)
            previous = instruction.argval if instruction.opname == "LOAD_GLOBAL" else None
    return reached


def shares_code_with_reference(backend: str, name: str) -> bool:
    """Whether ``backend`` runs the very code the reference runs for kernel ``name``."""
    return implementation(backend, name) == implementation("original", reference_name(name))


def backend_kernel_pairs(backends=("numba", "jax")) -> list[tuple[str, str]]:
    """Every (backend, kernel) whose backend is declared to provide it and does, with code of
    its own (a comparison with the reference would otherwise compare code with itself)."""
    from autokern._api.dispatch import provides

    return [(b, k.name) for b in backends for k in kernels_for(b)
            if provides(b, k.name) and not shares_code_with_reference(b, k.name)]


__all__ = ["BACKEND_NAMES", "RTOL", "backend_kernel_pairs", "reference_name",
           "relative_error", "to_numpy"]
