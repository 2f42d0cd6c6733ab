"""Masks on the native grid (reference)."""

from functools import partial

import numpy as np

from autokern.catalogue import implements

kernel = partial(implements, backend="original")


@kernel("mask_2d_centres_from")
def mask_2d_centres_from(shape_native, pixel_scales, centre):
    return (
        (shape_native[0] - 1) / 2 - centre[0] / pixel_scales[0],
        (shape_native[1] - 1) / 2 + centre[1] / pixel_scales[1],
    )


@kernel("mask_2d_circular_from")
def mask_2d_circular_from(shape_native, pixel_scales, radius, centre):
    y_centre, x_centre = mask_2d_centres_from(shape_native, pixel_scales, centre)
    y = (np.arange(shape_native[0]) - y_centre) * pixel_scales[0]
    x = (np.arange(shape_native[1]) - x_centre) * pixel_scales[1]
    distance = np.sqrt(x[None, :] ** 2 + y[:, None] ** 2)
    return ~(distance <= radius)
