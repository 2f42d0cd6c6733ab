"""Process-wide JAX settings: float64, the persistent compile cache, what is running.

Imported first by :mod:`autokern.jax`, so ``jax_enable_x64`` is on before any kernel runs.
"""

import os

import jax

from autokern._runtime import parallelism

# float64 everywhere: JAX defaults to float32, which would lose the 1e-10 agreement every kernel
# promises.  This is the one process-wide setting importing autokern.jax makes; the others are
# explicit calls (enable_compilation_cache).  The dense linear algebra needs no process setting
# to be safe under vmap: see autokern.jax.linalg.
jax.config.update("jax_enable_x64", True)

CACHE_DIR_VARIABLE = "AUTOKERN_JAX_CACHE_DIR"


def _after_fork_in_child() -> None:
    """In a child forked after JAX started its CPU client, XLA cannot compile (its threads are
    gone, its locks held by them): the dispatcher then runs the Numba backend's kernels here."""
    try:
        from jax._src import xla_bridge

        started = xla_bridge.backends_are_initialized()
    except (ImportError, AttributeError):  # a JAX without it: assume the worst
        started = True
    if started:
        parallelism.mark_unusable_after_fork("jax")


os.register_at_fork(after_in_child=_after_fork_in_child)


def enable_compilation_cache(path: str | os.PathLike | None = None) -> str:
    """Keep every compiled kernel in JAX's persistent cache at ``path`` and return the path.

    ``path`` defaults to ``$AUTOKERN_JAX_CACHE_DIR`` (which also turns the cache on when
    :mod:`autokern.jax` is imported).  Every entry is cached, however small or quick to
    compile: the kernels are many small programs whose compile times add up at start-up.
    """
    if path is None:
        path = os.environ.get(CACHE_DIR_VARIABLE)
        if not path:
            raise ValueError(f"no cache path given and ${CACHE_DIR_VARIABLE} is not set")
    path = os.fspath(path)
    os.makedirs(path, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    return path


def backend_info() -> dict:
    """Versions, devices, precision and compile-cache settings of this JAX process."""
    import jax.numpy as jnp
    import jaxlib

    return {
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "default_backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "x64": bool(jax.config.jax_enable_x64),
        "cpu_async_dispatch": bool(jax.config.values["jax_cpu_enable_async_dispatch"]),
        "default_float_dtype": str(jnp.zeros(()).dtype),
        "compilation_cache_dir": jax.config.jax_compilation_cache_dir or None,
    }


if os.environ.get(CACHE_DIR_VARIABLE):
    enable_compilation_cache()
