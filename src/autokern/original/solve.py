"""The positive-only (non-negative) solve (reference).

The downstream library's real inversion (``../shared/data/README.md``): s ≥ 0 minimising
½ sᵀ(F + H)s − sᵀD over the kept pixels (``zeroed_pixels`` deleted, exactly 0), its log evidence
with full-matrix log determinants, and the reduction of an over-sampled (sub-pixel) mapping to one
row per image pixel.

The solver is Bro & de Jong's fast NNLS (fnnls) on the normal equations A = F + H, b = D, started
from the empty passive set, with the Lawson–Hanson guard against a variable that enters without
moving.  A lower Cholesky factor of A restricted to the passive set (in entry order) is kept up to
date: a variable that enters appends one row (a triangular solve), one that leaves is deleted by
a rank-one update of the trailing block — never a fresh factorisation.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from autokern._shared import nnls


def _append(factor: np.ndarray, size: int, column: np.ndarray, diagonal: float) -> None:
    """Grow the size × size factor in ``factor`` by the variable with A column ``column``."""
    row = scipy.linalg.solve_triangular(factor[:size, :size], column, lower=True,
                                        check_finite=False)
    pivot = diagonal - row @ row
    if not pivot > 0.0:
        raise nnls.not_positive_definite()
    factor[size, :size] = row
    factor[size, size] = math.sqrt(pivot)


def _delete(factor: np.ndarray, size: int, position: int) -> None:
    """Remove variable ``position`` from the size × size factor: shift, then the trailing block
    L₃₃ becomes chol(L₃₃L₃₃ᵀ + l l ᵀ) with l the deleted column below the diagonal."""
    below = factor[position + 1:size, position].copy()
    factor[position:size - 1, :position] = factor[position + 1:size, :position]
    factor[position:size - 1, position:size - 1] = factor[position + 1:size, position + 1:size]
    factor[size - 1, :size] = 0.0
    factor[:size, size - 1] = 0.0
    for step, value in enumerate(below):
        j = position + step
        radius = math.hypot(factor[j, j], value)
        cosine, sine = radius / factor[j, j], value / factor[j, j]
        factor[j, j] = radius
        column = factor[j + 1:size - 1, j]
        column += sine * below[step + 1:]
        column /= cosine
        below[step + 1:] = cosine * below[step + 1:] - sine * column


def _passive_solution(factor: np.ndarray, size: int, rhs: np.ndarray) -> np.ndarray:
    lower = factor[:size, :size]
    half = scipy.linalg.solve_triangular(lower, rhs, lower=True, check_finite=False)
    return scipy.linalg.solve_triangular(lower, half, lower=True, trans="T", check_finite=False)


def _fnnls(data_vector: np.ndarray, curvature_reg_matrix: np.ndarray) -> np.ndarray:
    """argmin_{s ≥ 0} ½ sᵀAs − sᵀb for SPD A (n, n), b (n,): fnnls with factor updates."""
    b, a = data_vector, curvature_reg_matrix
    n = len(b)
    scale = (nnls.KKT_TOLERANCE_FACTOR * np.finfo(np.float64).eps * n)
    row_scales = nnls.kkt_row_scales(a)
    cap = nnls.max_iterations(n)
    factor = np.zeros((n, n))
    passive: list[int] = []  # variables in the order of the factor's rows
    x = np.zeros(n)
    gradient = b.copy()  # b − A x: the negative gradient, the dual variables
    excluded = np.zeros(n, dtype=bool)  # entered without moving (rounding): skip until a step
    iterations = 0
    while True:
        tolerance = scale * (np.abs(b) + row_scales * (x.max() if n else 0.0))
        candidates = (gradient > tolerance) & ~excluded
        candidates[passive] = False
        if not candidates.any():
            return x
        iterations += 1
        if iterations > cap:
            raise nnls.not_converged(cap, n)
        entering = int(np.argmax(np.where(candidates, gradient, -np.inf)))
        _append(factor, len(passive), a[passive, entering], a[entering, entering])
        passive.append(entering)
        z = _passive_solution(factor, len(passive), b[passive])
        if not z[-1] > 0.0:  # Lawson–Hanson: it cannot enter; drop its row and try the next
            passive.pop()
            factor[len(passive), :] = 0.0
            excluded[entering] = True
            continue
        excluded[:] = False
        while np.any(z <= 0.0):  # step back to feasibility, dropping the blocking variables
            current = x[passive]
            blocked = z <= 0.0
            ratios = current[blocked] / (current[blocked] - z[blocked])
            alpha = ratios.min()
            current += alpha * (z - current)
            current[np.flatnonzero(blocked)[np.argmin(ratios)]] = 0.0
            x[passive] = current
            for position in np.flatnonzero(current <= 0.0)[::-1]:
                x[passive[position]] = 0.0
                _delete(factor, len(passive), int(position))
                del passive[position]
            z = _passive_solution(factor, len(passive), b[passive])
        x[:] = 0.0
        x[passive] = z
        gradient = b - a @ x


def _fnnls_cold(data_vector: np.ndarray, curvature_reg_matrix: np.ndarray,
                start: np.ndarray | None) -> np.ndarray:
    # the reference always starts from the empty passive set: a warm start changes nothing
    return _fnnls(data_vector, curvature_reg_matrix)


def reconstruction_positive_only_from(data_vector: np.ndarray, curvature_reg_matrix: np.ndarray,
                                      zeroed_pixels: np.ndarray | None = None, *,
                                      warm_start: nnls.PositiveOnlyState | None = None,
                                      return_state: bool = False):
    """s (S,) ≥ 0 minimising ½ sᵀAs − sᵀD over the kept pixels; D (S,), A = F + H (S, S) SPD,
    ``zeroed_pixels`` (Z,) int indexes (or None) deleted from the solve and exactly 0 in s.
    ``warm_start`` is checked and otherwise unused (the reference starts cold); with
    ``return_state``, (s, PositiveOnlyState(s > 0))."""
    return nnls.solve_on_kept_pixels(_fnnls_cold, data_vector, curvature_reg_matrix,
                                     zeroed_pixels, warm_start, return_state)
