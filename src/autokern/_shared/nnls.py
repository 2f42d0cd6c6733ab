"""Pieces shared by the positive-only (non-negative) solvers of every backend.

- :func:`solve_on_kept_pixels`: deletes the rows and columns of ``zeroed_pixels`` from F + H and D,
  hands the kept problem to a backend's non-negative solver and puts exact zeros back.
- :func:`kkt_row_scales` / :func:`not_converged`: the dual tolerance of the active-set solvers and
  their error on a non-converged solve.
- :class:`PositiveOnlyState` and :func:`warm_free_set`: the explicit warm start a caller carries
  from one solve to the next (``return_state=True`` / ``result.solver_state`` → ``warm_start=``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from autokern.errors import InputTypeError, InputValueError

# The dual (KKT) tolerance of the active-set solvers, per row j:
#     KKT_TOLERANCE_FACTOR * eps * n * (|D_j| + max_i |A_ji| * max |s|),
# a bound on the rounding error of the gradient entry D_j - (A s)_j.
KKT_TOLERANCE_FACTOR = 10.0
# Outer (variable-entering) iterations allowed per kept pixel before giving up.
ITERATIONS_PER_PIXEL = 3
# Kim & Park's p̄: full exchanges of the block principal pivoting allowed without progress
# before it exchanges one index at a time (Murty's rule, finite)
BACKUP_EXCHANGES = 3


class PositiveOnlyState(NamedTuple):
    """The warm start of a positive-only solve, carried by the caller from one call to the next.

    ``free`` (S,) bool: the source pixels that were positive (off the bound) in a previous
    solution — ``reconstruction > 0``.  Passed back as ``warm_start=``, the solve starts its
    active-set search there instead of at the unconstrained solution.  It is a guess and nothing
    more: any state — stale, another dataset's, another regularization's, garbage — gives the
    same solution (the search converges from any start; a bad one costs iterations).  A state
    whose ``free`` is not of shape (S,) (another mesh's) is ignored: the solve starts cold.
    Immutable and free of hidden memory (safe across threads and forked workers); on JAX a
    pytree (``jax.jit`` takes it as an argument, ``jax.vmap`` gives each batch member its own).
    """

    free: Any


def state_of(reconstruction: Any) -> PositiveOnlyState:
    """The :class:`PositiveOnlyState` of a positive-only ``reconstruction`` (S,) (any backend's
    array; a JAX tracer under ``jit``/``vmap``)."""
    return PositiveOnlyState(reconstruction > 0.0)


def warm_free_set(warm_start: PositiveOnlyState | None, pixels: int, xp: Any = np) -> Any:
    """The (S,) bool start of the active-set search from ``warm_start``, or None for a cold
    start (no state, or a state for another S).  Raises InputTypeError for an object that is
    not a :class:`PositiveOnlyState`."""
    if warm_start is None:
        return None
    if not isinstance(warm_start, PositiveOnlyState):
        raise InputTypeError(
            "reconstruction_positive_only_from: warm_start must be None or an "
            "autokern.inversion.PositiveOnlyState (return_state=True, or an InversionResult's "
            f"solver_state), got {type(warm_start).__name__}")
    free = xp.asarray(warm_start.free)
    if tuple(free.shape) != (pixels,):
        return None
    return free != 0



def kkt_row_scales(curvature_reg_matrix: np.ndarray) -> np.ndarray:
    """max_i |A_ji| per row j (S,), the scale of the dual tolerance."""
    return np.max(np.abs(curvature_reg_matrix), axis=1) if curvature_reg_matrix.size else \
        np.zeros(0)


def max_iterations(pixels: int) -> int:
    """The outer-iteration cap of a positive-only solve over ``pixels`` kept pixels."""
    return ITERATIONS_PER_PIXEL * pixels + 10


def not_converged(iterations: int, pixels: int) -> InputValueError:
    """The error a positive-only solve raises when it hits its iteration cap."""
    return InputValueError(
        f"reconstruction_positive_only_from: the non-negative active-set solve did not converge "
        f"in {iterations} iterations over {pixels} kept pixels; curvature_reg_matrix must be "
        "symmetric positive definite and finite")


def not_positive_definite() -> InputValueError:
    """The error a positive-only solve raises when the kept F + H is not positive definite."""
    return InputValueError("reconstruction_positive_only_from: curvature_reg_matrix restricted "
                           "to the kept pixels is not symmetric positive definite")


def kept_mask(pixels: int, zeroed_pixels: np.ndarray | None) -> np.ndarray:
    """(S,) bool: the source pixels a positive-only solve keeps (not in ``zeroed_pixels``)."""
    keep = np.ones(pixels, dtype=bool)
    if zeroed_pixels is not None:
        keep[np.asarray(zeroed_pixels, dtype=np.int64)] = False
    return keep


def kept_pixels(pixels: int, zeroed_pixels: np.ndarray | None) -> np.ndarray:
    """Indexes (S − Z,) of the source pixels a positive-only solve keeps, ascending."""
    return np.flatnonzero(kept_mask(pixels, zeroed_pixels))


def solve_on_kept_pixels(solve: Callable[[np.ndarray, np.ndarray, np.ndarray | None], np.ndarray],
                         data_vector: np.ndarray, curvature_reg_matrix: np.ndarray,
                         zeroed_pixels: np.ndarray | None,
                         warm_start: PositiveOnlyState | None = None,
                         return_state: bool = False) -> Any:
    """s (S,) = ``solve(D_kept, A_kept, start_kept)`` on the kept pixels, exactly 0 on
    ``zeroed_pixels``; ``start_kept`` is the warm start's free set on the kept pixels (bool) or
    None (cold).  With ``return_state``: (s, :class:`PositiveOnlyState`)."""
    pixels = len(data_vector)
    start = warm_free_set(warm_start, pixels)
    keep = kept_pixels(pixels, zeroed_pixels)
    reconstruction = np.zeros(pixels)
    if len(keep) == pixels:
        reconstruction[:] = solve(data_vector, curvature_reg_matrix, start)
    elif len(keep):
        kept_matrix = np.ascontiguousarray(curvature_reg_matrix[np.ix_(keep, keep)])
        reconstruction[keep] = solve(np.ascontiguousarray(data_vector[keep]), kept_matrix,
                                     None if start is None else np.ascontiguousarray(start[keep]))
    return (reconstruction, state_of(reconstruction)) if return_state else reconstruction
