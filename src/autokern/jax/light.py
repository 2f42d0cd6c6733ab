"""W̃ applied to images on the mask (JAX): the FFT convolution of
:func:`autokern._shared.light.w_tilde_image_fft` under ``jax.jit`` (the extent is static: a new
shape
of mask compiles once), traceable and differentiable in the image and in w-compact."""

import jax
import jax.numpy as jnp

from autokern._shared import light


@jax.jit
def _w_tilde_image(w_compact, native_index_for_slim_index, image):
    return light.w_tilde_image_fft(jnp, jnp.fft.rfft2, jnp.fft.irfft2, w_compact,
                                   native_index_for_slim_index, image)


def w_tilde_image_from(w_compact, native_index_for_slim_index, image):
    return _w_tilde_image(w_compact, native_index_for_slim_index, image)
