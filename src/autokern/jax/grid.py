"""Masks on the native grid (JAX)."""

from functools import partial

import jax
import jax.numpy as jnp

from autokern.catalogue import implements

kernel = partial(implements, backend="jax")


@kernel("mask_2d_centres_from")
def mask_2d_centres_from(shape_native, pixel_scales, centre):
    # Pure Python on the normalised tuples: the centre feeds static shapes elsewhere.
    return (
        (shape_native[0] - 1) / 2 - centre[0] / pixel_scales[0],
        (shape_native[1] - 1) / 2 + centre[1] / pixel_scales[1],
    )


@partial(jax.jit, static_argnames="shape_native")
def _circular(shape_native, pixel_scales, radius, centre):
    y = (jnp.arange(shape_native[0]) - centre[0]) * pixel_scales[0]
    x = (jnp.arange(shape_native[1]) - centre[1]) * pixel_scales[1]
    return ~(jnp.sqrt(x[None, :] ** 2 + y[:, None] ** 2) <= radius)


@kernel("mask_2d_circular_from")
def mask_2d_circular_from(shape_native, pixel_scales, radius, centre):
    y_centre, x_centre = mask_2d_centres_from(shape_native, pixel_scales, centre)
    return _circular(shape_native, jnp.asarray(pixel_scales), jnp.asarray(radius),
                     jnp.asarray((y_centre, x_centre)))
