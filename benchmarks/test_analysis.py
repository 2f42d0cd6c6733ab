"""A PyAutoLens search's likelihood on autokern's Analysis and on the library's.

    pytest benchmarks/test_analysis.py --benchmark-group-by=group --benchmark-columns=median,rounds
    pytest benchmarks/test_analysis.py --benchmark-disable      # smoke: SMA, one call each

Everything runs on one thread (``autokern.threads(1)``: Numba and BLAS; the library's JAX on
XLA's own pool).  The model: an isothermal lens (θE free, q and angle fixed) and a Delaunay
source on a 36 × 36 (SMA) or 44 × 44 (alma35) overlay image mesh plus the library's 30-point
edge ring at 3.6″ (zeroed), ``ConstantSplit`` regularization (coefficient free), the library's
default ``Settings()`` (positive-only, edge zeroing), the dataset with the library's sparse
operator applied (its fast route; autokern reads only the visibilities):

- ``sma``: the real SMA visibilities (``../shared/data/sma``) on the ``sma35`` geometry (3.5″
  mask of 0.1″ pixels, M = 3 852, S = 1 034);
- ``alma35``: the preset's visibilities (K = 10⁶, M = 15 380, S ≈ 1 550); not in the smoke run.

**Per likelihood** (``test_likelihood``): PyAutoFit's own ``Fitness`` (``call_wrap``, what a
search calls), a new model each round — a random walk in θE (σ 0.01″) and the coefficient
(× e^(0.1 N)) from (1.6, 0.17) — for

- ``autokern-numba``: ``autokern.autoarray.AnalysisInterferometer(backend="numba")``;
- ``library-numpy``: ``al.AnalysisInterferometer(use_jax=False)``;
- ``library-jax``: ``al.AnalysisInterferometer(use_jax=True)`` (the library's default: the
  likelihood under ``jax.jit``; compiled outside the timing); not in the smoke run;
- ``autokern-jax``: ``AnalysisInterferometer(backend="jax", use_jax=True)``, the whole
  likelihood under ``Fitness``'s ``jax.jit``; not in the smoke run.

**Per likelihood in a vmap batch** (``test_likelihood_vmap_batch``, not in the smoke run):
``autokern-jax`` through ``Fitness(batched=True)`` (``jax.jit(jax.vmap)``, Nautilus's
objective), ``BATCH`` walk points per round; ``extra_info["per_call_ms"]`` is a round's time
over ``BATCH``.

Every value is checked against the library's NumPy path on the walk's first points, outside
the timing: autokern to 1e-9; the library's JAX path, and autokern's on it, to 1e-4 (it differs
from its own NumPy path by ~1e-5 relative: 9.0e-6 at SMA, 1.8e-5 at alma35; at SMA its traced
ray tracing is the cause: the mesh and data grids it hands on differ from its NumPy path's by up
to 4e-7″ at every point, and ``autokern-jax``, on those grids, is ``library-jax`` to 1.3e-12).

**The search** (``test_search``, not in the smoke run): Nautilus (n_live 20, 300 calls, seed 1)
on ``sma`` through the library's ``search.fit``, output to a temporary folder, wall time per
contender (one round).
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
import pytest

import autokern

al = pytest.importorskip("autolens")

import autofit as af  # noqa: E402
from autofit.non_linear.fitness import Fitness  # noqa: E402

from autokern.apps.autoarray import AnalysisInterferometer  # noqa: E402

SOURCE = str(("galaxies", "source"))
#: (overlay side, edge-ring radius) of each geometry
GEOMETRY = {"sma": (36, 3.6), "alma35": (44, 3.6)}
WALK = 40
#: walk points per vmap batch (test_likelihood_vmap_batch)
BATCH = 8
#: rounds per contender (the walk's first points, cycled)
ROUNDS = {"sma": 40, "alma35": 12}
_STATE: dict[str, object] = {}


def disabled(request) -> bool:
    return bool(request.config.getoption("benchmark_disable", False))


def dataset_of(name: str):
    """The dataset with the library's sparse operator applied (its fast route; autokern's
    Analysis reads only the visibilities): ``benchmarks/test_positive_only.py``'s."""
    key = f"dataset-{name}"
    if key not in _STATE:
        from test_positive_only import _library_dataset

        _STATE[key] = _library_dataset(name)
    return _STATE[key]


def model_and_adapt(name: str):
    overlay, edge = GEOMETRY[name]
    mask = dataset_of(name).real_space_mask
    grid = al.image_mesh.Overlay(shape=(overlay, overlay)).image_plane_mesh_grid_from(mask=mask)
    grid = al.image_mesh.append_with_circle_edge_points(
        image_plane_mesh_grid=grid, centre=(0.0, 0.0), radius=edge, n_points=30)
    lens = af.Model(al.Galaxy, redshift=0.5, mass=al.mp.Isothermal)
    lens.mass.centre = (0.0, 0.0)
    lens.mass.ell_comps = al.convert.ell_comps_from(axis_ratio=0.9, angle=45.0)
    lens.mass.einstein_radius = af.UniformPrior(lower_limit=1.3, upper_limit=1.9)
    pixelization = af.Model(al.Pixelization, regularization=al.reg.ConstantSplit,
                            mesh=al.mesh.Delaunay(pixels=len(grid) - 30, zeroed_pixels=30))
    pixelization.regularization.coefficient = af.LogUniformPrior(lower_limit=0.01,
                                                                 upper_limit=10.0)
    source = af.Model(al.Galaxy, redshift=1.0, pixelization=pixelization)
    model = af.Collection(galaxies=af.Collection(lens=lens, source=source))
    return model, al.AdaptImages(galaxy_name_image_plane_mesh_grid_dict={SOURCE: grid})


