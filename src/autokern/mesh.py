"""``autokern.mesh``, the public path of :mod:`autokern.data.mesh`: A Delaunay source mesh: the
sparse mapping and the neighbour graph the kernels take."""

from autokern.data.mesh import (
    DelaunayMesh,
    delaunay_mesh_from,
    mapping_from,
    neighbors_from,
    triangulation_from,
)

__all__ = [
    "DelaunayMesh",
    "delaunay_mesh_from",
    "mapping_from",
    "neighbors_from",
    "triangulation_from",
]
