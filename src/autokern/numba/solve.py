"""The positive-only (non-negative) solve (Numba).

The solve is fnnls (Bro & de Jong) on the normal equations A = F + H, b = D, in Numba loops,
keeping a lower Cholesky factor of A on the passive set up to date: an entering variable appends
one row (a forward substitution), a leaving one is deleted by a rank-one update of the trailing
block, O(k²) each.  It is warm-started from the unconstrained solution: a few block-exchange
rounds (free set ← {s_i > 0} ∪ {gradient_i > tol}, the primal-dual active-set step; a fresh
blocked factorisation on Numba's threads when many variables change, up/downdates when few do)
usually land on the solution.  Otherwise fnnls's inner loop steps from the last projected point
back to a feasible subspace minimiser and fnnls finishes from there, which keeps the method
exact and finite.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from autokern import _memory, _nnls
from autokern.numba.linalg import CHOLESKY_BLOCK, cholesky_lower_in_place

# Block-exchange rounds before fnnls takes over (0: plain fnnls from the empty passive set).
WARM_START_ROUNDS = 16

_OK, _NOT_CONVERGED, _NOT_POSITIVE_DEFINITE = 0, 1, 2
_EPS = float(np.finfo(np.float64).eps)
_TILE = 64


@numba.njit(cache=True, nogil=True)
def _solve_passive(factor, size, b, passive, out):
    """out[:size] = A_PP⁻¹ b_P from the factor (forward, then column-wise back substitution)."""
    for r in range(size):
        acc = b[passive[r]]
        for c in range(r):
            acc -= factor[r, c] * out[c]
        out[r] = acc / factor[r, r]
    for r in range(size - 1, -1, -1):
        out[r] /= factor[r, r]
        value = out[r]
        for c in range(r):
            out[c] -= value * factor[r, c]


@numba.njit(cache=True, nogil=True)
def _append(factor, size, a, passive, entering):
    """Add row ``size`` to the factor for variable ``entering``; False if A_PP is not PD."""
    for r in range(size):
        acc = a[passive[r], entering]
        for c in range(r):
            acc -= factor[r, c] * factor[size, c]
        factor[size, r] = acc / factor[r, r]
    pivot = a[entering, entering]
    for c in range(size):
        pivot -= factor[size, c] * factor[size, c]
    if not pivot > 0.0:
        return False
    factor[size, size] = math.sqrt(pivot)
    return True


@numba.njit(cache=True, nogil=True)
def _delete(factor, size, position, cosines, sines):
    """Remove row and column ``position``: shift, then L₃₃ ← chol(L₃₃L₃₃ᵀ + l lᵀ) by Givens
    rotations, applied row by row (contiguous) with each row's l entry carried along."""
    for r in range(position + 1, size):
        carried = factor[r, position]
        for c in range(position):
            factor[r - 1, c] = factor[r, c]
        for j in range(position, r - 1):  # rotations of the rows above, in order
            updated = (factor[r, j + 1] + sines[j] * carried) / cosines[j]
            carried = cosines[j] * carried - sines[j] * updated
            factor[r - 1, j] = updated
        diagonal = factor[r, r]
        radius = math.hypot(diagonal, carried)
        cosines[r - 1], sines[r - 1] = radius / diagonal, carried / diagonal
        factor[r - 1, r - 1] = radius
    for c in range(size):
        factor[size - 1, c] = 0.0


@numba.njit(cache=True, nogil=True)
def _gradient(a, b, x, passive, size, out):
    """out = b − A x with x supported on the passive set (rows of the symmetric A)."""
    out[:] = b
    for r in range(size):
        i = passive[r]
        value = x[i]
        for c in range(b.shape[0]):
            out[c] -= value * a[i, c]


@numba.njit(cache=True, nogil=True)
def _tolerances(b, row_scales, x, factor, out):
    largest = 0.0
    for i in range(x.shape[0]):
        largest = max(largest, x[i])
    for i in range(x.shape[0]):
        out[i] = factor * (abs(b[i]) + row_scales[i] * largest)


