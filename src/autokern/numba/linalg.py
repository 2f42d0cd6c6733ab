"""The array namespace of the Numba backend's shared maths: NumPy and SciPy, with its own sums
over the visibilities — one parallel pass each where NumPy makes five to seven (at K = 5·10⁶ on
two cores: ~60 → ~10 ms for the pair) — and its own Cholesky factorisation of F + H: SciPy's
BLAS blocks driven from Numba's threads (see :func:`cholesky_lower_in_place`)."""

import dataclasses

import llvmlite.binding
import numba
import numpy as np
from numba import types
from numba.extending import get_cython_function_address

from autokern import _evidence

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
    """Σ_k (Re V_k / Re σ_k)² + (Im V_k / Im σ_k)² (:func:`autokern._evidence.data_term`)."""
    blocks = _blocks(data.shape[0])
    _data_term_blocks(data, noise_map, blocks)
    return float(np.sum(blocks))


def noise_normalization(noise_map: np.ndarray) -> float:
    """Σ_k log(2π (Re σ_k)²) + log(2π (Im σ_k)²)
    (:func:`autokern._evidence.noise_normalization`)."""
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


def _scipy_routine(module: str, name: str, n_args: int) -> types.ExternalFunction:
    """SciPy's BLAS/LAPACK routine ``name`` (Fortran convention: every argument a pointer) as
    a Numba external function, bound by symbol name so that its callers can be cached."""
    symbol = f"autokern_scipy_{name}"
    llvmlite.binding.add_symbol(symbol, get_cython_function_address(module, name))
    return types.ExternalFunction(symbol, types.void(*[types.voidptr] * n_args))


_dpotrf = _scipy_routine("scipy.linalg.cython_lapack", "dpotrf", 5)
_dtrsm = _scipy_routine("scipy.linalg.cython_blas", "dtrsm", 11)
_dsyrk = _scipy_routine("scipy.linalg.cython_blas", "dsyrk", 10)
_dgemm = _scipy_routine("scipy.linalg.cython_blas", "dgemm", 13)

#: the Cholesky's block (columns): 96–192 within 3 % at S = 1 500 on one and two threads
CHOLESKY_BLOCK = 128


@numba.njit(cache=True, nogil=True)
def _panel_rows(flat, n, k0, width, h0, h1, letters, scalars, sizes):
    """Rows [h0, h1) of the panel below the diagonal block at k0: A ← A L_kk⁻ᵀ (trsm)."""
    sizes[0], sizes[1] = h1 - h0, width
    _dtrsm(letters[1:].ctypes, letters[0:].ctypes, letters[2:].ctypes, letters[3:].ctypes,
           sizes[0:].ctypes, sizes[1:].ctypes, scalars[0:].ctypes, flat[k0 * n + k0:].ctypes,
           sizes[3:].ctypes, flat[k0 * n + h0:].ctypes, sizes[3:].ctypes)


@numba.njit(cache=True, nogil=True)
def _trailing_columns(flat, n, k0, width, j0, block, letters, scalars, sizes):
    """Block column [j0, j0 + block) of the trailing matrix, on and below the diagonal:
    A ← A − P Pᵀ with P the panel's rows (syrk for the diagonal block, gemm below it)."""
    columns = min(block, n - j0)
    below = n - j0 - columns
    sizes[0], sizes[1], sizes[2] = columns, width, below
    _dsyrk(letters[0:].ctypes, letters[3:].ctypes, sizes[0:].ctypes, sizes[1:].ctypes,
           scalars[1:].ctypes, flat[k0 * n + j0:].ctypes, sizes[3:].ctypes, scalars[0:].ctypes,
           flat[j0 * n + j0:].ctypes, sizes[3:].ctypes)
    if below > 0:
        _dgemm(letters[3:].ctypes, letters[2:].ctypes, sizes[2:].ctypes, sizes[0:].ctypes,
               sizes[1:].ctypes, scalars[1:].ctypes, flat[k0 * n + j0 + columns:].ctypes,
               sizes[3:].ctypes, flat[k0 * n + j0:].ctypes, sizes[3:].ctypes,
               scalars[0:].ctypes, flat[j0 * n + j0 + columns:].ctypes, sizes[3:].ctypes)


