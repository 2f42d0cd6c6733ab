"""Backend selection and the public edge: cores are looked up, checked functions built here.

- A **core** is a backend's plain function for a kernel: ``autokern.<backend>.<module>.<name>``
  (``module`` from the catalogue), or a function of :mod:`autokern._api.composed` bound to the
  backend's :class:`~autokern._api.composed.Cores` for a kernel written once.  Cores call cores
  directly and never check their inputs.
- The **public** function of a (kernel, backend) is built here, once: the catalogue's signature
  and docstring, then :func:`autokern._api.validation.check` (the only caller of the checks), then
  the core.  Backend packages export these (``autokern.numba.mapping_matrix_from``).
- :func:`get_kernel` returns the public function, or with ``checked=False`` the bare core (with
  the catalogue's defaults) for loops whose inputs were checked once.

A kernel missing from the chosen backend is taken from :data:`FALLBACK_BACKEND` (Numba), then
from any other backend that has it (the JAX-only BCOO kernels), unless ``fallback=False``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

from autokern._api import composed as _composed
from autokern._api import validation
from autokern._runtime import parallelism
from autokern.catalogue import BACKEND_NAMES, KERNELS, RENAMED_KERNELS, Kernel
from autokern.errors import BackendError, InputTypeError

FALLBACK_BACKEND = "numba"

#: The registry of backends: name → the module that implements it.  A backend is a package
#: that meets :data:`BACKEND_CONTRACT`; adding one is a line here (or :func:`register_backend`).
BACKEND_MODULES: dict[str, str] = {name: f"autokern.{name}" for name in BACKEND_NAMES}

#: What a backend module must define, besides a core for each kernel it implements (a function
#: named as the kernel in its submodule ``Kernel.module``, taking the catalogue's arguments)
BACKEND_CONTRACT: dict[str, str] = {
    "OPS": "its ArrayOps (autokern._shared.evidence): the array namespace, factorisations and "
           "compilation of the maths written once",
    "ARRAYS": '"numpy" or "jax": the arrays its cores take (how the public edge converts)',
}


def register_backend(name: str, module: str) -> None:
    """Make the backend implemented by ``module`` (a package meeting :data:`BACKEND_CONTRACT`)
    available as ``name``; checked when first used."""
    BACKEND_MODULES[name] = module


def _checked_name(name: str, source: str = "backend") -> str:
    if name not in BACKEND_MODULES:
        raise BackendError(
            f"unknown {source} {name!r}: valid backends are {', '.join(BACKEND_MODULES)}"
        )
    return name


def checked_backend(name: str) -> ModuleType:
    """The module of backend ``name``, checked against :data:`BACKEND_CONTRACT`."""
    module = importlib.import_module(BACKEND_MODULES[_checked_name(name)])
    missing = [f"{attribute} ({what})" for attribute, what in BACKEND_CONTRACT.items()
               if not hasattr(module, attribute)]
    if not missing and module.ARRAYS not in ("numpy", "jax"):
        missing = [f"ARRAYS as \"numpy\" or \"jax\", not {module.ARRAYS!r}"]
    if not missing and not isinstance(module.OPS, _composed.ArrayOps):
        missing = [f"OPS as an ArrayOps, not {type(module.OPS).__name__}"]
    if missing:
        raise BackendError(f"backend {name!r} ({module.__name__}) does not meet the backend "
                           f"contract: it needs {'; '.join(missing)}")
    return module


#: The default backend: ``$DEFAULT_JIT`` at import time, ``"jax"`` when unset.
DEFAULT_JIT: str = _checked_name(
    os.environ.get("DEFAULT_JIT", "jax").strip().lower() or "jax", "DEFAULT_JIT"
)


def get_backend(name: str | None = None) -> ModuleType:
    """The backend module ``autokern.<name>`` (``DEFAULT_JIT`` when ``name`` is None)."""
    return importlib.import_module(BACKEND_MODULES[_checked_name(name or DEFAULT_JIT)])


@functools.cache
def cores_of(backend: str) -> _composed.Cores:
    """The :class:`~autokern._api.composed.Cores` of ``backend`` (its array namespace and cores)."""
    return _composed.Cores(backend, checked_backend(backend).OPS, core)


def _core_or_none(name: str, backend: str) -> Callable[..., Any] | None:
    kernel = KERNELS[name]
    if backend in BACKEND_NAMES and backend not in kernel.backends:
        return None  # a built-in backend implements what the catalogue declares for it
    if kernel.composed:
        if not all(_core_or_none(part, backend) for part in kernel.composed_of):
            return None
        return functools.partial(getattr(_composed, name), cores_of(backend))
    path = f"{BACKEND_MODULES[backend]}.{kernel.module}"
    try:
        module = importlib.import_module(path)
    except ModuleNotFoundError as error:
        if error.name != path:
            raise
        return None
    return getattr(module, name, None)


_CORES: dict[tuple[str, str], Callable[..., Any] | None] = {}


def core(name: str, backend: str) -> Callable[..., Any]:
    """The bare core of kernel ``name`` on ``backend`` (no checks, no defaults, no fallback)."""
    key = (name, backend)
    if key not in _CORES:
        _CORES[key] = _core_or_none(name, backend)
    if _CORES[key] is None:
        raise BackendError(f"backend {backend!r} has no kernel {name!r}")
    return _CORES[key]


def provides(backend: str, name: str) -> bool:
    """Whether ``backend`` implements kernel ``name`` (imports that backend to find out)."""
    try:
        core(name, backend)
    except BackendError:
        return False
    return True


def current_name(name: str, stacklevel: int = 3) -> str:
    """``name``, or for a former kernel name (:data:`~autokern.catalogue.RENAMED_KERNELS`) the
    current one, with a DeprecationWarning."""
    if name in RENAMED_KERNELS:
        warnings.warn(f"{name} is deprecated: the kernel is called {RENAMED_KERNELS[name]} (the "
                      "downstream library's name)", DeprecationWarning, stacklevel=stacklevel)
        return RENAMED_KERNELS[name]
    return name


def resolve_backend(name: str, backend: str | None = None, *, fallback: bool = True) -> str:
    """The name of the backend whose ``name`` kernel a request for ``backend`` gets."""
    name = current_name(name)
    if name not in KERNELS:
        raise BackendError(f"unknown kernel {name!r}; see autokern.catalogue.KERNELS")
    chosen = _checked_name(backend or DEFAULT_JIT)
    if provides(chosen, name):
        return chosen
    if fallback:
        for candidate in dict.fromkeys([FALLBACK_BACKEND, *BACKEND_MODULES]):
            if provides(candidate, name):
                return candidate
    raise BackendError(
        f"backend {chosen!r} has no kernel {name!r}"
        + ("" if fallback else f" (declared for: {', '.join(KERNELS[name].backends)}); "
           "pass fallback=True to use another backend")
    )


def _module_of(kernel: Kernel, backend: str) -> str:
    return "autokern._api.composed" if kernel.composed else f"autokern.{backend}.{kernel.module}"


def _public(kernel: Kernel, backend: str, bare: Callable[..., Any]) -> Callable[..., Any]:
    """The checked public function of ``kernel`` on ``backend``."""
    signature = kernel.signature
    arrays = validation.converter(checked_backend(backend).ARRAYS)

    renamed = kernel.renamed or {}

    def public(*args: Any, **kwargs: Any) -> Any:
        for old in renamed.keys() & kwargs.keys():
            warnings.warn(f"{kernel.name}: {old} is deprecated, call it {renamed[old]}",
                          DeprecationWarning, stacklevel=2)
            kwargs[renamed[old]] = kwargs.pop(old)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise InputTypeError(f"{kernel.name}{signature}: {error}") from None
        if backend in parallelism.UNUSABLE_AFTER_FORK:
            return _in_forked_child(kernel, backend)(*args, **kwargs)
        bound.apply_defaults()
        return bare(**validation.check(kernel, bound.arguments, arrays))

    return _named(public, kernel, backend, kernel.doc)


def _in_forked_child(kernel: Kernel, backend: str) -> Callable[..., Any]:
    """The public function to run instead of ``backend``'s in a process forked after that
    backend started (see :data:`autokern._runtime.parallelism.UNUSABLE_AFTER_FORK`): the fallback
    backend's,
    which gives the same numbers (every backend equals the reference to 1e-10), as NumPy
    arrays.  One warning per kernel."""
    substitute = resolve_backend(kernel.name, FALLBACK_BACKEND)
    if substitute in parallelism.UNUSABLE_AFTER_FORK:
        raise BackendError(f"{kernel.name}: neither {backend!r} nor {substitute!r} can run in "
                           "this forked process; use the 'spawn' or 'forkserver' start method")
    warnings.warn(f"{kernel.name}: this process was forked after the {backend!r} backend "
                  f"started, and {backend} cannot compile in a forked child; running the "
                  f"{substitute!r} backend's kernel instead (same numbers, NumPy arrays). Use "
                  "the 'spawn' or 'forkserver' start method to keep JAX in the workers.",
                  RuntimeWarning, stacklevel=3)
    return _function(kernel.name, substitute, True)


def _unchecked(kernel: Kernel, backend: str, bare: Callable[..., Any]) -> Callable[..., Any]:
    """The core with the catalogue's defaults filled in, and nothing else."""
    names = [a.name for a in kernel.args]
    defaults = {a.name: a.default for a in kernel.args if a.default is not inspect.Parameter.empty}

    def unchecked(*args: Any, **kwargs: Any) -> Any:
        for name in names[len(args):]:
            if name not in kwargs and name in defaults:
                kwargs[name] = defaults[name]
        return bare(*args, **kwargs)

    doc = (f"{kernel.name} without input checks: arguments must already be in canonical form "
           f"(see autokern.get_kernel(..., checked=False)).\n\n{kernel.doc}")
    return _named(unchecked, kernel, backend, doc)


