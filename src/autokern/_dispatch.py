"""Backend selection: a lookup table of backends, the default from ``DEFAULT_JIT``, a fallback.

A kernel missing from the chosen backend is taken from :data:`FALLBACK_BACKEND` (Numba), then
from any other backend that has it (the JAX-only BCOO kernels), unless ``fallback=False``.
:func:`resolve_backend` tells which backend a request ends up on.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

from autokern.catalogue import BACKEND_NAMES, KERNELS
from autokern.errors import BackendError

FALLBACK_BACKEND = "numba"


def _checked_name(name: str, source: str = "backend") -> str:
    if name not in BACKEND_NAMES:
        raise BackendError(
            f"unknown {source} {name!r}: valid backends are {', '.join(BACKEND_NAMES)}"
        )
    return name


#: The default backend: ``$DEFAULT_JIT`` at import time, ``"jax"`` when unset.
DEFAULT_JIT: str = _checked_name(
    os.environ.get("DEFAULT_JIT", "jax").strip().lower() or "jax", "DEFAULT_JIT"
)


def get_backend(name: str | None = None) -> ModuleType:
    """The backend module ``autokern.<name>`` (``DEFAULT_JIT`` when ``name`` is None)."""
    return importlib.import_module(f"autokern.{_checked_name(name or DEFAULT_JIT)}")


def provides(backend: str, name: str) -> bool:
    """Whether ``backend`` implements kernel ``name`` (imports that backend to find out)."""
    if backend not in KERNELS[name].backends:
        return False
    get_backend(backend)
    return backend in KERNELS[name].implementations


def resolve_backend(name: str, backend: str | None = None, *, fallback: bool = True) -> str:
    """The name of the backend whose ``name`` kernel a request for ``backend`` gets."""
    if name not in KERNELS:
        raise BackendError(f"unknown kernel {name!r}; see autokern.catalogue.KERNELS")
    chosen = _checked_name(backend or DEFAULT_JIT)
    if provides(chosen, name):
        return chosen
    if fallback:
        for candidate in dict.fromkeys([FALLBACK_BACKEND, *BACKEND_NAMES]):
            if provides(candidate, name):
                return candidate
    raise BackendError(
        f"backend {chosen!r} has no kernel {name!r}"
        + ("" if fallback else f" (declared for: {', '.join(KERNELS[name].backends)}); "
           "pass fallback=True to use another backend")
    )


def get_kernel(name: str, backend: str | None = None, *, fallback: bool = True) -> Callable:
    """The kernel ``name`` of ``backend``, or of the fallback backend where it lacks it."""
    chosen = resolve_backend(name, backend, fallback=fallback)
    return KERNELS[name].implementations[chosen]


class Kernels:
    """Every catalogue kernel of one backend as attributes, resolved like :func:`get_kernel`.

    >>> kern = Kernels("numba")            # doctest: +SKIP
    >>> kern.w_compact_curvature_interferometer_from(...)
    """

    def __init__(self, backend: str | None = None, *, fallback: bool = True):
        self.backend = _checked_name(backend or DEFAULT_JIT)
        self.fallback = fallback

    def __getattr__(self, name: str) -> Any:
        if name not in KERNELS:
            raise AttributeError(f"no kernel {name!r} in the autokern catalogue")
        return get_kernel(name, self.backend, fallback=self.fallback)

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *KERNELS]

    def __repr__(self) -> str:
        return f"Kernels({self.backend!r}, fallback={self.fallback})"
