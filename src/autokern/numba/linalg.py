"""The array namespace of the Numba backend's shared maths: NumPy and SciPy, with its own sums
over the visibilities — one parallel pass each where NumPy makes five to seven (at K = 5·10⁶ on
two cores: ~60 → ~10 ms for the pair) — and its own Cholesky factorisation of F + H: SciPy's
BLAS blocks driven from Numba's threads (see :func:`cholesky_lower_in_place`)."""

import dataclasses

import numba
import numpy as np

from autokern._cpu.cholesky import CHOLESKY_BLOCK as CHOLESKY_BLOCK
from autokern._cpu.cholesky import cholesky_lower_in_place as cholesky_lower_in_place
from autokern._cpu.cholesky import solve_log_det_in_place
from autokern._shared import evidence

#: visibilities summed in order within a block; the block sums are added pairwise (NumPy), so
#: the rounding error grows like the block, not like K
_BLOCK = 4096


@numba.njit(parallel=True, cache=True, nogil=True)
def _data_term_blocks(data, noise_map, out):
    for block in numba.prange(out.shape[0]):
        total = 0.0
        for k in range(block * _BLOCK, min((block + 1) * _BLOCK, data.shape[0])):
            total += (data[k].real / noise_map[k].real) ** 2 + \
                (data[k].imag / noise_map[k].imag) ** 2
        out[block] = total


@numba.njit(parallel=True, cache=True, nogil=True)
def _noise_normalization_blocks(noise_map, out):
    # log(2π σr²) + log(2π σi²) = 2 log 2π + 2 log|σr σi|: one logarithm per visibility
    # (Numba's is scalar, NumPy's vectorised)
    for block in numba.prange(out.shape[0]):
        total = 0.0
        stop = min((block + 1) * _BLOCK, noise_map.shape[0])
        for k in range(block * _BLOCK, stop):
            total += np.log(np.abs(noise_map[k].real * noise_map[k].imag))
        out[block] = 2.0 * total + 2.0 * np.log(2.0 * np.pi) * (stop - block * _BLOCK)


def _blocks(n: int) -> np.ndarray:
    return np.empty(-(-n // _BLOCK))


def data_term(data: np.ndarray, noise_map: np.ndarray) -> float:
    """Σ_k (Re V_k / Re σ_k)² + (Im V_k / Im σ_k)² (:func:`autokern._shared.evidence.data_term`)."""
    blocks = _blocks(data.shape[0])
    _data_term_blocks(data, noise_map, blocks)
    return float(np.sum(blocks))


def noise_normalization(noise_map: np.ndarray) -> float:
    """Σ_k log(2π (Re σ_k)²) + log(2π (Im σ_k)²)
    (:func:`autokern._shared.evidence.noise_normalization`)."""
    blocks = _blocks(noise_map.shape[0])
    _noise_normalization_blocks(noise_map, blocks)
    return float(np.sum(blocks))


@numba.njit(cache=True, nogil=True, fastmath={"contract", "reassoc"})
def _lower_quadratic(matrix, diagonal, vector):
    """vᵀ A v for the symmetric A with ``matrix``'s strict lower triangle and the diagonal
    ``diagonal`` (``matrix``'s upper triangle and diagonal are not read)."""
    total = 0.0
    for i in range(vector.shape[0]):
        row = matrix[i, :i]
        partial = 0.0
        for k in range(i):  # from 0: LLVM vectorises it
            partial += row[k] * vector[k]
        total += vector[i] * (diagonal[i] * vector[i] + 2.0 * partial)
    return total


def evidence_terms_consuming(curvature: np.ndarray, regularization: np.ndarray,
                             data_vector: np.ndarray, data_chi_squared: float,
                             noise_normalization_term: float, solution: np.ndarray | None = None,
                             log_det_regularization: float | None = None) -> tuple:
    """:func:`autokern._shared.evidence.evidence_terms` with F + H made and factorised in F's memory
    (``curvature``, C-ordered, is overwritten): no second S × S array, whose fresh pages cost
    ~5 ms a call at S = 1 500.  H is added through its non-zeros (found once, also for sᵀHs
    and log det H); LAPACK's factor fills the upper triangle (row-major), and sᵀ(F + H)s is
    read from the lower with the diagonal kept aside, so
    χ² = sᵀ(F + H)s − sᵀHs − 2 sᵀD + Σ (V/σ)²."""
    pixels = curvature.shape[0]
    if not curvature.flags.c_contiguous:  # a route's F-ordered or strided result
        curvature = np.ascontiguousarray(curvature)
    nonzero = np.flatnonzero(regularization != 0.0)
    flat = curvature.reshape(-1)  # a view: the matrix is C-contiguous
    sparse = nonzero.size <= evidence.SPARSE_LOG_DET_DENSITY * regularization.size
    if sparse:
        values = regularization.reshape(-1)[nonzero]
        flat[nonzero] += values
    else:
        np.add(curvature, regularization, out=curvature)
    diagonal = np.diagonal(curvature).copy()
    linear, log_det_curvature_reg = solve_log_det_in_place(curvature, data_vector)
    if solution is None:
        solution = linear
    if sparse:
        rows, cols = np.divmod(nonzero, pixels)
        regularization_term = float(np.dot(solution[rows] * values, solution[cols]))
    else:
        regularization_term = float(solution @ regularization @ solution)
    chi_squared = (_lower_quadratic(curvature, diagonal, solution) - regularization_term
                   - 2.0 * float(solution @ data_vector) + data_chi_squared)
    pivot_ratio = None
    if log_det_regularization is None:
        log_det_regularization, pivot_ratio = evidence._numpy_log_det_pivots(regularization,
                                                                             nonzero)
    return evidence.assembled_terms(np, solution, chi_squared, regularization_term,
                                    log_det_curvature_reg, log_det_regularization, pivot_ratio,
                                    noise_normalization_term)


OPS = dataclasses.replace(
    evidence.NUMPY_OPS, name="numba", _compiled={},
    own={evidence.data_term: data_term, evidence.noise_normalization: noise_normalization,
         evidence.evidence_terms_consuming:
             evidence.NUMPY_OPS.compile(evidence_terms_consuming)})

__all__ = ["CHOLESKY_BLOCK", "OPS", "cholesky_lower_in_place", "data_term",
           "evidence_terms_consuming", "noise_normalization", "solve_log_det_in_place"]
