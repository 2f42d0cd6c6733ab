"""The log evidence from its terms, written once over a backend's array namespace.

:class:`ArrayOps` is what the shared maths needs of a backend: its array module (NumPy or
``jax.numpy``), two symmetric positive definite primitives built on one Cholesky factorisation
each — a solve with its log determinant, and a log determinant with its smallest pivot — that
return NaN instead of raising (so that JAX programs and NumPy calls fail the same way, checked
once by the caller), and a compiler (``jax.jit`` on JAX; on NumPy, the function run with BLAS on
one thread, so that it does not fight Numba's threads for the cores).  One
factorisation of F + H gives both the solve and log det(F + H).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg

from autokern._runtime import parallelism


@dataclass(frozen=True, eq=False)
class ArrayOps:
    """A backend's array namespace for the shared maths."""

    name: str
    xp: Any
    #: (x, log det A) with A x = b for a symmetric positive definite A, by one Cholesky
    #: factorisation; NaN where A is not positive definite
    solve_log_det: Callable[[Any, Any], tuple[Any, Any]]
    #: solve_log_det on a matrix the caller hands over (a temporary it will not read again),
    #: which may be factorised in its own memory; None: solve_log_det
    solve_log_det_in_place: Callable[[Any, Any], tuple[Any, Any]] | None
    #: (log det A, the smallest squared Cholesky pivot of A over its largest diagonal entry)
    log_det_pivots: Callable[[Any], tuple[Any, Any]]
    #: fn → a compiled fn with the same arguments (NumPy: run on one BLAS thread; JAX: jax.jit)
    compile: Callable[[Callable], Callable]
    #: whether a value is abstract (a JAX tracer): values can be checked only when it is not
    is_traced: Callable[[Any], bool]
    #: the backend's own implementations of functions of this module (keyed by the function;
    #: the same arguments without ``ops``), used by :meth:`compiled` instead of the shared one
    own: Mapping[Callable, Callable] = field(default_factory=dict)
    _compiled: dict = field(default_factory=dict, repr=False)

    def compiled(self, fn: Callable) -> Callable:
        """``fn(self, ...)`` with the namespace bound, compiled once per function (or the
        backend's own implementation of ``fn``)."""
        if fn not in self._compiled:
            self._compiled[fn] = self.own.get(fn) or self.compile(lambda *args: fn(self, *args))
        return self._compiled[fn]


def log_det_of_factor(xp: Any, factor: Any) -> Any:
    """log det(L Lᵀ) from a lower factor L."""
    return 2.0 * xp.sum(xp.log(xp.diagonal(factor)))


def log_det_and_pivots(xp: Any, factor: Any) -> tuple[Any, Any]:
    """(log det, smallest squared pivot / largest diagonal of L Lᵀ) from a lower factor L."""
    pivots = xp.diagonal(factor) ** 2
    return (xp.sum(xp.log(pivots)),
            xp.min(pivots) / xp.max(xp.sum(factor * factor, axis=1)))


def _lower_factor(matrix: np.ndarray, clean: bool, in_place: bool = False) -> np.ndarray:
    """L with L Lᵀ = ``matrix`` (F-ordered; its strict upper triangle left as it was unless
    ``clean``), by LAPACK's potrf — in the matrix's own memory when ``in_place`` (a C-ordered
    one: its transpose is the same symmetric matrix in Fortran order), else on a copy; NaN
    where the matrix is not positive definite.  SciPy's ``cholesky`` would copy a C-ordered
    array into Fortran order and clean the other triangle: 38 → 33 ms at S = 1 500, one
    thread; OpenBLAS's lower factorisation is ~10 % faster than its upper one there (28 against
    31 ms)."""
    owned = matrix if in_place else np.array(matrix, dtype=np.float64, order="C")
    factor, info = scipy.linalg.lapack.dpotrf(owned.T, lower=1, overwrite_a=1, clean=int(clean))
    if info != 0:
        factor.fill(np.nan)
    return factor


def solution_and_log_det(factor: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, float]:
    """(x, log det A) with A x = ``rhs`` from A's lower factor L (F-ordered, as LAPACK's potrf
    leaves it; NaN where the factorisation failed)."""
    solution, _ = scipy.linalg.lapack.dpotrs(factor, rhs, lower=1)
    return solution, log_det_of_factor(np, factor)


