"""The JAX backend: ``jax.jit`` kernels in float64.

Importing this package switches on ``jax_enable_x64`` for the whole process (JAX defaults to
float32, which would lose the 1e-10 agreement every kernel promises); check it with
``autokern info`` or :func:`backend_info`.  It changes nothing else: the compilation cache is
an explicit call (:func:`enable_compilation_cache`), and the dense linear algebra is written so
that ``vmap`` never creates the batched LAPACK calls that can wedge XLA's CPU thread pool
(:mod:`autokern.jax.linalg`), whatever client JAX was started with.

Each public kernel validates its arguments in Python, then calls small jitted cores whose
static arguments are only those that set shapes (``pixels``, the grid extent, the chunk size),
so new values of the same shapes never recompile.  Set ``AUTOKERN_JAX_CACHE_DIR`` (or call
:func:`enable_compilation_cache`) to keep compiled kernels on disk across processes.

The reductions over visibilities stream NumPy inputs to the device chunk by chunk (device memory
O(chunk), whatever K), and within ``with autokern.jax.sharded(): ...`` split the visibilities
across devices (:mod:`autokern.jax.sharding`).
"""

# _runtime first: it enables x64 before any kernel module is imported.
from autokern._api.dispatch import export
from autokern.jax._runtime import backend_info as backend_info
from autokern.jax._runtime import enable_compilation_cache as enable_compilation_cache
from autokern.jax.linalg import OPS as OPS
from autokern.jax.sharding import sharded as sharded

#: the backend contract (autokern._api.dispatch.BACKEND_CONTRACT): OPS above, and its arrays
ARRAYS = "jax"

__all__ = ["ARRAYS", "OPS", "backend_info", "enable_compilation_cache", "sharded",
           *export("jax", globals())]
