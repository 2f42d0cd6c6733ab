"""Pieces shared by the positive-only (non-negative) solvers of every backend.

- :func:`solve_on_kept_pixels`: deletes the rows and columns of ``zeroed_pixels`` from F + H and D,
  hands the kept problem to a backend's non-negative solver and puts exact zeros back.
- :func:`kkt_row_scales` / :func:`not_converged`: the dual tolerance of the active-set solvers and
  their error on a non-converged solve.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autokern.errors import InputValueError

# The dual (KKT) tolerance of the active-set solvers, per row j:
#     KKT_TOLERANCE_FACTOR * eps * n * (|D_j| + max_i |A_ji| * max |s|),
# a bound on the rounding error of the gradient entry D_j - (A s)_j.
KKT_TOLERANCE_FACTOR = 10.0
# Outer (variable-entering) iterations allowed per kept pixel before giving up.
ITERATIONS_PER_PIXEL = 3



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


def kept_pixels(pixels: int, zeroed_pixels: np.ndarray | None) -> np.ndarray:
    """Indexes (S − Z,) of the source pixels a positive-only solve keeps, ascending."""
    keep = np.ones(pixels, dtype=bool)
    if zeroed_pixels is not None:
        keep[np.asarray(zeroed_pixels, dtype=np.int64)] = False
    return np.flatnonzero(keep)


def solve_on_kept_pixels(solve: Callable[[np.ndarray, np.ndarray], np.ndarray],
                         data_vector: np.ndarray, curvature_reg_matrix: np.ndarray,
                         zeroed_pixels: np.ndarray | None) -> np.ndarray:
    """s (S,) = ``solve(D_kept, A_kept)`` on the kept pixels, exactly 0 on ``zeroed_pixels``."""
    keep = kept_pixels(len(data_vector), zeroed_pixels)
    reconstruction = np.zeros(len(data_vector))
    if len(keep) == len(data_vector):
        reconstruction[:] = solve(data_vector, curvature_reg_matrix)
    elif len(keep):
        kept_matrix = np.ascontiguousarray(curvature_reg_matrix[np.ix_(keep, keep)])
        reconstruction[keep] = solve(np.ascontiguousarray(data_vector[keep]), kept_matrix)
    return reconstruction