def _numpy_solve_log_det(matrix: np.ndarray, rhs: np.ndarray,
                         in_place: bool = False) -> tuple[np.ndarray, float]:
    return solution_and_log_det(_lower_factor(matrix, clean=False, in_place=in_place), rhs)


def _numpy_solve_log_det_in_place(matrix: np.ndarray,
                                  rhs: np.ndarray) -> tuple[np.ndarray, float]:
    return _numpy_solve_log_det(matrix, rhs, in_place=True)


#: below this fraction of non-zero entries, log det goes through a sparse factorisation
SPARSE_LOG_DET_DENSITY = 0.05


def _sparse_log_det_pivots(matrix: np.ndarray, flat_nonzero: np.ndarray) -> tuple[float, float]:
    """(log det, smallest pivot / largest diagonal entry) of a sparse symmetric positive definite
    matrix by SuperLU with a symmetric fill-reducing order and diagonal pivots (so its pivots
    are those of the LDLᵀ, i.e. the squared Cholesky pivots); NaN if one is not positive.
    ``flat_nonzero`` are the flat indexes of its non-zero entries (row-major)."""
    import scipy.sparse
    import scipy.sparse.linalg

    # CSR straight from the row-major non-zeros: SciPy's dense → CSC conversion took 3× longer
    n = matrix.shape[0]
    rows, cols = np.divmod(flat_nonzero, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    sparse = scipy.sparse.csr_matrix((matrix.ravel()[flat_nonzero], cols, indptr), shape=(n, n))
    try:
        factor = scipy.sparse.linalg.splu(
            sparse.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
            options={"SymmetricMode": True})
    except RuntimeError:  # an exactly singular pivot
        return np.nan, np.nan
    pivots = factor.U.diagonal()
    if not np.all(pivots > 0.0):
        return np.nan, np.nan
    return float(np.sum(np.log(pivots))), float(pivots.min() / np.max(np.diagonal(matrix)))


def _numpy_log_det_pivots(matrix: np.ndarray,
                          flat_nonzero: np.ndarray | None = None) -> tuple[float, float]:
    # H is sparse in practice (a few neighbours per pixel): a sparse factorisation is ~10×
    # cheaper than the dense Cholesky at S = 1 500 and gives the same log det to ~1e-12.
    # (flatnonzero of the boolean mask: 0.8 ms at S = 1 500, of the float matrix 6 ms)
    if flat_nonzero is None:
        flat_nonzero = np.flatnonzero(matrix != 0.0)
    if flat_nonzero.size <= SPARSE_LOG_DET_DENSITY * matrix.size:
        return _sparse_log_det_pivots(matrix, flat_nonzero)
    return log_det_and_pivots(np, _lower_factor(matrix, clean=True))


def on_one_blas_thread(fn: Callable) -> Callable:
    """``fn`` run with BLAS/LAPACK on one thread (threadpoolctl, ~15 µs a call).

    The dense S × S algebra of the evidence follows Numba's parallel curvature core: with BLAS
    threaded too, both pools spin on the same cores and each slows the other (measured at
    alma35 on two cores: F 60 → ~110 ms, a 1 500 × 1 500 matrix-vector product 0.4 → 8 ms);
    on one BLAS thread the Cholesky costs what it costs and F keeps both cores.
    """
    def on_one_thread(*args: Any) -> Any:
        with parallelism.one_blas_thread():
            return fn(*args)

    return on_one_thread


#: NumPy/SciPy: the reference and the Numba backend
NUMPY_OPS = ArrayOps("numpy", np, _numpy_solve_log_det, _numpy_solve_log_det_in_place,
                     _numpy_log_det_pivots,
                     on_one_blas_thread, lambda value: False)


def data_term(ops: ArrayOps, data: Any, noise_map: Any) -> Any:
    """Σ_k (Re V_k / Re σ_k)² + (Im V_k / Im σ_k)²."""
    return ops.xp.sum((data.real / noise_map.real) ** 2 + (data.imag / noise_map.imag) ** 2)


def noise_normalization(ops: ArrayOps, noise_map: Any) -> Any:
    """Σ_k log(2π (Re σ_k)²) + log(2π (Im σ_k)²)."""
    xp = ops.xp
    return xp.sum(xp.log(2.0 * xp.pi * noise_map.real**2)
                  + xp.log(2.0 * xp.pi * noise_map.imag**2))


def reconstruction(ops: ArrayOps, data_vector: Any, curvature_reg_matrix: Any) -> Any:
    """s = (F + H)⁻¹ D (NaN where F + H is not positive definite)."""
    return ops.solve_log_det(curvature_reg_matrix, data_vector)[0]


def evidence_terms(ops: ArrayOps, curvature: Any, regularization: Any, data_vector: Any,
                   data_chi_squared: Any, noise_normalization_term: Any, solution: Any = None,
                   log_det_regularization: Any = None) -> tuple[Any, ...]:
    """(log L, s, χ², sᵀHs, log det(F + H), log det H) from F, H, D, Σ (V/σ)² and
    the noise normalization, for the reconstruction ``solution`` (a positive-only one, say) or,
    when None, the linear solve; ``log_det_regularization`` is log det H when the caller has it
    already (a fixed H), else it is computed.

    log L is NaN when F + H or H is not positive definite — also when H is only so on paper: a
    pivot of its Cholesky factor below S·ε of its largest diagonal entry means its 1e-8 floor was
    lost to rounding (e.g. λ = 1e12), where log det H would be noise and LAPACK's verdict (a
    failed or a tiny pivot) would differ from one library to the next.
    """
    solve_in_place = ops.solve_log_det_in_place or ops.solve_log_det
    linear, log_det_curvature_reg = solve_in_place(curvature + regularization, data_vector)
    if solution is None:
        solution = linear
    return terms_at(ops, solution, solution, curvature, regularization, data_vector,
                    data_chi_squared, log_det_curvature_reg, log_det_regularization,
                    noise_normalization_term)


def terms_at(ops: ArrayOps, solution: Any, source: Any, curvature: Any, regularization: Any,
             data_vector: Any, data_chi_squared: Any, log_det_curvature_reg: Any,
             log_det_regularization: Any, noise_normalization_term: Any) -> tuple[Any, ...]:
    """:func:`evidence_terms` at ``solution``: χ² = xᵀFx − 2xᵀD + Σ (V/σ)² over every parameter,
    sᵀHs over the ``source`` part of it, log det H (computed when ``log_det_regularization`` is
    None) and the assembled tuple."""
    chi_squared = (solution @ curvature @ solution - 2.0 * solution @ data_vector
                   + data_chi_squared)
    regularization_term = source @ regularization @ source
    pivot_ratio = None
    if log_det_regularization is None:
        log_det_regularization, pivot_ratio = ops.log_det_pivots(regularization)
    return assembled_terms(ops.xp, solution, chi_squared, regularization_term,
                           log_det_curvature_reg, log_det_regularization, pivot_ratio,
                           noise_normalization_term)


def assembled_terms(xp: Any, solution: Any, chi_squared: Any, regularization_term: Any,
                    log_det_curvature_reg: Any, log_det_regularization: Any, pivot_ratio: Any,
                    noise_normalization_term: Any) -> tuple[Any, ...]:
    """The tuple of :func:`evidence_terms` from its parts: log L, NaN where H's factor lost
    its floor (``pivot_ratio`` ≤ S·ε; None when log det H was given, not computed)."""
    lost = False if pivot_ratio is None else \
        pivot_ratio <= solution.shape[0] * np.finfo(np.float64).eps
    log_evidence = -0.5 * (chi_squared + regularization_term + log_det_curvature_reg
                           - log_det_regularization + noise_normalization_term)
    return (xp.where(lost, xp.nan, log_evidence), solution, chi_squared, regularization_term,
            log_det_curvature_reg, log_det_regularization)


def evidence_terms_consuming(ops: ArrayOps, curvature: Any, regularization: Any,
                             data_vector: Any, data_chi_squared: Any,
                             noise_normalization_term: Any, solution: Any = None,
                             log_det_regularization: Any = None) -> tuple[Any, ...]:
    """:func:`evidence_terms` of a ``curvature`` the caller hands over (a temporary it will
    not read again): a backend may overwrite it (the Numba backend factorises F + H in F's own
    memory).  The shared maths does not."""
    return evidence_terms(ops, curvature, regularization, data_vector, data_chi_squared,
                          noise_normalization_term, solution, log_det_regularization)


def log_evidence_from_terms(ops: ArrayOps, curvature: Any, regularization: Any,
                            data_vector: Any, data_chi_squared: Any,
                            noise_normalization_term: Any, solution: Any = None) -> Any:
    """log L (the first of :func:`evidence_terms`)."""
    return evidence_terms(ops, curvature, regularization, data_vector, data_chi_squared,
                          noise_normalization_term, solution)[0]
