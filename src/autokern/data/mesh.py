"""A Delaunay source mesh: the sparse mapping and the neighbour graph the kernels take.

Given the mesh's vertices in the source plane, (S, 2) (y, x) arcsec, and the image-plane
(sub-)pixels traced to the source plane, (M, 2) (y, x) arcsec, :func:`delaunay_mesh_from`
returns

- the barycentric mapping, one row per traced pixel: ``pix_indexes_for_sub_slim_index`` (M, 3)
  int64 (the vertices of the triangle holding the pixel, -1 padded),
  ``pix_weights_for_sub_slim_index`` (M, 3) float64 and ``pix_sizes_for_sub_slim_index`` (M,)
  int64 (the number of valid entries of the row), so that the mapping matrix is
  ``T[m, s] = sum_b weights[m, b] for indexes[m, b] == s``;
- the neighbour graph: ``neighbors`` (S, P) int64, -1 padded, the vertices joined to each
  vertex by a triangle edge, and ``neighbors_sizes`` (S,) int64.

These follow the downstream library's Delaunay mapper (PyAutoArray's ``InterpolatorDelaunay``
and ``MeshGeometryDelaunay``), and are bitwise its arrays with the default ``weights="areas"``:

- the triangulation is SciPy's (qhull) of the (y, x) vertices as given;
- a pixel outside the mesh's convex hull maps to its **nearest vertex** alone: indexes
  ``[v, -1, -1]``, weights ``[1, 0, 0]``, size 1;
- a vertex qhull leaves out of every triangle (a duplicate point) maps no pixel and has no
  neighbours (``neighbors_sizes`` 0).

Traced positions are used as given: relocate pixels beyond the source-plane border first if the
fit does so (the library's border relocator).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from autokern.errors import InputShapeError, InputValueError

__all__ = ["DelaunayMesh", "delaunay_mesh_from", "mapping_from", "neighbors_from",
           "triangulation_from"]

Weights = Literal["areas", "affine"]

#: the library's floor on the summed sub-triangle areas (arcsec²): below it a row's weights are 0
_DEGENERATE_AREA = 1e-12


@dataclass(frozen=True, eq=False)
class DelaunayMesh:
    """A Delaunay mesh, the mapping of traced pixels onto it, and its neighbour graph.

    Attributes
    ----------
    points : (S, 2) float64
        The vertices, (y, x) arcsec in the source plane (the source pixels).
    simplices : (T, 3) int64
        The triangles, as vertex indexes.
    pix_indexes_for_sub_slim_index : (M, 3) int64
        Vertices each traced pixel maps to, -1 padded.
    pix_weights_for_sub_slim_index : (M, 3) float64
        Their barycentric weights (0 where padded).
    pix_sizes_for_sub_slim_index : (M,) int64
        Valid entries per row: 3 inside the hull, 1 outside.
    neighbors : (S, P) int64
        Vertices sharing a triangle edge with each vertex, -1 padded.
    neighbors_sizes : (S,) int64
        Valid entries per row of ``neighbors``.
    """

    points: np.ndarray
    simplices: np.ndarray
    pix_indexes_for_sub_slim_index: np.ndarray
    pix_weights_for_sub_slim_index: np.ndarray
    pix_sizes_for_sub_slim_index: np.ndarray
    neighbors: np.ndarray
    neighbors_sizes: np.ndarray

    @property
    def pixels(self) -> int:
        """S, the number of source pixels (vertices)."""
        return len(self.points)

    def __repr__(self) -> str:
        m = len(self.pix_indexes_for_sub_slim_index)
        return (f"DelaunayMesh(S={self.pixels}, triangles={len(self.simplices)}, M={m}, "
                f"P={self.neighbors.shape[1]})")


def _points(name: str, value: Any, minimum: int) -> np.ndarray:
    array = np.ascontiguousarray(value, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) < minimum:
        raise InputShapeError(f"{name} must be (N, 2) (y, x) arcsec with N >= {minimum}, got "
                              f"shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InputValueError(f"{name} holds NaN or inf at rows "
                              f"{np.flatnonzero(~np.isfinite(array).all(axis=1))[:5].tolist()}")
    return array


def triangulation_from(source_points: Any) -> Any:
    """SciPy's Delaunay triangulation (``scipy.spatial.Delaunay``) of ``source_points``
    (S, 2) (y, x) arcsec, the one the mapping uses; a clear error where there is none."""
    from scipy.spatial import Delaunay, QhullError

    source_points = _points("source_points", source_points, 3)
    try:
        return Delaunay(source_points)
    except QhullError as error:
        raise InputValueError(
            f"source_points: no Delaunay triangulation of these {len(source_points)} points "
            "(all on one line, or too few distinct points)") from error


def _neighbors(triangulation: Any) -> tuple[np.ndarray, np.ndarray]:
    indptr, neighbour_ids = triangulation.vertex_neighbor_vertices
    sizes = np.diff(indptr)
    neighbors = np.full((len(sizes), sizes.max()), -1, dtype=np.int64)
    for s in range(len(sizes)):
        neighbors[s, : sizes[s]] = neighbour_ids[indptr[s]: indptr[s + 1]]
    return neighbors, sizes.astype(np.int64)


def neighbors_from(source_points: Any) -> tuple[np.ndarray, np.ndarray]:
    """(neighbors (S, P) int64 -1 padded, neighbors_sizes (S,) int64) of the Delaunay
    triangulation of ``source_points`` (S, 2) (y, x) arcsec: vertices joined by an edge."""
    return _neighbors(triangulation_from(source_points))


def _area_weights(points: np.ndarray, traced: np.ndarray, indexes: np.ndarray) -> np.ndarray:
    """The library's barycentric weights (``pixel_weights_delaunay_from``), same operations in
    the same order: each vertex's weight is |area of the triangle the pixel makes with the
    opposite edge| over the sum of the three; a degenerate triangle gets weights 0."""

    def doubled_area(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        u, v = b - a, c - a
        return np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])

    p0, p1, p2 = (points[indexes[:, k]] for k in range(3))
    areas = np.stack([doubled_area(p1, p2, traced), doubled_area(p0, p2, traced),
                      doubled_area(p0, p1, traced)], axis=1)
    total = areas[:, 0] + areas[:, 1] + areas[:, 2]
    degenerate = np.abs(total) <= _DEGENERATE_AREA
    weights = areas / np.where(degenerate, 1.0, total)[:, None]
    weights[degenerate] = 0.0
    return weights


def _affine_weights(triangulation: Any, simplex: np.ndarray, traced: np.ndarray) -> np.ndarray:
    """Barycentric weights from qhull's affine transform of each triangle (signed)."""
    transform = triangulation.transform[simplex]
    bary = np.einsum("mij,mj->mi", transform[:, :2], traced - transform[:, 2])
    return np.column_stack([bary, 1.0 - bary.sum(axis=1)])


