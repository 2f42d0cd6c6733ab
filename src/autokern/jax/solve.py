"""The positive-only (non-negative) solve (JAX, float64).

Static shapes throughout, so every function runs under ``jax.jit`` and ``jax.vmap``:

- ``zeroed_pixels`` becomes a boolean mask (S,): pass int indexes (Z,) (concrete or traced), a
  boolean mask (S,) directly, or None.  The kept problem is solved with the zeroed (and the
  pinned) rows and columns of F + H replaced by the identity, which is the deleted problem.
- The active set is found by block principal pivoting (Júdice & Pires; Kim & Park's backup rule)
  from the warm start's free set (``warm_start``, a :class:`autokern._shared.nnls.PositiveOnlyState`
  pytree: under ``vmap`` each batch member its own, solved one after another) or, cold, from the
  unconstrained solution.  On the CPU it is the Numba engine :mod:`autokern._cpu.nnls` in a host
  callback (as :mod:`autokern.jax.linalg` runs the linear Cholesky): the callback returns the
  solution and its final free set.  On other devices it runs inside ``lax.while_loop``, one
  masked Cholesky per iteration (exchange every infeasible variable while their count falls, at
  most three times more otherwise, then only the largest-index one — Murty's rule, finite for
  SPD F + H), then the free-set solve.  It returns NaN if it has not converged in the cap.
- Gradients are implicit: the final free set is a constant and the solve has a ``custom_jvp``
  from its KKT conditions, ds_F = A_FF⁻¹(dD_F − dA_FF s_F), ds = 0 on the active set (reverse
  mode transposes it).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numba
import numpy as np
from jax import lax
from jax.custom_batching import sequential_vmap
from jax.scipy.linalg import cho_factor, cho_solve

from autokern._cpu import nnls as cpu_nnls
from autokern._runtime import parallelism
from autokern._shared import nnls as _nnls
from autokern._shared.nnls import KKT_TOLERANCE_FACTOR
from autokern.jax import linalg

Array = Any  # a jax.Array (or anything jnp.asarray takes)



def _masked_system(curvature_reg_matrix: Array, free: Array) -> Array:
    """F + H on the free set (float mask (S,)), the identity on the rest (S, S)."""
    return curvature_reg_matrix * (free[:, None] * free[None, :]) + jnp.diag(1.0 - free)


def _free_set_tangent(curvature_reg_matrix: Array, free: Array, solution: Array,
                      d_data_vector: Array, d_curvature_reg_matrix: Array) -> Array:
    """ds = A_FF⁻¹(dD_F − dA_FF s_F) on the free set (float mask (S,)), 0 elsewhere: the KKT
    derivative.  Matrix products with A_FF⁻¹ only: no LAPACK call to batch under vmap (see
    linalg)."""
    rhs = free * (d_data_vector - d_curvature_reg_matrix @ solution)
    return free * (linalg.inverse(_masked_system(curvature_reg_matrix, free)) @ rhs)


@jax.custom_jvp
def _free_set_solution(data_vector: Array, curvature_reg_matrix: Array, free: Array) -> Array:
    """s (S,) with A_FF s_F = D_F and s = 0 off the free set (float mask (S,), not
    differentiated)."""
    masked = _masked_system(curvature_reg_matrix, free)
    return free * linalg.solve_log_det(masked, free * data_vector)[0]


@_free_set_solution.defjvp
def _free_set_solution_jvp(primals, tangents):
    data_vector, curvature_reg_matrix, free = primals
    d_data_vector, d_curvature_reg_matrix, _ = tangents
    solution = _free_set_solution(data_vector, curvature_reg_matrix, free)
    return solution, _free_set_tangent(curvature_reg_matrix, free, solution, d_data_vector,
                                       d_curvature_reg_matrix)


def _active_set(data_vector: Array, curvature_reg_matrix: Array, zeroed: Array,
                start: Array) -> tuple[Array, Array]:
    """(free (S,) bool, converged) of the non-negative solve by block principal pivoting from
    the free set ``start`` (S,) bool."""
    pixels = data_vector.shape[0]
    kept = ~zeroed
    row_scales = jnp.max(jnp.abs(curvature_reg_matrix), axis=1)
    scale = KKT_TOLERANCE_FACTOR * jnp.finfo(jnp.float64).eps * pixels
    positions = jnp.arange(pixels)
    cap = _nnls.max_iterations(pixels)  # a Python int, read when tracing

    def infeasible(free):
        mask = free.astype(curvature_reg_matrix.dtype)
        factor = cho_factor(_masked_system(curvature_reg_matrix, mask), lower=True)
        solution = mask * cho_solve(factor, mask * data_vector)
        gradient = curvature_reg_matrix @ solution - data_vector
        tolerance = scale * (jnp.abs(data_vector) + row_scales * jnp.max(solution, initial=0.0))
        return kept & ((free & (solution < 0.0)) | (~free & (gradient < -tolerance)))

    def cond(state):
        _, _, _, iteration, done = state
        return ~done & (iteration < cap)

    def body(state):
        free, fewest, backup, iteration, _ = state
        bad = infeasible(free)
        count = jnp.sum(bad)
        progress = count < fewest
        exchange_all = progress | (backup >= 1)
        largest = pixels - 1 - jnp.argmax(bad[::-1])
        flip = jnp.where(exchange_all, bad, bad & (positions == largest))
        fewest = jnp.where(progress, count, fewest)
        backup = jnp.where(progress, _nnls.BACKUP_EXCHANGES,
                           backup - exchange_all.astype(backup.dtype))
        return free ^ flip, fewest, backup, iteration + 1, count == 0

    state = (kept & start, jnp.asarray(pixels + 1), jnp.asarray(_nnls.BACKUP_EXCHANGES),
             jnp.asarray(0), jnp.asarray(False))
    free, _, _, _, converged = lax.while_loop(cond, body, state)
    return free, converged


def _xla_search(data_vector: Array, curvature_reg_matrix: Array, zeroed: Array,
                start: Array) -> tuple[Array, Array, Array]:
    """(s, free (S,) bool, converged) by XLA: the pivoting in a while loop, then the free-set
    solve (a device's own Cholesky)."""
    free, converged = _active_set(data_vector, curvature_reg_matrix, zeroed, start)
    mask = free.astype(curvature_reg_matrix.dtype)
    masked = _masked_system(curvature_reg_matrix, mask)
    return mask * linalg.solve_log_det(masked, mask * data_vector)[0], free, converged


def _host_search(data_vector, curvature_reg_matrix, zeroed, start):
    """The CPU's host callback: the CPU engine's block principal pivoting (then fnnls) on
    XLA's buffers, A read in place, its factorisations on Numba's threads (at autokern's count)
    with BLAS on one thread; (s, free, converged), s = NaN if not converged."""
    kept = ~np.asarray(zeroed, dtype=bool)
    with parallelism.numba_threads_here(), parallelism.one_blas_thread():
        solution, free, status = cpu_nnls.solve(
            np.asarray(data_vector, dtype=np.float64),
            np.asarray(curvature_reg_matrix, dtype=np.float64), kept,
            np.asarray(start, dtype=bool), cpu_nnls.PIVOTING_ITERATIONS,
            numba.get_num_threads())
    return solution, free, np.asarray(status == cpu_nnls.OK)


def _cpu_search(data_vector: Array, curvature_reg_matrix: Array, zeroed: Array,
                start: Array) -> tuple[Array, Array, Array]:
    pixels = data_vector.shape[0]
    shapes = (jax.ShapeDtypeStruct((pixels,), data_vector.dtype),
              jax.ShapeDtypeStruct((pixels,), jnp.bool_), jax.ShapeDtypeStruct((), jnp.bool_))
    return jax.pure_callback(_host_search, shapes, data_vector, curvature_reg_matrix, zeroed,
                             start, vmap_method="sequential")


@sequential_vmap  # a loop of unbatched solves under vmap: each member its own start
def _search(data_vector: Array, curvature_reg_matrix: Array, zeroed: Array,
            start: Array) -> tuple[Array, Array, Array]:
    """(s, the final free set (S,) bool, converged) of the non-negative solve from the free set
    ``start``: on the CPU the Numba engine in a host callback (one factorisation of the free
    block per few pixels exchanged, up/down-dates otherwise; XLA's loop took 3–20× longer), on
    other devices XLA's while loop."""
    return lax.platform_dependent(data_vector, curvature_reg_matrix, zeroed, start,
                                  cpu=_cpu_search, default=_xla_search)


@jax.custom_jvp
def _positive_only_core(data_vector: Array, curvature_reg_matrix: Array, zeroed: Array,
                        start: Array) -> Array:
    solution, _, converged = _search(data_vector, curvature_reg_matrix, zeroed, start)
    return jnp.where(converged, solution, jnp.nan)


@_positive_only_core.defjvp
def _positive_only_core_jvp(primals, tangents):
    # the active set is a constant: the derivative of the free-set solve (implicit KKT)
    data_vector, curvature_reg_matrix, zeroed, start = primals
    d_data_vector, d_curvature_reg_matrix, _, _ = tangents
    solution, free, converged = _search(data_vector, curvature_reg_matrix, zeroed, start)
    tangent = _free_set_tangent(curvature_reg_matrix, free.astype(curvature_reg_matrix.dtype),
                                solution, d_data_vector, d_curvature_reg_matrix)
    return (jnp.where(converged, solution, jnp.nan), jnp.where(converged, tangent, jnp.nan))


def _positive_only(data_vector: Array, curvature_reg_matrix: Array, zeroed: Array,
                   start: Array) -> Array:
    return _positive_only_core(data_vector, curvature_reg_matrix, zeroed, start)


_positive_only_jit = jax.jit(_positive_only)


def _zeroed_mask(zeroed_pixels: Array | None, pixels: int) -> Array:
    if zeroed_pixels is None:
        return jnp.zeros(pixels, dtype=bool)
    zeroed_pixels = jnp.asarray(zeroed_pixels)
    if zeroed_pixels.dtype == jnp.bool_:
        return zeroed_pixels
    return jnp.zeros(pixels, dtype=bool).at[zeroed_pixels].set(True)


def _start(warm_start: _nnls.PositiveOnlyState | None, pixels: int) -> Array:
    """The (S,) bool free set the search starts from: the warm start's, or every pixel (cold,
    also for a state of another S)."""
    start = _nnls.warm_free_set(warm_start, pixels, jnp)
    return jnp.ones(pixels, dtype=bool) if start is None else start


def reconstruction_positive_only_from(data_vector: Array, curvature_reg_matrix: Array,
                                      zeroed_pixels: Array | None = None, *,
                                      warm_start: _nnls.PositiveOnlyState | None = None,
                                      return_state: bool = False) -> Array:
    """s (S,) ≥ 0 minimising ½ sᵀAs − sᵀD over the kept pixels; D (S,), A = F + H (S, S) SPD,
    ``zeroed_pixels`` (Z,) int indexes, an (S,) bool mask or None (exactly 0 in s).  When the
    active-set iteration hits its cap (or A is not positive definite) the result is NaN under
    tracing and, on concrete arrays, the CPU backends' error.  Differentiable (implicit KKT
    derivative), vmappable.  ``warm_start``: the search's start (see
    :class:`autokern._shared.nnls.PositiveOnlyState`); with ``return_state``, (s, its state)."""
    data_vector = jnp.asarray(data_vector)
    pixels = data_vector.shape[0]
    solution = _positive_only_jit(data_vector, jnp.asarray(curvature_reg_matrix),
                                  _zeroed_mask(zeroed_pixels, pixels),
                                  _start(warm_start, pixels))
    if not isinstance(solution, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(solution))):
        raise _nnls.not_converged(_nnls.max_iterations(data_vector.shape[0]),
                                  data_vector.shape[0])
    return (solution, _nnls.state_of(solution)) if return_state else solution
