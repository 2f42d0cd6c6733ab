"""The regularization matrix (reference).  The solve and the log evidence are written once for
every backend, in :mod:`autokern._api.composed`."""

import numpy as np


def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    pixels = len(neighbors_sizes)
    half = coefficient**2 / 2.0  # each listing i → j is half an edge
    within_size = np.arange(neighbors.shape[1]) < neighbors_sizes[:, None]
    rows, slots = np.nonzero(within_size & (neighbors >= 0))
    cols = neighbors[rows, slots]
    degree = np.bincount(rows, minlength=pixels) + np.bincount(cols, minlength=pixels)
    regularization = np.diag(1e-8 + half * degree)
    np.add.at(regularization, (rows, cols), -half)
    np.add.at(regularization, (cols, rows), -half)
    return regularization
