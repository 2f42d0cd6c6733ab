"""Masks on the native grid (Numba)."""

from functools import partial

import numba
import numpy as np

from autokern.catalogue import implements

kernel = partial(implements, backend="numba")


@numba.njit(cache=True, nogil=True)
def _circular_mask(shape, pixel_scales, radius, y_centre, x_centre):
    mask = np.empty(shape, dtype=np.bool_)
    for i in range(shape[0]):
        y = (i - y_centre) * pixel_scales[0]
        for j in range(shape[1]):
            x = (j - x_centre) * pixel_scales[1]
            mask[i, j] = not (np.sqrt(x * x + y * y) <= radius)
    return mask


def _centres(shape_native: tuple[int, int], pixel_scales: tuple[float, float],
             centre: tuple[float, float]) -> tuple[float, float]:
    return ((shape_native[0] - 1) / 2 - centre[0] / pixel_scales[0],
            (shape_native[1] - 1) / 2 + centre[1] / pixel_scales[1])


@kernel("mask_2d_centres_from")
def mask_2d_centres_from(shape_native, pixel_scales, centre):
    return _centres(shape_native, pixel_scales, centre)


@kernel("mask_2d_circular_from")
def mask_2d_circular_from(shape_native, pixel_scales, radius, centre):
    y_centre, x_centre = _centres(shape_native, pixel_scales, centre)
    return _circular_mask(shape_native, pixel_scales, radius, y_centre, x_centre)
