"""The JAX reductions over visibilities in O(chunk) memory (autokern.jax._chunks).

Every driver (NumPy streamed, JAX arrays in one compiled scan, traced under jit) adds each
visibility exactly once for any chunk size; gradients and vmap go through the chunked sums;
and the peak memory beyond the inputs does not grow with K (fresh subprocesses).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402

import autokern.jax as aj  # noqa: E402
from autokern.jax import _chunks, nufft  # noqa: E402
from helpers import relative_error  # noqa: E402


def _moments(static, constants, valid, index):
    """Σ valid, Σ valid·k, Σ valid·k² of one chunk (k = the row's global index)."""
    return jnp.stack([jnp.sum(valid), valid @ index, valid @ index**2])


def _expected_moments(n):
    k = np.arange(n, dtype=np.float64)
    return np.array([n, k.sum(), (k**2).sum()])


@pytest.mark.parametrize("n", [1, 7, 100, 1003])
@pytest.mark.parametrize("chunk", [1, 3, 50, 1003, 5000])
@pytest.mark.parametrize("budget_mb", ["256", "0.004", "1e-9"])
def test_every_driver_adds_each_visibility_exactly_once(n, chunk, budget_mb, monkeypatch):
    # the budget sets how many chunks a streamed block holds: many, a few, one
    monkeypatch.setenv("AUTOKERN_CHUNK_BUDGET_MB", budget_mb)
    index = np.arange(n, dtype=np.float64)
    expected = _expected_moments(n)

    def total(rows):
        return _chunks.chunked_sum(_moments, (3,), jnp.float64, (rows,), chunk)

    streamed = total(index)  # NumPy: streamed block by block
    compiled = total(jnp.asarray(index))  # concrete JAX arrays: one scan
    traced = jax.jit(total)(jnp.asarray(index))
    for result in (streamed, compiled, traced):
        np.testing.assert_array_equal(np.asarray(result), expected)


def test_numpy_inputs_stay_on_the_host_until_their_chunk(get_case, monkeypatch):
    # The public function must not turn NumPy visibilities into one device array.
    case = get_case("tiny")
    arguments = case.arguments("w_compact_curvature_interferometer_from")
    seen = []
    original = _chunks._streamed_sum

    def spy(spec, constants, arrays, chunk, mesh):
        seen.append([type(x) for x in arrays])
        return original(spec, constants, arrays, chunk, mesh)

    monkeypatch.setattr(_chunks, "_streamed_sum", spy)
    for method in ("direct", "nufft"):
        aj.w_compact_curvature_interferometer_from(**arguments, method=method, chunk_size=7)
    assert seen == [[np.ndarray, np.ndarray]] * 2


def _w_compact(case, method, chunk_size):
    arguments = case.arguments("w_compact_curvature_interferometer_from")

    def w_compact(noise_map_real):
        return aj.w_compact_curvature_interferometer_from(
            **{**arguments, "noise_map_real": noise_map_real}, method=method,
            chunk_size=chunk_size)

    return w_compact, jnp.asarray(arguments["noise_map_real"])


@pytest.mark.parametrize("method", ["direct", "nufft"])
def test_gradient_through_the_chunked_sum_matches_finite_differences(method, get_case):
    if method == "nufft" and not nufft.available():
        pytest.skip("jax-finufft not installed")
    w_compact, noise = _w_compact(get_case("tiny"), method, chunk_size=7)
    projection = jnp.asarray(np.random.default_rng(0).normal(size=w_compact(noise).shape))

    def loss(noise_map_real):
        return jnp.sum(projection * w_compact(noise_map_real))

    gradient = jax.grad(loss)(noise)
    direction = jnp.asarray(np.random.default_rng(1).normal(size=noise.shape))
    step = 1e-5
    numeric = (loss(noise + step * direction) - loss(noise - step * direction)) / (2 * step)
    assert abs(float(jnp.vdot(gradient, direction)) - float(numeric)) <= 1e-7 * abs(numeric)
    # the same gradient whatever the chunk
    whole, _ = _w_compact(get_case("tiny"), method, chunk_size=10_000)
    assert relative_error(jax.grad(lambda n: jnp.sum(projection * whole(n)))(noise),
                          gradient) <= 1e-12


def test_vmap_through_the_chunked_sum_equals_a_loop(get_case):
    w_compact, noise = _w_compact(get_case("tiny"), "direct", chunk_size=7)
    scales = jnp.array([0.5, 1.0, 3.0])
    batched = jax.vmap(lambda s: w_compact(noise * s))(scales)
    for s, result in zip(scales, batched, strict=True):
        assert relative_error(result, w_compact(noise * s)) <= 1e-12


# --- peak memory, in fresh processes --------------------------------------------------------

#: K of the two runs whose difference gives the growth per visibility
SMALL_K, LARGE_K = 500_000, 4_000_000
#: bytes per extra visibility allowed beyond the inputs (the code before chunked slicing and
#: host streaming grew by 50-250 B per visibility: padded copies, derived arrays, device copies)
GROWTH_LIMIT = 12


def _peak(kernel, method, n_visibilities, inputs):
    # An 8 MB chunk budget keeps the work space small next to what K would add.
    environment = {**os.environ, "AUTOKERN_CHUNK_BUDGET_MB": "8"}
    command = [sys.executable, "-m", "autokern.jax._peak_memory", kernel, method,
               str(n_visibilities), "16", "--inputs", inputs]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment)


def _result(process):
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
@pytest.mark.parametrize(("kernel", "method", "inputs"), [
    ("w_compact", "direct", "numpy"),
    ("w_compact", "nufft", "numpy"),
    ("dirty_image", "direct", "numpy"),
    ("dirty_image", "nufft", "numpy"),
    ("w_compact", "nufft", "jax"),
    ("dirty_image", "direct", "jax"),
    ("visibility_terms", "nufft", "numpy"),  # both reductions and the sums of _composed
])
def test_peak_memory_beyond_the_inputs_does_not_grow_with_k(kernel, method, inputs):
    if method == "nufft" and not nufft.available():
        pytest.skip("jax-finufft not installed")
    small, large = (_result(p) for p in [_peak(kernel, method, k, inputs)
                                         for k in (SMALL_K, LARGE_K)])
    growth = (large["overhead_bytes"] - small["overhead_bytes"]) / (LARGE_K - SMALL_K)
    assert growth < GROWTH_LIMIT, (small, large)
