"""autokern.autoarray against the downstream library itself (PyAutoLens / PyAutoArray).

Each fit is built with the library's own API (``al.Interferometer.from_fits`` or
``al.SimulatorInterferometer``, ``al.Tracer``, ``al.FitInterferometer``), and autokern must give
back its ``fit.log_evidence`` from :func:`autokern.autoarray.arrays_from` on every backend.
Skipped where the library is not installed.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

al = pytest.importorskip("autolens")

import autoarray as aa  # noqa: E402
from autoarray.dataset.grids import GridsDataset  # noqa: E402

from autokern import get_kernel  # noqa: E402
from autokern.apps.autoarray import (  # noqa: E402
    LibraryArrays,
    arrays_from,
    inversion_of,
    log_evidence_of,
    precision_operator_for,
)
from autokern.catalogue import BACKEND_NAMES  # noqa: E402
from autokern.data.testing import default_data_dir  # noqa: E402
from autokern.errors import InputValueError  # noqa: E402

#: log evidence: relative to the library's; arrays: max |a - b| / max |b|
RTOL_EVIDENCE = 1e-9
RTOL_ARRAYS = 1e-10


def _data_dir() -> Path:
    directory = default_data_dir()
    if directory is None or not (directory / "sma" / "data.fits").is_file():
        pytest.skip("the SMA dataset (shared/data/sma) is not available")
    return directory


def relative(actual, expected) -> float:
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = np.max(np.abs(expected))
    return float(np.max(np.abs(actual - expected)) / scale) if scale else \
        float(np.max(np.abs(actual)))


# --- datasets, built once ------------------------------------------------------------------

_DATASETS: dict[str, object] = {}


def sma_mask():
    """The dev configuration: a circular 2.4" mask on a 100 x 100 grid of 0.2" pixels."""
    return al.Mask2D.circular(shape_native=(100, 100), pixel_scales=0.2, radius=2.4)


def sma_dataset():
    if "sma" not in _DATASETS:
        sma = _data_dir() / "sma"
        _DATASETS["sma"] = al.Interferometer.from_fits(
            data_path=sma / "data.fits", noise_map_path=sma / "noise_map.fits",
            uv_wavelengths_path=sma / "uv_wavelengths.fits", real_space_mask=sma_mask())
    return _DATASETS["sma"]


def alma_mask():
    return al.Mask2D.circular(shape_native=(40, 40), pixel_scales=0.15, radius=1.5)


def alma_dataset():
    """A small ALMA-like dataset simulated by the library: 300 baselines in an annulus, a lensed
    cored Sersic source, complex Gaussian noise of σ = 0.05 on each part."""
    if "alma" not in _DATASETS:
        rng = np.random.default_rng(7)
        radius = np.sqrt(rng.uniform(2.0e4 ** 2, 4.0e5 ** 2, 300))
        angle = rng.uniform(0.0, 2.0 * np.pi, 300)
        uv_wavelengths = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        mask = alma_mask()
        lens = al.Galaxy(redshift=0.5, mass=al.mp.Isothermal(
            centre=(0.0, 0.0), einstein_radius=0.8,
            ell_comps=al.convert.ell_comps_from(axis_ratio=0.8, angle=30.0)))
        source = al.Galaxy(redshift=1.0, light=al.lp.SersicCore(
            centre=(0.05, 0.1), ell_comps=(0.1, 0.0), intensity=0.3, effective_radius=0.3,
            sersic_index=1.5))
        simulator = al.SimulatorInterferometer(
            uv_wavelengths=uv_wavelengths, exposure_time=300.0, noise_sigma=0.05, noise_seed=1)
        simulated = simulator.via_tracer_from(tracer=al.Tracer(galaxies=[lens, source]),
                                              grid=al.Grid2D.from_mask(mask=mask))
        _DATASETS["alma"] = al.Interferometer(
            data=simulated.data, noise_map=simulated.noise_map, uv_wavelengths=uv_wavelengths,
            real_space_mask=mask)
    return _DATASETS["alma"]


def with_sparse_operator(name: str):
    """The dataset with the library's own precision operator (its sparse, w-tilde route)."""
    key = f"{name}+sparse"
    if key not in _DATASETS:
        _DATASETS[key] = (sma_dataset() if name == "sma" else alma_dataset()) \
            .apply_sparse_operator()
    return _DATASETS[key]


