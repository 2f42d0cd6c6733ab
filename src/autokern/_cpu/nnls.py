"""The positive-only (non-negative) solve's CPU engine, shared by the Numba backend and the JAX
backend's CPU host callback (:mod:`autokern.numba.solve`, :mod:`autokern.jax.solve`).

Block principal pivoting (Júdice & Pires; Kim & Park's backup rule) on the normal equations
A = F + H, b = D: each iteration solves on the free set and exchanges every infeasible variable at
once (a fresh blocked Cholesky of A_FF on Numba's threads when many change, factor downdates and
appends when few do), starting from the caller's warm start (the previous call's free set,
:class:`autokern._shared.nnls.PositiveOnlyState`) or, cold, from the unconstrained solution.  Near a
previous solution it converges in two or three factorisations of the free block.  If it has not
converged in ``pivoting_iterations``, fnnls (Bro & de Jong, Lawson–Hanson guard) finishes
from the last projected point — fnnls's inner loop steps back to a feasible subspace minimiser,
then one variable enters per step with O(k²) factor updates — which keeps the method exact and
finite.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from autokern._cpu.cholesky import CHOLESKY_BLOCK, cholesky_lower_in_place
from autokern._runtime.parallelism import choose_fork_safe_threading_layer
from autokern._shared import nnls

choose_fork_safe_threading_layer()

OK, NOT_CONVERGED, NOT_POSITIVE_DEFINITE = 0, 1, 2
EPS = float(np.finfo(np.float64).eps)
#: block principal pivoting iterations before fnnls takes over (0: plain fnnls from the empty
#: passive set); never more than the solve's iteration cap
PIVOTING_ITERATIONS = 64
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
    The blocked Cholesky of :mod:`autokern._cpu.cholesky` on ``parts`` of Numba's threads (BLAS
    held at one thread by the caller; the same factor whatever the count) leaves Lᵀ in the
    copy's upper triangle; it is copied into ``factor``'s lower triangle tile by tile (a
    transposed read)."""
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
def _change_free_set(a, flip, count, size, passive, in_passive, factor, work, sines, parts):
    """Move the variables marked in ``flip`` (1: leaves the free set, 2: enters it): by factor
    downdates and appends when few change, else a fresh blocked factorisation.  Returns the new
    size (−1: not positive definite)."""
    # k² per changed variable in these scalar loops against k³/3 for LAPACK's (far faster per
    # flop) factorisation: update only when very few change (SMA sampler walk, S = 1 034, one
    # thread, warm solve: 28 / 19 / 15 / 14 / 17 ms with 8 / 16 / 64 / 128 / no updates)
    update = 128 * count <= size
    for r in range(size - 1, -1, -1):
        i = passive[r]
        if flip[i] == 1:
            in_passive[i] = False
            if update:
                _delete(factor, size, r, work, sines)
                for t in range(r, size - 1):
                    passive[t] = passive[t + 1]
                size -= 1
    for i in range(flip.shape[0]):
        if flip[i] == 2:
            in_passive[i] = True
            if update:
                if not _append(factor, size, a, passive, i):
                    return -1
                passive[size] = i
                size += 1
    if not update:
        size = _factor_free_set(a, in_passive, passive, factor, parts)
    return size


@numba.njit(cache=True, nogil=True)
def _block_pivoting(a, b, kept, row_scales, tolerance_factor, iterations, backup_exchanges, x,
                    passive, in_passive, factor, z, work, sines, gradient, tolerance, parts):
    """Block principal pivoting (Júdice & Pires; Kim & Park's backup rule) from the free set
    ``in_passive``: each iteration solves on the free set F (x_F = A_FF⁻¹ b_F, 0 elsewhere) and
    exchanges every infeasible variable — x_i < 0 in F, gradient_i = (b − A x)_i above the KKT
    tolerance off F — while their count falls, ``backup_exchanges`` times more otherwise, then
    only the largest-index one (Murty's rule, finite).  Returns −2 when x satisfies the KKT
    conditions (solved), −1 if A_FF is not positive definite; variables off ``kept`` never
    enter (they start off the free set).  When ``iterations`` run out, the
    passive-set size after fnnls's inner loop from the last projected point, with x, passive,
    in_passive, factor and gradient consistent for fnnls to finish (exact and finite)."""
    n = b.shape[0]
    size = _factor_free_set(a, in_passive, passive, factor, parts)
    if size < 0:
        return -1
    flip = np.zeros(n, dtype=np.int8)
    fewest = n + 1
    backup = backup_exchanges
    for _ in range(iterations):
        _solve_passive(factor, size, b, passive, z)
        x[:] = 0.0
        for r in range(size):
            x[passive[r]] = z[r]
        _gradient(a, b, x, passive, size, gradient)
        _tolerances(b, row_scales, x, tolerance_factor, tolerance)
        count, largest = 0, -1
        for i in range(n):
            flip[i] = 0
            if in_passive[i]:
                if x[i] < 0.0:
                    flip[i] = 1
            elif kept[i] and gradient[i] > tolerance[i]:
                flip[i] = 2
            if flip[i] != 0:
                count += 1
                largest = i
        if count == 0:
            return -2
        if count < fewest:
            fewest, backup = count, backup_exchanges
        elif backup > 0:
            backup -= 1
        else:  # Murty's rule: the largest infeasible index alone
            for i in range(n):
                if i != largest:
                    flip[i] = 0
            count = 1
        size = _change_free_set(a, flip, count, size, passive, in_passive, factor, work, sines,
                                parts)
        if size < 0:
            return -1
    for i in range(n):  # fnnls from the last iterate projected onto x ≥ 0
        x[i] = max(x[i], 0.0) if in_passive[i] else 0.0
        in_passive[i] = x[i] > 0.0
    size = _factor_free_set(a, in_passive, passive, factor, parts)
    if size < 0:
        return -1
    size = _step_to_feasible(factor, size, b, passive, in_passive, x, z, work, sines)
    _gradient(a, b, x, passive, size, gradient)
    return size


