"""The array namespace of the JAX backend's shared maths: ``jax.numpy``, compiled with ``jax.jit``.

A Cholesky factorisation of a matrix that is not positive definite has NaN entries (XLA does
not raise); the shared maths checks the result once, where it is concrete.
"""

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_solve

from autokern._evidence import ArrayOps


def _cho_solve(factor, rhs):
    return cho_solve((factor, True), rhs)


OPS = ArrayOps("jax", jnp, jnp.linalg.cholesky, _cho_solve, jax.jit,
               lambda value: isinstance(value, jax.core.Tracer))

__all__ = ["OPS"]
