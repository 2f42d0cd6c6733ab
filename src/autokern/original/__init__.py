"""The reference backend: NumPy, written for clarity and exactness.

Every catalogue kernel except the JAX-only BCOO ones.  Reductions over visibilities run in
chunks of ``chunk_size`` visibilities, so memory never grows with K.  The other backends are
tested against this one, and this one against the downstream library's own numbers.

The package exports every kernel's public (checked) function, built by
:mod:`autokern._api.dispatch` from the plain cores of its modules (grid, w_tilde, mapping,
curvature, regularization, solve, light, linalg).
"""

from autokern._api.dispatch import export
from autokern.original.linalg import OPS as OPS

#: the backend contract (autokern._api.dispatch.BACKEND_CONTRACT): OPS above, and its arrays
ARRAYS = "numpy"
__all__ = ["ARRAYS", "OPS", *export("original", globals())]
