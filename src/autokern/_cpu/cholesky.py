"""F + H factorised by a blocked Cholesky on Numba's threads: SciPy's BLAS/LAPACK blocks
(potrf, trsm, syrk, gemm) called from Numba, single-threaded each.  Shared by the Numba
backend and the JAX backend's CPU host callback."""

import llvmlite.binding
import numba
import numpy as np
from numba import types
from numba.extending import get_cython_function_address

from autokern._runtime.parallelism import choose_fork_safe_threading_layer
from autokern._shared import evidence

choose_fork_safe_threading_layer()


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
    of Numba's threads (the caller holds BLAS at one thread): OpenBLAS's own threaded potrf
    cannot share the cores with Numba, whose threads and its own spin into each other's work
    (docs/performance.md, *Measurements behind the code*).  The
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
    """:func:`autokern._shared.evidence._numpy_solve_log_det` in the C-ordered ``matrix``'s memory
    by :func:`cholesky_lower_in_place` (the factor in its upper triangle, row-major; NaN where
    not positive definite)."""
    if cholesky_lower_in_place(matrix, CHOLESKY_BLOCK, numba.get_num_threads()) != 0:
        matrix.fill(np.nan)
    return evidence.solution_and_log_det(matrix.T, rhs)
