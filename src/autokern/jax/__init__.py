"""The JAX backend: ``jax.jit`` kernels in float64.

Importing this package switches on ``jax_enable_x64`` for the whole process (JAX defaults to
float32, which would lose the 1e-10 agreement every kernel promises); check it with
``autokern info``.
"""

import jax

jax.config.update("jax_enable_x64", True)

from autokern.jax.mapping import (  # noqa: E402  (x64 must be on before any kernel is built)
    mapping_matrix_from_BCOO as mapping_matrix_from_BCOO,
)
