"""The regularization matrix (reference).  The solve and the log evidence are written once for
every backend, in :mod:`autokern._composed`."""

import numpy as np


def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    pixels = len(neighbors_sizes)
    strength = coefficient**2
    within_size = np.arange(neighbors.shape[1]) < neighbors_sizes[:, None]
    rows, slots = np.nonzero(within_size & (neighbors >= 0))
    regularization = np.diag(1e-8 + strength * neighbors_sizes.astype(float))
    np.add.at(regularization, (rows, neighbors[rows, slots]), -strength)
    return regularization.reshape(pixels, pixels)