# --- fits -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    """One library fit: dataset, mesh, regularization, settings, over-sampling."""

    dataset: str  # "sma" or "alma"
    mesh: str  # "delaunay" (20 x 20 overlay) or "rectangular"
    coefficient: float
    settings: str  # "default" (Settings(): positive-only, edge zeroing) or "linear"
    edge_ring: bool = False  # Delaunay: append the 30-point ring, zeroed_pixels=30
    sub_size: int = 1
    sparse: bool = True  # the library's sparse (w-tilde) route, else its mapping route
    lens_light: bool = False
    primary_beam: bool = False


CONFIGS = {
    "sma-delaunay-linear": Config("sma", "delaunay", 2.0, "linear"),
    "sma-delaunay-default-edge": Config("sma", "delaunay", 0.1, "default", edge_ring=True),
    "sma-delaunay-linear-sub2": Config("sma", "delaunay", 2.0, "linear", sub_size=2),
    "sma-delaunay-default-edge-sub2": Config("sma", "delaunay", 0.1, "default", edge_ring=True,
                                             sub_size=2),
    "sma-delaunay-default-edge-mapping": Config("sma", "delaunay", 0.1, "default",
                                                edge_ring=True, sparse=False),
    "sma-rectangular-default": Config("sma", "rectangular", 1.0, "default"),
    "sma-rectangular-linear-sub2": Config("sma", "rectangular", 1.0, "linear", sub_size=2),
    "sma-delaunay-default-lens-light": Config("sma", "delaunay", 0.5, "default",
                                              edge_ring=True, lens_light=True),
    "alma-delaunay-default-edge": Config("alma", "delaunay", 1.0, "default", edge_ring=True),
    "alma-delaunay-linear-sub2": Config("alma", "delaunay", 1.0, "linear", sub_size=2),
    "alma-rectangular-default-mapping": Config("alma", "rectangular", 1.0, "default",
                                               sparse=False),
    "alma-delaunay-default-primary-beam": Config("alma", "delaunay", 1.0, "default",
                                                 edge_ring=True, primary_beam=True),
}

_FITS: dict[str, object] = {}


def _dataset_for(config: Config):
    dataset = with_sparse_operator(config.dataset) if config.sparse else \
        (sma_dataset() if config.dataset == "sma" else alma_dataset())
    if config.primary_beam:
        mask = dataset.real_space_mask
        beam = aa.primary_beam_gaussian_from(mask=mask, frequency_hz=230.0e9,
                                             dish_diameter_m=12.0)
        dataset = al.Interferometer(data=dataset.data, noise_map=dataset.noise_map,
                                    uv_wavelengths=dataset.uv_wavelengths,
                                    real_space_mask=mask, primary_beam=beam)
        if config.sparse:
            dataset = dataset.apply_sparse_operator()
    if config.sub_size != 1:
        # the Interferometer has no over-sampling argument: a copy's grids are rebuilt with
        # the pixelization grid over-sampled (the library's own GridsDataset)
        dataset = copy.copy(dataset)
        dataset.grids = GridsDataset(mask=dataset.real_space_mask, over_sample_size_lp=1,
                                     over_sample_size_pixelization=config.sub_size)
    return dataset


def fit_for(name: str):
    if name in _FITS:
        return _FITS[name]
    config = CONFIGS[name]
    dataset = _dataset_for(config)
    mask = dataset.real_space_mask
    if config.dataset == "sma":
        mass = al.mp.Isothermal(centre=(0.0, 0.0), einstein_radius=1.4,
                                ell_comps=al.convert.ell_comps_from(axis_ratio=0.9, angle=45.0))
        edge_radius = 2.5
    else:
        mass = al.mp.Isothermal(centre=(0.0, 0.0), einstein_radius=0.8,
                                ell_comps=al.convert.ell_comps_from(axis_ratio=0.8, angle=30.0))
        edge_radius = 1.6
    light = al.lp.Sersic(centre=(0.0, 0.0), intensity=0.05, effective_radius=0.6,
                         sersic_index=3.0) if config.lens_light else None
    lens = al.Galaxy(redshift=0.5, mass=mass, **({"light": light} if light else {}))
    regularization = al.reg.Constant(coefficient=config.coefficient)
    adapt_images = None
    if config.mesh == "delaunay":
        grid = al.image_mesh.Overlay(shape=(20, 20)).image_plane_mesh_grid_from(mask=mask)
        ring = 30 if config.edge_ring else 0
        if ring:
            grid = al.image_mesh.append_with_circle_edge_points(
                image_plane_mesh_grid=grid, centre=(0.0, 0.0), radius=edge_radius,
                n_points=ring)
        mesh = al.mesh.Delaunay(pixels=len(grid) - ring, zeroed_pixels=ring)
        source = al.Galaxy(redshift=1.0, pixelization=al.Pixelization(
            mesh=mesh, regularization=regularization))
        adapt_images = al.AdaptImages(galaxy_image_plane_mesh_grid_dict={source: grid})
    else:
        source = al.Galaxy(redshift=1.0, pixelization=al.Pixelization(
            mesh=al.mesh.RectangularUniform(shape=(14, 14)), regularization=regularization))
    settings = al.Settings() if config.settings == "default" else \
        al.Settings(use_positive_only_solver=False)
    fit = al.FitInterferometer(dataset=dataset, tracer=al.Tracer(galaxies=[lens, source]),
                               adapt_images=adapt_images, settings=settings)
    _FITS[name] = fit
    return fit


