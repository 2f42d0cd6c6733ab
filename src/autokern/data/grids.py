"""Image-plane grids from any real-space mask: the arrays autokern's kernels take.

The conventions are those of the downstream lensing library (PyAutoArray), and the arrays here
are its own to the last bit (``aa.Mask2D.circular`` / ``circular_annular``,
``Grid2D.from_mask(mask)`` and its ``.in_radians``, ``mask.derive_indexes.native_for_slim``,
``mask.shape_native_masked_pixels``):

- A **mask** is a 2D boolean array of shape (N_y', N_x'), ``True`` = masked.  The unmasked pixels,
  numbered row-major from the top-left, are the **slim** order; there are M of them.
- Pixels are square, ``pixel_scale`` arcsec on a side (the kernels' lattice shortcuts assume it).
- Pixel (i, j) has its centre at ``y = -(i - c_y) d``, ``x = (j - c_x) d`` (arcsec; rows go *down*
  in y), with the central pixel ``c_y = (N_y' - 1)/2 + o_y/d``, ``c_x = (N_x' - 1)/2 - o_x/d`` for
  the ``origin`` (o_y, o_x): the (y, x) at the array's centre.  In radians each coordinate is
  ``(value * pi) / 648000``, in that order.
- The **extent** ``shape_masked_pixels_2d`` (N_y, N_x) is the bounding box of the unmasked pixels.

Everything is NumPy and float64::

    from autokern import grids

    mask = grids.mask_2d_circular_annular_from((100, 100), 0.1, 0.5, 3.0)
    grid = grids.MaskedGrid(mask, pixel_scale=0.1)
    grid.grid_radians_slim, grid.native_index_for_slim_index, grid.shape_masked_pixels_2d
    grid.grid_arcsec_slim                   # (M, 2) arcsec, to trace through a lens model
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autokern.errors import InputShapeError, InputTypeError, InputValueError

__all__ = [
    "MaskedGrid",
    "array_2d_native_from",
    "grid_arcsec_slim_from",
    "grid_radians_2d_from",
    "grid_radians_slim_from",
    "mask_2d_circular_annular_from",
    "mask_2d_circular_from",
    "native_index_for_slim_index_from",
    "pixel_scale_from",
    "shape_masked_pixels_2d_from",
]

Pair = tuple[float, float]


# --- checks ---------------------------------------------------------------------------------

def pixel_scale_from(pixel_scales: float | Sequence[float]) -> float:
    """The side of a square pixel (arcsec) from a scalar or a (dy, dx) pair.

    Raises
    ------
    InputValueError
        Pixels that are not square (dy != dx), or a scale that is not finite and positive:
        the kernels put every pixel on one square lattice.
    """
    values = np.atleast_1d(np.asarray(pixel_scales, dtype=np.float64))
    if values.shape not in ((1,), (2,)):
        raise InputShapeError("pixel_scale must be a number (arcsec) or a (dy, dx) pair, got "
                              f"shape {values.shape}")
    if not (np.all(np.isfinite(values)) and np.all(values > 0)):
        raise InputValueError(
            f"pixel_scale must be finite and positive (arcsec), got {pixel_scales}")
    if values[0] != values[-1]:
        raise InputValueError(
            f"pixel_scales {tuple(values)}: autokern's kernels need square pixels (dy == dx); "
            "resample the image to a square grid")
    return float(values[0])


def _pair(name: str, value: Sequence[float]) -> Pair:
    values = np.asarray(value, dtype=np.float64)
    if values.shape != (2,) or not np.all(np.isfinite(values)):
        raise InputValueError(f"{name} must be a finite (y, x) pair (arcsec), got {value!r}")
    return float(values[0]), float(values[1])


def _shape(shape_native: Sequence[int]) -> tuple[int, int]:
    shape = tuple(int(n) for n in shape_native)
    if len(shape) != 2 or min(shape) < 1 or shape != tuple(shape_native):
        raise InputValueError(f"shape_native must be two positive integers, got {shape_native!r}")
    return shape  # type: ignore[return-value]


def _mask(mask: Any) -> np.ndarray:
    """``mask`` as a C-contiguous 2D bool array with at least one unmasked pixel."""
    array = np.asarray(mask)
    if array.dtype != np.bool_:
        raise InputTypeError(f"mask must be a boolean array (True = masked), got dtype "
                             f"{array.dtype}; convert a 0/1 array with mask.astype(bool)")
    if array.ndim != 2:
        raise InputShapeError(f"mask must be 2D (N_y', N_x'), got shape {array.shape}")
    if array.all():
        raise InputValueError(f"mask {array.shape} masks every pixel: nothing is left to fit")
    return np.ascontiguousarray(array)


# --- masks ----------------------------------------------------------------------------------

def _pixel_of(shape_native: tuple[int, int], pixel_scale: float,
              point: Pair) -> tuple[float, float]:
    """(row, col), fractional, of the point (y, x) arcsec when the array's centre is (0, 0).

    The library's two centre formulas are this one: a circle's centre (``mask_2d_centres_from``)
    at ``point = centre``, and the grid's zero (``central_scaled_coordinate_2d_from``) at
    ``point = -origin`` (negation is exact, so the bits are the same).
    """
    return ((shape_native[0] - 1) / 2 - point[0] / pixel_scale,
            (shape_native[1] - 1) / 2 + point[1] / pixel_scale)


def _distance_squared(shape_native: tuple[int, int], pixel_scale: float,
                      centre: Pair) -> np.ndarray:
    """(N_y', N_x') squared distance (arcsec²) of each pixel centre from ``centre``, with the
    library's expressions (so that a pixel on the circle lands on the library's side)."""
    c_y, c_x = _pixel_of(shape_native, pixel_scale, centre)
    y, x = np.ogrid[: shape_native[0], : shape_native[1]]
    return ((x - c_x) * pixel_scale) ** 2 + ((y - c_y) * pixel_scale) ** 2


def mask_2d_circular_from(shape_native: Sequence[int], pixel_scale: float | Sequence[float],
                          radius: float, centre: Sequence[float] = (0.0, 0.0)) -> np.ndarray:
    """A circular mask: pixels whose centre lies strictly inside ``radius`` are unmasked.

    The library's ``Mask2D.circular``: a pixel exactly on the circle (d² == r²) is masked.

    Parameters
    ----------
    shape_native : (int, int)
        (N_y', N_x') pixels.
    pixel_scale : float or (float, float)
        Pixel side (arcsec); a (dy, dx) pair must be square.
    radius : float
        Arcsec, finite and non-negative.
    centre : (float, float)
        (y, x) of the circle's centre (arcsec) from the array's central pixel (the library does
        not shift it by a grid's ``origin``).

    Returns
    -------
    (N_y', N_x') bool, True = masked.

    Raises
    ------
    InputValueError
        A negative, NaN or infinite ``radius`` (the kernel's own check and message: a negative
        radius would otherwise give the mask of its absolute value, NaN one with nothing
        masked), non-square or non-positive pixels, a centre that is not a finite pair.
    """
    from autokern._api.dispatch import get_kernel

    scale = pixel_scale_from(pixel_scale)
    # the reference kernel's public function: its input checks are the ones applied here
    circular = get_kernel("mask_2d_circular_from", "original")
    return circular(_shape(shape_native), (scale, scale), radius, _pair("centre", centre))


def mask_2d_circular_annular_from(
        shape_native: Sequence[int], pixel_scale: float | Sequence[float], inner_radius: float,
        outer_radius: float, centre: Sequence[float] = (0.0, 0.0)) -> np.ndarray:
    """An annular mask: pixels with ``inner_radius <= d <= outer_radius`` are unmasked.

    The library's ``Mask2D.circular_annular`` (both circles inclusive, unlike the circular
    mask's).  Arguments as :func:`mask_2d_circular_from`; radii in arcsec.

    Returns
    -------
    (N_y', N_x') bool, True = masked.
    """
    if not 0 <= inner_radius < outer_radius:
        raise InputValueError(f"need 0 <= inner_radius < outer_radius, got {inner_radius} and "
                              f"{outer_radius}")
    scale = pixel_scale_from(pixel_scale)
    distance_squared = _distance_squared(_shape(shape_native), scale, _pair("centre", centre))
    return ~((distance_squared >= float(inner_radius) ** 2)
             & (distance_squared <= float(outer_radius) ** 2))


# --- grids ----------------------------------------------------------------------------------

def native_index_for_slim_index_from(mask: Any) -> np.ndarray:
    """(M, 2) int64 (row, col) of each unmasked pixel, in slim (row-major) order."""
    return np.argwhere(~_mask(mask)).astype(np.int64)


def shape_masked_pixels_2d_from(mask: Any) -> tuple[int, int]:
    """(N_y, N_x): the extent (bounding box, in pixels) of the unmasked pixels."""
    index = native_index_for_slim_index_from(mask)
    extent = index.max(axis=0) - index.min(axis=0) + 1
    return int(extent[0]), int(extent[1])


def _arcsec(rows: np.ndarray, cols: np.ndarray, shape_native: tuple[int, int],
            pixel_scale: float, origin: Pair) -> np.ndarray:
    """(…, 2) (y, x) in arcsec of the pixels (rows, cols), in the library's order of
    operations: (index - centre) * sign * d."""
    c_y, c_x = _pixel_of(shape_native, pixel_scale, (-origin[0], -origin[1]))
    return np.stack([-(rows - c_y) * pixel_scale, (cols - c_x) * pixel_scale], axis=-1)


def _radians(rows: np.ndarray, cols: np.ndarray, shape_native: tuple[int, int],
             pixel_scale: float, origin: Pair) -> np.ndarray:
    """As :func:`_arcsec`, then ``(value * pi) / 648000`` (the library's ``in_radians``)."""
    return _arcsec(rows, cols, shape_native, pixel_scale, origin) * np.pi / 648000.0


def grid_radians_2d_from(shape_native: Sequence[int], pixel_scale: float | Sequence[float],
                         origin: Sequence[float] = (0.0, 0.0)) -> np.ndarray:
    """(N_y', N_x', 2) float64 (y, x) in radians of every pixel centre (masked ones too).

    ``y = -(i - c_y) d``, ``x = (j - c_x) d`` with the central pixel (c_y, c_x) set by
    ``origin`` (arcsec, the (y, x) at the array's centre); see the module docstring.
    """
    shape = _shape(shape_native)
    rows, cols = np.indices(shape)
    return _radians(rows, cols, shape, pixel_scale_from(pixel_scale), _pair("origin", origin))


def grid_radians_slim_from(mask: Any, pixel_scale: float | Sequence[float],
                           origin: Sequence[float] = (0.0, 0.0)) -> np.ndarray:
    """(M, 2) float64 (y, x) in radians of the unmasked pixel centres, slim order.

    Bitwise the library's ``Grid2D.from_mask(mask).in_radians`` (and
    ``grid_radians_2d_from(mask.shape, ...)[rows, cols]``).
    """
    mask = _mask(mask)
    rows, cols = np.nonzero(~mask)
    return np.ascontiguousarray(_radians(rows, cols, mask.shape, pixel_scale_from(pixel_scale),
                                         _pair("origin", origin)))


def grid_arcsec_slim_from(mask: Any, pixel_scale: float | Sequence[float],
                          origin: Sequence[float] = (0.0, 0.0)) -> np.ndarray:
    """(M, 2) float64 (y, x) in arcsec of the unmasked pixel centres, slim order: the grid to
    trace through a lens model.  Bitwise the library's ``Grid2D.from_mask(mask)``."""
    mask = _mask(mask)
    rows, cols = np.nonzero(~mask)
    return np.ascontiguousarray(_arcsec(rows, cols, mask.shape, pixel_scale_from(pixel_scale),
                                        _pair("origin", origin)))


def array_2d_native_from(values: Any, mask: Any, fill_value: float = 0.0) -> np.ndarray:
    """Slim (M,) values on the native (N_y', N_x') grid of ``mask``; masked pixels hold
    ``fill_value`` (e.g. ``np.nan`` to leave them blank in a plot)."""
    mask = _mask(mask)
    values = np.asarray(values)
    m = int(np.count_nonzero(~mask))
    if values.shape != (m,):
        raise InputShapeError(f"values must be (M,) = ({m},) for this mask, got {values.shape}")
    native = np.full(mask.shape, fill_value, dtype=np.result_type(values, fill_value))
    native[~mask] = values
    return native


@dataclass(frozen=True, eq=False)
class MaskedGrid:
    """A mask, its pixel scale and origin, and every grid array the kernels derive from them.

    ``MaskedGrid(mask, pixel_scale, origin=(0.0, 0.0))`` takes any boolean mask; the arrays
    are computed once, at construction, and their names are the kernels' argument names.

    Attributes
    ----------
    mask : (N_y', N_x') bool
        True = masked (a copy of the mask given).
    pixel_scale : float
        Pixel side, arcsec (a (dy, dx) pair is accepted when square).
    origin : (float, float)
        (y, x) arcsec at the array's centre.
    native_index_for_slim_index : (M, 2) int64
        (row, col) of each unmasked pixel, slim order.
    grid_radians_slim : (M, 2) float64
        (y, x) radians of each unmasked pixel centre.
    grid_arcsec_slim : (M, 2) float64
        The same in arcsec (the grid to trace through a lens model).
    shape_masked_pixels_2d : (int, int)
        (N_y, N_x) extent of the unmasked pixels (also the kernels' ``grid_size``).
    """

    mask: np.ndarray
    pixel_scale: float
    origin: Pair = (0.0, 0.0)
    native_index_for_slim_index: np.ndarray = field(init=False, repr=False)
    grid_radians_slim: np.ndarray = field(init=False, repr=False)
    grid_arcsec_slim: np.ndarray = field(init=False, repr=False)
    shape_masked_pixels_2d: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        mask = _mask(self.mask).copy()
        scale, origin = pixel_scale_from(self.pixel_scale), _pair("origin", self.origin)
        derived = {
            "mask": mask, "pixel_scale": scale, "origin": origin,
            "native_index_for_slim_index": native_index_for_slim_index_from(mask),
            "grid_radians_slim": grid_radians_slim_from(mask, scale, origin),
            "grid_arcsec_slim": grid_arcsec_slim_from(mask, scale, origin),
            "shape_masked_pixels_2d": shape_masked_pixels_2d_from(mask),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @classmethod
    def circular(cls, shape_native: Sequence[int], pixel_scale: float | Sequence[float],
                 radius: float, centre: Sequence[float] = (0.0, 0.0),
                 origin: Sequence[float] = (0.0, 0.0)) -> MaskedGrid:
        """The grid of :func:`mask_2d_circular_from` (arguments, and the radius it refuses, as
        there)."""
        return cls(mask_2d_circular_from(shape_native, pixel_scale, radius, centre),
                   pixel_scale, tuple(origin))  # type: ignore[arg-type]

    @property
    def shape_native(self) -> tuple[int, int]:
        """(N_y', N_x'), the mask's shape."""
        return self.mask.shape  # type: ignore[return-value]

    @property
    def pixels(self) -> int:
        """M, the number of unmasked pixels."""
        return len(self.native_index_for_slim_index)

    @property
    def grid_radians_2d(self) -> np.ndarray:
        """(N_y', N_x', 2) float64 (y, x) radians of every pixel (computed on each call)."""
        return grid_radians_2d_from(self.shape_native, self.pixel_scale, self.origin)

    def native_from(self, values: Any, fill_value: float = 0.0) -> np.ndarray:
        """Slim (M,) ``values`` on the native grid (see :func:`array_2d_native_from`)."""
        return array_2d_native_from(values, self.mask, fill_value)