@numba.njit(parallel=True, cache=True, nogil=True)
def cholesky_lower_in_place(matrix, block, parts):
    """L with L Lᵀ = A in the lower triangle of the Fortran view of the C-ordered symmetric
    ``matrix`` (its upper triangle, row-major; the other triangle is not touched); 0, or the
    LAPACK ``info`` (> 0: the 1-based column whose pivot is not positive, NaN included).
    ``parts``: Numba's thread count (passed in: ``numba.get_num_threads()`` inside a parallel
    function keeps it from being cached).

    Right-looking and blocked: each diagonal block is factorised by LAPACK's potrf, the panel
    below it solved by trsm (rows split over the threads) and the trailing matrix updated by
    syrk and gemm (block columns dealt to the threads), every call single-threaded BLAS in one
    of Numba's threads (the caller holds BLAS at one thread).  OpenBLAS's own threaded potrf
    is as fast on one core but cannot share two with Numba: its idle threads spin into the
    next curvature call (F 36 → 76 ms at alma35) and Numba's into it (18 → 32 ms).  The
    result does not depend on the thread count (each row and block column is computed by one
    call whatever the split)."""
    n = matrix.shape[0]
    flat = matrix.reshape(-1)  # the Fortran view's (i, j) is flat[j * n + i]
    letters = np.array([ord("L"), ord("R"), ord("T"), ord("N")], dtype=np.uint8)
    scalars = np.array([1.0, -1.0])
    # per thread: three BLAS dimensions and the leading dimension, passed by pointer
    sizes = np.full((parts, 4), n, dtype=np.int32)
    info = np.zeros(1, dtype=np.int32)
    for k0 in range(0, n, block):
        width = min(block, n - k0)
        sizes[0, 0] = width
        _dpotrf(letters[0:].ctypes, sizes[0, 0:].ctypes, flat[k0 * n + k0:].ctypes,
                sizes[0, 3:].ctypes, info.ctypes)
        if info[0] != 0:
            return info[0] + k0
        for j in range(k0, k0 + width):  # OpenBLAS's potrf lets a NaN pivot through
            if not flat[j * n + j] > 0.0:
                return j + 1
        r0 = k0 + width
        rest = n - r0
        for part in numba.prange(parts):
            h0, h1 = r0 + rest * part // parts, r0 + rest * (part + 1) // parts
            if h1 > h0:
                _panel_rows(flat, n, k0, width, h0, h1, letters, scalars, sizes[part])
        for part in numba.prange(parts):  # block columns dealt zig-zag: similar work each
            for b in range((rest + block - 1) // block):
                turn = b % (2 * parts)
                if min(turn, 2 * parts - 1 - turn) == part:
                    _trailing_columns(flat, n, k0, width, r0 + b * block, block, letters,
                                      scalars, sizes[part])
    return 0


def solve_log_det_in_place(matrix: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, float]:
    """:func:`autokern._evidence._numpy_solve_log_det` in the C-ordered ``matrix``'s memory
    by :func:`cholesky_lower_in_place` (the factor in its upper triangle, row-major; NaN where
    not positive definite)."""
    if cholesky_lower_in_place(matrix, CHOLESKY_BLOCK, numba.get_num_threads()) != 0:
        matrix.fill(np.nan)
    return _evidence.solution_and_log_det(matrix.T, rhs)


def evidence_terms_consuming(curvature: np.ndarray, regularization: np.ndarray,
                             data_vector: np.ndarray, data_chi_squared: float,
                             noise_normalization_term: float, solution: np.ndarray | None = None,
                             log_det_regularization: float | None = None) -> tuple:
    """:func:`autokern._evidence.evidence_terms` with F + H made and factorised in F's memory
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
    sparse = nonzero.size <= _evidence.SPARSE_LOG_DET_DENSITY * regularization.size
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
        log_det_regularization, pivot_ratio = _evidence._numpy_log_det_pivots(regularization,
                                                                              nonzero)
    return _evidence.assembled_terms(np, solution, chi_squared, regularization_term,
                                     log_det_curvature_reg, log_det_regularization, pivot_ratio,
                                     noise_normalization_term)


OPS = dataclasses.replace(
    _evidence.NUMPY_OPS, name="numba", _compiled={},
    own={_evidence.data_term: data_term, _evidence.noise_normalization: noise_normalization,
         _evidence.evidence_terms_consuming:
             _evidence.NUMPY_OPS.compile(evidence_terms_consuming)})

__all__ = ["CHOLESKY_BLOCK", "OPS", "cholesky_lower_in_place", "data_term",
           "evidence_terms_consuming", "noise_normalization", "solve_log_det_in_place"]
