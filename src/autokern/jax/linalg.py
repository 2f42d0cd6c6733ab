"""The JAX backend's dense symmetric positive definite algebra, safe under ``jax.vmap``.

jaxlib's CPU LAPACK kernels (Cholesky, triangular solves) split a *batched* call over XLA's
intra-op thread pool and wait for the pieces from inside that pool (``ParallelBatchMap``); when
every pool thread is such a waiter, none is left to run the pieces and the process hangs for
good.  vmapped likelihoods create exactly such batched calls, and on a 2-core machine hung
about five runs in six.  So no LAPACK call here is ever batched: the factorisations are
:func:`jax.custom_batching.sequential_vmap` cores (under ``vmap`` a loop of unbatched calls),
and their derivatives are :func:`jax.custom_jvp` rules that use A⁻¹ — computed by the same
sequential cores — through matrix products only, so ``grad`` (and ``vmap`` of ``grad``) adds
no LAPACK call of its own.  A matrix that is not positive definite gives NaN (XLA does not
raise); the shared maths checks the result once, where it is concrete.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import sequential_vmap
from jax.scipy.linalg import cho_solve

from autokern._cpu import cholesky
from autokern._runtime import parallelism
from autokern._shared.evidence import (
    NUMPY_OPS,
    ArrayOps,
    log_det_and_pivots,
    log_det_of_factor,
    on_one_blas_thread,
)
from autokern._shared.inversion import Inversion


def _dense_solve_log_det(matrix, rhs):
    factor = jnp.linalg.cholesky(matrix)
    return cho_solve((factor, True), rhs), log_det_of_factor(jnp, factor)


def _host_solve_log_det(matrix, rhs):
    """The CPU's host callback for F + H: the CPU engine's blocked Cholesky on Numba's
    threads (at autokern's count: this runs on one of XLA's threads) with BLAS on one thread,
    on a C-ordered copy of XLA's buffer."""
    owned = np.array(matrix, dtype=np.float64, order="C")
    with parallelism.numba_threads_here(), parallelism.one_blas_thread():
        return cholesky.solve_log_det_in_place(owned, np.asarray(rhs, dtype=np.float64))


#: the NumPy backends' log det with its pivots (sparse H: SuperLU), on one BLAS thread
_host_log_det_pivots = on_one_blas_thread(NUMPY_OPS.log_det_pivots)


def _cpu_solve_log_det(matrix, rhs):
    return jax.pure_callback(_host_solve_log_det, (jax.ShapeDtypeStruct(rhs.shape, rhs.dtype),
                                                   jax.ShapeDtypeStruct((), matrix.dtype)),
                             matrix, rhs)


@sequential_vmap
def _solve_log_det(matrix, rhs):
    # On the CPU by the Numba backend's Cholesky (a host callback): XLA's own LAPACK ran on the
    # caller's BLAS setting inside XLA's pool, where two BLAS threads fought XLA's (a jitted
    # likelihood on two cores was slower than on one); elsewhere the device's Cholesky.
    return jax.lax.platform_dependent(matrix, rhs, cpu=_cpu_solve_log_det,
                                      default=_dense_solve_log_det)


def _cpu_log_det_pivots(matrix):
    scalar = jax.ShapeDtypeStruct((), matrix.dtype)
    return jax.pure_callback(_host_log_det_pivots, (scalar, scalar), matrix)


def _dense_log_det_pivots(matrix):
    return log_det_and_pivots(jnp, jnp.linalg.cholesky(matrix))


@sequential_vmap
def _log_det_pivots(matrix):
    # H is sparse in practice (a few neighbours per pixel): on the CPU its log det is the NumPy
    # backends' (SuperLU on its non-zeros, ~10× cheaper than a dense Cholesky at S = 1 500);
    # on other devices the dense Cholesky.
    return jax.lax.platform_dependent(matrix, cpu=_cpu_log_det_pivots,
                                      default=_dense_log_det_pivots)


