"""The Numba backend: ``@numba.njit`` CPU kernels, compiled lazily on first call and cached.

Every catalogue kernel except the JAX-only BCOO ones.  Importing this package compiles nothing:
the jitted cores carry no signatures and compile on their first call (``cache=True`` keeps the
machine code on disk for later processes).  Reductions over visibilities run in chunks of
``chunk_size``; the curvature kernels gather W̃ from its lattice lag table and never form it.

The package exports every kernel's public (checked) function, built by
:mod:`autokern._api.dispatch` from the plain cores of its modules (grid, w_tilde, mapping,
curvature, regularization, solve, light, linalg).
"""

from autokern._api.dispatch import export
from autokern._runtime.parallelism import choose_fork_safe_threading_layer
from autokern.numba.linalg import OPS as OPS

choose_fork_safe_threading_layer()  # before any kernel starts Numba's threads
#: the backend contract (autokern._api.dispatch.BACKEND_CONTRACT): OPS above, and its arrays
ARRAYS = "numpy"
__all__ = ["ARRAYS", "OPS", *export("numba", globals())]
