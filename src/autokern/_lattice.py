"""Index arithmetic of the lattice layouts (w-compact, preload), shared by every backend.

All functions are pure index maths on NumPy or JAX integer arrays (they use only operators
that both support), so the backends agree by construction on where each lag lives.
"""

from __future__ import annotations

from typing import Any


def compact_index(compact_shape: tuple[int, int], native_i: Any, native_j: Any) -> tuple:
    """Index into w-compact of W̃[i, j] for every (i, j) of ``native_i`` × ``native_j``.

    ``native_i`` (Mi, 2) and ``native_j`` (Mj, 2) are (row, col) pairs; the result is a pair of
    (Mi, Mj) integer arrays (a, b) with W̃[i, j] = w_compact[a, b].
    """
    nx = (compact_shape[1] + 1) // 2
    row_lag = native_i[:, 0, None] - native_j[None, :, 0]
    col_lag = native_i[:, 1, None] - native_j[None, :, 1]
    sign = 1 - 2 * (row_lag < 0)
    return abs(row_lag), sign * col_lag + nx - 1


def preload_index(preload_shape: tuple[int, int], native_i: Any, native_j: Any) -> tuple:
    """Index into the preload of W̃[i, j]: ((r_j - r_i) mod 2Ny, (c_j - c_i) mod 2Nx)."""
    row_lag = native_j[None, :, 0] - native_i[:, 0, None]
    col_lag = native_j[None, :, 1] - native_i[:, 1, None]
    return row_lag % preload_shape[0], col_lag % preload_shape[1]
