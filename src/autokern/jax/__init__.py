"""The JAX backend: ``jax.jit`` kernels in float64.

Importing this package switches on ``jax_enable_x64`` for the whole process (JAX defaults to
float32, which would lose the 1e-10 agreement every kernel promises); check it with
``autokern info`` or :func:`backend_info`.  It also gives XLA's CPU client a one-thread
intra-op pool and synchronous dispatch, which avoids a jaxlib thread-pool deadlock in its
LAPACK kernels (see ``autokern.jax._runtime``; ``AUTOKERN_JAX_SAFE_CPU=0`` keeps JAX's
defaults).

Each public kernel validates its arguments in Python, then calls small jitted cores whose
static arguments are only those that set shapes (``pixels``, the grid extent, the chunk size),
so new values of the same shapes never recompile.  Set ``AUTOKERN_JAX_CACHE_DIR`` (or call
:func:`enable_compilation_cache`) to keep compiled kernels on disk across processes.
"""

# _runtime first: it enables x64 before any kernel module is imported.
from autokern._dispatch import export
from autokern.jax._runtime import backend_info as backend_info
from autokern.jax._runtime import enable_compilation_cache as enable_compilation_cache

__all__ = ["backend_info", "enable_compilation_cache", *export("jax", globals())]
