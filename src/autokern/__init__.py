"""autokern: numerical kernels for radio-interferometric lens modelling.

Three backends with the same kernels, names and signatures (see :mod:`autokern.catalogue`):

- ``autokern.original`` — the NumPy reference, written for clarity and exactness;
- ``autokern.numba`` — Numba-compiled CPU kernels;
- ``autokern.jax`` — ``jax.jit`` kernels, float64 (x64 is switched on when it is imported).

Pick one explicitly (``from autokern import numba as kern``) or through the dispatcher::

    import autokern
    kern = autokern.Kernels("jax")          # attributes are kernels
    f = autokern.get_kernel("mapping_matrix_from", backend="numba")

The default backend is the environment variable ``DEFAULT_JIT`` (``original``, ``numba`` or
``jax``) read at import, ``jax`` when unset.  Importing ``autokern`` imports neither Numba nor
JAX; choosing a backend does.

``autokern.explain(kernel, backend, **arguments)`` says which backend and which routes (direct or
NUFFT, the curvature kernel, the CPU engine or XLA) a call would take, and why.

``autokern.threads(n)`` (a context manager) and ``autokern.set_num_threads(n)`` set the threads
of every CPU part at once: Numba, the NUFFT, SciPy's FFTs and BLAS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autokern._api.dispatch import (
    BACKEND_NAMES,
    DEFAULT_JIT,
    FALLBACK_BACKEND,
    Kernels,
    get_backend,
    get_kernel,
    resolve_backend,
)
from autokern._api.explain import Explanation, explain
from autokern._runtime.parallelism import set_num_threads, threads
from autokern.catalogue import KERNELS

if TYPE_CHECKING:
    from types import ModuleType

__version__ = "0.1.0"

__all__ = [
    "BACKEND_NAMES",
    "DEFAULT_JIT",
    "FALLBACK_BACKEND",
    "KERNELS",
    "Explanation",
    "Kernels",
    "__version__",
    "explain",
    "get_backend",
    "get_kernel",
    "resolve_backend",
    "set_num_threads",
    "threads",
]


def __getattr__(name: str) -> ModuleType | Any:
    # `autokern.numba` etc. without an explicit import: load the backend on first use.
    if name in BACKEND_NAMES:
        return get_backend(name)
    raise AttributeError(f"module 'autokern' has no attribute {name!r}")
