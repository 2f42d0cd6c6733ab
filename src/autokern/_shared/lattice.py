"""The image-pixel lattice, written once for every backend: units, layouts, lag table, detection.

Vocabulary (one name per concept):

- **lag** (a, b) = (row_i − row_j, col_i − col_j) of two lattice pixels; W̃[i, j] depends only
  on it.
- **w-compact** (Ny, 2Nx − 1): W̃ for the lags a ∈ [0, Ny), b ∈ (−Nx, Nx) — the half plane
  a ≥ 0, which holds everything because W̃ at (−a, −b) equals W̃ at (a, b).
- **precision operator** (2Ny, 2Nx): the downstream library's layout, W̃ for the lag (row_j − row_i,
  col_j − col_i) = (p, q) at [p mod 2Ny, q mod 2Nx] (FFT wrap-around order).
- **lag table** (2Ny − 1, 2Nx − 1): W̃ for every lag, L[a + Ny − 1, b + Nx − 1], so that
  W̃[i, j] = L.flat[base_i + offset_j] (:func:`lag_gather`).

Index functions use only operators that NumPy and JAX arrays share, so every backend reads the
same entry for the same lag.  :func:`lattice_of` recognises a slim grid that lies on a lattice,
to within a phase tolerance at the longest baseline (the one rule behind every lattice
shortcut: the NUFFT dirty image and the lattice-built dense W̃).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: arcseconds → radians
ARCSEC_TO_RADIANS = np.pi / 648000.0
#: the default accuracy of every lattice shortcut and NUFFT: relative error of a sum over
#: visibilities (and the catalogue's default ``eps``)
DEFAULT_EPS = 1e-12


def extent_of_mask(native_index_for_slim_index: Any) -> tuple[int, int]:
    """(Ny, Nx): the bounding box of the unmasked pixels, the extent of their w-compact."""
    return tuple(int(n) for n in np.ptp(np.asarray(native_index_for_slim_index), axis=0) + 1)


def compact_index(compact_shape: tuple[int, int], native_i: Any, native_j: Any) -> tuple:
    """Index into w-compact of W̃[i, j] for every (i, j) of ``native_i`` × ``native_j``.

    ``native_i`` (Mi, 2) and ``native_j`` (Mj, 2) are (row, col) pairs; the result is a pair of
    (Mi, Mj) integer arrays (a, b) with W̃[i, j] = w_compact[a, b].
    """
    nx = (compact_shape[1] + 1) // 2
    row_lag = native_i[:, 0, None] - native_j[None, :, 0]
    col_lag = native_i[:, 1, None] - native_j[None, :, 1]
    sign = 1 - 2 * (row_lag < 0)
    return abs(row_lag), sign * col_lag + nx - 1


def precision_operator_index(precision_operator_shape: tuple[int, int], native_i: Any,
                             native_j: Any) -> tuple:
    """Index into the precision operator of W̃[i, j]: ((r_j - r_i) mod 2Ny, (c_j - c_i) mod
    2Nx)."""
    row_lag = native_j[None, :, 0] - native_i[:, 0, None]
    col_lag = native_j[None, :, 1] - native_i[:, 1, None]
    return row_lag % precision_operator_shape[0], col_lag % precision_operator_shape[1]


def _all_lags(ny: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(-ny + 1, ny)[:, None], np.arange(-nx + 1, nx)[None, :]


def lag_table_from_compact(w_compact: Any) -> Any:
    """The (2Ny − 1, 2Nx − 1) lag table of a w-compact (NumPy or JAX; a fresh C array)."""
    ny, nx = w_compact.shape[0], (w_compact.shape[1] + 1) // 2
    a, b = _all_lags(ny, nx)
    sign = np.where(a < 0, -1, 1)
    return w_compact[abs(a), sign * b + nx - 1]


def lag_table_from_precision_operator(precision_operator: Any) -> Any:
    """The (2Ny − 1, 2Nx − 1) lag table of a precision operator (which stores lag (−a, −b) at
    [−a mod 2Ny, −b mod 2Nx])."""
    ny, nx = precision_operator.shape[0] // 2, precision_operator.shape[1] // 2
    a, b = _all_lags(ny, nx)
    return precision_operator[(-a) % (2 * ny), (-b) % (2 * nx)]


def w_compact_via_nufft_precision_operator_from(nufft_precision_operator: Any) -> Any:
    """Exact re-indexing of a precision operator into w-compact (NumPy or JAX)."""
    ny, nx = nufft_precision_operator.shape[0] // 2, nufft_precision_operator.shape[1] // 2
    return nufft_precision_operator[np.arange(ny)[:, None],
                                    (np.arange(-nx + 1, nx) % (2 * nx))[None, :]]


def precision_operator_positions(ny: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the lag table's entries go in a (2Ny, 2Nx) precision operator P: P[rows, cols] =
    lag table (the reference convention, P[p mod 2Ny, q mod 2Nx] = w_compact[|p|, sign(p) q
    + Nx − 1]; the Nyquist row and column stay zero)."""
    p, q = _all_lags(ny, nx)
    return p % (2 * ny), q % (2 * nx)


