"""Masks on the native grid (JAX)."""

from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames="shape_native")
def _circular(shape_native, pixel_scales, radius, centre):
    y = (jnp.arange(shape_native[0]) - centre[0]) * pixel_scales[0]
    x = (jnp.arange(shape_native[1]) - centre[1]) * pixel_scales[1]
    return x[None, :] ** 2 + y[:, None] ** 2 >= radius**2  # on the circle: masked


def mask_2d_circular_from(shape_native, pixel_scales, radius, centre):
    y_centre = (shape_native[0] - 1) / 2 - centre[0] / pixel_scales[0]
    x_centre = (shape_native[1] - 1) / 2 + centre[1] / pixel_scales[1]
    return _circular(shape_native, jnp.asarray(pixel_scales), jnp.asarray(radius),
                     jnp.asarray((y_centre, x_centre)))