# --- the log evidence -----------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_log_evidence_is_the_librarys(name, backend):
    fit = fit_for(name)
    expected = float(fit.log_evidence)
    actual = log_evidence_of(fit, backend=backend)
    assert isinstance(actual, float)
    difference = abs(actual - expected) / abs(expected)
    assert difference <= RTOL_EVIDENCE, (
        f"{name} on {backend}: autokern {actual!r}, library {expected!r} "
        f"(relative difference {difference:.2e})")


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_an_inversion_built_once_serves_every_fit_of_the_dataset(backend):
    fit = fit_for(next(iter(CONFIGS)))
    inversion = inversion_of(fit, backend=backend)
    once = log_evidence_of(fit, backend=backend, inversion=inversion)
    assert once == log_evidence_of(fit, backend=backend, inversion=inversion)
    assert abs(once / float(fit.log_evidence) - 1.0) <= RTOL_EVIDENCE


def test_the_configurations_cover_what_they_claim():
    """The fits really take the routes, solvers, zeroing and sub-sizes their names say."""
    for name, config in CONFIGS.items():
        fit = fit_for(name)
        arrays = arrays_from(fit)
        mapper = fit.inversion.linear_obj_list[0]
        route = type(fit.inversion).__name__
        assert ("Sparse" in route) == config.sparse, (name, route)
        assert arrays.solver == ("positive_only" if config.settings == "default"
                                 else "positive_negative"), name
        assert mapper.over_sampler.sub_size.array.max() == config.sub_size, name
        assert len(mapper.pix_indexes_for_sub_slim_index) == len(
            arrays.native_index_for_slim_index) * config.sub_size ** 2, name
        zeroed = config.settings == "default" and (config.edge_ring or
                                                    config.mesh == "rectangular")
        assert (len(arrays.zeroed_pixels) > 0) == zeroed, name
        assert (arrays.nufft_precision_operator is not None) == config.sparse, name


# --- the arrays against the library's own ---------------------------------------------------

