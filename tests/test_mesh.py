"""autokern.mesh: the Delaunay mapping and neighbours, bitwise the downstream library's."""

from __future__ import annotations

import numpy as np
import pytest

from autokern import get_kernel
from autokern.data import mesh, testing
from autokern.errors import InputShapeError, InputValueError


def _points(seed: int = 0, vertices: int = 80, pixels: int = 600):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(vertices, 2)), 1.4 * rng.normal(size=(pixels, 2))


def test_mapping_interpolates_linear_functions_exactly_inside_the_hull():
    source, traced = _points()
    result = mesh.delaunay_mesh_from(source, traced)
    idx, w = result.pix_indexes_for_sub_slim_index, result.pix_weights_for_sub_slim_index
    inside = result.pix_sizes_for_sub_slim_index == 3
    assert 0 < inside.sum() < len(traced)
    assert np.all(w[inside] >= 0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-13)
    # barycentric weights reproduce each point from its triangle's vertices
    np.testing.assert_allclose(np.einsum("mb,mbk->mk", w[inside], source[idx[inside]]),
                               traced[inside], atol=1e-13)


def test_outside_the_hull_a_pixel_maps_to_its_nearest_vertex():
    source, traced = _points(1)
    result = mesh.delaunay_mesh_from(source, traced)
    outside = result.pix_sizes_for_sub_slim_index == 1
    nearest = np.argmin(((traced[outside, None] - source[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(result.pix_indexes_for_sub_slim_index[outside, 0], nearest)
    np.testing.assert_array_equal(result.pix_indexes_for_sub_slim_index[outside, 1:], -1)
    np.testing.assert_array_equal(result.pix_weights_for_sub_slim_index[outside],
                                  np.tile([1.0, 0.0, 0.0], (outside.sum(), 1)))


def test_neighbours_are_the_triangle_edges():
    source, traced = _points(2)
    result = mesh.delaunay_mesh_from(source, traced)
    edges = {tuple(sorted((int(t[a]), int(t[b])))) for t in result.simplices
             for a, b in ((0, 1), (1, 2), (0, 2))}
    listed = {tuple(sorted((s, int(t)))) for s in range(result.pixels)
              for t in result.neighbors[s, : result.neighbors_sizes[s]]}
    assert listed == edges
    assert result.neighbors.shape == (80, result.neighbors_sizes.max())
    assert np.all(result.neighbors[np.arange(result.neighbors.shape[1]) >=
                                   result.neighbors_sizes[:, None]] == -1)
    nb, sizes = mesh.neighbors_from(source)
    np.testing.assert_array_equal(nb, result.neighbors)
    np.testing.assert_array_equal(sizes, result.neighbors_sizes)


def test_areas_and_affine_weights_agree_to_rounding():
    source, traced = _points(3)
    areas = mesh.delaunay_mesh_from(source, traced)
    affine = mesh.delaunay_mesh_from(source, traced, weights="affine")
    np.testing.assert_array_equal(areas.pix_indexes_for_sub_slim_index,
                                  affine.pix_indexes_for_sub_slim_index)
    np.testing.assert_allclose(areas.pix_weights_for_sub_slim_index,
                               affine.pix_weights_for_sub_slim_index, rtol=0, atol=1e-14)


def test_a_duplicate_vertex_maps_nothing_and_has_no_neighbours():
    source, traced = _points(4)
    source = np.vstack([source, source[:1]])
    result = mesh.delaunay_mesh_from(source, traced)
    left_out = np.flatnonzero(result.neighbors_sizes == 0)
    assert len(left_out) == 1 and left_out[0] in (0, len(source) - 1)
    assert left_out[0] not in result.pix_indexes_for_sub_slim_index[
        result.pix_sizes_for_sub_slim_index == 3]


def test_the_mapping_feeds_the_kernels():
    source, traced = _points(5, pixels=50)
    result = mesh.delaunay_mesh_from(source, traced)
    mapping = get_kernel("mapping_matrix_from", backend="original")(
        result.pix_indexes_for_sub_slim_index, result.pix_weights_for_sub_slim_index,
        result.pixels)
    assert mapping.shape == (50, 80)
    np.testing.assert_allclose(mapping.sum(axis=1), 1.0, rtol=1e-13)


def test_mock_meshes_are_built_by_this_module(monkeypatch):
    """The mock presets call delaunay_mesh_from (affine weights): no second copy of the maths."""
    calls = []

    def spy(*args, **kwargs):
        calls.append((kwargs, mesh_from(*args, **kwargs)))
        return calls[-1][1]

    mesh_from = mesh.delaunay_mesh_from
    monkeypatch.setattr(mesh, "delaunay_mesh_from", spy)
    case = testing.mock_case("tiny", seed=0)
    [(kwargs, built)] = calls
    assert kwargs == {"weights": "affine"}
    for name in ("pix_indexes_for_sub_slim_index", "pix_weights_for_sub_slim_index",
                 "pix_sizes_for_sub_slim_index", "neighbors", "neighbors_sizes"):
        np.testing.assert_array_equal(getattr(case.mesh, name), getattr(built, name))


@pytest.mark.parametrize("call, error, match", [
    (lambda: mesh.delaunay_mesh_from(np.zeros((2, 2)), np.zeros((3, 2))), InputShapeError,
     "N >= 3"),
    (lambda: mesh.delaunay_mesh_from(np.ones((5, 3)), np.zeros((3, 2))), InputShapeError,
     "source_points"),
    (lambda: mesh.delaunay_mesh_from(np.c_[np.arange(5.0), np.arange(5.0)], np.zeros((3, 2))),
     InputValueError, "one line"),
    (lambda: mesh.delaunay_mesh_from(_points()[0], [[np.nan, 0.0]]), InputValueError, "NaN"),
    (lambda: mesh.delaunay_mesh_from(*_points(), weights="nearest"), InputValueError,
     "areas"),
])
def test_bad_input_is_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- against the library's Delaunay mapper -------------------------------------------------

@pytest.mark.parametrize("sub_size", [1, 2])
def test_mapping_and_neighbours_are_the_library_mappers(sub_size):
    aa = pytest.importorskip("autoarray", reason="the downstream library (autokern[autolens])")
    mask = aa.Mask2D.circular(shape_native=(40, 40), pixel_scales=0.1, radius=1.5)
    image = np.asarray(aa.Grid2D.from_mask(mask=mask).array)
    traced = image - 0.6 * image / np.hypot(image[:, 0], image[:, 1])[:, None]
    data_grid = aa.Grid2D(values=traced, mask=mask, over_sample_size=sub_size)
    queries = np.asarray(data_grid.over_sampled.array)
    rng = np.random.default_rng(sub_size)
    vertices = queries[rng.choice(len(queries), 120, replace=False)]
    vertices = np.vstack([vertices + rng.normal(scale=1e-3, size=vertices.shape),
                          vertices[:1] + 1e-3])  # one more, near the first
    interpolator = aa.mesh.Delaunay(pixels=len(vertices)).interpolator_from(
        source_plane_data_grid=data_grid, source_plane_mesh_grid=aa.Grid2DIrregular(vertices))
    mapper = aa.Mapper(interpolator=interpolator)
    ours = mesh.delaunay_mesh_from(vertices, queries)
    assert (ours.pix_sizes_for_sub_slim_index == 1).any()  # some pixels outside the hull
    for name, library in (
            ("pix_indexes_for_sub_slim_index", mapper.pix_indexes_for_sub_slim_index),
            ("pix_weights_for_sub_slim_index", mapper.pix_weights_for_sub_slim_index),
            ("pix_sizes_for_sub_slim_index", mapper.pix_sizes_for_sub_slim_index),
            ("neighbors", mapper.neighbors), ("neighbors_sizes", mapper.neighbors.sizes)):
        np.testing.assert_array_equal(getattr(ours, name), np.asarray(library), err_msg=name)