@numba.njit(cache=True, nogil=True)
def fnnls(a, b, kept, row_scales, tolerance_factor, max_iterations, pivoting_iterations,
           backup_exchanges, start, parts):
    """argmin_{x ≥ 0} ½ xᵀAx − xᵀb over the ``kept`` (n,) bool variables (the others 0, their
    rows and columns of A (n, n) never read into a factor), A SPD on them: (x (n,), the final
    free set (n,) bool, status, outer iterations); block principal pivoting from the free set
    ``start`` & ``kept`` for ``pivoting_iterations``, then (if it has not converged) fnnls;
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
    if pivoting_iterations > 0:
        for i in range(n):
            in_passive[i] = start[i] and kept[i]
        size = _block_pivoting(a, b, kept, row_scales, tolerance_factor, pivoting_iterations,
                               backup_exchanges, x, passive, in_passive, factor, z, work, sines,
                               gradient, tolerance, parts)
        if size == -1:
            return x, in_passive, NOT_POSITIVE_DEFINITE, 0
        if size == -2:
            return x, in_passive, OK, 0
    iterations = 0
    while True:
        _tolerances(b, row_scales, x, tolerance_factor, tolerance)
        entering = -1
        best = 0.0
        for i in range(n):
            if kept[i] and not in_passive[i] and not excluded[i] \
                    and gradient[i] > tolerance[i] and gradient[i] > best:
                entering, best = i, gradient[i]
        if entering < 0:
            return x, in_passive, OK, iterations
        iterations += 1
        if iterations > max_iterations:
            return x, in_passive, NOT_CONVERGED, iterations
        if not _append(factor, size, a, passive, entering):
            return x, in_passive, NOT_POSITIVE_DEFINITE, iterations
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


@numba.njit(cache=True, nogil=True)
def kept_row_scales(a, kept):
    """max_i |A_ji| over the kept i, per kept row j (0 elsewhere): the scale of the dual
    tolerance (:func:`autokern._shared.nnls.kkt_row_scales` of the kept matrix), without copying
    it."""
    out = np.zeros(a.shape[0])
    for j in range(a.shape[0]):
        if kept[j]:
            largest = 0.0
            for i in range(a.shape[1]):
                if kept[i]:
                    largest = max(largest, abs(a[j, i]))
            out[j] = largest
    return out


def solve(data_vector: np.ndarray, curvature_reg_matrix: np.ndarray, kept: np.ndarray,
          start: np.ndarray | None, pivoting_iterations: int, parts: int
          ) -> tuple[np.ndarray, np.ndarray, int]:
    """(s (S,), its final free set (S,) bool, status) of the non-negative solve of D (S,) and
    A = F + H (S, S) (read, never written) over the ``kept`` (S,) bool pixels, from the free set
    ``start`` (None: every pixel, i.e. the unconstrained solution); fresh factorisations on
    ``parts`` of Numba's threads (the caller holds BLAS at one thread).  ``status``:
    :data:`OK`, :data:`NOT_CONVERGED` or :data:`NOT_POSITIVE_DEFINITE`."""
    pixels = data_vector.shape[0]
    n = int(kept.sum())
    cap = nnls.max_iterations(n)
    a = np.ascontiguousarray(curvature_reg_matrix, dtype=np.float64)
    x, free, status, _ = fnnls(
        a, np.ascontiguousarray(data_vector, dtype=np.float64), kept, kept_row_scales(a, kept),
        nnls.KKT_TOLERANCE_FACTOR * EPS * n, cap, min(pivoting_iterations, cap),
        nnls.BACKUP_EXCHANGES, np.ones(pixels, dtype=np.bool_) if start is None else start,
        parts)
    return x, free, status
