"""No hang in any import order: JAX used first (its own client, multi-threaded pool), then
vmapped and differentiated likelihoods, in subprocesses with a timeout.

jaxlib's batched CPU LAPACK kernels wait inside XLA's thread pool for pieces queued on that
same pool; before autokern.jax.linalg kept every factorisation unbatched, this scenario hung
about five runs in six on 2 cores.
"""

from __future__ import annotations

import subprocess
import sys

_STRESS = """
import jax, jax.numpy as jnp
jnp.zeros(3).block_until_ready()  # JAX touched first: its own client and thread pool
import autokern
from autokern import testing
kern = autokern.get_backend("jax")
arguments = testing.mock_case("small", seed=1).arguments(
    "log_likelihood_function_via_w_compact_from")
for solver, rounds in (("positive_negative", 30), ("positive_only", 10)):
    def likelihood(coefficient):
        return kern.log_likelihood_function_via_w_compact_from(
            **{**arguments, "coefficient": coefficient}, solver=solver)
    for _ in range(rounds):
        jax.vmap(likelihood)(jnp.linspace(0.5, 2.0, 8)).block_until_ready()
        jax.grad(likelihood)(1.0).block_until_ready()
print("done")
"""

RUNS = 10
TIMEOUT_S = 180


def _run(_: int) -> str:
    try:
        run = subprocess.run([sys.executable, "-c", _STRESS], capture_output=True, text=True,
                             timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return "hung"
    return "ok" if run.returncode == 0 and "done" in run.stdout else run.stderr[-2000:]


def test_jax_first_then_vmap_and_grad_never_hangs():
    # one process at a time: two multi-threaded XLA pools on 2 cores slow each other ~100×
    outcomes = [_run(i) for i in range(RUNS)]
    assert outcomes == ["ok"] * RUNS, outcomes
