"""Process-wide JAX settings: float64, the persistent compile cache, what is running.

Imported first by :mod:`autokern.jax`, so ``jax_enable_x64`` is on (and the CPU client is set
up so that it cannot deadlock, see below) before any kernel runs.
"""

import os

import jax

jax.config.update("jax_enable_x64", True)
# jaxlib's CPU LAPACK kernels (Cholesky, triangular solves, batched under vmap) split their work
# over XLA's intra-op thread pool and wait for the pieces from inside that pool.  When every
# pool thread is inside such a wait, none is left to do the pieces: a permanent hang, seen here
# (native stacks) on 2 cores with vmapped likelihoods, about one run in five.  A pool of one
# thread cannot wedge that way (its waits run the pieces inline), so the CPU client is created
# while this process is pinned to one core, and the affinity is restored straight after; XLA
# keeps its one-thread pool, Numba, BLAS and ducc0 keep every core.  CPU dispatch is made
# synchronous too, so that no two programs are in flight at once.  Set
# AUTOKERN_JAX_SAFE_CPU=0 before importing autokern.jax to keep JAX's defaults.
SAFE_CPU_VARIABLE = "AUTOKERN_JAX_SAFE_CPU"


def _create_cpu_client_with_one_pool_thread() -> None:
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    try:
        jax.devices("cpu")
    finally:
        os.sched_setaffinity(0, cpus)


if os.environ.get(SAFE_CPU_VARIABLE) != "0":
    jax.config.update("jax_cpu_enable_async_dispatch", False)
    if hasattr(os, "sched_setaffinity"):
        _create_cpu_client_with_one_pool_thread()

CACHE_DIR_VARIABLE = "AUTOKERN_JAX_CACHE_DIR"


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
