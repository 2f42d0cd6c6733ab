"""NUFFT reductions, FFT-convolution curvature, method="auto" and streaming visibility terms."""

import itertools

import numpy as np
import pytest

from autokern import get_kernel
from autokern._api.dispatch import provides
from autokern._cpu import nufft, nufft_points
from autokern._runtime import routes
from autokern._shared import lattice
from autokern.catalogue import BACKEND_NAMES
from autokern.errors import InputValueError, MissingDependencyError
from autokern.terms import VisibilityTerms, visibility_terms_from_chunks
from helpers import relative_error, to_numpy


def providers(kernel: str) -> list[str]:
    return [b for b in BACKEND_NAMES if provides(b, kernel)]


def test_points_phases_match_libm_on_every_range():
    """The CPU points' own sin/cos (Cody–Waite reduction + fdlibm polynomials) against
    NumPy's, from tiny phases to past the reduction's limit (where libm takes over), quadrant
    boundaries and both signs included."""
    rng = np.random.default_rng(5)
    limit = nufft_points._SINCOS_LIMIT
    phases = np.concatenate([
        rng.uniform(-1.0, 1.0, 20_000), rng.uniform(-1e3, 1e3, 20_000),
        rng.uniform(-limit, limit, 20_000), rng.uniform(-1e9, 1e9, 2_000),
        np.pi / 4 * np.arange(-40, 41), [0.0, -0.0, 1e-300, limit * (1 - 1e-16), limit]])
    rng.shuffle(phases)  # the libm fallback works block by block: mix the ranges
    n = len(phases)
    # α = phase (v = phase, alpha_per_v = 1), β = 0, a_shift = 1: values = exp(i phase)
    uv = np.stack([np.zeros(n), phases], axis=1)
    values, coord = np.empty(n, dtype=np.complex128), np.empty((n, 2))
    nufft_points._points_into(np.ones(n), nufft_points._NONE, nufft_points._NO_DATA, uv, 1.0,
                              1.0, 0.0, 0.0, False, 1, 0, values, coord)
    assert np.max(np.abs(values - (np.cos(phases) + 1j * np.sin(phases)))) <= 3e-16
    assert np.array_equal(coord[:, 0], phases)


@pytest.mark.parametrize("case_name", ["dev", "small"])
def test_cpu_nufft_matches_the_direct_sums(case_name, get_case):
    case = get_case(case_name)
    ds = case.dataset
    direct = get_kernel("w_compact_curvature_interferometer_from", "original")
    w_compact = nufft.w_compact_if_chosen(ds.shape_masked_pixels_2d, ds.noise_map_real,
                                          ds.uv_wavelengths, ds.pixel_scale, "auto", "nufft",
                                          1e-12)
    assert relative_error(w_compact, direct(**case.arguments(direct.kernel))) <= 1e-11
    precision_operator = nufft.precision_operator_if_chosen(ds.noise_map_real, ds.uv_wavelengths,
                                       ds.shape_masked_pixels_2d, ds.grid_radians_2d, "auto",
                                       "nufft", 1e-12)
    expected = get_kernel("nufft_precision_operator_from", "original")(
        **case.arguments("nufft_precision_operator_from"))
    assert relative_error(precision_operator, expected) <= 1e-11
    dirty = nufft.dirty_image_if_chosen(ds.data, ds.noise_map, ds.uv_wavelengths,
                                        ds.grid_radians_slim, "auto", "nufft", 1e-12)
    expected = get_kernel("w_tilde_data_interferometer_from", "original")(
        **case.arguments("w_tilde_data_interferometer_from"))
    assert relative_error(dirty, expected) <= 1e-11


NUFFT_REDUCTIONS = ["w_tilde_data_interferometer_from",
                    "nufft_precision_operator_from",
                    "w_compact_curvature_interferometer_from"]


@pytest.mark.parametrize("case_name", ["dev", "small"])
@pytest.mark.parametrize("backend, kernel", [(b, k) for k in NUFFT_REDUCTIONS
                                             for b in providers(k)])
def test_nufft_method_matches_the_direct_reference(backend, kernel, case_name, get_case):
    """max|Δ|/max|ref| ≤ 1e-11 on every backend, whatever the chunking."""
    case = get_case(case_name)
    arguments = case.arguments(kernel)
    expected = get_kernel(kernel, "original")(**arguments, method="direct")
    fn = get_kernel(kernel, backend)
    for chunk_size in ("auto", 37):
        result = fn(**arguments, method="nufft", chunk_size=chunk_size)
        assert relative_error(result, expected) <= 1e-11


def test_dirty_image_off_a_lattice_is_left_to_the_direct_sum(get_case):
    ds = get_case("tiny").dataset
    grid = ds.grid_radians_slim.copy()
    grid[0, 1] += 0.37 * (grid[1, 1] - grid[0, 1])
    assert lattice.lattice_of(grid, ds.uv_wavelengths, 1e-12) is None


def test_nufft_refuses_unreachable_tolerance_and_missing_extra(monkeypatch):
    with pytest.raises(InputValueError, match="eps must lie in"):
        routes.use_nufft("w_compact_curvature_interferometer_from", "nufft", 1e-15, 10, (4, 4),
                         available=True, min_eps=nufft.MIN_EPS)
    with pytest.raises(MissingDependencyError, match=r"autokern\[nufft\]"):
        routes.use_nufft("k", "nufft", 1e-12, 10, (4, 4), available=False)
    assert not routes.use_nufft("k", "auto", 1e-12, 10**7, (300, 300), available=False)
    assert not routes.use_nufft("k", "auto", 1e-14, 10**7, (300, 300), available=True,
                                min_eps=nufft.MIN_EPS)
    assert routes.use_nufft("k", "auto", 1e-12, 10**7, (300, 300), available=True)
    assert not routes.use_nufft("k", "direct", 1e-12, 10**7, (300, 300), available=True)


