"""The regularization matrix (Numba).  The solve and the log evidence are written once for
every backend (:mod:`autokern._composed`); on this backend they compose the fastest pieces: F
from the symmetric curvature core, D = Tᵀ d by a column gather, H by the jitted loop below.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _fill_regularization(strength, neighbors, neighbors_sizes, out):
    for i in range(out.shape[0]):
        out[i, i] += 1e-8 + strength * neighbors_sizes[i]
        for j in range(neighbors_sizes[i]):
            if neighbors[i, j] >= 0:
                out[i, neighbors[i, j]] -= strength


def _regularization(strength: float, neighbors: np.ndarray,
                    neighbors_sizes: np.ndarray) -> np.ndarray:
    out = np.zeros((len(neighbors_sizes), len(neighbors_sizes)))  # NumPy: huge pages
    _fill_regularization(strength, neighbors, neighbors_sizes, out)
    return out


def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    return _regularization(coefficient**2, neighbors, neighbors_sizes)