def analysis_of(name: str, contender: str):
    _, adapt = model_and_adapt(name)
    common = {"adapt_images": adapt, "raise_inversion_positions_likelihood_exception": False}
    if contender == "autokern-numba":
        return AnalysisInterferometer(dataset=dataset_of(name), backend="numba", **common)
    if contender == "autokern-jax":
        return AnalysisInterferometer(dataset=dataset_of(name), backend="jax", use_jax=True,
                                      **common)
    return al.AnalysisInterferometer(dataset=dataset_of(name),
                                     use_jax=contender == "library-jax", **common)


def walk(calls: int = WALK) -> list[list[float]]:
    """θE and coefficient of each call: a random walk from (1.6, 0.17)."""
    rng = np.random.default_rng(1)
    theta, coefficient, vectors = 1.6, 0.17, []
    for _ in range(calls):
        vectors.append([theta, coefficient])
        theta = float(np.clip(theta + 0.01 * rng.standard_normal(), 1.35, 1.85))
        coefficient = float(coefficient * np.exp(0.1 * rng.standard_normal()))
    return vectors


def reference(name: str, count: int) -> list[float]:
    """The library's NumPy-path log likelihoods of the walk's first ``count`` points."""
    key = f"reference-{name}-{count}"
    if key not in _STATE:
        model, _ = model_and_adapt(name)
        fitness = Fitness(model=model, analysis=analysis_of(name, "library-numpy"))
        _STATE[key] = [float(fitness.call_wrap(v)) for v in walk()[:count]]
    return _STATE[key]


@pytest.mark.parametrize("contender", ["autokern-numba", "autokern-jax", "library-numpy",
                                       "library-jax"])
@pytest.mark.parametrize("name", list(GEOMETRY))
def test_likelihood(benchmark, request, name, contender):
    if disabled(request) and (name != "sma" or contender.endswith("jax")):
        pytest.skip("the smoke run: SMA, autokern and the library's NumPy path, one call each")
    benchmark.group = f"one likelihood through Fitness, a new model each call: {name}"
    model, _ = model_and_adapt(name)
    vectors = walk()
    with autokern.threads(1):
        fitness = Fitness(model=model, analysis=analysis_of(name, contender))
        checks = 1 if disabled(request) else 3
        for vector, expected in zip(vectors[:checks], reference(name, checks), strict=True):
            actual = float(fitness.call_wrap(vector))  # also compiles (library-jax) and warms
            # the library's JAX path is its own NumPy path only to its solver's tolerance
            tolerance = 1e-4 if contender.endswith("jax") else 1e-9
            assert abs(actual / expected - 1.0) <= tolerance, (contender, vector, actual,
                                                               expected)
        position = iter(range(10**9))
        result = benchmark.pedantic(
            lambda: fitness.call_wrap(vectors[next(position) % len(vectors)]),
            rounds=1 if disabled(request) else ROUNDS[name], iterations=1)
    assert np.isfinite(float(result))


@pytest.mark.parametrize("name", list(GEOMETRY))
def test_likelihood_vmap_batch(benchmark, request, name):
    if disabled(request):
        pytest.skip("the vmap batch: not in the smoke run (tests/test_analysis_jax.py checks it)")
    import jax.numpy as jnp

    benchmark.group = f"one likelihood through Fitness, a new model each call: {name}"
    model, _ = model_and_adapt(name)
    vectors = walk()
    batches = [jnp.asarray([vectors[(start + k) % len(vectors)] for k in range(BATCH)])
               for start in range(0, len(vectors), BATCH)]
    with autokern.threads(1):
        fitness = Fitness(model=model, analysis=analysis_of(name, "autokern-jax"),
                          batched=True)
        first = np.asarray(fitness.call_wrap(batches[0]))  # also compiles
        for actual, expected in zip(first[:3], reference(name, 3), strict=True):
            # on the library's traced ray tracing: its JAX path's tolerance (see above)
            assert abs(float(actual) / expected - 1.0) <= 1e-4, (actual, expected)
        position = iter(range(10**9))
        result = benchmark.pedantic(
            lambda: fitness.call_wrap(batches[next(position) % len(batches)]),
            rounds=max(ROUNDS[name] // BATCH, 2), iterations=1)
    benchmark.extra_info["batch"] = BATCH
    benchmark.extra_info["per_call_ms"] = 1e3 * benchmark.stats.stats.median / BATCH
    assert np.all(np.isfinite(np.asarray(result)))


@pytest.mark.parametrize("contender", ["autokern-numba", "library-numpy"])
def test_search(benchmark, request, contender):
    if disabled(request):
        pytest.skip("the search: not in the smoke run (tests/test_analysis.py runs searches)")
    benchmark.group = "Nautilus on the SMA data (n_live 20, 300 calls, seed 1): wall time"
    model, _ = model_and_adapt("sma")
    analysis = analysis_of("sma", contender)
    seconds = {}

    def run():
        search = af.Nautilus(name=contender, path_prefix=tempfile.mkdtemp(), n_live=20, seed=1,
                             n_like_max=300, silence=True)
        start = time.perf_counter()
        with autokern.threads(1):
            result = search.fit(model=model, analysis=analysis)
        seconds["wall"] = time.perf_counter() - start
        return result

    result = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["max_log_likelihood"] = float(
        result.samples.max_log_likelihood_sample.log_likelihood)
    assert len(result.samples.log_likelihood_list) > 20
