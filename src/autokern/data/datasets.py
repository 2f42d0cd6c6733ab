"""Datasets: the arrays the kernels take, from visibilities and a mask; real data and mock presets.

- :class:`Interferometer` holds visibilities (K,) complex, their noise and the baselines
  (K, 2) (u, v) in wavelengths, with a real-space mask (circular, :class:`MaskSpec`, or any
  mask, :class:`autokern.grids.MaskedGrid`), and derives the mask (True = masked), the grids in
  radians, ``native_index_for_slim_index`` and the extent (conventions in
  :mod:`autokern.grids`).
- :class:`SourceMesh` holds a sparse mapping (M, B), -1 padded, and a neighbour graph (S, P)
  (built by :mod:`autokern.mesh` for the mocks).
- :func:`read_visibilities_fits` reads the downstream library's FITS layout; :func:`mock_chunk`
  and :func:`mock_chunks` make seeded mock visibilities at the presets of :data:`PRESETS`, in
  chunks.

The test harness (``Case``, ``mock_case``, the reference run) is :mod:`autokern.testing`.

Everything here is NumPy/SciPy; intermediate products (W̃, dirty image, …) come from the
reference backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from autokern._shared.lattice import ARCSEC_TO_RADIANS
from autokern.data.grids import MaskedGrid
from autokern.errors import InputTypeError, InputValueError


@dataclass(frozen=True)
class Preset:
    """Mock sizes: mask radius in pixels (sets M and the extent), K visibilities, S pixels,
    the pixel scale (arcsec), the longest baseline (wavelengths) and the number of antennas."""

    radius_pixels: int
    visibilities: int
    source_pixels: int
    pixel_scale: float = 0.05
    max_uv: float = 1.0e6
    antennas: int = 24

    def mask_spec(self) -> MaskSpec:
        """The circular mask: ``radius_pixels`` on a square of side 2·radius + 4 pixels."""
        side = 2 * self.radius_pixels + 4
        return MaskSpec((side, side), self.pixel_scale, self.radius_pixels * self.pixel_scale)

    def sizes(self) -> dict[str, int]:
        """K, M, S and the extent (Ny, Nx) of the preset's mock (the mask is built, nothing
        else)."""
        grid = self.mask_spec().masked_grid()
        ny, nx = grid.shape_masked_pixels_2d
        return {"K": self.visibilities, "M": grid.pixels, "S": self.source_pixels, "Ny": ny,
                "Nx": nx}


PRESETS: dict[str, Preset] = {
    "tiny": Preset(6, 200, 48),  # M = 112, extent 12: fast unit tests
    "small": Preset(15, 1_000, 256),  # M = 716, extent 30
    "medium": Preset(30, 8_192, 1_000),  # M = 2 828, extent 60
    "large": Preset(60, 100_000, 1_500),  # M = 11 304, extent 120
    # The science geometries of the downstream library's profiling campaign: a 3.5" circular
    # mask, Delaunay S = 1 500 (B = 3); an SMA-like track (8 antennas, baselines to 5·10⁵ λ as
    # in the SMA dataset of the tests) and ALMA-like tracks (43 antennas).
    "sma35": Preset(35, 190, 1_500, 0.1, 5.0e5, 8),  # M = 3 852, extent 70
    "alma35": Preset(70, 1_000_000, 1_500, 0.05, 2.0e6, 43),  # M = 15 380, extent 140
    "almahigh35": Preset(140, 5_000_000, 1_500, 0.025, 4.0e6, 43),  # M = 61 572, extent 280
}
#: the presets of the science geometries (see :data:`PRESETS`)
SCIENCE_PRESETS = ("sma35", "alma35", "almahigh35")


@dataclass(frozen=True)
class MaskSpec:
    """A circular mask: native shape (pixels), pixel scale and radius (arcsec), centre (arcsec)."""

    shape_native: tuple[int, int]
    pixel_scale: float
    radius: float
    centre: tuple[float, float] = (0.0, 0.0)

    def masked_grid(self) -> MaskedGrid:
        """The mask and its grids (:func:`autokern.grids.mask_2d_circular_from`)."""
        return MaskedGrid.circular(self.shape_native, self.pixel_scale, self.radius, self.centre)


@dataclass(eq=False)
class Interferometer:
    """Visibilities plus a real-space mask, and every array the kernels derive from them.

    ``mask_spec`` is a circular :class:`MaskSpec` or, for any other mask, an
    :class:`autokern.grids.MaskedGrid` (a boolean mask, True = masked, with its pixel scale and
    origin): ``Interferometer(data, noise_map, uv_wavelengths, MaskedGrid(mask, 0.1))``.
    """

    data: np.ndarray
    noise_map: np.ndarray
    uv_wavelengths: np.ndarray
    mask_spec: MaskSpec | MaskedGrid

    def __post_init__(self) -> None:
        self.data = np.ascontiguousarray(self.data, dtype=np.complex128)
        self.noise_map = np.ascontiguousarray(self.noise_map, dtype=np.complex128)
        self.uv_wavelengths = np.ascontiguousarray(self.uv_wavelengths, dtype=np.float64)
        k = len(self.data)
        if self.noise_map.shape != (k,) or self.uv_wavelengths.shape != (k, 2):
            raise ValueError(
                f"data {self.data.shape}, noise_map {self.noise_map.shape} and uv_wavelengths "
                f"{self.uv_wavelengths.shape} must be (K,), (K,) and (K, 2)"
            )
        if not isinstance(self.mask_spec, MaskSpec | MaskedGrid):
            raise InputTypeError(
                "mask_spec must be a datasets.MaskSpec (circular) or a grids.MaskedGrid (any "
                f"mask with its pixel scale), got {type(self.mask_spec).__name__}; for a "
                "boolean array use MaskedGrid(mask, pixel_scale)")

    def __repr__(self) -> str:
        return (f"Interferometer(K={len(self.data)}, M={len(self.native_index_for_slim_index)}, "
                f"extent={self.shape_masked_pixels_2d}, mask={self.mask_spec})")

    @cached_property
    def grid(self) -> MaskedGrid:
        """The mask and its grids (:class:`autokern.grids.MaskedGrid`)."""
        spec = self.mask_spec
        return spec if isinstance(spec, MaskedGrid) else spec.masked_grid()

    @property
    def pixel_scale(self) -> float:
        """Pixel side, arcsec."""
        return self.grid.pixel_scale

    @property
    def noise_map_real(self) -> np.ndarray:
        return np.ascontiguousarray(self.noise_map.real)

    @property
    def real_space_mask(self) -> np.ndarray:
        """(N', N') bool, True = masked."""
        return self.grid.mask

    @property
    def native_index_for_slim_index(self) -> np.ndarray:
        """(M, 2) int64 (row, col) of the unmasked pixels, row-major."""
        return self.grid.native_index_for_slim_index

    @cached_property
    def grid_radians_2d(self) -> np.ndarray:
        """(N', N', 2) native (y, x) grid in radians: y = y0 - i d, x = x0 + j d."""
        return self.grid.grid_radians_2d

    @property
    def grid_radians_slim(self) -> np.ndarray:
        """(M, 2) (y, x) of the unmasked pixels in radians."""
        return self.grid.grid_radians_slim

    @property
    def shape_masked_pixels_2d(self) -> tuple[int, int]:
        """(Ny, Nx) extent of the unmasked pixels."""
        return self.grid.shape_masked_pixels_2d


@dataclass(eq=False)
class SourceMesh:
    """A sparse mapping (M, B) of image to source pixels and the source neighbour graph (S, P)."""

    pix_indexes_for_sub_slim_index: np.ndarray
    pix_weights_for_sub_slim_index: np.ndarray
    neighbors: np.ndarray
    neighbors_sizes: np.ndarray
    pix_sizes_for_sub_slim_index: np.ndarray = field(default=None)  # type: ignore[assignment]
    #: (S, 2) (y, x) arcsec of the source pixels where known (the mocks' Delaunay vertices)
    points: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.pix_indexes_for_sub_slim_index = np.ascontiguousarray(
            self.pix_indexes_for_sub_slim_index, dtype=np.int64)
        self.pix_weights_for_sub_slim_index = np.ascontiguousarray(
            self.pix_weights_for_sub_slim_index, dtype=np.float64)
        self.neighbors = np.ascontiguousarray(self.neighbors, dtype=np.int64)
        self.neighbors_sizes = np.ascontiguousarray(self.neighbors_sizes, dtype=np.int64)
        if self.pix_sizes_for_sub_slim_index is None:
            self.pix_sizes_for_sub_slim_index = np.sum(self.pix_indexes_for_sub_slim_index >= 0,
                                                      axis=1)
        self.pix_sizes_for_sub_slim_index = np.ascontiguousarray(
            self.pix_sizes_for_sub_slim_index, dtype=np.int64)

    @property
    def pixels(self) -> int:
        return len(self.neighbors)

    def __repr__(self) -> str:
        m, b = self.pix_indexes_for_sub_slim_index.shape
        return f"SourceMesh(S={self.pixels}, M={m}, B={b}, P={self.neighbors.shape[1]})"


# --- real data -----------------------------------------------------------------------------

def read_visibilities_fits(directory: str | os.PathLike) -> tuple[np.ndarray, ...]:
    """(data, noise_map, uv_wavelengths) from ``data.fits``, ``noise_map.fits`` and
    ``uv_wavelengths.fits`` in ``directory`` (the downstream library's layout: (K, 2) tables of
    (real, imag) and (u, v)); returned as native-endian complex128, complex128, float64.
    :func:`autokern.io.visibilities_from_fits` reads files of any names."""
    from autokern.io import visibilities_from_fits

    folder = Path(directory)
    return visibilities_from_fits(folder / "data.fits", folder / "noise_map.fits",
                                  folder / "uv_wavelengths.fits")


# --- mock data -----------------------------------------------------------------------------

def _uv_coverage(rng: np.random.Generator, n_visibilities: int, max_uv: float,
                 antennas: int = 24) -> np.ndarray:
    """Earth-rotation tracks of a random array of ``antennas``: (K, 2) (u, v) with max |u|,
    |v| = ``max_uv`` wavelengths."""
    positions = rng.normal(size=(antennas, 3)) * np.array([1.0, 1.0, 0.1])
    first, second = np.triu_indices(antennas, k=1)
    baselines = positions[first] - positions[second]
    declination = np.deg2rad(-30.0)
    steps = -(-n_visibilities // len(baselines))
    hour_angle = np.linspace(-np.pi / 3, np.pi / 3, steps)
    bx, by, bz = (baselines[:, i, None] for i in range(3))
    u = bx * np.sin(hour_angle) + by * np.cos(hour_angle)
    v = (-bx * np.sin(declination) * np.cos(hour_angle)
         + by * np.sin(declination) * np.sin(hour_angle) + bz * np.cos(declination))
    uv = np.stack([u.ravel(), v.ravel()], axis=1)
    uv = uv[rng.permutation(len(uv))[:n_visibilities]]
    return uv * (max_uv / np.abs(uv).max())


def _mock_visibilities(rng: np.random.Generator, uv: np.ndarray,
                       radius: float) -> tuple[np.ndarray, np.ndarray]:
    """(data, noise_map) at ``uv``: a Gaussian source (width 0.3 ``radius`` arcsec, offset
    0.2 ``radius`` along (1, -1)) plus noise, Re σ = Im σ in [0.5, 1.5)."""
    k = len(uv)
    sigma = 0.5 + rng.random(k)
    rng.random(k)  # was an independent imaginary noise: keep the stream
    u, v = uv[:, 0], uv[:, 1]
    width = 0.3 * radius * ARCSEC_TO_RADIANS
    offset = 0.2 * radius * ARCSEC_TO_RADIANS
    model = 20.0 * np.exp(-2.0 * (np.pi * width) ** 2 * (u**2 + v**2)) * \
        np.exp(-2j * np.pi * offset * (u - v))
    noise = rng.normal(size=k) * sigma + 1j * rng.normal(size=k) * sigma
    # Re σ = Im σ, as W̃ (built from Re σ) requires of the likelihoods
    return model + noise, sigma + 1j * sigma


def mock_chunk(rows: int, index: int = 0, *, seed: int = 0, max_uv: float = 2.0e6,
               antennas: int = 43, radius: float = 3.5) -> tuple[np.ndarray, ...]:
    """Chunk ``index`` of a mock ALMA-like dataset made chunk by chunk (never whole).

    Draws from ``numpy.random.default_rng((seed, index))``: Earth-rotation tracks of a random
    array of ``antennas`` scaled to ``max_uv`` wavelengths, and :func:`mock_case`'s source model
    (a Gaussian of width 0.3 ``radius`` arcsec) plus noise.

    Returns
    -------
    tuple of three arrays
        data (rows,) complex128, noise_map (rows,) complex128 (Re σ = Im σ) and
        uv_wavelengths (rows, 2) float64.
    """
    rng = np.random.default_rng((seed, index))
    uv = _uv_coverage(rng, rows, max_uv, antennas)
    return (*_mock_visibilities(rng, uv, radius), uv)


def mock_chunks(preset: str | Preset = "alma35", *, n_visibilities: int | None = None,
                chunk_size: int = 200_000, seed: int = 0) -> Iterator[tuple[np.ndarray, ...]]:
    """A mock dataset of ``n_visibilities`` (the preset's K when None) as a generator of
    :func:`mock_chunk` chunks of ``chunk_size`` visibilities, at the preset's baselines,
    antennas and mask radius: data of any size, in O(chunk) memory, for
    :func:`autokern.terms.visibility_terms_from_chunks`."""
    spec = PRESETS[preset] if isinstance(preset, str) else preset
    total = spec.visibilities if n_visibilities is None else int(n_visibilities)
    if total < 1 or chunk_size < 1:
        raise InputValueError(f"mock_chunks: n_visibilities ({total}) and chunk_size "
                              f"({chunk_size}) must be positive")
    radius = spec.mask_spec().radius
    for index, start in enumerate(range(0, total, chunk_size)):
        yield mock_chunk(min(chunk_size, total - start), index, seed=seed, max_uv=spec.max_uv,
                         antennas=spec.antennas, radius=radius)
