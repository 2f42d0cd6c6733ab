"""W̃ applied to images on the mask (Numba backend): SciPy's FFT convolution on the (2Ny, 2Nx)
box on autokern's threads (the maths shared with the JAX backend,
:func:`autokern._light.w_tilde_image_fft`), O(N Ny Nx log(Ny Nx)) for N columns.

A direct gather over the lattice lag table on Numba's threads (out[i] = Σ_j lag[base_i +
offset_j] I[j], M² N multiply-adds) lost at every size measured (two shared cores, disc masks,
N = 1 / 10 columns): M = 316: 0.36 / 0.41 ms against 0.20 / 0.31 ms by FFT; M = 1 264: 5.8 /
6.5 against 0.28 / 1.6; M = 5 024: 110 / 160 against 0.66 / 6.2; M = 15 380: 1 245 / 1 533
against 6.0 / 29 ms — so there is none.
"""

import numpy as np
import scipy.fft

from autokern import _light, _memory


def w_tilde_image_from(w_compact, native_index_for_slim_index, image):
    workers = _memory.num_threads()

    def rfft2(a):
        return scipy.fft.rfft2(a, workers=workers)

    def irfft2(a, s):
        return scipy.fft.irfft2(a, s=s, workers=workers)

    return _light.w_tilde_image_fft(np, rfft2, irfft2, w_compact, native_index_for_slim_index,
                                    image)
