"""W̃ applied to images on the mask (Numba backend): SciPy's FFT convolution on the (2Ny, 2Nx)
box on autokern's threads (the maths shared with the JAX backend,
:func:`autokern._shared.light.w_tilde_image_fft`), O(N Ny Nx log(Ny Nx)) for N columns.

There is no direct gather over the lattice lag table (M² N multiply-adds): it lost to the FFT
at every size measured (docs/performance.md, *Measurements behind the code*).
"""

import numpy as np
import scipy.fft

from autokern._runtime import parallelism
from autokern._shared import light


def w_tilde_image_from(w_compact, native_index_for_slim_index, image):
    workers = parallelism.num_threads()

    def rfft2(a):
        return scipy.fft.rfft2(a, workers=workers)

    def irfft2(a, s):
        return scipy.fft.irfft2(a, s=s, workers=workers)

    return light.w_tilde_image_fft(np, rfft2, irfft2, w_compact, native_index_for_slim_index,
                                   image)
