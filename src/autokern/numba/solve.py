"""The positive-only (non-negative) solve (Numba), by the CPU engine :mod:`autokern._cpu.nnls`:
block principal pivoting from the caller's warm start (or the unconstrained solution), fnnls
after :data:`PIVOTING_ITERATIONS` if it has not converged (exact and finite).
"""

from __future__ import annotations

import numba
import numpy as np

from autokern._cpu import nnls as _engine
from autokern._runtime import parallelism
from autokern._shared import nnls as _nnls

# Block principal pivoting iterations before fnnls takes over (0: plain fnnls from the empty
# passive set).
PIVOTING_ITERATIONS = _engine.PIVOTING_ITERATIONS


def reconstruction_positive_only_from(data_vector: np.ndarray, curvature_reg_matrix: np.ndarray,
                                      zeroed_pixels: np.ndarray | None = None, *,
                                      warm_start: _nnls.PositiveOnlyState | None = None,
                                      return_state: bool = False):
    """The non-negative solve of :func:`autokern.original.solve.reconstruction_positive_only_from`
    (s (S,) from D (S,), F + H (S, S), ``zeroed_pixels`` (Z,) or None): block principal
    pivoting from ``warm_start``'s free set (or the unconstrained solution), fnnls after it if
    it runs out of iterations; with ``return_state``, (s, PositiveOnlyState(s > 0)).  The
    zeroed pixels are never free, so the kept matrix is never copied out."""
    pixels = len(data_vector)
    start = _nnls.warm_free_set(warm_start, pixels)
    kept = _nnls.kept_mask(pixels, zeroed_pixels)
    # BLAS on one thread: the factorisations' blocks run in Numba's threads
    with parallelism.one_blas_thread():
        x, _, status = _engine.solve(data_vector, curvature_reg_matrix, kept, start,
                                     PIVOTING_ITERATIONS, numba.get_num_threads())
    if status == _engine.NOT_CONVERGED:
        raise _nnls.not_converged(_nnls.max_iterations(int(kept.sum())), int(kept.sum()))
    if status == _engine.NOT_POSITIVE_DEFINITE:
        raise _nnls.not_positive_definite()
    return (x, _nnls.state_of(x)) if return_state else x
