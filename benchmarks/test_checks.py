"""The price of the input checks: the small-preset log likelihood per call, checked and bare.

    pytest benchmarks/test_checks.py --benchmark-group-by=group

``get_kernel(name, backend)`` validates every argument (one pass of the shared checks);
``get_kernel(name, backend, checked=False)`` is the bare core, for a sampler loop whose inputs
were checked once.  Both are timed on the same arguments, after a warm-up call.
"""

import pytest

from autokern import get_kernel
from autokern.apps import bench
from autokern.catalogue import BACKEND_NAMES

KERNEL = "log_likelihood_function_via_w_compact_from"


@pytest.mark.parametrize("checked", [True, False], ids=["checked", "bare"])
@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_likelihood_with_and_without_checks(benchmark, backend, checked, case, preset):
    benchmark.group = f"checks-{backend}"
    arguments = case.arguments(KERNEL)
    if not checked and backend == "jax":
        import jax.numpy as jnp

        arguments = {k: jnp.asarray(v) if k != "coefficient" else v
                     for k, v in arguments.items()}
    fn = get_kernel(KERNEL, backend, checked=checked)
    expected = get_kernel(KERNEL, "original")(**case.arguments(KERNEL))
    first_call_s, result = bench.timed(lambda: fn(**arguments))
    benchmark.extra_info["first_call_s"] = first_call_s
    benchmark.extra_info["preset"] = preset
    benchmark.pedantic(lambda: bench.block(fn(**arguments)), rounds=60, iterations=1,
                       warmup_rounds=2)
    assert bench.relative_difference(result, expected) <= 1e-10
