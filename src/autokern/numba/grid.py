"""Masks on the native grid (Numba)."""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _circular_mask(shape, pixel_scales, radius, y_centre, x_centre):
    mask = np.empty(shape, dtype=np.bool_)
    for i in range(shape[0]):
        y = (i - y_centre) * pixel_scales[0]
        for j in range(shape[1]):
            x = (j - x_centre) * pixel_scales[1]
            mask[i, j] = x * x + y * y >= radius * radius  # on the circle: masked
    return mask


def mask_2d_circular_from(shape_native, pixel_scales, radius, centre):
    y_centre = (shape_native[0] - 1) / 2 - centre[0] / pixel_scales[0]
    x_centre = (shape_native[1] - 1) / 2 + centre[1] / pixel_scales[1]
    return _circular_mask(shape_native, pixel_scales, radius, y_centre, x_centre)
