"""Figures of a fit: images on the mask, the source reconstruction, uv coverage, residuals.

Needs matplotlib (the ``plot`` extra: ``pip install "autokern[plot]"``); without it every
function raises :class:`autokern.errors.MissingDependencyError`.  The figures are built with
matplotlib's object API (``matplotlib.figure.Figure``), so they need no display and leave
pyplot's state and backend alone.  Each function returns its ``Figure``; pass ``ax=`` to draw
into an axes of your own figure instead, and ``path=`` to also save it (PNG, PDF, … by the
file's suffix)::

    from autokern import plot

    plot.plot_dirty_image(dirty_image, dataset.grid, path="dirty.png")
    plot.plot_reconstruction(mesh.points, reconstruction, simplices=mesh.simplices)
    plot.plot_uv_coverage(dataset.uv_wavelengths)
    plot.plot_residuals(dataset.uv_wavelengths, dataset.data, model_visibilities,
                        dataset.noise_map)

Coordinates are drawn as on the sky: x (arcsec) to the right, y (arcsec) up.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from autokern.data.grids import MaskedGrid
from autokern.errors import InputShapeError, optional_module

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_dirty_image", "plot_image", "plot_reconstruction", "plot_residuals",
           "plot_uv_coverage", "require_matplotlib"]

_ARCSEC = np.pi / 648000.0
_DPI = 150


def require_matplotlib() -> Any:
    """The ``matplotlib`` module, or :class:`MissingDependencyError` naming the extra."""
    message = 'plotting needs matplotlib: pip install "autokern[plot]"'
    optional_module("matplotlib.figure", message)
    optional_module("matplotlib.tri", message)
    return optional_module("matplotlib", message)


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    matplotlib = require_matplotlib()
    if ax is not None:
        return ax.figure, ax
    figure = matplotlib.figure.Figure(figsize=figsize, layout="constrained")
    return figure, figure.add_subplot()


def _finish(figure: Figure, path: str | os.PathLike | None) -> Figure:
    if path is not None:
        figure.savefig(path, dpi=_DPI)
    return figure


def _marker_size(points: int) -> float:
    """Points of a scatter: 5 for a few hundred, shrinking as 1/√K to 0.5 for millions."""
    return float(np.clip(5.0 * np.sqrt(200.0 / max(points, 1)), 0.5, 5.0))


def _array(name: str, value: Any, shape: tuple[int | None, ...], dtype: Any) -> np.ndarray:
    array = np.asarray(value, dtype=dtype)
    if array.ndim != len(shape) or any(n is not None and n != m for n, m in
                                       zip(shape, array.shape, strict=True)):
        expected = ", ".join("·" if n is None else str(n) for n in shape)
        raise InputShapeError(f"{name} must have shape ({expected}), got {array.shape}")
    return array


# --- images on the mask ----------------------------------------------------------------------

def plot_image(values: Any, grid: MaskedGrid, *, ax: Axes | None = None,
               title: str | None = None, label: str | None = None, cmap: str = "magma",
               symmetric: bool = False, path: str | os.PathLike | None = None) -> Figure:
    """Slim image values on their mask, cropped to the unmasked pixels.

    Parameters
    ----------
    values : (M,) float64
        One value per unmasked pixel, slim order (a dirty image, a model image ``T s``, a
        residual dirty image ``dirty - W̃ T s``, …).
    grid : MaskedGrid
        The mask (True = masked), pixel scale and origin (``Interferometer.grid``).
    ax : matplotlib Axes, optional
        Draw here instead of in a new figure.
    title, label : str, optional
        Axes title and colour-bar label.
    cmap : str
        Colour map; masked pixels are left blank.
    symmetric : bool
        Colour limits ±max|values| (with a diverging ``cmap``, for residuals).
    path : path, optional
        Also save the figure here.

    Returns
    -------
    matplotlib.figure.Figure
    """
    values = _array("values", values, (grid.pixels,), np.float64)
    figure, ax = _axes(ax, (5.2, 4.4))
    matplotlib = require_matplotlib()
    native = grid.native_from(values, fill_value=np.nan)
    (r0, c0), (r1, c1) = (grid.native_index_for_slim_index.min(axis=0),
                          grid.native_index_for_slim_index.max(axis=0) + 1)
    yx = grid.grid_radians_2d[r0:r1, c0:c1] / _ARCSEC
    half = grid.pixel_scale / 2
    extent = (yx[0, 0, 1] - half, yx[0, -1, 1] + half, yx[-1, 0, 0] - half, yx[0, 0, 0] + half)
    limit = float(np.max(np.abs(values))) or 1.0
    colours = matplotlib.colormaps[cmap].with_extremes(bad="none")
    image = ax.imshow(native[r0:r1, c0:c1], origin="upper", extent=extent, cmap=colours,
                      interpolation="nearest",
                      **({"vmin": -limit, "vmax": limit} if symmetric else {}))
    figure.colorbar(image, ax=ax, label=label or "")
    ax.set_xlabel("x (arcsec)")
    ax.set_ylabel("y (arcsec)")
    ax.set_title(title or f"image on the mask (M = {grid.pixels})")
    return _finish(figure, path)


def plot_dirty_image(dirty_image: Any, grid: MaskedGrid, *, ax: Axes | None = None,
                     path: str | os.PathLike | None = None, **kwargs: Any) -> Figure:
    """The noise-weighted dirty image on its mask (see :func:`plot_image`).

    ``dirty_image`` (M,) is the kernels' ``w_tilde_data_interferometer_from``:
    Σ_k [Re V_k cos φ_ik − Im V_k sin φ_ik] / σ_k², in Jy⁻¹ for visibilities and noise in Jy.
    Other keywords go to :func:`plot_image`.
    """
    kwargs.setdefault("title", f"dirty image, noise-weighted (M = {grid.pixels})")
    kwargs.setdefault("label", "Σ V/σ² (Jy⁻¹)")
    return plot_image(dirty_image, grid, ax=ax, path=path, **kwargs)


# --- the source ------------------------------------------------------------------------------

def plot_reconstruction(source_points: Any, reconstruction: Any, *, simplices: Any = None,
                        ax: Axes | None = None, title: str | None = None,
                        label: str = "reconstruction s", cmap: str = "magma",
                        show_vertices: bool = True,
                        path: str | os.PathLike | None = None) -> Figure:
    """A Delaunay reconstruction: the vertex values, interpolated linearly in each triangle.

    Linear (Gouraud) shading inside each triangle is the interpolant the barycentric mapping
    assumes, so the picture is the source the fit models.

    Parameters
    ----------
    source_points : (S, 2) float64, or DelaunayMesh
        Mesh vertices, (y, x) arcsec in the source plane; a :class:`autokern.mesh.DelaunayMesh`
        gives its vertices and triangles.
    reconstruction : (S,) float64
        The value at each vertex (the solve's ``s``).
    simplices : (T, 3) int, optional
        The triangles; SciPy's triangulation of the vertices (the mapping's) when not given.
    ax, title, label, cmap, path
        As :func:`plot_image`.
    show_vertices : bool
        Mark the vertices.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from autokern.data import mesh

    if isinstance(source_points, mesh.DelaunayMesh):
        source_points, simplices = source_points.points, source_points.simplices
    points = _array("source_points", source_points, (None, 2), np.float64)
    values = _array("reconstruction", reconstruction, (len(points),), np.float64)
    if simplices is None:
        simplices = mesh.triangulation_from(points).simplices
    simplices = _array("simplices", simplices, (None, 3), np.int64)
    figure, ax = _axes(ax, (5.2, 4.4))
    matplotlib = require_matplotlib()
    triangulation = matplotlib.tri.Triangulation(points[:, 1], points[:, 0], simplices)
    shaded = ax.tripcolor(triangulation, values, shading="gouraud", cmap=cmap)
    if show_vertices:
        ax.plot(points[:, 1], points[:, 0], ".", color="0.6", markersize=1.5, alpha=0.6)
    figure.colorbar(shaded, ax=ax, label=label)
    ax.set_aspect("equal")
    ax.locator_params(nbins=6)
    ax.set_xlabel("x (arcsec, source plane)")
    ax.set_ylabel("y (arcsec, source plane)")
    ax.set_title(title or f"source reconstruction (Delaunay, S = {len(points)})")
    return _finish(figure, path)


