"""autokern.plot: figures written to files, with the labels and data they claim."""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.collections import TriMesh
from matplotlib.figure import Figure

from autokern import original as ref
from autokern.apps import plot
from autokern.data import grids, mesh, testing
from autokern.errors import InputShapeError, MissingDependencyError

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fit():
    """A tiny mock with its dirty image, reconstruction and model visibilities."""
    case = testing.mock_case("tiny", seed=0)
    ds, source = case.dataset, case.mesh
    reconstruction = ref.reconstruction_positive_negative_from(
        case.value("data_vector"), case.value("curvature_reg_matrix"))
    image = case.value("mapping_matrix") @ reconstruction
    y, x = ds.grid_radians_slim.T
    u, v = ds.uv_wavelengths.T
    # V_k = Σ_j f_j exp(-2πi (x_j u_k + y_j v_k)): the transform whose adjoint is the dirty image
    model = np.exp(-2j * np.pi * (np.outer(u, x) + np.outer(v, y))) @ image
    return case, case.value("dirty_image"), source, reconstruction, model


def _saved(path) -> bytes:
    content = path.read_bytes()
    assert content[:8] == PNG and len(content) > 5_000
    return content


def test_dirty_image_on_its_mask(fit, tmp_path):
    case, dirty, *_ = fit
    figure = plot.plot_dirty_image(dirty, case.dataset.grid, path=tmp_path / "dirty.png")
    _saved(tmp_path / "dirty.png")
    ax = figure.axes[0]
    assert isinstance(figure, Figure)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x (arcsec)", "y (arcsec)")
    assert "dirty image" in ax.get_title() and "Jy⁻¹" in figure.axes[1].get_ylabel()
    # the image is the slim values on the mask, cropped to the unmasked pixels
    shown = np.ma.filled(ax.images[0].get_array(), np.nan)
    grid = case.dataset.grid
    assert shown.shape == grid.shape_masked_pixels_2d
    np.testing.assert_array_equal(shown[~np.isnan(shown)], dirty)
    left, right, bottom, top = ax.images[0].get_extent()
    half_width = grid.shape_masked_pixels_2d[1] * grid.pixel_scale / 2
    np.testing.assert_allclose([left, right], [-half_width, half_width], atol=1e-9)
    assert top > bottom


def test_residual_image_is_symmetric_on_any_mask(tmp_path):
    mask = grids.mask_2d_circular_annular_from((40, 40), 0.1, 0.5, 1.5)
    grid = grids.MaskedGrid(mask, 0.1, origin=(1.0, -2.0))
    values = np.linspace(-1.0, 3.0, grid.pixels)
    figure = plot.plot_image(values, grid, cmap="RdBu_r", symmetric=True, title="residuals",
                             label="r", path=tmp_path / "residual.png")
    _saved(tmp_path / "residual.png")
    image = figure.axes[0].images[0]
    assert image.get_clim() == (-3.0, 3.0)
    left, right, bottom, top = image.get_extent()
    assert left < -2.0 < right and bottom < 1.0 < top  # centred on the origin
    assert np.isnan(np.ma.filled(image.get_array(), np.nan)[15, 15])  # the hole is blank


def test_reconstruction_is_shaded_over_the_mesh(fit, tmp_path):
    case, _, source, reconstruction, _ = fit
    figure = plot.plot_reconstruction(source.points, reconstruction, path=tmp_path / "src.png")
    _saved(tmp_path / "src.png")
    ax = figure.axes[0]
    [shaded] = [c for c in ax.collections if isinstance(c, TriMesh)]
    np.testing.assert_array_equal(shaded.get_array(), reconstruction)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), source.points[:, 1])
    assert ax.get_xlabel().startswith("x (arcsec") and "S = 48" in ax.get_title()
    # a DelaunayMesh gives its own vertices and triangles
    delaunay = mesh.delaunay_mesh_from(source.points, case.dataset.grid_radians_slim)
    again = plot.plot_reconstruction(delaunay, reconstruction, show_vertices=False)
    assert not again.axes[0].lines


def test_uv_coverage_has_every_baseline_and_its_conjugate(fit, tmp_path):
    case, *_ = fit
    uv = case.dataset.uv_wavelengths
    figure = plot.plot_uv_coverage(uv, path=tmp_path / "uv.png")
    _saved(tmp_path / "uv.png")
    ax = figure.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("u (kλ)", "v (kλ)")
    points = {line.get_label(): np.c_[line.get_xdata(), line.get_ydata()] for line in ax.lines}
    np.testing.assert_allclose(points["(u, v)"], uv / 1e3)
    np.testing.assert_allclose(points["conjugate (−u, −v)"], -uv / 1e3)


def test_residuals_are_normalised_by_the_noise(fit, tmp_path):
    case, *_, model = fit
    ds = case.dataset
    figure = plot.plot_residuals(ds.uv_wavelengths, ds.data, model, ds.noise_map,
                                 path=tmp_path / "residuals.png")
    _saved(tmp_path / "residuals.png")
    scatter, histogram = figure.axes
    real, imag = scatter.lines[:2]
    np.testing.assert_allclose(real.get_xdata(), np.hypot(*ds.uv_wavelengths.T) / 1e3)
    np.testing.assert_allclose(real.get_ydata(), (ds.data - model).real / ds.noise_map.real)
    np.testing.assert_allclose(imag.get_ydata(), (ds.data - model).imag / ds.noise_map.imag)
    assert scatter.get_xlabel() == "uv distance (kλ)" and scatter.get_ylabel() == "residual / σ"
    chi_squared = np.sum(np.abs((ds.data - model).real / ds.noise_map.real) ** 2
                         + np.abs((ds.data - model).imag / ds.noise_map.imag) ** 2)
    assert f"{chi_squared / (2 * len(ds.data)):.3g}" in histogram.get_title()


def test_draws_into_given_axes(fit):
    case, dirty, *_ = fit
    figure = Figure()
    left, right = figure.subplots(1, 2)
    assert plot.plot_dirty_image(dirty, case.dataset.grid, ax=left) is figure
    assert plot.plot_uv_coverage(case.dataset.uv_wavelengths, ax=right) is figure
    assert left.images and right.lines


def test_bad_shapes_are_clear_errors(fit):
    case, dirty, *_ = fit
    with pytest.raises(InputShapeError, match=r"values must have shape \(112\)"):
        plot.plot_image(dirty[:-1], case.dataset.grid)
    with pytest.raises(InputShapeError, match="uv_wavelengths"):
        plot.plot_uv_coverage(np.ones((4, 3)))


def test_missing_matplotlib_names_the_extra(monkeypatch, fit):
    case, dirty, *_ = fit
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r'pip install "autokern\[plot\]"'):
        plot.plot_dirty_image(dirty, case.dataset.grid)
