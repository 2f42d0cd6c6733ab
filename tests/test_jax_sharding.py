"""autokern.jax.sharded: the reductions over K split across devices equal the one-device results.

Everything runs in one subprocess started with
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` (the flag must be set before JAX starts,
so not in this process): four CPU devices, K = 1003
visibilities (divisible neither by 4 nor by the chunk of 100), direct and NUFFT routes, NumPy
inputs (streamed), JAX arrays, and traced inputs under jit (shard_map).  The subprocess prints
one JSON object that the tests below read.
"""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("jax")

DEVICES = 4
TOLERANCE = 1e-12

_SCRIPT = r"""
import json, os, sys
import jax
import jax.numpy as jnp
import numpy as np

import autokern.jax as aj
from autokern.datasets import mock_case
from autokern.jax import _chunks, nufft
from autokern.jax.sharding import AXIS

assert len(jax.devices()) == 4, jax.devices()
K, CHUNK = 1003, 100
case = mock_case("tiny", seed=1)
ds = case.dataset
rng = np.random.default_rng(0)
pick = rng.integers(0, len(ds.data), K)
data, noise_map = ds.data[pick], ds.noise_map[pick]
uv = ds.uv_wavelengths[pick] * rng.uniform(0.5, 1.5, (K, 1))
noise_map_real = np.ascontiguousarray(noise_map.real)
methods = ["direct", "nufft"] if nufft.available() else ["direct"]
out = {"methods": methods, "errors": {}, "devices": {}, "collective": {}}


def error(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def record(name, one, many):
    out["errors"][name] = error(many, one)
    out["devices"][name] = len(many.sharding.device_set)


def kernels(method, uv_wavelengths=uv, data=data, noise_map_real=noise_map_real):
    options = {"chunk_size": CHUNK, "method": method}
    return {
        "w_compact": lambda: aj.w_compact_curvature_interferometer_from(
            ds.shape_masked_pixels_2d, noise_map_real, uv_wavelengths, ds.pixel_scale,
            **options),
        "dirty_image": lambda: aj.w_tilde_data_interferometer_from(
            data, noise_map, uv_wavelengths, ds.grid_radians_slim, **options),
        "precision_operator": lambda: aj.nufft_precision_operator_from(
            noise_map_real, uv_wavelengths, ds.shape_masked_pixels_2d, ds.grid_radians_2d,
            **options),
    }


for method in methods:
    one = {name: f() for name, f in kernels(method).items()}
    terms_one = aj.visibility_terms_from(data, noise_map, uv, ds.grid_radians_slim,
                                         ds.native_index_for_slim_index, ds.pixel_scale,
                                         chunk_size=CHUNK, method=method)
    with aj.sharded() as mesh:
        out["mesh"] = [str(mesh.axis_names), int(mesh.size)]
        for name, f in kernels(method).items():  # NumPy inputs: streamed
            record(f"{name}/{method}/numpy", one[name], f())
        on_device = [jnp.asarray(a) for a in (uv, data, noise_map_real)]
        for name, f in kernels(method, *on_device).items():
            record(f"{name}/{method}/jax", one[name], f())  # concrete JAX arrays
        # shard_map under jit (uv stays concrete: the dirty image's lattice test reads it)
        traced = jax.jit(lambda d, n: {k: f() for k, f in kernels(method, uv, d, n).items()})
        for name, result in traced(*on_device[1:]).items():
            record(f"{name}/{method}/traced", one[name], result)
        hlo = traced.lower(*on_device[1:]).compile().as_text()
        out["collective"][f"traced/{method}"] = hlo.count("all-reduce")
        terms = aj.visibility_terms_from(data, noise_map, uv, ds.grid_radians_slim,
                                         ds.native_index_for_slim_index, ds.pixel_scale,
                                         chunk_size=CHUNK, method=method)
    # visibility_terms_from: the composed kernel, its two reductions sharded
    record(f"terms.w_compact/{method}/numpy", terms_one.w_compact, terms.w_compact)
    record(f"terms.dirty_image/{method}/numpy", terms_one.dirty_image, terms.dirty_image)
    for field in ("data_chi_squared", "noise_normalization", "n_visibilities"):
        out["errors"][f"terms.{field}"] = error(getattr(terms, field),
                                                getattr(terms_one, field))
    hlo = jax.jit(lambda n: kernels(method, noise_map_real=n)["w_compact"]()).lower(
        jnp.asarray(noise_map_real)).compile().as_text()
    out["collective"][f"one_device/{method}"] = hlo.count("all-reduce")

# dense W-tilde (lattice route and, off the lattice, the direct route)
grid = ds.grid_radians_slim
off_lattice = grid + rng.normal(0, 1e-9, grid.shape)
for name, g in (("w_tilde", grid), ("w_tilde_off_lattice", off_lattice)):
    one = aj.w_tilde_curvature_interferometer_from(noise_map_real, uv, g, chunk_size=CHUNK)
    with aj.sharded():
        record(f"{name}/direct/numpy", one,
               aj.w_tilde_curvature_interferometer_from(noise_map_real, uv, g,
                                                        chunk_size=CHUNK))


# the rows each device adds: every row exactly once, every device a share
def rows_per_device(static, constants, valid, index):
    device = jax.lax.axis_index(AXIS)
    counts = jnp.zeros((4, 2)).at[device].set(jnp.stack([jnp.sum(valid), valid @ index]))
    return counts


for budget in ("0.005", "256"):  # blocks of one chunk per device; one padded block
    os.environ["AUTOKERN_CHUNK_BUDGET_MB"] = budget
    with aj.sharded():
        shares = np.asarray(_chunks.chunked_sum(rows_per_device, (4, 2), jnp.float64,
                                                (np.arange(K, dtype=np.float64),), CHUNK))
    out[f"rows_per_device/{budget}"] = shares[:, 0].tolist()
    out[f"index_sum/{budget}"] = float(shares[:, 1].sum())
os.environ["AUTOKERN_CHUNK_BUDGET_MB"] = "0.03"

# gradients and vmap under shard_map equal the one-device ones
def loss(n):
    return jnp.sum(aj.w_compact_curvature_interferometer_from(
        ds.shape_masked_pixels_2d, n, uv, ds.pixel_scale, chunk_size=CHUNK, method="direct")**2)

noise = jnp.asarray(noise_map_real)
grad_one = jax.grad(loss)(noise)
scales = jnp.array([0.5, 2.0])
vmap_one = jax.vmap(lambda s: loss(noise * s))(scales)
with aj.sharded():
    out["errors"]["grad"] = error(jax.grad(loss)(noise), grad_one)
    out["errors"]["vmap"] = error(jax.vmap(lambda s: loss(noise * s))(scales), vmap_one)

with aj.sharded(jax.devices()[:1]) as single:
    out["one_device_mesh"] = single is None
with aj.sharded(jax.devices()[:2]) as pair:
    out["pair_mesh"] = int(pair.size)
with aj.sharded():
    with aj.sharded(jax.devices()[:2]) as inner:
        out["nested_inner"] = int(inner.size)
    out["nested_outer"] = int(aj.sharding.active_mesh().size)
out["after"] = aj.sharding.active_mesh() is None
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def sharded_run():
    flags = os.environ.get("XLA_FLAGS", "")
    # a chunk budget so small that each streamed block holds one chunk per device, so that
    # the last block overlaps the one before
    environment = {**os.environ, "JAX_PLATFORMS": "cpu", "AUTOKERN_CHUNK_BUDGET_MB": "0.03",
                   "XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count={DEVICES}"}
    run = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                         env=environment, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_mesh_spans_every_device(sharded_run):
    assert sharded_run["mesh"] == [str(("visibilities",)), DEVICES]


@pytest.mark.parametrize(("kernel", "inputs"), [
    *[(kernel, inputs) for kernel in ("w_compact", "dirty_image", "precision_operator")
      for inputs in ("numpy", "jax", "traced")],
    ("terms.w_compact", "numpy"),  # visibility_terms_from
    ("terms.dirty_image", "numpy"),
])
@pytest.mark.parametrize("method", ["direct", "nufft"])
def test_sharded_results_equal_one_device(sharded_run, kernel, inputs, method):
    if method not in sharded_run["methods"]:
        pytest.skip("jax-finufft not installed")
    name = f"{kernel}/{method}/{inputs}"
    assert sharded_run["errors"][name] <= TOLERANCE
    # the result comes back from the all-reduce, replicated on every device
    assert sharded_run["devices"][name] == DEVICES


def test_sharded_dense_w_tilde_and_sums_equal_one_device(sharded_run):
    errors = sharded_run["errors"]
    for name in ("w_tilde/direct/numpy", "w_tilde_off_lattice/direct/numpy",
                 "terms.data_chi_squared", "terms.noise_normalization",
                 "terms.n_visibilities"):
        assert errors[name] <= TOLERANCE, name


@pytest.mark.parametrize("budget", ["0.005", "256"])
def test_every_device_adds_its_share_of_rows_exactly_once(sharded_run, budget):
    rows = sharded_run[f"rows_per_device/{budget}"]
    k = 1003
    assert sum(rows) == k and all(r > 0 for r in rows)
    assert sharded_run[f"index_sum/{budget}"] == k * (k - 1) / 2


def test_the_traced_program_reduces_with_a_collective(sharded_run):
    for method in sharded_run["methods"]:
        assert sharded_run["collective"][f"traced/{method}"] > 0
        assert sharded_run["collective"][f"one_device/{method}"] == 0


def test_gradients_and_vmap_through_sharded_sums(sharded_run):
    assert sharded_run["errors"]["grad"] <= TOLERANCE
    assert sharded_run["errors"]["vmap"] <= TOLERANCE


def test_device_lists_and_nesting(sharded_run):
    assert sharded_run["one_device_mesh"]  # one device: no split
    assert sharded_run["pair_mesh"] == 2
    assert sharded_run["nested_inner"] == 2 and sharded_run["nested_outer"] == DEVICES
    assert sharded_run["after"]


def test_sharded_refuses_what_is_not_a_device_list():
    from autokern.jax import sharded

    with pytest.raises(ValueError, match="devices"), sharded(["gpu0"]):
        pass
    with pytest.raises(ValueError, match="devices"), sharded([]):
        pass