# --- visibilities ----------------------------------------------------------------------------

def plot_uv_coverage(uv_wavelengths: Any, *, ax: Axes | None = None, title: str | None = None,
                     path: str | os.PathLike | None = None) -> Figure:
    """The baselines (u, v) and their conjugates (−u, −v), in kλ.

    Each visibility of a real sky is also measured at (−u, −v) (its complex conjugate), so
    the coverage is symmetric about the origin.

    Parameters
    ----------
    uv_wavelengths : (K, 2) float64
        (u, v) in wavelengths.

    Returns
    -------
    matplotlib.figure.Figure
    """
    uv = _array("uv_wavelengths", uv_wavelengths, (None, 2), np.float64) / 1e3
    figure, ax = _axes(ax, (5.0, 5.0))
    dense = len(uv) > 20_000
    size = _marker_size(len(uv))
    style = {"linestyle": "none", "marker": ".", "markersize": size, "markeredgewidth": 0,
             "rasterized": dense}
    # conjugates behind, in a lighter shade, so that dense coverage still shows the measured
    [conjugate] = ax.plot(-uv[:, 0], -uv[:, 1], color="tab:orange", alpha=0.35 if dense else 0.8,
                          label="conjugate (−u, −v)", **style)
    [measured] = ax.plot(uv[:, 0], uv[:, 1], color="tab:blue", alpha=0.5 if dense else 1.0,
                         label="(u, v)", **style)
    ax.set_aspect("equal", adjustable="datalim")
    ax.locator_params(nbins=6)
    ax.set_xlabel("u (kλ)")
    ax.set_ylabel("v (kλ)")
    ax.set_title(title or f"uv coverage (K = {len(uv):,})")
    legend = ax.legend(handles=[measured, conjugate], loc="upper center",
                       bbox_to_anchor=(0.5, -0.13), ncols=2, fontsize=8, markerscale=8.0 / size,
                       frameon=False)
    for handle in legend.legend_handles:
        handle.set_alpha(1.0)
    return _finish(figure, path)