@numba.njit(cache=True, nogil=True)
def _factor_free_set(a, free, passive, factor, parts):
    """Fresh factor of A on ``free`` (ascending order into ``passive``); size, or −1 if not PD.
    The blocked Cholesky of :mod:`autokern.numba.linalg` on ``parts`` of Numba's threads (BLAS
    held at one thread by the caller) leaves Lᵀ in the copy's upper triangle; it is copied into
    ``factor``'s lower triangle tile by tile (a transposed read)."""
    size = 0
    for i in range(free.shape[0]):
        if free[i]:
            passive[size] = i
            size += 1
    if size == 0:
        return 0
    block = np.empty((size, size))
    for r in range(size):
        for c in range(size):
            block[r, c] = a[passive[r], passive[c]]
    if cholesky_lower_in_place(block, CHOLESKY_BLOCK, parts) != 0:
        return -1
    for r0 in range(0, size, _TILE):
        r1 = min(r0 + _TILE, size)
        for c0 in range(0, r1, _TILE):
            for r in range(r0, r1):
                for c in range(c0, min(c0 + _TILE, r + 1)):
                    factor[r, c] = block[c, r]
    for r in range(size):
        factor[r, r + 1:size] = 0.0
    return size


@numba.njit(cache=True, nogil=True)
def _step_to_feasible(factor, size, b, passive, in_passive, x, z, work, sines):
    """fnnls's inner loop: from x > 0 on the passive set, step towards its subspace minimiser z,
    dropping blocking variables (factor downdates) until z > 0; then x = z.  Returns the size."""
    _solve_passive(factor, size, b, passive, z)
    while True:
        alpha, blocking = np.inf, -1
        for r in range(size):
            if z[r] <= 0.0:
                current = x[passive[r]]
                ratio = current / (current - z[r])
                if ratio < alpha:
                    alpha, blocking = ratio, r
        if blocking < 0:
            break
        for r in range(size):
            i = passive[r]
            x[i] += alpha * (z[r] - x[i])
        x[passive[blocking]] = 0.0
        for r in range(size - 1, -1, -1):
            i = passive[r]
            if x[i] <= 0.0:
                x[i] = 0.0
                in_passive[i] = False
                _delete(factor, size, r, work, sines)
                for t in range(r, size - 1):
                    passive[t] = passive[t + 1]
                size -= 1
        _solve_passive(factor, size, b, passive, z)
    for r in range(size):
        x[passive[r]] = z[r]
    return size


@numba.njit(cache=True, nogil=True)
def _warm_start(a, b, row_scales, tolerance_factor, rounds, x, passive, in_passive, factor, z,
                work, sines, gradient, tolerance, parts):
    """Block exchanges from the unconstrained solution (free ← {z > 0} ∪ {gradient > tol}): the
    factor is updated variable by variable when few change, refactorised when many do.  If they
    have not converged, fnnls's inner loop from the last projected point.  Returns the
    passive-set size with x, passive, in_passive, factor and gradient consistent (−1: not PD,
    −2: solved)."""
    n = b.shape[0]
    in_passive[:] = True
    size = _factor_free_set(a, in_passive, passive, factor, parts)
    if size < 0:
        return -1
    entering = np.zeros(n, dtype=np.bool_)
    for _ in range(rounds):
        _solve_passive(factor, size, b, passive, z)
        x[:] = 0.0
        leaving = 0
        for r in range(size):
            x[passive[r]] = max(z[r], 0.0)
            leaving += z[r] <= 0.0
        _gradient(a, b, x, passive, size, gradient)
        _tolerances(b, row_scales, x, tolerance_factor, tolerance)
        changes = leaving
        for i in range(n):
            entering[i] = not in_passive[i] and gradient[i] > tolerance[i]
            changes += entering[i]
        if changes == 0:
            return -2
        # k² per changed variable in these loops against k³/3 for LAPACK's blocked (far faster
        # per flop) factorisation: update only when few change
        update = 32 * changes <= size
        for r in range(size - 1, -1, -1):
            if z[r] <= 0.0:
                in_passive[passive[r]] = False
                if update:
                    _delete(factor, size, r, work, sines)
                    for t in range(r, size - 1):
                        passive[t] = passive[t + 1]
                    size -= 1
        for i in range(n):
            if entering[i]:
                in_passive[i] = True
                if update:
                    if not _append(factor, size, a, passive, i):
                        return -1
                    passive[size] = i
                    size += 1
        if not update:
            size = _factor_free_set(a, in_passive, passive, factor, parts)
            if size < 0:
                return -1
    for i in range(n):
        in_passive[i] = x[i] > 0.0
    size = _factor_free_set(a, in_passive, passive, factor, parts)
    if size < 0:
        return -1
    size = _step_to_feasible(factor, size, b, passive, in_passive, x, z, work, sines)
    _gradient(a, b, x, passive, size, gradient)
    return size


