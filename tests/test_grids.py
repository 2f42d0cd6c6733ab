"""autokern.grids: masks and grids from any mask, bitwise the downstream library's."""

from __future__ import annotations

import numpy as np
import pytest

from autokern.data import datasets, grids, testing
from autokern.errors import InputShapeError, InputTypeError, InputValueError


def test_the_dev_reference_grid_to_the_last_bit(data_dir):
    with np.load(data_dir / "sma_delaunay_dev.npz") as ref:
        mask, pixel_scale = ref["real_space_mask"], float(ref["pixel_scale"])
        grid = grids.MaskedGrid(mask, pixel_scale)
        np.testing.assert_array_equal(grid.grid_radians_slim, ref["grid_radians_slim"])
        np.testing.assert_array_equal(grid.native_index_for_slim_index,
                                      ref["native_index_for_slim_index"])
        assert grid.shape_masked_pixels_2d == tuple(ref["shape_native_masked_pixels"])
        # the circle the reference was cut with (radius 2.4")
        np.testing.assert_array_equal(grids.mask_2d_circular_from(mask.shape, pixel_scale, 2.4),
                                      mask)
    assert grid.native_index_for_slim_index.dtype == np.int64
    assert grid.grid_radians_slim.dtype == np.float64 and grid.pixels == 448


def test_slim_grid_is_the_native_grid_at_the_unmasked_pixels():
    mask = grids.mask_2d_circular_annular_from((31, 24), 0.1, 0.3, 1.1, centre=(0.2, -0.1))
    native = grids.grid_radians_2d_from(mask.shape, 0.1, origin=(0.5, -0.25))
    rows, cols = np.nonzero(~mask)
    np.testing.assert_array_equal(grids.grid_radians_slim_from(mask, 0.1, origin=(0.5, -0.25)),
                                  native[rows, cols])
    d = 0.1 * np.pi / 648000
    # rows go down in y, columns right in x; the origin is the (y, x) at the array's centre
    np.testing.assert_allclose(native[1, 0] - native[0, 0], [-d, 0.0], atol=1e-20)
    np.testing.assert_allclose(native[0, 1] - native[0, 0], [0.0, d], atol=1e-20)
    np.testing.assert_allclose(native.mean(axis=(0, 1)), np.array([0.5, -0.25]) * np.pi / 648000,
                               rtol=1e-12)


def test_extent_and_slim_order_of_an_irregular_mask():
    mask = np.ones((6, 7), dtype=bool)
    mask[1, 5] = mask[2, 2] = mask[4, 3] = mask[4, 1] = False
    np.testing.assert_array_equal(grids.native_index_for_slim_index_from(mask),
                                  [[1, 5], [2, 2], [4, 1], [4, 3]])
    assert grids.shape_masked_pixels_2d_from(mask) == (4, 5)
    values = np.array([1.0, 2.0, 3.0, 4.0])
    native = grids.array_2d_native_from(values, mask, fill_value=np.nan)
    assert native[2, 2] == 2.0 and native[4, 1] == 3.0 and np.isnan(native[0, 0])
    np.testing.assert_array_equal(grids.MaskedGrid(mask, 0.2).native_from(values, 0.0)[~mask],
                                  values)


def test_masked_grid_copies_its_mask_and_freezes():
    mask = grids.mask_2d_circular_from((12, 12), 0.1, 0.4)
    grid = grids.MaskedGrid(mask, (0.1, 0.1))
    mask[:] = True
    assert not grid.mask.all() and grid.pixel_scale == 0.1 and grid.shape_native == (12, 12)
    with pytest.raises(AttributeError):
        grid.pixel_scale = 0.2  # type: ignore[misc]
    assert grid.grid_radians_2d.shape == (12, 12, 2)


def test_interferometer_takes_any_mask():
    rng = np.random.default_rng(0)
    k = 20
    data, noise = rng.normal(size=k) + 1j * rng.normal(size=k), np.full(k, 1.0 + 1.0j)
    uv = rng.normal(size=(k, 2)) * 1e5
    mask = grids.mask_2d_circular_annular_from((30, 30), 0.1, 0.4, 1.2)
    dataset = datasets.Interferometer(data, noise, uv, grids.MaskedGrid(mask, 0.1))
    np.testing.assert_array_equal(dataset.real_space_mask, mask)
    np.testing.assert_array_equal(dataset.grid_radians_slim,
                                  grids.grid_radians_slim_from(mask, 0.1))
    assert dataset.pixel_scale == 0.1
    assert dataset.shape_masked_pixels_2d == grids.shape_masked_pixels_2d_from(mask)
    circular = datasets.Interferometer(data, noise, uv, datasets.MaskSpec((30, 30), 0.1, 1.2))
    assert circular.grid.pixels > dataset.grid.pixels
    with pytest.raises(InputTypeError, match="MaskedGrid"):
        datasets.Interferometer(data, noise, uv, mask)  # type: ignore[arg-type]


def test_a_case_on_a_masked_grid_has_no_circle():
    case = testing.mock_case("tiny", seed=0)
    dataset = case.dataset
    other = testing.Case("any", datasets.Interferometer(
        dataset.data, dataset.noise_map, dataset.uv_wavelengths,
        grids.MaskedGrid(dataset.real_space_mask, dataset.pixel_scale)), case.mesh)
    assert other.value("shape_native") == dataset.real_space_mask.shape
    np.testing.assert_array_equal(other.value("grid_radians_slim"), dataset.grid_radians_slim)
    with pytest.raises(KeyError, match="circular"):
        other.value("radius")


