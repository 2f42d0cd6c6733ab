"""Shared test helpers: the comparison metric of SPEC §6 and the backend × kernel table."""

from __future__ import annotations

from typing import Any

import numpy as np

from autokern.catalogue import BACKEND_NAMES, KERNELS, kernels_for

RTOL = 1e-10


def to_numpy(value: Any) -> np.ndarray:
    """A kernel result as a NumPy array (BCOO densified, VisibilityTerms flattened)."""
    from autokern._inversion import Inversion
    from autokern.bench import as_array
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
    from autokern import _composed
    from autokern._dispatch import core, cores_of

    kernel = KERNELS[name]
    if not kernel.composed:
        return core(name, backend)
    namespace = None if name in _composed.PURE_PYTHON else cores_of(backend).ops.name
    return (name, namespace, tuple(implementation(backend, part) for part in kernel.composed_of))


def shares_code_with_reference(backend: str, name: str) -> bool:
    """Whether ``backend`` runs the very code the reference runs for kernel ``name``."""
    return implementation(backend, name) == implementation("original", reference_name(name))


def backend_kernel_pairs(backends=("numba", "jax")) -> list[tuple[str, str]]:
    """Every (backend, kernel) whose backend is declared to provide it and does, with code of
    its own (a comparison with the reference would otherwise compare code with itself)."""
    from autokern._dispatch import provides

    return [(b, k.name) for b in backends for k in kernels_for(b)
            if provides(b, k.name) and not shares_code_with_reference(b, k.name)]


__all__ = ["BACKEND_NAMES", "RTOL", "backend_kernel_pairs", "reference_name",
           "relative_error", "to_numpy"]