@numba.njit(cache=True, nogil=True)
def _fnnls(a, b, row_scales, tolerance_factor, max_iterations, warm_rounds, parts):
    """argmin_{x ≥ 0} ½ xᵀAx − xᵀb for SPD A (n, n): (x (n,), status, outer iterations);
    fresh factorisations on ``parts`` of Numba's threads."""
    n = b.shape[0]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=np.int64)
    in_passive = np.zeros(n, dtype=np.bool_)
    excluded = np.zeros(n, dtype=np.bool_)
    factor = np.zeros((n, n))
    z = np.zeros(n)
    work = np.zeros(n)
    sines = np.zeros(n)
    gradient = b.copy()
    tolerance = np.zeros(n)
    size = 0
    if warm_rounds > 0:
        size = _warm_start(a, b, row_scales, tolerance_factor, warm_rounds, x, passive,
                           in_passive, factor, z, work, sines, gradient, tolerance, parts)
        if size == -1:
            return x, _NOT_POSITIVE_DEFINITE, 0
        if size == -2:
            return x, _OK, 0
    iterations = 0
    while True:
        _tolerances(b, row_scales, x, tolerance_factor, tolerance)
        entering = -1
        best = 0.0
        for i in range(n):
            if not in_passive[i] and not excluded[i] and gradient[i] > tolerance[i] \
                    and gradient[i] > best:
                entering, best = i, gradient[i]
        if entering < 0:
            return x, _OK, iterations
        iterations += 1
        if iterations > max_iterations:
            return x, _NOT_CONVERGED, iterations
        if not _append(factor, size, a, passive, entering):
            return x, _NOT_POSITIVE_DEFINITE, iterations
        passive[size] = entering
        size += 1
        _solve_passive(factor, size, b, passive, z)
        if not z[size - 1] > 0.0:  # Lawson–Hanson guard: it cannot enter, try the next one
            size -= 1
            factor[size, :] = 0.0
            excluded[entering] = True
            continue
        in_passive[entering] = True
        excluded[:] = False
        size = _step_to_feasible(factor, size, b, passive, in_passive, x, z, work, sines)
        _gradient(a, b, x, passive, size, gradient)


def _solve_kept(data_vector: np.ndarray, curvature_reg_matrix: np.ndarray) -> np.ndarray:
    n = len(data_vector)
    cap = _nnls.max_iterations(n)
    tolerance_factor = _nnls.KKT_TOLERANCE_FACTOR * _EPS * n
    # BLAS on one thread: the factorisations' blocks run in Numba's threads
    with _memory.one_blas_thread():
        x, status, _ = _fnnls(curvature_reg_matrix, data_vector,
                              _nnls.kkt_row_scales(curvature_reg_matrix), tolerance_factor,
                              cap, WARM_START_ROUNDS, numba.get_num_threads())
    if status == _NOT_CONVERGED:
        raise _nnls.not_converged(cap, n)
    if status == _NOT_POSITIVE_DEFINITE:
        raise _nnls.not_positive_definite()
    return x


def reconstruction_positive_only_from(data_vector: np.ndarray, curvature_reg_matrix: np.ndarray,
                                      zeroed_pixels: np.ndarray | None = None) -> np.ndarray:
    """The non-negative solve of :func:`autokern.original.solve.reconstruction_positive_only_from`
    (s (S,) from D (S,), F + H (S, S), ``zeroed_pixels`` (Z,) or None), warm-started fnnls."""
    return _nnls.solve_on_kept_pixels(_solve_kept, data_vector, curvature_reg_matrix,
                                           zeroed_pixels)
