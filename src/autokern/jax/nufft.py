"""Reductions over visibilities as type-1 NUFFTs inside ``jax.jit`` (jax-finufft).

The problems (strengths, phases, output box) are the backend-neutral
:class:`autokern._nufft.LatticeSum` definitions, evaluated with ``jax.numpy``; this module only
supplies the transform: ``jax_finufft.nufft1`` over chunks of visibilities in a ``lax.scan``
(zero-strength padding of the last chunk adds nothing), float64 with x64 on.  jax-finufft is
the ``nufft`` extra; its absence raises an error that names it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from autokern import _nufft, cost
from autokern.errors import MissingDependencyError
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
    try:
        from jax_finufft import nufft1
    except ImportError as error:
        raise MissingDependencyError(
            'method="nufft" on the JAX backend needs jax-finufft: '
            'pip install "autokern[nufft]"') from error
    return nufft1


def chosen(kernel: str, method: str, eps: float, n_visibilities: int,
           extent: tuple[int, int]) -> bool:
    """Whether the JAX reduction runs as a NUFFT (see :func:`autokern.cost.use_nufft`)."""
    return cost.use_nufft(kernel, method, eps, n_visibilities, extent, available=available(),
                          min_eps=MIN_EPS, library="finufft")


@partial(jax.jit, static_argnames=("shape", "first", "eps", "chunk"))
def _lattice_sum(strengths, alpha, beta, phase, shape, first, eps, chunk):
    nufft1 = _nufft1()

    def contribution(c, a, b, p):
        values, a_phase, b_phase = _nufft.LatticeSum(c, a, b, shape, first, p).points(jnp)
        return nufft1(shape, values, a_phase, b_phase, eps=eps, iflag=1)

    return _chunks.scan_sum(contribution, jnp.zeros(shape, jnp.complex128),
                            (strengths, alpha, beta, phase), chunk)


def lattice_sum(problem: _nufft.LatticeSum, eps: float, chunk_size: int | str) -> jax.Array:
    """The complex values of ``problem`` on its box."""
    chunk = _chunks.resolve(chunk_size, problem.strengths.shape[0], 12)
    phase = jnp.zeros_like(problem.alpha) if problem.phase is None else problem.phase
    return _lattice_sum(problem.strengths, problem.alpha, problem.beta, phase, problem.shape,
                        problem.first, float(eps), chunk)
