"""autokern.autoarray.AnalysisInterferometer: the library's own searches on autokern.

Real parts only: the real SMA visibilities (``../shared/data/sma``) on a small 0.1″-pixel mask,
PyAutoLens's model composition, PyAutoFit's ``Fitness`` and its Nautilus search (few live
points, a few hundred calls), output to ``tmp_path``.  Each search is run by the library's
``al.AnalysisInterferometer(use_jax=False)`` and by autokern's subclass (Numba), and must give
the same maximum log likelihood (1e-9 relative) and the same points for the same seed.
Skipped where the library or the data is absent.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

al = pytest.importorskip("autolens")

import autofit as af  # noqa: E402
from autofit.non_linear.fitness import Fitness  # noqa: E402

import autokern  # noqa: E402
from autokern.apps.autoarray import AnalysisInterferometer  # noqa: E402
from autokern.data.testing import default_data_dir  # noqa: E402
from autokern.errors import InputValueError  # noqa: E402

RTOL = 1e-9
#: the search's settings: few live points, a few hundred calls (each search < 30 s)
N_LIVE, N_LIKE_MAX, SEED = 20, 200, 1
SOURCE = str(("galaxies", "source"))

_CACHE: dict[str, object] = {}


def sma_dataset():
    """The real SMA visibilities on a 1.5″ circular mask of 0.1″ pixels (M = 716)."""
    if "dataset" not in _CACHE:
        directory = default_data_dir()
        if directory is None or not (directory / "sma" / "data.fits").is_file():
            pytest.skip("the SMA dataset (shared/data/sma) is not available")
        sma = directory / "sma"
        mask = al.Mask2D.circular(shape_native=(40, 40), pixel_scales=0.1, radius=1.5)
        _CACHE["dataset"] = al.Interferometer.from_fits(
            data_path=sma / "data.fits", noise_map_path=sma / "noise_map.fits",
            uv_wavelengths_path=sma / "uv_wavelengths.fits",
            real_space_mask=mask).apply_sparse_operator()
    return _CACHE["dataset"]


def mesh_grid(overlay: int = 14):
    """An overlay image mesh plus the library's 30-point edge ring (zeroed)."""
    mask = sma_dataset().real_space_mask
    grid = al.image_mesh.Overlay(shape=(overlay, overlay)).image_plane_mesh_grid_from(mask=mask)
    return al.image_mesh.append_with_circle_edge_points(
        image_plane_mesh_grid=grid, centre=(0.0, 0.0), radius=3.6, n_points=30)


def model(regularization=al.reg.ConstantSplit, mesh=None, lens_light: bool = False):
    """Isothermal lens (θE free), a pixelized source (coefficient free): 2 parameters."""
    lens = af.Model(al.Galaxy, redshift=0.5, mass=al.mp.Isothermal)
    lens.mass.centre = (0.0, 0.0)
    lens.mass.ell_comps = (0.05, 0.05)
    lens.mass.einstein_radius = af.UniformPrior(lower_limit=1.0, upper_limit=1.8)
    if lens_light:
        lens.light = al.lp.Sersic(centre=(0.0, 0.0), intensity=0.05, effective_radius=0.6,
                                  sersic_index=3.0)
    if mesh is None:
        mesh = al.mesh.Delaunay(pixels=len(mesh_grid()) - 30, zeroed_pixels=30)
    pixelization = af.Model(al.Pixelization, mesh=mesh, regularization=regularization)
    if isinstance(regularization, type):  # a class: its coefficient is free
        pixelization.regularization.coefficient = af.LogUniformPrior(lower_limit=0.01,
                                                                     upper_limit=10.0)
    source = af.Model(al.Galaxy, redshift=1.0, pixelization=pixelization)
    return af.Collection(galaxies=af.Collection(lens=lens, source=source))


def analyses(dataset=None, **kwargs):
    """(the library's NumPy-path analysis, autokern's), with the same arguments."""
    dataset = sma_dataset() if dataset is None else dataset
    kwargs.setdefault("adapt_images", al.AdaptImages(
        galaxy_name_image_plane_mesh_grid_dict={SOURCE: mesh_grid()}))
    kwargs.setdefault("raise_inversion_positions_likelihood_exception", False)
    return (al.AnalysisInterferometer(dataset=dataset, use_jax=False, **kwargs),
            AnalysisInterferometer(dataset=dataset, backend="numba", **kwargs))


def points(model_, count: int, seed: int = 0) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return [model_.vector_from_unit_vector(list(rng.uniform(size=model_.prior_count)))
            for _ in range(count)]


def assert_same(actual, expected, what: str) -> None:
    if np.isfinite(expected):
        assert abs(actual / expected - 1.0) <= RTOL, (
            f"{what}: autokern {actual!r}, library {expected!r}")
    else:
        assert actual == expected, f"{what}: autokern {actual!r}, library {expected!r}"