def test_arrays_match_the_librarys_dataset_and_inversion():
    fit = fit_for("sma-delaunay-default-edge-sub2")
    dataset, inversion = fit.dataset, fit.inversion
    mapper = inversion.linear_obj_list[0]
    arrays = arrays_from(fit)
    assert isinstance(arrays, LibraryArrays)
    assert arrays_from(dataset, inversion).pixels == arrays.pixels
    m = dataset.real_space_mask.pixels_in_mask
    k = dataset.uv_wavelengths.shape[0]
    s = mapper.params

    np.testing.assert_array_equal(arrays.data, dataset.data.array)
    np.testing.assert_array_equal(arrays.noise_map, dataset.noise_map.array)
    np.testing.assert_array_equal(arrays.uv_wavelengths, dataset.uv_wavelengths)
    assert arrays.data.dtype == np.complex128 and arrays.data.shape == (k,)
    assert arrays.uv_wavelengths.shape == (k, 2)
    np.testing.assert_array_equal(arrays.grid_radians_slim,
                                  dataset.transformer.grid.array)
    assert arrays.grid_radians_slim.shape == (m, 2)
    np.testing.assert_array_equal(arrays.native_index_for_slim_index,
                                  dataset.real_space_mask.derive_indexes.native_for_slim)
    assert arrays.shape_masked_pixels_2d == (24, 24) and arrays.pixel_scale == 0.2

    # the mapping: one row per image pixel, the library's own (sub-fraction weighted) T
    assert arrays.pix_indexes_for_sub_slim_index.shape[0] == m
    mapping = get_kernel("mapping_matrix_from", "original")(
        arrays.pix_indexes_for_sub_slim_index, arrays.pix_weights_for_sub_slim_index, s)
    assert relative(mapping, mapper.mapping_matrix) <= 1e-14
    rows = arrays.pix_indexes_for_sub_slim_index
    assert np.all((rows[:, 1:] > rows[:, :-1]) | (rows[:, 1:] == -1))  # sorted, merged
    np.testing.assert_array_equal(arrays.pix_sizes_for_sub_slim_index, (rows >= 0).sum(1))

    assert arrays.pixels == s == 338
    np.testing.assert_array_equal(arrays.neighbors, mapper.neighbors)
    np.testing.assert_array_equal(arrays.neighbors_sizes, mapper.neighbors.sizes)
    np.testing.assert_array_equal(arrays.zeroed_pixels, np.arange(308, 338))
    np.testing.assert_array_equal(arrays.regularization_matrix,
                                  inversion.regularization_matrix)
    assert arrays.regularization_matrix.shape == (s, s)
    assert arrays.solver == "positive_only"
    np.testing.assert_array_equal(arrays.nufft_precision_operator,
                                  dataset.sparse_operator.nufft_precision_operator)
    assert "S=338" in repr(arrays)

    # what autokern makes of them: the library's dirty image, F and D
    terms = get_kernel("visibility_terms_from", "numba")(
        arrays.data, arrays.noise_map, arrays.uv_wavelengths, arrays.grid_radians_slim,
        arrays.native_index_for_slim_index, arrays.pixel_scale)
    assert relative(terms.dirty_image, dataset.sparse_operator.dirty_image) <= RTOL_ARRAYS
    preload = get_kernel("nufft_precision_operator_via_w_compact_from", "original")(terms.w_compact)
    assert relative(preload, arrays.nufft_precision_operator) <= RTOL_ARRAYS
    curvature = get_kernel("curvature_matrix_via_w_compact_from", "numba")(
        terms.w_compact, arrays.native_index_for_slim_index,
        arrays.pix_indexes_for_sub_slim_index, arrays.pix_weights_for_sub_slim_index, s)
    assert relative(curvature, inversion.curvature_matrix) <= RTOL_ARRAYS
    data_vector = get_kernel("sparse_mapping_matrix_transpose_matmul", "numba")(
        terms.dirty_image, arrays.pix_indexes_for_sub_slim_index,
        arrays.pix_weights_for_sub_slim_index, s)
    assert relative(data_vector, inversion.data_vector) <= RTOL_ARRAYS


def test_arrays_match_the_reference_run():
    """The dev configuration read through the adapter gives the stored run's arrays."""
    path = _data_dir() / "sma_delaunay_dev.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    reference = np.load(path)
    arrays = arrays_from(fit_for("sma-delaunay-linear"))
    for key in ("data", "noise_map", "uv_wavelengths", "grid_radians_slim",
                "native_index_for_slim_index", "nufft_precision_operator"):
        assert relative(getattr(arrays, key), reference[key]) <= 1e-14, key
    # the stored run numbers the same Delaunay vertices in another order: H and the mapping
    # agree up to that permutation (the log evidence does not depend on it)
    np.testing.assert_allclose(np.sort(np.diag(arrays.regularization_matrix)),
                               np.sort(np.diag(reference["regularization_matrix"])), rtol=1e-14)
    assert arrays.shape_masked_pixels_2d == tuple(reference["shape_native_masked_pixels"])
    assert arrays.pixel_scale == float(reference["pixel_scale"])
    assert arrays.pixels == 308 and len(arrays.zeroed_pixels) == 0
    actual = log_evidence_of(arrays, backend="numba")
    assert abs(actual / float(reference["log_evidence_linear"]) - 1.0) <= RTOL_EVIDENCE


