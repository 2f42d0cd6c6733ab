"""The positive-only (non-negative) solve (JAX, float64).

Static shapes throughout, so every function runs under ``jax.jit`` and ``jax.vmap``:

- ``zeroed_pixels`` becomes a boolean mask (S,): pass int indexes (Z,) (concrete or traced), a
  boolean mask (S,) directly, or None.  The kept problem is solved with the zeroed (and the
  pinned) rows and columns of F + H replaced by the identity, which is the deleted problem.
- The active set is found by block principal pivoting (Júdice & Pires; Kim & Park's backup rule:
  exchange every infeasible variable while their count falls, at most three times more
  otherwise, then only the largest-index one — Murty's rule, finite for SPD F + H) inside
  ``lax.while_loop``, one masked Cholesky per iteration, starting from the warm start's free set
  (``warm_start``, a :class:`autokern._nnls.PositiveOnlyState` pytree: under ``vmap`` each batch
  member its own) or, cold, from the unconstrained solution.  It returns NaN if it has not
  converged in the iteration cap.
- Gradients are implicit: the loop's active set is a constant (``stop_gradient``) and the final
  free-set solve has a ``custom_jvp`` from its KKT conditions, ds_F = A_FF⁻¹(dD_F − dA_FF s_F),
  ds = 0 on the active set (reverse mode transposes it), reusing the solve's factor.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_batching import sequential_vmap
from jax.scipy.linalg import cho_factor, cho_solve

from autokern import _nnls
from autokern._nnls import KKT_TOLERANCE_FACTOR
from autokern.jax import linalg

Array = Any  # a jax.Array (or anything jnp.asarray takes)



def _masked_system(curvature_reg_matrix: Array, free: Array) -> Array:
    """F + H on the free set (float mask (S,)), the identity on the rest (S, S)."""
    return curvature_reg_matrix * (free[:, None] * free[None, :]) + jnp.diag(1.0 - free)


@jax.custom_jvp
def _free_set_solution(data_vector: Array, curvature_reg_matrix: Array, free: Array) -> Array:
    """s (S,) with A_FF s_F = D_F and s = 0 off the free set (float mask (S,), not
    differentiated)."""
    masked = _masked_system(curvature_reg_matrix, free)
    return free * linalg.solve_log_det(masked, free * data_vector)[0]


@_free_set_solution.defjvp
def _free_set_solution_jvp(primals, tangents):
    # matrix products with A_FF⁻¹ only: no LAPACK call to batch under vmap (see linalg)
    data_vector, curvature_reg_matrix, free = primals
    d_data_vector, d_curvature_reg_matrix, _ = tangents
    masked = _masked_system(curvature_reg_matrix, free)
    solution = free * linalg.solve_log_det(masked, free * data_vector)[0]
    rhs = free * (d_data_vector - d_curvature_reg_matrix @ solution)
    return solution, free * (linalg.inverse(masked) @ rhs)


@sequential_vmap  # a loop of unbatched solves under vmap: no batched LAPACK (see linalg)
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


def _positive_only(data_vector: Array, curvature_reg_matrix: Array, zeroed: Array,
                   start: Array) -> Array:
    free, converged = _active_set(lax.stop_gradient(data_vector),
                                  lax.stop_gradient(curvature_reg_matrix), zeroed, start)
    solution = _free_set_solution(data_vector, curvature_reg_matrix,
                                  free.astype(curvature_reg_matrix.dtype))
    return jnp.where(converged, solution, jnp.nan)


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
    :class:`autokern._nnls.PositiveOnlyState`); with ``return_state``, (s, its state)."""
    data_vector = jnp.asarray(data_vector)
    pixels = data_vector.shape[0]
    solution = _positive_only_jit(data_vector, jnp.asarray(curvature_reg_matrix),
                                  _zeroed_mask(zeroed_pixels, pixels),
                                  _start(warm_start, pixels))
    if not isinstance(solution, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(solution))):
        raise _nnls.not_converged(_nnls.max_iterations(data_vector.shape[0]),
                                  data_vector.shape[0])
    return (solution, _nnls.state_of(solution)) if return_state else solution