def delaunay_mesh_from(source_points: Any, traced_points: Any, *,
                       weights: Weights = "areas") -> DelaunayMesh:
    """Triangulate ``source_points`` and map ``traced_points`` onto the triangles.

    Parameters
    ----------
    source_points : (S, 2) float64
        Mesh vertices (the source pixels), (y, x) arcsec in the source plane; S >= 3, not all
        on one line.
    traced_points : (M, 2) float64
        Image-plane pixels (or sub-pixels: one row each) traced to the source plane, (y, x)
        arcsec.
    weights : {"areas", "affine"}
        How barycentric weights are computed inside the hull.  ``"areas"`` (default): the
        library's — each weight is an absolute sub-triangle area over their sum (never
        negative; a triangle of doubled area <= 1e-12 arcsec² gives weights 0), bitwise the
        library's mapper.  ``"affine"``: SciPy's affine transform of the triangle
        (``Delaunay.transform``); the same weights to rounding (~1e-16), signed, used by
        autokern's mock datasets.

    Returns
    -------
    DelaunayMesh
        The vertices, triangles, mapping (M rows) and neighbour graph; pixels outside the
        convex hull map to their nearest vertex with weight 1.
    """
    if weights not in ("areas", "affine"):
        raise InputValueError(f'weights must be "areas" or "affine", got {weights!r}')
    points = _points("source_points", source_points, 3)
    traced = _points("traced_points", traced_points, 1)
    triangulation = triangulation_from(points)
    indexes, values, sizes = mapping_from(triangulation, points, traced, weights=weights)
    neighbors, neighbors_sizes = _neighbors(triangulation)
    return DelaunayMesh(points, triangulation.simplices.astype(np.int64), indexes, values, sizes,
                        neighbors, neighbors_sizes)


def mapping_from(triangulation: Any, points: np.ndarray, traced: np.ndarray, *,
                 weights: Weights = "areas") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The barycentric mapping of ``traced`` (M, 2) onto an existing ``triangulation`` of
    ``points`` (S, 2) (from :func:`triangulation_from`; both (y, x) arcsec, float64,
    C-contiguous, unchecked): (indexes (M, 3) int64, weights (M, 3) float64, sizes (M,) int64)
    as in :func:`delaunay_mesh_from`, nearest vertex outside the hull."""
    from scipy.spatial import cKDTree

    simplices = triangulation.simplices.astype(np.int64)
    simplex = triangulation.find_simplex(traced)
    inside = simplex >= 0
    indexes = np.full((len(traced), 3), -1, dtype=np.int64)
    values = np.zeros((len(traced), 3))
    indexes[inside] = simplices[simplex[inside]]
    if weights == "areas":
        values[inside] = _area_weights(points, traced[inside], indexes[inside])
    else:
        values[inside] = _affine_weights(triangulation, simplex[inside], traced[inside])
    if not inside.all():
        _, nearest = cKDTree(points).query(traced[~inside])
        indexes[~inside, 0] = nearest
        values[~inside, 0] = 1.0
    return indexes, values, np.where(inside, 3, 1).astype(np.int64)