@sequential_vmap
def _inverse(matrix):
    factor = jnp.linalg.cholesky(matrix)
    return cho_solve((factor, True), jnp.eye(matrix.shape[0], dtype=matrix.dtype))


def inverse(matrix):
    """A⁻¹ of a symmetric positive definite A (no batched LAPACK under vmap)."""
    return _inverse(matrix)


@jax.custom_jvp
def solve_log_det(matrix, rhs):
    """(A⁻¹ b, log det A) for a symmetric positive definite A, one Cholesky factorisation."""
    return _solve_log_det(matrix, rhs)


@solve_log_det.defjvp
def _solve_log_det_jvp(primals, tangents):
    matrix, rhs = primals
    d_matrix, d_rhs = tangents
    solution, log_det = _solve_log_det(matrix, rhs)
    inverse_matrix = _inverse(matrix)
    return ((solution, log_det),
            (inverse_matrix @ (d_rhs - d_matrix @ solution), jnp.sum(inverse_matrix * d_matrix)))


@jax.custom_jvp
def log_det_pivots(matrix):
    """(log det A, smallest squared pivot / largest diagonal) of a symmetric positive definite
    A; the second is a diagnostic, not differentiated."""
    return _log_det_pivots(matrix)


@log_det_pivots.defjvp
def _log_det_pivots_jvp(primals, tangents):
    (matrix,), (d_matrix,) = primals, tangents
    log_det, pivot_ratio = _log_det_pivots(matrix)
    return (log_det, pivot_ratio), (jnp.sum(_inverse(matrix) * d_matrix),
                                    jnp.zeros_like(pivot_ratio))


def _is_traced(value) -> bool:
    return isinstance(value, jax.core.Tracer)


def _on_cpu(leaves: list) -> bool:
    """Whether a call on ``leaves`` runs on the CPU (its arrays', else JAX's default device)."""
    for leaf in leaves:
        if isinstance(leaf, jax.Array):
            return all(device.platform == "cpu" for device in leaf.devices())
    return jax.default_backend() == "cpu"


def compile_shared(fn):
    """``jax.jit(fn)``; a concrete call on the CPU runs with BLAS/LAPACK on one thread and waits
    for its result.  jaxlib's CPU LAPACK is SciPy's OpenBLAS, and on two BLAS threads inside
    XLA's pool the dense algebra fights XLA's own threads.
    Under a caller's own ``jit`` or ``vmap`` the call is traced: the factorisations of F + H
    and H are host callbacks that limit BLAS themselves (:func:`solve_log_det`,
    :func:`log_det_pivots`); only ``grad``'s A⁻¹ runs on the caller's BLAS setting."""
    jitted = jax.jit(fn)
    waited = on_one_blas_thread(lambda *args: jax.block_until_ready(jitted(*args)))

    def run(*args):
        leaves = jax.tree_util.tree_leaves(args)
        if any(_is_traced(leaf) for leaf in leaves) or not _on_cpu(leaves):
            return jitted(*args)
        return waited(*args)

    return run


OPS = ArrayOps("jax", jnp, solve_log_det, None, log_det_pivots, compile_shared, _is_traced)

# The shared maths' per-dataset state as a pytree (its arrays are leaves, its labels static), so
# that jit, vmap and grad take it as an argument (InversionResult is a NamedTuple: a pytree
# already).
jax.tree_util.register_pytree_node(
    Inversion,
    lambda inv: (tuple(getattr(inv, k) for k in Inversion.ARRAYS),
                 tuple(getattr(inv, k) for k in Inversion.STATIC)),
    lambda static, arrays: Inversion(**dict(zip(Inversion.ARRAYS, arrays, strict=True)),
                                     **dict(zip(Inversion.STATIC, static, strict=True))),
)

__all__ = ["OPS", "compile_shared", "inverse", "log_det_pivots", "solve_log_det"]