def _named(fn: Callable[..., Any], kernel: Kernel, backend: str, doc: str) -> Callable[..., Any]:
    fn.__name__ = fn.__qualname__ = kernel.name
    fn.__module__ = _module_of(kernel, backend)
    fn.__doc__ = doc
    fn.__signature__ = kernel.signature  # type: ignore[attr-defined]
    fn.kernel = kernel  # type: ignore[attr-defined]
    fn.backend = backend  # type: ignore[attr-defined]
    return fn


@functools.cache
def _function(name: str, backend: str, checked: bool) -> Callable[..., Any]:
    kernel = KERNELS[name]
    build = _public if checked else _unchecked
    return build(kernel, backend, core(name, backend))


def get_kernel(name: str, backend: str | None = None, *, fallback: bool = True,
               checked: bool = True) -> Callable:
    """The kernel ``name`` of ``backend``, or of the fallback backend where it lacks it.

    ``checked=True`` (default): the public function, which validates and converts every
    argument (one pass of :func:`autokern._api.validation.check`) before running the core.
    ``checked=False``: the bare core, for a sampler loop whose inputs were checked once —
    arrays must already be C-contiguous float64 / int64 / complex128 (on JAX, JAX arrays) of
    consistent shapes, options as the public function would pass them; bad input there gives
    undefined results instead of an error.
    """
    name = current_name(name)
    return _function(name, resolve_backend(name, backend, fallback=fallback), checked)


