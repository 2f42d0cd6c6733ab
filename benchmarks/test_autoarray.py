"""One PyAutoLens fit, evaluated by the library and by autokern: the likelihood a user's sampler
calls, per backend.

    pytest benchmarks/test_autoarray.py --benchmark-group-by=group

Two fits, each with an isothermal lens, a Delaunay source mesh from an image-plane overlay plus
the library's 30-point edge ring, constant regularization, the library's default ``Settings()``
(positive-only solve, edge zeroing) and its precision operator applied to the dataset:

- ``sma``: the real SMA visibilities (``../shared/data/sma``), the dev mask (2.4″ on 100 × 100
  pixels of 0.2″), a 20 × 20 overlay (S = 338);
- ``alma35``: the visibilities of the ``alma35`` preset (K = 10⁶, a 3.5″ mask of 0.05″ pixels,
  M = 15 380), a 44 × 44 overlay (S ≈ 1 550).

Each round
builds a fresh ``FitInterferometer`` (the library caches on the fit) and asks it for its log
evidence — ``library``: ``fit.log_evidence``; ``autokern-<backend>``:
``log_evidence_of(fit, inversion=...)`` with the inversion built once per dataset (outside the
timing).  Both sides include the library's own ray-tracing, mesh and mapper, which autokern
reads.  Skipped where autolens is not installed.
"""

from __future__ import annotations

import pytest

from autokern.catalogue import BACKEND_NAMES
from autokern.data import testing
from autokern.data.testing import default_data_dir

al = pytest.importorskip("autolens")

from autokern.apps.autoarray import inversion_of, log_evidence_of  # noqa: E402

_STATE: dict[str, object] = {}
FITS = ("sma", "alma35")


def _dataset(name: str):
    if name not in _STATE:
        if name == "sma":
            directory = default_data_dir()
            if directory is None or not (directory / "sma" / "data.fits").is_file():
                pytest.skip("the SMA dataset (shared/data/sma) is not available")
            sma = directory / "sma"
            mask = al.Mask2D.circular(shape_native=(100, 100), pixel_scales=0.2, radius=2.4)
            dataset = al.Interferometer.from_fits(
                data_path=sma / "data.fits", noise_map_path=sma / "noise_map.fits",
                uv_wavelengths_path=sma / "uv_wavelengths.fits", real_space_mask=mask)
        else:
            visibilities = testing.mock_case(name).dataset
            mask = al.Mask2D(mask=visibilities.real_space_mask,
                             pixel_scales=(visibilities.pixel_scale,) * 2)
            dataset = al.Interferometer(
                data=al.Visibilities(visibilities.data),
                noise_map=al.VisibilitiesNoiseMap(visibilities.noise_map),
                uv_wavelengths=visibilities.uv_wavelengths, real_space_mask=mask)
        _STATE[name] = dataset.apply_sparse_operator()
    return _STATE[name]


def _fit(name: str):
    einstein_radius, overlay, edge = (1.4, 20, 2.5) if name == "sma" else (1.75, 44, 3.6)
    return fit_of(_dataset(name), einstein_radius, overlay, edge,
                  al.reg.Constant(coefficient=0.1))


def fit_of(dataset, einstein_radius: float, overlay: int, edge: float, regularization):
    """The library's fit of ``dataset``: an isothermal lens (q 0.9 at 45°), a Delaunay mesh of
    an overlay × overlay image-plane grid plus a 30-point edge ring at ``edge`` arcsec (zeroed),
    ``regularization``, default ``Settings()``."""
    mask = dataset.real_space_mask
    lens = al.Galaxy(redshift=0.5, mass=al.mp.Isothermal(
        centre=(0.0, 0.0), einstein_radius=einstein_radius,
        ell_comps=al.convert.ell_comps_from(axis_ratio=0.9, angle=45.0)))
    grid = al.image_mesh.Overlay(shape=(overlay, overlay)).image_plane_mesh_grid_from(mask=mask)
    grid = al.image_mesh.append_with_circle_edge_points(
        image_plane_mesh_grid=grid, centre=(0.0, 0.0), radius=edge, n_points=30)
    source = al.Galaxy(redshift=1.0, pixelization=al.Pixelization(
        mesh=al.mesh.Delaunay(pixels=len(grid) - 30, zeroed_pixels=30),
        regularization=regularization))
    return al.FitInterferometer(
        dataset=dataset, tracer=al.Tracer(galaxies=[lens, source]),
        adapt_images=al.AdaptImages(galaxy_image_plane_mesh_grid_dict={source: grid}),
        settings=al.Settings())


@pytest.mark.parametrize("name", FITS)
def test_fit_library(benchmark, name):
    benchmark.group = f"one PyAutoLens fit: {name}, Delaunay, default settings"
    expected = float(_fit(name).log_evidence)
    assert benchmark(lambda: float(_fit(name).log_evidence)) == pytest.approx(expected,
                                                                                rel=1e-12)


@pytest.mark.parametrize("name, backend", [
    (name, backend) for name in FITS for backend in BACKEND_NAMES
    if backend != "original" or name == "sma"  # the reference backend: small problems only
])
def test_fit_autokern(benchmark, name, backend):
    benchmark.group = f"one PyAutoLens fit: {name}, Delaunay, default settings"
    inversion = inversion_of(_fit(name), backend=backend)
    expected = float(_fit(name).log_evidence)
    log_evidence = benchmark(lambda: log_evidence_of(_fit(name), backend=backend,
                                                     inversion=inversion))
    assert log_evidence == pytest.approx(expected, rel=1e-9)
