"""Reductions over visibilities as type-1 NUFFTs inside ``jax.jit`` (jax-finufft).

The problems (strengths, phases, output box) are the backend-neutral
:class:`autokern._cpu.nufft.LatticeSum` definitions, evaluated with ``jax.numpy``; this module only
supplies the transform: ``jax_finufft.nufft1`` on each chunk of visibilities of
:func:`autokern.jax._chunks.chunked_sum` (strengths and phases derived chunk by chunk, rows
masked out by zero strength), float64 with x64 on.  jax-finufft works under ``shard_map``, so
the NUFFT routes split across devices like the direct sums.  jax-finufft is the ``nufft``
extra; its absence raises an error that names it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from autokern._cpu import nufft
from autokern._runtime import routes
from autokern._shared.lattice import Lattice
from autokern.errors import optional_module
from autokern.jax import _chunks

#: finufft reaches ~1e-14 in double precision.
MIN_EPS = 1e-14


def available() -> bool:
    """Whether jax-finufft can be imported."""
    try:
        import jax_finufft  # noqa: F401
    except ImportError:
        return False
    return True


def _nufft1() -> Any:
    return optional_module("jax_finufft", 'method="nufft" on the JAX backend needs jax-finufft: '
                                          'pip install "autokern[nufft]"').nufft1


def chosen(kernel: str, method: str, eps: float, n_visibilities: int,
           extent: tuple[int, int]) -> bool:
    """Whether the JAX reduction runs as a NUFFT (see :func:`autokern.cost.use_nufft`)."""
    return routes.use_nufft(kernel, method, eps, n_visibilities, extent, available=available(),
                            min_eps=MIN_EPS, library="finufft")


def _transform(problem: nufft.LatticeSum, valid: jax.Array, eps: float) -> jax.Array:
    """One chunk of ``problem`` by jax-finufft, rows with ``valid`` 0 adding nothing."""
    values, a_phase, b_phase = problem.points(jnp)
    return _nufft1()(problem.shape, values * valid, a_phase, b_phase, eps=eps, iflag=1)


def _w_compact_part(static, pixel_scale, valid, noise_map_real, uv_wavelengths):
    grid_size, eps = static
    return _transform(nufft.w_compact_problem(jnp, grid_size, noise_map_real, uv_wavelengths,
                                              pixel_scale), valid, eps)


def _precision_operator_part(static, corner, valid, noise_map_real, uv_wavelengths):
    shape, eps = static
    return _transform(nufft.precision_operator_problem(jnp, noise_map_real, uv_wavelengths, shape,
                                             corner), valid, eps)


class _Origin(NamedTuple):
    """What :func:`autokern._cpu.nufft.dirty_problem` reads of a lattice (traced floats, static
    shape)."""

    y0: Any
    x0: Any
    dy: Any
    dx: Any
    shape: tuple[int, int]


def _dirty_part(static, origin, valid, data, noise_map, uv_wavelengths):
    shape, eps = static
    return _transform(nufft.dirty_problem(jnp, data, noise_map, uv_wavelengths,
                                          _Origin(*origin, shape)), valid, eps)


def _chunk(chunk_size: int | str, n_visibilities: int) -> int:
    # Work space per visibility: coordinates, strengths and finufft's sorted copies (12
    # floats), and the rows of the two blocks a streamed sum holds (up to 6 floats each).
    return _chunks.resolve(chunk_size, n_visibilities, 24)


def w_compact(grid_size: tuple[int, int], noise_map_real: Any, uv_wavelengths: Any,
              pixel_scale: Any, eps: float, chunk_size: int | str) -> jax.Array:
    """w-compact (Ny, 2Nx - 1) by NUFFT (:func:`autokern._cpu.nufft.w_compact_problem`)."""
    ny, nx = grid_size
    sums = _chunks.chunked_sum(_w_compact_part, (ny, 2 * nx - 1), jnp.complex128,
                               (noise_map_real, uv_wavelengths),
                               _chunk(chunk_size, noise_map_real.shape[0]),
                               constants=pixel_scale, static=(tuple(grid_size), float(eps)))
    return _real(sums)


def precision_operator_half_plane(noise_map_real: Any, uv_wavelengths: Any,
                       shape_masked_pixels_2d: tuple[int, int], grid_radians_2d: Any,
                       eps: float, chunk_size: int | str) -> jax.Array:
    """The precision operator's lags p >= 0 in w-compact layout (Ny, 2Nx - 1) by NUFFT
    (:func:`autokern._cpu.nufft.precision_operator_problem`)."""
    ny, nx = shape_masked_pixels_2d
    # the problem reads the grid's spacings off its first two rows and columns only
    sums = _chunks.chunked_sum(_precision_operator_part, (ny, 2 * nx - 1), jnp.complex128,
                               (noise_map_real, uv_wavelengths),
                               _chunk(chunk_size, noise_map_real.shape[0]),
                               constants=grid_radians_2d[:2, :2],
                               static=(tuple(shape_masked_pixels_2d), float(eps)))
    return _real(sums)


def dirty_box(data: Any, noise_map: Any, uv_wavelengths: Any, lattice: Lattice, eps: float,
              chunk_size: int | str) -> jax.Array:
    """The complex dirty-image sums on the bounding box (Ny, Nx) of a grid on ``lattice``
    (:func:`autokern._cpu.nufft.dirty_problem`); the dirty image is the real part at the pixels."""
    origin = tuple(np.float64(v) for v in (lattice.y0, lattice.x0, lattice.dy, lattice.dx))
    return _chunks.chunked_sum(_dirty_part, lattice.shape, jnp.complex128,
                               (data, noise_map, uv_wavelengths),
                               _chunk(chunk_size, data.shape[0]), constants=origin,
                               static=(lattice.shape, float(eps)))


@jax.jit
def _real(values):
    return values.real
