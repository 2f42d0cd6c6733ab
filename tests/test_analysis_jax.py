"""autokern.autoarray.AnalysisInterferometer(backend="jax", use_jax=True): the whole likelihood
traced by PyAutoFit's own ``Fitness`` (its scalar ``jax.jit`` and the ``jax.jit(jax.vmap)``
batch Nautilus uses) on the real SMA data, against autokern's Numba Analysis and the library's
NumPy path (1e-9 relative).  The library's ray tracing traces; the Delaunay mesh, mapping and
neighbours are one host callback into autokern's NumPy mesh code; H and the evidence are JAX.
Skipped where the library or the data is absent.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

al = pytest.importorskip("autolens")
jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402
from autofit.non_linear.fitness import Fitness  # noqa: E402

from autokern.errors import InputValueError  # noqa: E402
from test_analysis import (  # noqa: E402  # noqa: E402
    SOURCE,
    AnalysisInterferometer,
    analyses,
    assert_same,
    mesh_grid,
    model,
    points,
    sma_dataset,
)

#: parameter vectors per check: a new model each call
COUNT = 4


def traced(dataset=None, **kwargs) -> AnalysisInterferometer:
    """autokern's Analysis on the JAX backend with the library's traced ray tracing."""
    kwargs.setdefault("adapt_images", al.AdaptImages(
        galaxy_name_image_plane_mesh_grid_dict={SOURCE: mesh_grid()}))
    kwargs.setdefault("raise_inversion_positions_likelihood_exception", False)
    return AnalysisInterferometer(dataset=sma_dataset() if dataset is None else dataset,
                                  backend="jax", use_jax=True, **kwargs)


def expected_values(model_, vectors, dataset=None, **kwargs) -> list[tuple[float, float]]:
    """(the library's NumPy path, autokern's Numba Analysis) through Fitness, per vector."""
    library, numba = analyses(dataset, **kwargs)
    library, numba = Fitness(model=model_, analysis=library), Fitness(model=model_,
                                                                      analysis=numba)
    return [(library.call(vector), numba.call(vector)) for vector in vectors]


@pytest.mark.parametrize("regularization", [al.reg.ConstantSplit, al.reg.Constant])
def test_the_jitted_likelihood_is_numbas_and_the_librarys(regularization):
    model_ = model(regularization)
    vectors = points(model_, COUNT)
    fitness = Fitness(model=model_, analysis=traced())
    assert fitness.analysis.is_jax
    for vector, (library, numba) in zip(vectors, expected_values(model_, vectors), strict=True):
        value = fitness.call_wrap(jnp.asarray(vector))
        assert_same(value, numba, f"Numba {vector}")
        assert_same(value, library, f"library {vector}")
    assert fitness._call.__wrapped__._cache_size() == 1  # traced once, a new model each call
    # a vmap batch (Nautilus's objective) of the same vectors: the per-call values
    batched = Fitness(model=model_, analysis=fitness.analysis, batched=True)
    batch = np.asarray(batched.call_wrap(jnp.asarray(vectors)))
    single = [fitness.call_wrap(jnp.asarray(vector)) for vector in vectors]
    assert batch.shape == (COUNT,)
    for value, one in zip(batch, single, strict=True):
        assert_same(float(value), one, "vmap batch")


def test_over_sampled_pixelization_grid_traces():
    """Sub-size 2: four sub-pixels merged per image pixel inside the callback (fixed width)."""
    from autoarray.dataset.grids import GridsDataset

    dataset = copy.copy(sma_dataset())
    dataset.grids = GridsDataset(mask=dataset.real_space_mask, over_sample_size_lp=1,
                                 over_sample_size_pixelization=2)
    model_ = model()
    vectors = points(model_, 2, seed=2)
    fitness = Fitness(model=model_, analysis=traced(dataset), batched=True)
    batch = np.asarray(fitness.call_wrap(jnp.asarray(vectors)))
    for value, (library, numba) in zip(batch, expected_values(model_, vectors, dataset),
                                       strict=True):
        assert_same(float(value), numba, "sub_size 2, Numba")
        assert_same(float(value), library, "sub_size 2, library")


def test_the_positions_penalty_is_the_librarys():
    positions = al.PositionsLH(positions=al.Grid2DIrregular([(1.0, 0.0), (-1.0, 0.2)]),
                               threshold=0.05)
    model_ = model()
    vectors = points(model_, 2, seed=4)
    kwargs = {"positions_likelihood_list": [positions]}
    fitness = Fitness(model=model_, analysis=traced(**kwargs), batched=True)
    batch = np.asarray(fitness.call_wrap(jnp.asarray(vectors)))
    for value, (library, numba) in zip(batch, expected_values(model_, vectors, **kwargs),
                                       strict=True):
        assert_same(float(value), library, "positions penalty")
        assert_same(float(value), numba, "positions penalty, Numba")


def test_a_failing_model_is_resampled_or_raises_as_the_librarys(monkeypatch):
    """No triangulation of the traced mesh: the likelihood is NaN, which Fitness resamples
    (-inf); a model the library cannot build (no image-plane mesh grid) raises its
    MeshException while tracing, on both."""
    from autoarray import exc

    import autokern.data.mesh as mesh

    model_ = model()
    vector = jnp.asarray(points(model_, 1)[0])
    for analysis in (al.AnalysisInterferometer(dataset=sma_dataset(), use_jax=True),
                     AnalysisInterferometer(dataset=sma_dataset(), backend="jax",
                                            use_jax=True)):
        with pytest.raises(exc.MeshException):
            Fitness(model=model_, analysis=analysis).call_wrap(vector)

    def no_triangulation(points):
        raise InputValueError("source_points: no Delaunay triangulation (test)")

    monkeypatch.setattr(mesh, "triangulation_from", no_triangulation)
    fitness = Fitness(model=model_, analysis=traced(), batched=True)
    assert np.all(np.asarray(fitness.call_wrap(jnp.stack([vector, vector]))) == -np.inf)


def test_another_mesh_is_the_librarys_traced_fit_with_one_warning():
    """A mesh autokern does not trace: the library's own traced fit, named once; its value is
    the library's NumPy path to the library's JAX tolerance (its solver's, ~1e-5)."""
    model_ = model(al.reg.Constant, mesh=al.mesh.RectangularUniform(shape=(12, 12)))
    vectors = points(model_, 2, seed=5)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fitness = Fitness(model=model_, analysis=traced(), batched=True)
        batch = np.asarray(fitness.call_wrap(jnp.asarray(vectors)))
    named = [str(w.message) for w in record if "RectangularUniform" in str(w.message)]
    assert len(named) == 1, named
    for value, (library, _) in zip(batch, expected_values(model_, vectors), strict=True):
        assert abs(float(value) / library - 1.0) <= 1e-4, (value, library)


def test_a_gradient_is_refused_with_a_clear_error():
    model_ = model()
    fitness = Fitness(model=model_, analysis=traced())
    with pytest.raises(InputValueError, match="no gradient"):
        fitness.objective("value_and_grad")(jnp.asarray(points(model_, 1)[0]))


def test_use_jax_needs_the_jax_backend():
    with pytest.raises(InputValueError, match="backend='jax'"):
        AnalysisInterferometer(dataset=sma_dataset(), backend="numba", use_jax=True)
    analysis = traced()
    assert analysis.is_jax and analysis.backend == "jax"