@pytest.mark.parametrize("backend", providers("curvature_matrix_via_w_compact_fft_from"))
@pytest.mark.parametrize("case_name", ["dev", "small"])
def test_fft_curvature_matches_the_sparse_one(backend, case_name, get_case):
    case = get_case(case_name)
    arguments = case.arguments("curvature_matrix_via_w_compact_fft_from")
    fft = get_kernel("curvature_matrix_via_w_compact_fft_from", backend)(**arguments)
    sparse = get_kernel("curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
                        "original")(**arguments)
    assert relative_error(fft, sparse) <= 1e-10


@pytest.mark.parametrize("backend", providers("curvature_matrix_via_w_compact_from"))
def test_curvature_method_routes(backend, get_case, monkeypatch):
    case = get_case("tiny")
    fn = get_kernel("curvature_matrix_via_w_compact_from", backend)
    arguments = case.arguments(fn.kernel)
    expected = get_kernel("curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
                          "original")(**arguments)
    for method in ("sparse", "direct", "fft", "auto"):
        assert relative_error(fn(**arguments, method=method), expected) <= 1e-10
    with pytest.raises(InputValueError, match="method must be one of"):
        fn(**arguments, method="nufft")


def test_auto_curvature_follows_the_cost_model():
    assert set(routes.curvature_costs(2828, 1000, 3, (60, 60))) == set(routes.CURVATURE_ROUTES)
    picks = {routes.curvature_method(m, s, 3, extent)
             for m, s, extent in [(716, 256, (30, 30)), (70_000, 1500, (300, 300)),
                                  (2828, 1000, (60, 60))]}
    assert picks <= set(routes.CURVATURE_ROUTES)


def _chunks(ds, bounds):
    for start, stop in itertools.pairwise(bounds):
        yield ds.data[start:stop], ds.noise_map[start:stop], ds.uv_wavelengths[start:stop]


UNEVEN = [0, 1, 13, 40, 41, 90, 151, 200]  # 7 chunks of 1 to 61 visibilities


@pytest.mark.parametrize("backend", providers("visibility_terms_from"))
@pytest.mark.parametrize("method", ["direct", "nufft"])
def test_terms_of_uneven_chunks_add_up_to_the_whole(backend, method, get_case):
    ds = get_case("tiny").dataset
    whole = get_kernel("visibility_terms_from", backend)(
        ds.data, ds.noise_map, ds.uv_wavelengths, ds.grid_radians_slim,
        ds.native_index_for_slim_index, ds.pixel_scale, method=method)
    folded = visibility_terms_from_chunks(
        _chunks(ds, UNEVEN), ds.grid_radians_slim, ds.native_index_for_slim_index,
        ds.pixel_scale, backend=backend, progress=False, method=method)
    assert folded.n_visibilities == whole.n_visibilities == len(ds.data)
    assert relative_error(folded, whole) <= 1e-12
    direct = get_kernel("w_compact_curvature_interferometer_from", "original")(
        ds.shape_masked_pixels_2d, ds.noise_map_real, ds.uv_wavelengths, ds.pixel_scale)
    assert relative_error(whole.w_compact, direct) <= 1e-11


def test_progress_bar_and_empty_input(get_case, capsys):
    ds = get_case("tiny").dataset
    visibility_terms_from_chunks(_chunks(ds, UNEVEN), ds.grid_radians_slim,
                                 ds.native_index_for_slim_index, ds.pixel_scale,
                                 backend="original", progress=True, total=7, method="direct")
    assert "7/7" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no chunks"):
        visibility_terms_from_chunks([], ds.grid_radians_slim, ds.native_index_for_slim_index,
                                     ds.pixel_scale, backend="original", progress=False)


def test_terms_of_different_images_do_not_add():
    a = VisibilityTerms(np.zeros((2, 3)), np.zeros(4), 1.0, 2.0, 3)
    b = VisibilityTerms(np.zeros((3, 5)), np.zeros(4), 1.0, 2.0, 3)
    with pytest.raises(ValueError, match="different images"):
        a + b
    assert to_numpy(a + a)[-1] == 6


@pytest.mark.parametrize("backend", providers("log_likelihood_function_via_visibility_terms_from"))
def test_likelihood_from_terms_equals_the_likelihood_from_visibilities(backend, dev_case):
    ds, mesh = dev_case.dataset, dev_case.mesh
    terms = get_kernel("visibility_terms_from", backend)(
        ds.data, ds.noise_map, ds.uv_wavelengths, ds.grid_radians_slim,
        ds.native_index_for_slim_index, ds.pixel_scale, method="nufft")
    log_evidence = get_kernel("log_likelihood_function_via_visibility_terms_from", backend)(
        terms, ds.native_index_for_slim_index, mesh.pix_indexes_for_sub_slim_index,
        mesh.pix_weights_for_sub_slim_index, mesh.neighbors, mesh.neighbors_sizes, 2.0)
    assert float(log_evidence) == pytest.approx(-22905.57251045543, rel=1e-10)
