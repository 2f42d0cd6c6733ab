"""Process pools after the parent ran a kernel: fork (Linux's default start method before
Python 3.14, and what samplers' ``number_of_cores`` uses) must neither hang nor change a number.

Each scenario runs in a fresh interpreter with a timeout, so a hang fails the test instead of
the suite.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import textwrap

import pytest

from autokern.catalogue import BACKEND_NAMES

# the parent runs the likelihood and builds an Inversion on `backend`, then ten fork pools of
# two workers each evaluate both (the Inversion built in the parent crosses the fork)
FORK_POOLS = textwrap.dedent("""
    import json, multiprocessing, sys, warnings
    import autokern
    from autokern import testing

    backend, pools = sys.argv[1], int(sys.argv[2])
    case = testing.mock_case("tiny")
    name = "log_likelihood_function_via_w_compact_from"
    kern = autokern.Kernels(backend)
    arguments = case.arguments(name)
    inversion = kern.inversion_from(case.value("visibility_terms"),
                                    case.value("native_index_for_slim_index"))
    mapping = {k: case.value(k) for k in ("pix_indexes_for_sub_slim_index",
                                          "pix_weights_for_sub_slim_index",
                                          "regularization_matrix")}

    def evidences(_):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            likelihood = float(kern.log_likelihood_function_via_w_compact_from(**arguments))
            reusable = float(kern.inversion_result_from(inversion, **mapping).log_evidence)
        return likelihood, reusable, sorted({str(w.message).split(":")[0] for w in caught
                                             if w.category is RuntimeWarning})

    parent = evidences(0)[:2]
    runs = []
    for _ in range(pools):
        with multiprocessing.get_context("fork").Pool(2) as pool:
            runs.append(pool.map(evidences, range(4)))
    print(json.dumps({"parent": parent, "runs": runs}))
""")


def _run(script: str, *args: str, timeout: float, env: dict[str, str] | None = None) -> dict:
    completed = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                               text=True, timeout=timeout, env={**os.environ, **(env or {})})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="fork is Linux's default start method")
@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_ten_fork_pools_after_the_parent_ran_the_backend(backend):
    result = _run(FORK_POOLS, backend, "10", timeout=240)
    parent = result["parent"]
    assert len(result["runs"]) == 10
    for run in result["runs"]:
        for likelihood, reusable, warned in run:
            assert likelihood == pytest.approx(parent[0], rel=1e-10)
            assert reusable == pytest.approx(parent[1], rel=1e-10)
            # XLA cannot compile in a forked child: JAX's kernels run Numba's there, and say so
            expected = (["inversion_result_from", "log_likelihood_function_via_w_compact_from"]
                        if backend == "jax" else [])
            assert warned == expected


LAYER = textwrap.dedent("""
    import json, numba
    import autokern
    from autokern import testing
    case = testing.mock_case("tiny")
    name = "log_likelihood_function_via_w_compact_from"
    autokern.get_kernel(name, "numba")(**case.arguments(name))
    print(json.dumps({"layer": numba.threading_layer()}))
""")


@pytest.mark.skipif(not (sys.platform == "linux" and platform.machine() == "x86_64"),
                    reason="the tbb wheel (a dependency) exists for Linux x86-64")
def test_numba_runs_on_the_fork_safe_tbb_layer():
    assert _run(LAYER, timeout=120)["layer"] == "tbb"


def test_a_threading_layer_the_user_named_is_kept():
    assert _run(LAYER, timeout=120, env={"NUMBA_THREADING_LAYER": "workqueue"}) == {
        "layer": "workqueue"}