def nufft_precision_operator_via_w_compact_from(w_compact: np.ndarray) -> np.ndarray:
    """Exact re-indexing of a NumPy w-compact into a (2Ny, 2Nx) precision operator."""
    ny, nx = w_compact.shape[0], (w_compact.shape[1] + 1) // 2
    precision_operator = np.zeros((2 * ny, 2 * nx))
    precision_operator[precision_operator_positions(ny, nx)] = lag_table_from_compact(w_compact)
    return precision_operator


def precision_operator_offsets(grid_radians_2d: Any,
                               shape_masked_pixels_2d: tuple[int, int]) -> tuple:
    """(y_i − y_j, x_i − x_j) in radians for the precision operator's lags (p, q) ≥ 0, (Ny,)
    and (Nx,), read off the native grid itself as the downstream library does (NumPy or JAX)."""
    ny, nx = shape_masked_pixels_2d
    return (grid_radians_2d[0, 0, 0] - grid_radians_2d[:ny, 0, 0],
            grid_radians_2d[0, 0, 1] - grid_radians_2d[0, :nx, 1])


def lag_gather(lag_shape: tuple[int, int], rows: Any, cols: Any) -> tuple[Any, Any]:
    """(base, offset) with W̃[i, j] = lag_table.flat[base[i] + offset[j]] for lattice pixels
    at (rows, cols)."""
    width = lag_shape[1]
    ny, nx = (lag_shape[0] + 1) // 2, (width + 1) // 2
    return (rows + ny - 1) * width + cols + nx - 1, -(rows * width + cols)


@dataclass(frozen=True)
class Lattice:
    """Pixels at y = y0 − rows·dy, x = x0 + cols·dx (rows, cols ≥ 0 integers), fitted to a
    slim grid; ``deviation`` is the largest |fit − grid| (y, x) in radians."""

    y0: float
    x0: float
    dy: float
    dx: float
    rows: np.ndarray
    cols: np.ndarray
    deviation: tuple[float, float]

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.rows.max(initial=0)) + 1, int(self.cols.max(initial=0)) + 1

    def phase_error(self, uv_wavelengths: np.ndarray) -> float:
        """The largest phase error 2π(δy |v| + δx |u|) the fit makes at any baseline (radians);
        a sum over visibilities moves by at most this times Σ |weights|."""
        if len(uv_wavelengths) == 0:
            return 0.0
        # max and min of each column: 13× faster than abs().max(axis=0) at K = 5·10⁶
        max_u, max_v = (max(float(column.max()), -float(column.min()))
                        for column in (uv_wavelengths[:, 0], uv_wavelengths[:, 1]))
        return float(2.0 * np.pi * (self.deviation[0] * max_v + self.deviation[1] * max_u))


def _fit_axis(values: np.ndarray, sign: float) -> tuple[float, float, np.ndarray, float]:
    distinct = np.unique(values)
    origin = float(distinct[-1] if sign < 0 else distinct[0])
    if len(distinct) == 1:
        return origin, 1.0, np.zeros(len(values), dtype=np.int64), 0.0
    step = float(np.diff(distinct).min())
    # the step that spans the range in a whole number of steps, for a least-biased fit
    step = abs(float(distinct[-1] - distinct[0])) / round(abs(distinct[-1] - distinct[0]) / step)
    index = np.rint(sign * (values - origin) / step).astype(np.int64)
    deviation = float(np.max(np.abs(values - (origin + sign * step * index))))
    return origin, step, index, deviation


def lattice_of(grid_radians_slim: np.ndarray, uv_wavelengths: np.ndarray,
               phase_tolerance: float = DEFAULT_EPS) -> Lattice | None:
    """The lattice of a slim (y, x) grid, or None when its phase error at the longest baseline
    (:meth:`Lattice.phase_error`) exceeds ``phase_tolerance`` or the lattice box would hold
    more than four times as many points as the grid (too sparse to pay off)."""
    grid = np.asarray(grid_radians_slim)
    if grid.shape[0] == 0:
        return None
    y0, dy, rows, y_dev = _fit_axis(grid[:, 0], -1.0)
    x0, dx, cols, x_dev = _fit_axis(grid[:, 1], 1.0)
    lattice = Lattice(y0, x0, dy, dx, rows, cols, (y_dev, x_dev))
    box = lattice.shape
    if box[0] * box[1] > 4 * grid.shape[0]:
        return None
    if lattice.phase_error(np.asarray(uv_wavelengths)) > phase_tolerance:
        return None
    return lattice