# --- one likelihood through Fitness ---------------------------------------------------------

@pytest.mark.parametrize("regularization", [al.reg.ConstantSplit, al.reg.Constant])
def test_each_likelihood_through_fitness_is_the_librarys(regularization):
    model_ = model(regularization)
    library, autokern = analyses()
    expected, actual = Fitness(model=model_, analysis=library), \
        Fitness(model=model_, analysis=autokern)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning: autokern does all of it
        for vector in points(model_, 8):
            assert_same(actual.call(vector), expected.call(vector), f"{vector}")
    assert "inversion" in autokern._state and autokern._state["warm_start"] is not None


def test_over_sampled_pixelization_grid_is_the_librarys():
    from autoarray.dataset.grids import GridsDataset

    dataset = sma_dataset()
    dataset = copy.copy(dataset)
    dataset.grids = GridsDataset(mask=dataset.real_space_mask, over_sample_size_lp=1,
                                 over_sample_size_pixelization=2)
    model_ = model()
    library, autokern = analyses(dataset)
    for vector in points(model_, 3, seed=2):
        instance = model_.instance_from_vector(vector)
        assert_same(autokern.log_likelihood_function(instance),
                    library.log_likelihood_function(instance), f"sub_size 2 {vector}")


def test_what_autokern_lacks_is_the_librarys_with_one_warning():
    adapt_split = al.reg.AdaptSplit(inner_coefficient=0.3, outer_coefficient=1.0,
                                    signal_scale=0.2)
    for kwargs, name in [({"regularization": adapt_split}, "AdaptSplit"),
                         ({"mesh": al.mesh.RectangularUniform(shape=(12, 12)),
                           "regularization": al.reg.Constant},
                          "RectangularUniform"),
                         ({"lens_light": True}, "light profiles")]:
        regularization = kwargs.pop("regularization", al.reg.ConstantSplit)
        model_ = model(regularization, **kwargs)
        extra = {}
        if regularization is adapt_split:
            mask = sma_dataset().real_space_mask
            image = al.Array2D(values=np.linspace(0.1, 1.0, mask.pixels_in_mask), mask=mask)
            extra["adapt_images"] = al.AdaptImages(
                galaxy_name_image_plane_mesh_grid_dict={SOURCE: mesh_grid()},
                galaxy_name_image_dict={SOURCE: image})
        library, autokern = analyses(**extra)
        vectors = points(model_, 2, seed=3)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            for vector in vectors:
                instance = model_.instance_from_vector(vector)
                assert_same(autokern.log_likelihood_function(instance),
                            library.log_likelihood_function(instance), f"{name} {vector}")
        named = [str(w.message) for w in record if name in str(w.message)]
        assert len(named) == 1, (name, [str(w.message) for w in record])  # once, not per call


def test_an_exception_in_the_fit_is_the_librarys_resample():
    """A Delaunay mesh without its image-plane grid (no adapt_images) fails inside the fit:
    both raise af.exc.FitException and Fitness returns its resample value."""
    model_ = model()
    library, autokern = analyses(adapt_images=None)
    instance = model_.instance_from_vector(points(model_, 1)[0])
    for analysis in (library, autokern):
        with pytest.raises(af.exc.FitException):
            analysis.log_likelihood_function(instance)
    vector = points(model_, 1)[0]
    assert Fitness(model=model_, analysis=autokern).call(vector) == \
        Fitness(model=model_, analysis=library).call(vector) == -np.inf


def test_arguments():
    with pytest.raises(InputValueError, match="backend"):
        AnalysisInterferometer(dataset=sma_dataset(), backend="cuda")
    with pytest.raises(InputValueError, match="use_jax"):
        AnalysisInterferometer(dataset=sma_dataset(), use_jax=True)
    assert isinstance(analyses()[1], al.AnalysisInterferometer)


# --- real searches --------------------------------------------------------------------------

def search(analysis, path: Path, name: str, cores: int = 1):
    nautilus = af.Nautilus(name=name, path_prefix=str(path), n_live=N_LIVE, seed=SEED,
                           n_like_max=N_LIKE_MAX, number_of_cores=cores, silence=True,
                           iterations_per_quick_update=None)
    with autokern.threads(1):  # both sides on one thread (Numba and BLAS)
        return nautilus.fit(model=model(), analysis=analysis)


def samples_of(result) -> tuple[np.ndarray, np.ndarray]:
    """(every point the search kept, (N, 2); their log likelihoods (N,))."""
    return (np.asarray(result.samples.parameter_lists),
            np.asarray(result.samples.log_likelihood_list))


