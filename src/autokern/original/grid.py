"""Masks on the native grid (reference)."""

import numpy as np


def mask_2d_circular_from(shape_native, pixel_scales, radius, centre):
    y_centre = (shape_native[0] - 1) / 2 - centre[0] / pixel_scales[0]
    x_centre = (shape_native[1] - 1) / 2 + centre[1] / pixel_scales[1]
    y = (np.arange(shape_native[0]) - y_centre) * pixel_scales[0]
    x = (np.arange(shape_native[1]) - x_centre) * pixel_scales[1]
    # the library's rule: a pixel centre exactly on the circle (d² == r²) is masked
    return x[None, :] ** 2 + y[:, None] ** 2 >= radius**2