def export(backend: str, namespace: dict[str, Any]) -> list[str]:
    """Put the public function of every kernel ``backend`` provides into ``namespace`` (a
    backend package's globals), and a module ``__getattr__`` that answers former kernel names
    with a DeprecationWarning; return the current names (for ``__all__``)."""
    names = [k.name for k in KERNELS.values() if provides(backend, k.name)]
    namespace.update({n: _function(n, backend, True) for n in names})

    def __getattr__(name: str) -> Any:
        if name in RENAMED_KERNELS and RENAMED_KERNELS[name] in names:
            return namespace[current_name(name)]
        raise AttributeError(f"module 'autokern.{backend}' has no attribute {name!r}")

    namespace["__getattr__"] = __getattr__
    return names


class Kernels:
    """Every catalogue kernel of one backend as attributes, resolved like :func:`get_kernel`.

    >>> kern = Kernels("numba")            # doctest: +SKIP
    >>> kern.w_compact_curvature_interferometer_from(...)
    """

    def __init__(self, backend: str | None = None, *, fallback: bool = True,
                 checked: bool = True):
        self.backend = _checked_name(backend or DEFAULT_JIT)
        self.fallback = fallback
        self.checked = checked

    def __getattr__(self, name: str) -> Any:
        name = current_name(name)
        if name not in KERNELS:
            raise AttributeError(f"no kernel {name!r} in the autokern catalogue")
        return get_kernel(name, self.backend, fallback=self.fallback, checked=self.checked)

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *KERNELS]

    def __repr__(self) -> str:
        return f"Kernels({self.backend!r}, fallback={self.fallback}, checked={self.checked})"