def test_edge_zeroing_follows_the_librarys_settings():
    """Zeroed pixels only under the positive-only solver with use_edge_zeroed_pixels."""
    fit = fit_for("sma-delaunay-default-edge")
    for settings, solver, zeroed in [
            (al.Settings(), "positive_only", 30),
            (al.Settings(use_edge_zeroed_pixels=False), "positive_only", 0),
            (al.Settings(use_positive_only_solver=False), "positive_negative", 0)]:
        other = al.FitInterferometer(dataset=fit.dataset, tracer=fit.tracer,
                                     adapt_images=fit.adapt_images, settings=settings)
        arrays = arrays_from(other)
        assert arrays.solver == solver and len(arrays.zeroed_pixels) == zeroed
        expected = float(other.log_evidence)
        assert abs(log_evidence_of(arrays, "numba") / expected - 1.0) <= RTOL_EVIDENCE


def test_lens_light_is_subtracted_before_the_inversion():
    fit = fit_for("sma-delaunay-default-lens-light")
    arrays = arrays_from(fit)
    np.testing.assert_allclose(arrays.data, fit.profile_subtracted_visibilities.array,
                               rtol=0, atol=1e-12 * np.abs(arrays.data).max())
    assert not np.allclose(arrays.data, fit.dataset.data.array)


def test_primary_beam_is_folded_into_the_mapping():
    fit = fit_for("alma-delaunay-default-primary-beam")
    beam = np.asarray(fit.dataset.primary_beam_slim)
    assert beam.min() < 0.999  # the beam is not trivial on this mask
    arrays = arrays_from(fit)
    mapper = fit.inversion.linear_obj_list[0]
    mapping = get_kernel("mapping_matrix_from", "original")(
        arrays.pix_indexes_for_sub_slim_index, arrays.pix_weights_for_sub_slim_index,
        arrays.pixels)
    assert relative(mapping, beam[:, None] * np.asarray(mapper.mapping_matrix)) <= 1e-14


# --- the precision operator, handed to the library ------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_precision_operator_is_the_librarys(backend):
    library = with_sparse_operator("sma").sparse_operator.nufft_precision_operator
    preload = precision_operator_for(sma_dataset(), backend=backend)
    assert isinstance(preload, np.ndarray) and preload.shape == (48, 48)
    assert relative(preload, library) <= RTOL_ARRAYS


def test_the_library_takes_autokerns_precision_operator():
    for name in ("sma", "alma"):
        plain = sma_dataset() if name == "sma" else alma_dataset()
        dataset = plain.apply_sparse_operator(
            nufft_precision_operator=precision_operator_for(plain, backend="numba"))
        library = with_sparse_operator(name)
        config = "sma-delaunay-default-edge" if name == "sma" else "alma-delaunay-default-edge"
        reference = fit_for(config)
        fit = al.FitInterferometer(dataset=dataset, tracer=reference.tracer,
                                   adapt_images=reference.adapt_images,
                                   settings=reference.settings)
        assert reference.dataset is library
        assert abs(float(fit.log_evidence) / float(reference.log_evidence) - 1.0) <= 1e-10


# --- what the adapter refuses ---------------------------------------------------------------

def test_fits_autokern_cannot_evaluate_are_refused_by_name():
    dataset = with_sparse_operator("sma")
    lens = al.Galaxy(redshift=0.5, mass=al.mp.Isothermal(einstein_radius=1.4))
    no_inversion = al.FitInterferometer(
        dataset=dataset, tracer=al.Tracer(galaxies=[
            lens, al.Galaxy(redshift=1.0, light=al.lp.Sersic(intensity=0.1))]))
    with pytest.raises(InputValueError, match="no inversion"):
        arrays_from(no_inversion)
    linear_light = al.FitInterferometer(
        dataset=dataset, tracer=al.Tracer(galaxies=[
            lens, al.Galaxy(redshift=1.0, light=al.lp_linear.Sersic())]))
    with pytest.raises(InputValueError, match="exactly one pixelization"):
        arrays_from(linear_light)


def test_without_the_library_the_import_names_the_extra():
    """Where the library is absent, importing the adapter raises MissingDependencyError
    (shown here by hiding autoarray from a fresh interpreter)."""
    code = ("import sys\n"
            "sys.modules['autoarray'] = None\n"
            "from autokern.errors import MissingDependencyError\n"
            "try:\n"
            "    import autokern.autoarray\n"
            "except MissingDependencyError as error:\n"
            "    print('raised:', error)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert 'pip install "autokern[autolens]"' in run.stdout
