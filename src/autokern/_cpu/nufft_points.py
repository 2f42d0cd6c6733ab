"""The points of a ducc0 NUFFT (:class:`autokern._cpu.nufft.LatticeSum`) in one parallel Numba pass:
strengths and coordinates of a chunk of visibilities, with a vectorised sin/cos.  The Numba
backend's NUFFT route passes :func:`fill_points` to :func:`autokern._cpu.nufft.lattice_sum`; the
reference makes the same points with NumPy (:meth:`~autokern._cpu.nufft.LatticeSum.points`)."""

from __future__ import annotations

import numba
import numpy as np

from autokern._cpu.nufft import LatticeSum
from autokern._runtime.parallelism import choose_fork_safe_threading_layer

choose_fork_safe_threading_layer()

# sin and cos for the points' phases (below): Cody–Waite reduction by π/2 in three parts of
# 33 bits (n·part exact for |n| < 2²⁰) and fdlibm's minimax polynomials on [-π/4, π/4]
# (k_sin.c, k_cos.c) — within 2.5e-16 of libm for |x| < _SINCOS_LIMIT, and vectorised, where
# libm's are one call each
_INV_PIO2 = 6.36619772367581382433e-01
_PIO2_1, _PIO2_2, _PIO2_3 = 1.57079632673412561417e+00, 6.07710050630396597660e-11, \
    2.02226624871116645580e-21
_S = (-1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04,
      2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10)
_C = (4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05,
      -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11)
#: beyond this |x| the reduction loses bits (|n| ≥ 2¹⁹): libm's sin and cos are used instead
_SINCOS_LIMIT = 8.0e5
#: visibilities per block of :func:`_points_into` (a thread's unit of work)
_POINTS_BLOCK = 4096


@numba.njit(inline="always", fastmath={"contract"})
def _sincos(x):
    n = np.rint(x * _INV_PIO2)
    r = ((x - n * _PIO2_1) - n * _PIO2_2) - n * _PIO2_3
    z = r * r
    s1, s2, s3, s4, s5, s6 = _S
    c1, c2, c3, c4, c5, c6 = _C
    sin = r + r * z * (s1 + z * (s2 + z * (s3 + z * (s4 + z * (s5 + z * s6)))))
    cos = 1.0 - 0.5 * z + z * z * (c1 + z * (c2 + z * (c3 + z * (c4 + z * (c5 + z * c6)))))
    quadrant = np.int64(n) & 3
    if quadrant & 1:
        sin, cos = cos, -sin
    if quadrant & 2:
        sin, cos = -sin, -cos
    return sin, cos


@numba.njit(inline="always")
def _strength(noise_real, noise_imag, data, with_data, i):
    """c_i of :class:`LatticeSum`: V/σ² part by part, or 1/(Re σ)² without data."""
    if with_data:
        return complex(data[i].real / noise_real[i] ** 2, data[i].imag / noise_imag[i] ** 2)
    return complex(1.0 / noise_real[i] ** 2, 0.0)


@numba.njit(inline="always", fastmath={"contract"})
def _phase(a, b, u, v, a_shift, b_shift, x0, y0, with_origin):
    """The phase of the mode shift (and of the image origin) of one point."""
    shift = a_shift * a + b_shift * b
    if with_origin:
        shift += 2.0 * np.pi * (x0 * u + y0 * v)
    return shift


@numba.njit(parallel=True, cache=True, nogil=True, fastmath={"contract"})
def _points_into(noise_real, noise_imag, data, uv_wavelengths, alpha_per_v, beta_per_u, x0, y0,
                 with_origin, a_shift, b_shift, values, coord):
    """:meth:`LatticeSum.points` of a chunk in one parallel pass, into ``values`` and
    ``coord`` (α, β) — unwrapped: ducc0 wraps periodic coordinates itself.  ``data`` empty: the
    strengths are 1/(Re σ)²; no exponential at all for a box centred on lag 0; no K-sized
    temporaries (NumPy's version, the reference's, makes ~10 passes)."""
    with_data = data.shape[0] > 0
    centred = a_shift == 0 and b_shift == 0 and not with_origin
    n = values.shape[0]
    for block in numba.prange((n + _POINTS_BLOCK - 1) // _POINTS_BLOCK):
        start, stop = block * _POINTS_BLOCK, min((block + 1) * _POINTS_BLOCK, n)
        largest = 0.0
        # Slices from 0: a loop from `start` was not vectorised.
        uv, out_coord, out_values = (uv_wavelengths[start:stop], coord[start:stop],
                                     values[start:stop])
        real = noise_real[start:stop]
        imag = noise_imag[start:stop] if with_data else noise_imag
        visibilities = data[start:stop] if with_data else data
        for i in range(stop - start):
            u, v = uv[i, 0], uv[i, 1]
            a, b = alpha_per_v * v, beta_per_u * u
            out_coord[i, 0] = a
            out_coord[i, 1] = b
            strength = _strength(real, imag, visibilities, with_data, i)
            if centred:
                out_values[i] = strength
                continue
            shift = _phase(a, b, u, v, a_shift, b_shift, x0, y0, with_origin)
            sin, cos = _sincos(shift)
            out_values[i] = strength * complex(cos, sin)
            largest = max(largest, abs(shift))
        if largest >= _SINCOS_LIMIT:  # redo the block's largest phases with libm
            for i in range(start, stop):
                shift = _phase(coord[i, 0], coord[i, 1], uv_wavelengths[i, 0],
                               uv_wavelengths[i, 1], a_shift, b_shift, x0, y0, with_origin)
                if abs(shift) >= _SINCOS_LIMIT:
                    values[i] = _strength(noise_real, noise_imag, data, with_data, i) * \
                        complex(np.cos(shift), np.sin(shift))


#: the empty stand-ins :func:`_points_into` takes for "no data" (w-compact, precision operator)
_NONE = np.empty(0)
_NO_DATA = np.empty(0, dtype=np.complex128)


def fill_points(problem: LatticeSum, k: slice, values: np.ndarray, coord: np.ndarray) -> None:
    """The strengths (into ``values``, complex) and coordinates (into ``coord``, (n, 2)) of
    visibilities ``k`` of a NumPy ``problem``, as ducc0 takes them (:func:`_points_into`)."""
    a_shift, b_shift = problem.mode_shift
    x0, y0 = (0.0, 0.0) if problem.origin is None else problem.origin
    with_data = problem.data is not None
    noise = problem.noise_map[k]
    _points_into(noise.real, noise.imag if with_data else _NONE,
                 problem.data[k] if with_data else _NO_DATA, problem.uv_wavelengths[k],
                 float(problem.alpha_per_v), float(problem.beta_per_u), float(x0), float(y0),
                 problem.origin is not None, a_shift, b_shift, values, coord)
