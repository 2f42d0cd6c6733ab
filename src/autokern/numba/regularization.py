"""The regularization matrix (Numba).  The solve and the log evidence are written once for
every backend (:mod:`autokern._api.composed`); on this backend they compose the fastest pieces: F
from the symmetric curvature core, D = Tᵀ d by a column gather, H by the jitted loop below.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _fill_regularization(half, neighbors, neighbors_sizes, out):
    # each listing i → j is half an edge: ±half on (i, i), (j, j), and (i, j), (j, i)
    for i in range(out.shape[0]):
        out[i, i] += 1e-8
    for i in range(out.shape[0]):
        for slot in range(neighbors_sizes[i]):
            j = neighbors[i, slot]
            if j >= 0:
                out[i, i] += half
                out[j, j] += half
                out[i, j] -= half
                out[j, i] -= half


def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    out = np.zeros((len(neighbors_sizes), len(neighbors_sizes)))  # NumPy: huge pages
    _fill_regularization(coefficient**2 / 2.0, neighbors, neighbors_sizes, out)
    return out