def test_nautilus_search_is_the_librarys(tmp_path):
    library, autokern = analyses()
    expected = search(library, tmp_path / "library", "library")
    actual = search(autokern, tmp_path / "autokern", "autokern")
    e_points, e_lh = samples_of(expected)
    a_points, a_lh = samples_of(actual)
    assert len(a_lh) == len(e_lh) > N_LIVE
    np.testing.assert_array_equal(a_points, e_points)  # the same points for the same seed
    np.testing.assert_allclose(a_lh, e_lh, rtol=RTOL)
    assert_same(actual.samples.max_log_likelihood_sample.log_likelihood,
                expected.samples.max_log_likelihood_sample.log_likelihood, "max log likelihood")
    assert (tmp_path / "autokern").is_dir()


def test_nautilus_on_a_fork_pool_of_two_workers(tmp_path):
    """number_of_cores=2: Nautilus's fork pool runs autokern in two workers (one Numba/BLAS
    thread each); every log likelihood it kept is the library's for that point."""
    library, autokern = analyses()
    pooled = search(autokern, tmp_path / "pool", "pool", cores=2)
    points_, log_likelihoods = samples_of(pooled)
    assert len(log_likelihoods) > N_LIVE
    model_ = pooled.samples.model
    step = max(1, len(points_) // 6)
    for vector, value in list(zip(points_, log_likelihoods, strict=True))[::step]:
        instance = model_.instance_from_vector(list(vector))
        assert_same(value, float(library.log_likelihood_function(instance)), f"{vector}")


_JAX_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import jax
from test_analysis import analyses, model, points, AnalysisInterferometer, sma_dataset
library, _ = analyses()
analysis = AnalysisInterferometer(dataset=sma_dataset(), backend="jax", jax_cache_dir={cache!r},
                                  adapt_images=library.adapt_images,
                                  raise_inversion_positions_likelihood_exception=False)
model_ = model()
instance = model_.instance_from_vector(points(model_, 1)[0])
print("RESULT", repr(float(analysis.log_likelihood_function(instance))),
      repr(float(library.log_likelihood_function(instance))),
      jax.config.jax_compilation_cache_dir)
"""


def test_the_jax_backend_keeps_its_compiled_kernels_for_the_next_process(tmp_path):
    """backend="jax": the library's value (1e-9), and JAX's persistent compilation cache at
    jax_cache_dir, which a second process reads instead of compiling again."""
    cache = tmp_path / "jax-cache"
    code = _JAX_SCRIPT.format(tests=str(Path(__file__).parent), cache=str(cache))
    entries = []
    for _ in range(2):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT"))
        _, actual, expected, directory = line.split()
        assert_same(float(actual), float(expected), "jax backend")
        assert directory == str(cache)
        entries.append(sorted(p.name for p in cache.iterdir()))
    assert entries[0] and entries[1] == entries[0]  # nothing compiled again


_POOL: dict[str, object] = {}


def _worker_likelihood(vector):
    import numba

    from autokern._runtime.parallelism import blas_counts

    analysis, model_ = _POOL["analysis"], _POOL["model"]
    value = analysis.log_likelihood_function(model_.instance_from_vector(vector))
    return float(value), numba.get_num_threads(), {count for _, count in blas_counts()}


def test_a_pool_worker_runs_on_one_numba_and_blas_thread():
    """In a fork pool's worker the Analysis sets autokern.set_num_threads(1) for the user
    (the parent keeps its own counts) and gives the parent's values."""
    import multiprocessing

    import numba

    _, autokern_analysis = analyses()
    model_ = model()
    vectors = points(model_, 4, seed=7)
    expected = [float(autokern_analysis.log_likelihood_function(model_.instance_from_vector(v)))
                for v in vectors]
    parent_threads = numba.get_num_threads()
    _POOL.update(analysis=autokern_analysis, model=model_)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_worker_likelihood, vectors)
    for (value, threads, blas), reference in zip(results, expected, strict=True):
        assert_same(value, reference, "a worker's likelihood")
        assert threads == 1 and blas == {1}
    assert numba.get_num_threads() == parent_threads


def test_the_analysis_pickles_without_its_per_process_state():
    """A spawned worker (or PyAutoFit's output) unpickles the Analysis: the class is found by
    name, the cached Inversion and warm start are not carried, and it evaluates the same."""
    import pickle

    _, autokern_analysis = analyses()
    model_ = model()
    instance = model_.instance_from_vector(points(model_, 1)[0])
    expected = autokern_analysis.log_likelihood_function(instance)
    copy_ = pickle.loads(pickle.dumps(autokern_analysis))
    assert type(copy_) is AnalysisInterferometer and copy_._state == {}
    assert_same(copy_.log_likelihood_function(instance), expected, "unpickled")