@pytest.mark.parametrize("call, error, match", [
    (lambda: grids.MaskedGrid(np.zeros((4, 4)), 0.1), InputTypeError, "boolean"),
    (lambda: grids.MaskedGrid(np.zeros(4, bool), 0.1), InputShapeError, "2D"),
    (lambda: grids.MaskedGrid(np.ones((4, 4), bool), 0.1), InputValueError, "every pixel"),
    (lambda: grids.MaskedGrid(np.zeros((4, 4), bool), (0.1, 0.2)), InputValueError, "square"),
    (lambda: grids.MaskedGrid(np.zeros((4, 4), bool), -0.1), InputValueError, "positive"),
    (lambda: grids.MaskedGrid(np.zeros((4, 4), bool), 0.1, (0.0,)), InputValueError, "origin"),
    (lambda: grids.mask_2d_circular_annular_from((9, 9), 0.1, 0.5, 0.2), InputValueError,
     "inner_radius"),
    (lambda: grids.grid_radians_2d_from((4, 0), 0.1), InputValueError, "shape_native"),
    (lambda: grids.array_2d_native_from(np.ones(3), np.zeros((2, 2), bool)), InputShapeError,
     r"\(4,\)"),
])
def test_bad_input_is_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- against the library itself ---------------------------------------------------------------

@pytest.fixture(scope="module")
def aa():
    return pytest.importorskip("autoarray", reason="the downstream library (autokern[autolens])")


def _library_arrays(mask, aa):
    return (np.asarray(aa.Grid2D.from_mask(mask=mask)),
            np.asarray(aa.Grid2D.from_mask(mask=mask).in_radians),
            np.asarray(mask.derive_indexes.native_for_slim),
            tuple(int(n) for n in mask.shape_native_masked_pixels))


def _assert_same_as_library(mask, grid, aa):
    library_arcsec, library_grid, library_index, library_extent = _library_arrays(mask, aa)
    np.testing.assert_array_equal(grid.mask, np.asarray(mask))
    np.testing.assert_array_equal(grid.grid_arcsec_slim, library_arcsec)
    np.testing.assert_array_equal(grid.grid_radians_slim, library_grid)
    np.testing.assert_array_equal(grid.native_index_for_slim_index, library_index)
    assert grid.shape_masked_pixels_2d == library_extent


@pytest.mark.parametrize("shape, pixel_scale, radius, centre, origin", [
    ((100, 100), 0.2, 2.4, (0.0, 0.0), (0.0, 0.0)),
    ((61, 61), 0.1, 3.0, (0.0, 0.0), (0.0, 0.0)),  # pixels exactly on the circle
    ((34, 27), 0.25, 2.0, (0.25, -0.3), (0.7, -1.1)),
    ((41, 50), 0.07, 0.9, (-0.1, 0.2), (0.0, 2.5)),
])
def test_circular_masks_and_grids_are_the_librarys(aa, shape, pixel_scale, radius, centre,
                                                  origin):
    mask = aa.Mask2D.circular(shape_native=shape, radius=radius, pixel_scales=pixel_scale,
                              centre=centre, origin=origin)
    ours = grids.MaskedGrid.circular(shape, pixel_scale, radius, centre, origin=origin)
    _assert_same_as_library(mask, ours, aa)


@pytest.mark.parametrize("backend", ["original", "numba", "jax"])
def test_every_backends_circular_mask_kernel_is_the_librarys_on_the_circle(aa, backend):
    import autokern

    kernel = autokern.get_kernel("mask_2d_circular_from", backend)
    for shape, pixel_scale, radius in (((61, 61), 0.1, 3.0), ((41, 41), 0.5, 5.0)):
        library = np.asarray(aa.Mask2D.circular(shape_native=shape, radius=radius,
                                                pixel_scales=pixel_scale))
        ours = np.asarray(kernel(shape, (pixel_scale, pixel_scale), radius))
        np.testing.assert_array_equal(ours, library)


@pytest.mark.parametrize("shape, pixel_scale, inner, outer, centre", [
    ((60, 60), 0.1, 0.5, 2.5, (0.0, 0.0)),
    ((61, 45), 0.1, 1.0, 2.0, (0.1, -0.2)),  # both circles through pixel centres
])
def test_annular_masks_are_the_librarys(aa, shape, pixel_scale, inner, outer, centre):
    mask = aa.Mask2D.circular_annular(shape_native=shape, inner_radius=inner,
                                      outer_radius=outer, pixel_scales=pixel_scale,
                                      centre=centre)
    ours = grids.mask_2d_circular_annular_from(shape, pixel_scale, inner, outer, centre)
    _assert_same_as_library(mask, grids.MaskedGrid(ours, pixel_scale), aa)


@pytest.mark.parametrize("seed", range(4))
def test_irregular_and_rectangular_masks_are_the_librarys(aa, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(5, 40, size=2))
    pixel_scale = float(rng.choice([0.03, 0.1, 0.2]))
    origin = (float(rng.normal()), float(rng.normal()))
    irregular = rng.random(shape) < 0.6
    irregular[rng.integers(shape[0]), rng.integers(shape[1])] = False
    rectangular = np.ones(shape, dtype=bool)
    rectangular[1: shape[0] - 2, 2: shape[1] - 1] = False
    for values in (irregular, rectangular):
        mask = aa.Mask2D(mask=values, pixel_scales=pixel_scale, origin=origin)
        _assert_same_as_library(mask, grids.MaskedGrid(mask, pixel_scale, origin), aa)


def test_the_native_grid_is_the_librarys(aa):
    mask = aa.Mask2D.all_false(shape_native=(7, 10), pixel_scales=0.3, origin=(0.2, -0.6))
    library = np.asarray(aa.Grid2D.from_mask(mask=mask).in_radians.native)
    np.testing.assert_array_equal(grids.grid_radians_2d_from((7, 10), 0.3, (0.2, -0.6)), library)
