"""The factorisation of F + H: the Numba backend's blocked Cholesky against LAPACK's potrf.

    pytest benchmarks/test_cholesky.py --benchmark-group-by=group

A dense symmetric positive definite S × S matrix (S = 1 000 and 1 500, the sizes of the
presets), factorised in place, on one thread and on two:

- ``numba-blocked``: ``autokern.numba.linalg.cholesky_lower_in_place`` — SciPy's BLAS blocks
  (potrf, trsm, syrk, gemm) called from Numba's threads, BLAS held at one thread, the threads
  set by ``autokern.threads(n)``; what the Numba backend's likelihood runs.
- ``lapack-potrf``: SciPy's ``dpotrf`` (OpenBLAS) on ``n`` BLAS threads, as the reference and the
  JAX backend's CPU callback run it on one.  On two threads it is fast alone, but its idle threads
  spin into the next Numba call inside a likelihood: ``benchmarks/test_library.py`` times the
  whole call.

Each result is checked against LAPACK's factor.  The copy of the matrix that each round
factorises is made outside the timing (``benchmark.pedantic`` with a setup).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import autokern
from autokern._runtime import parallelism
from autokern.numba.linalg import CHOLESKY_BLOCK, cholesky_lower_in_place

ROUNDS = 20


def spd_matrix(pixels: int, seed: int = 0) -> np.ndarray:
    """A C-ordered SPD matrix: GGᵀ plus a diagonal floor, G of (S, S + 50) normals."""
    factor = np.random.default_rng(seed).normal(size=(pixels, pixels + 50))
    return factor @ factor.T + np.eye(pixels)


def numba_blocked(matrix: np.ndarray, threads: int) -> np.ndarray:
    with parallelism.one_blas_thread():
        assert cholesky_lower_in_place(matrix, CHOLESKY_BLOCK, threads) == 0
    return matrix.T


def lapack_potrf(matrix: np.ndarray, threads: int) -> np.ndarray:
    factor, info = scipy.linalg.lapack.dpotrf(matrix.T, lower=1, overwrite_a=1, clean=0)
    assert info == 0
    return factor


CONTENDERS = {"numba-blocked": numba_blocked, "lapack-potrf": lapack_potrf}


@pytest.mark.parametrize("pixels", [1000, 1500])
@pytest.mark.parametrize("threads", [1, 2], ids=["threads1", "threads2"])
@pytest.mark.parametrize("contender", list(CONTENDERS))
def test_cholesky(benchmark, pixels, threads, contender):
    benchmark.group = f"cholesky S={pixels} threads={threads}"
    matrix = spd_matrix(pixels)
    expected = np.tril(scipy.linalg.cholesky(matrix, lower=True))
    factorise = CONTENDERS[contender]
    with autokern.threads(threads):
        factor = factorise(matrix.copy(), threads)  # warm-up (compiles the Numba core)
        scale = np.max(np.abs(expected))
        assert np.max(np.abs(np.tril(factor) - expected)) <= 1e-12 * scale
        benchmark.pedantic(factorise, setup=lambda: ((matrix.copy(), threads), {}),
                           rounds=ROUNDS)
