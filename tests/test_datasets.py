"""Datasets: derived arrays, the FITS reader, the dev loader and the mock presets."""

import numpy as np
import pytest

from autokern.data import datasets, testing


def test_fits_reader_gives_the_dev_reference_visibilities(data_dir, dev_case):
    data, noise_map, uv_wavelengths = datasets.read_visibilities_fits(data_dir / "sma")
    assert data.dtype == np.complex128 and uv_wavelengths.dtype == np.float64
    assert data.dtype.isnative and uv_wavelengths.dtype.isnative
    np.testing.assert_array_equal(data, dev_case.reference["data"])
    np.testing.assert_array_equal(noise_map, dev_case.reference["noise_map"])
    np.testing.assert_array_equal(uv_wavelengths, dev_case.reference["uv_wavelengths"])


def test_interferometer_derives_the_downstream_arrays(dev_case):
    ds, ref = dev_case.dataset, dev_case.reference
    np.testing.assert_array_equal(ds.real_space_mask, ref["real_space_mask"])
    np.testing.assert_array_equal(ds.native_index_for_slim_index,
                                  ref["native_index_for_slim_index"])
    np.testing.assert_array_equal(ds.grid_radians_slim, ref["grid_radians_slim"])
    assert ds.shape_masked_pixels_2d == tuple(ref["shape_native_masked_pixels"])
    assert ds.grid_radians_2d.shape == (*ref["real_space_mask"].shape, 2)


def test_interferometer_refuses_inconsistent_lengths():
    spec = datasets.MaskSpec((10, 10), 0.1, 0.3)
    with pytest.raises(ValueError, match="must be"):
        datasets.Interferometer(np.ones(3, complex), np.ones(4, complex), np.ones((3, 2)), spec)


@pytest.mark.parametrize("preset, image_pixels, extent", [("tiny", 112, 12), ("small", 716, 30),
                                                          ("medium", 2828, 60)])
def test_mock_presets_have_their_sizes(preset, image_pixels, extent):
    case = testing.mock_case(preset, seed=0)
    spec = datasets.PRESETS[preset]
    assert len(case.dataset.native_index_for_slim_index) == image_pixels
    assert case.dataset.shape_masked_pixels_2d == (extent, extent)
    assert len(case.dataset.data) == spec.visibilities
    assert case.mesh.pixels == spec.source_pixels


def test_mock_is_reproducible_and_seed_dependent():
    a, b, c = (testing.mock_case("tiny", seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.dataset.data, b.dataset.data)
    np.testing.assert_array_equal(a.mesh.pix_indexes_for_sub_slim_index,
                                  b.mesh.pix_indexes_for_sub_slim_index)
    assert not np.array_equal(a.dataset.uv_wavelengths, c.dataset.uv_wavelengths)


def test_mock_uv_coverage_is_realistic():
    case = testing.mock_case("small", seed=0)
    uv = case.dataset.uv_wavelengths
    assert 5e5 < np.abs(uv).max() <= 1e6
    assert (uv[:, 0] < 0).any() and (uv[:, 1] < 0).any()
    # phases across the mask span many radians, so sign errors cannot hide
    extent = case.dataset.shape_masked_pixels_2d[1] * case.dataset.pixel_scale * np.pi / 648000
    assert 2 * np.pi * extent * np.abs(uv).max() > 20
    # Re σ = Im σ (W̃ from Re σ is exact only then; issue: unequal noise is refused)
    noise = case.dataset.noise_map
    assert np.array_equal(noise.real, noise.imag) and np.ptp(noise.real) > 0.5


def test_mock_mapping_is_delaunay_like():
    mesh = testing.mock_case("small", seed=0).mesh
    idx, w = mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index
    assert idx.shape[1] == 3 and idx.max() < mesh.pixels and idx.min() >= -1
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(w[idx < 0] == 0)
    np.testing.assert_array_equal(mesh.pix_sizes_for_sub_slim_index, (idx >= 0).sum(axis=1))
    assert (mesh.pix_sizes_for_sub_slim_index == 3).mean() > 0.5
    nb, sizes = mesh.neighbors, mesh.neighbors_sizes
    assert np.all(sizes >= 2) and nb.shape[1] == sizes.max()
    for s in range(mesh.pixels):  # the neighbour graph is symmetric
        for t in nb[s, : sizes[s]]:
            assert s in nb[t, : sizes[t]]


def test_case_hands_out_arguments_by_catalogue_name(dev_case):
    args = dev_case.arguments("log_likelihood_function_via_w_compact_from")
    assert args["coefficient"] == 2.0
    assert args["w_compact"].shape == (24, 47)
    with pytest.raises(KeyError, match="no value for argument"):
        dev_case.value("not_an_argument")


def test_missing_data_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="AUTOKERN_DATA_DIR"):
        testing.load_dev_reference(tmp_path / "nowhere")


def test_mock_chunks_are_seeded_chunks_of_one_dataset():
    chunks = list(datasets.mock_chunks("small", n_visibilities=2_500, chunk_size=1_000, seed=3))
    assert [len(c[0]) for c in chunks] == [1_000, 1_000, 500]
    spec = datasets.PRESETS["small"]
    for index, (data, noise_map, uv) in enumerate(chunks):
        again = datasets.mock_chunk(len(data), index, seed=3, max_uv=spec.max_uv,
                                    antennas=spec.antennas, radius=spec.mask_spec().radius)
        for a, b in zip((data, noise_map, uv), again, strict=True):
            np.testing.assert_array_equal(a, b)
        assert data.dtype == noise_map.dtype == np.complex128 and uv.shape == (len(data), 2)
        np.testing.assert_array_equal(noise_map.real, noise_map.imag)
        assert np.abs(uv).max() <= spec.max_uv * (1 + 1e-12)
    assert not np.array_equal(chunks[0][2][:500], chunks[2][2])  # each chunk draws anew
    with pytest.raises(ValueError, match="positive"):
        next(datasets.mock_chunks("small", n_visibilities=0))