def plot_residuals(uv_wavelengths: Any, data: Any, model_visibilities: Any, noise_map: Any, *,
                   title: str | None = None, path: str | os.PathLike | None = None) -> Figure:
    """Normalised residual visibilities against uv distance, and their histogram.

    For a good fit the residuals (d − m)/σ, real and imaginary parts each divided by their own
    σ, scatter about 0 with unit spread at every uv distance.

    Parameters
    ----------
    uv_wavelengths : (K, 2) float64
        (u, v) in wavelengths.
    data, model_visibilities, noise_map : (K,) complex128
        The visibilities, the model's (e.g. the library's ``fit.model_data``), and the noise
        σ (real part for Re V, imaginary part for Im V).
    title, path
        Figure title, and where to save it.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: residuals against uv distance, and their histogram with N(0, 1).
    """
    uv = _array("uv_wavelengths", uv_wavelengths, (None, 2), np.float64)
    k = len(uv)
    data = _array("data", data, (k,), np.complex128)
    model = _array("model_visibilities", model_visibilities, (k,), np.complex128)
    noise = _array("noise_map", noise_map, (k,), np.complex128)
    matplotlib = require_matplotlib()
    residual = {"Re": (data.real - model.real) / noise.real,
                "Im": (data.imag - model.imag) / noise.imag}
    distance = np.hypot(uv[:, 0], uv[:, 1]) / 1e3
    figure = matplotlib.figure.Figure(figsize=(10.0, 4.0), layout="constrained")
    scatter, histogram = figure.subplots(1, 2, width_ratios=[2, 1])
    size = _marker_size(k)
    colours = {"Re": "tab:blue", "Im": "tab:orange"}
    for part, values in residual.items():
        scatter.plot(distance, values, ".", color=colours[part], markersize=size, alpha=0.7,
                     markeredgewidth=0, label=f"{part} (d − m)/σ", rasterized=k > 20_000)
    for level, style in ((0.0, "-"), (3.0, "--"), (-3.0, "--")):  # ±3σ
        scatter.axhline(level, color="0.4", linestyle=style, linewidth=0.8)
    scatter.set_xlabel("uv distance (kλ)")
    scatter.set_ylabel("residual / σ")
    scatter.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, fontsize=8,
                   markerscale=8.0 / size, frameon=False)
    both = np.concatenate(list(residual.values()))
    reduced = float(np.mean(both**2))
    bins = np.linspace(min(-5.0, both.min()), max(5.0, both.max()), 41)
    histogram.hist([residual["Re"], residual["Im"]], bins=bins, density=True, stacked=True,
                   color=[colours["Re"], colours["Im"]], alpha=0.7, label=["Re", "Im"])
    grid = np.linspace(bins[0], bins[-1], 200)
    histogram.plot(grid, np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi), color="k", linewidth=1.0,
                   label="N(0, 1)")
    histogram.set_xlabel("residual / σ")
    histogram.set_ylabel("density")
    histogram.legend(loc="upper right", fontsize=8)
    histogram.set_title(f"χ² / 2K = {reduced:.3g}", fontsize=10)
    figure.suptitle(title or f"normalised residual visibilities (K = {k:,})")
    return _finish(figure, path)
