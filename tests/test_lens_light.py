"""Light profiles at no cost of size K (issue 27 item 3): W̃ I through w-compact, the inversion of
the visibilities less a model image's, and linear light profiles solved with the source.

- every backend against the reference (SPEC §6, 1e-10), with and without linear light columns,
  both solvers, under ``jax.jit``;
- the reference against the visibilities themselves (the identity the kernels rest on) and
  against a dense joint solve;
- the reference against PyAutoLens's own fits (its DFT transformer: 1e-10; its default NUFFT
  transformer within that transformer's accuracy; linear light profiles: 1e-9).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from autokern import get_kernel
from autokern.errors import InputShapeError
from helpers import RTOL, relative_error

BACKENDS = ("numba", "jax")


@pytest.fixture(scope="module")
def case(get_case):
    return get_case("tiny")


def _light_columns(case, n=3):
    """n smooth, positive images on the mask (M, n): Gaussians of different widths/centres."""
    grid = case.dataset.grid_radians_slim
    centre = 0.5 * (grid.max(axis=0) + grid.min(axis=0))
    extent = float(np.max(np.ptp(grid, axis=0)))
    shifts = [(0.0, 0.0), (0.1, -0.05), (-0.05, 0.1)]
    return np.stack([np.exp(-0.5 * np.sum((grid - centre - extent * np.array(shifts[i % 3])) ** 2,
                                          axis=1) / (extent * (0.1 + 0.1 * i)) ** 2)
                     for i in range(n)], axis=1)


def _inversion(case, backend):
    return get_kernel("inversion_from", backend)(case.value("visibility_terms"),
                                                 case.dataset.native_index_for_slim_index)


def _result(case, backend, inversion, **options):
    mesh = case.mesh
    return get_kernel("inversion_result_from", backend)(
        inversion, mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index,
        case.value("regularization_matrix"), **options)


def _compare(result, expected):
    for field in ("log_evidence", "reconstruction", "chi_squared", "regularization_term",
                  "log_det_curvature_reg_matrix_term", "log_det_regularization_matrix_term"):
        error = relative_error(getattr(result, field), getattr(expected, field))
        assert error <= RTOL, (field, error)


# --- every backend against the reference ----------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_w_tilde_image_matches_the_reference_for_images_and_columns(case, backend):
    w_compact = case.value("w_compact")
    native = case.dataset.native_index_for_slim_index
    dense = get_kernel("w_tilde_via_compact_from", "original")(w_compact, native)
    for image in (case.value("image"), _light_columns(case)):
        expected = get_kernel("w_tilde_image_from", "original")(w_compact, native, image)
        assert relative_error(expected, dense @ image) <= 1e-13
        actual = get_kernel("w_tilde_image_from", backend)(w_compact, native, image)
        assert actual.shape == image.shape
        assert relative_error(actual, expected) <= RTOL


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("solver", ["positive_negative", "positive_only"])
@pytest.mark.parametrize("linear", [False, True], ids=["parametric", "parametric+linear"])
def test_lens_light_evidence_matches_the_reference(case, backend, solver, linear):
    image = 0.3 * case.value("image")
    options = {"solver": solver}
    if linear:
        options["linear_light_images"] = _light_columns(case)
    if solver == "positive_only":
        options["zeroed_pixels"] = np.arange(case.mesh.pixels - 5, case.mesh.pixels)
    subtracted = {b: get_kernel("light_subtracted_inversion_from", b)(_inversion(case, b), image)
                  for b in ("original", backend)}
    assert relative_error(subtracted[backend].dirty_image,
                          subtracted["original"].dirty_image) <= RTOL
    assert float(subtracted[backend].data_chi_squared) == pytest.approx(
        float(subtracted["original"].data_chi_squared), rel=RTOL)
    expected = _result(case, "original", subtracted["original"], **options)
    _compare(_result(case, backend, subtracted[backend], **options), expected)
    n = 3 if linear else 0
    assert np.asarray(expected.reconstruction).shape == (n + case.mesh.pixels,)
    if solver == "positive_only":
        assert np.all(np.asarray(expected.reconstruction)[-5:] == 0.0)
        assert np.all(np.asarray(expected.reconstruction) >= 0.0)


def test_the_jax_call_traces_under_jit(case):
    import jax

    image, columns = 0.3 * case.value("image"), _light_columns(case)
    inversion = _inversion(case, "jax")
    light = get_kernel("light_subtracted_inversion_from", "jax")
    mesh = case.mesh
    result_of = get_kernel("inversion_result_from", "jax")

    @jax.jit
    def log_evidence(image, columns):
        return result_of(light(inversion, image), mesh.pix_indexes_for_sub_slim_index,
                         mesh.pix_weights_for_sub_slim_index,
                         case.value("regularization_matrix"),
                         linear_light_images=columns).log_evidence

    expected = _result(case, "original",
                       get_kernel("light_subtracted_inversion_from", "original")(
                           _inversion(case, "original"), image),
                       linear_light_images=columns).log_evidence
    assert float(log_evidence(image, columns)) == pytest.approx(expected, rel=RTOL)
    gradient = jax.grad(lambda scale: log_evidence(scale * image, columns))(1.0)
    assert np.isfinite(float(gradient))


# --- the reference against the visibilities and a dense solve -------------------------------

def test_the_subtracted_inversion_is_that_of_the_subtracted_visibilities(case):
    """d − W̃ I and Σ|V − A I|²/σ² equal the dirty image and data term of V − A I itself."""
    ds = case.dataset
    image = 0.3 * case.value("image")
    y, x = ds.grid_radians_slim[:, 0], ds.grid_radians_slim[:, 1]
    phase = 2.0 * np.pi * (np.outer(ds.uv_wavelengths[:, 0], x)
                           + np.outer(ds.uv_wavelengths[:, 1], y))
    residual = ds.data - np.exp(-1j * phase) @ image  # the library's DFT of I
    terms = get_kernel("visibility_terms_from", "original")(
        residual, ds.noise_map, ds.uv_wavelengths, ds.grid_radians_slim,
        ds.native_index_for_slim_index, ds.pixel_scale, method="direct")
    subtracted = get_kernel("light_subtracted_inversion_from", "original")(
        _inversion(case, "original"), image)
    assert relative_error(subtracted.dirty_image, terms.dirty_image) <= RTOL
    assert float(subtracted.data_chi_squared) == pytest.approx(terms.data_chi_squared, rel=RTOL)
    assert subtracted.w_compact is _inversion(case, "original").w_compact or \
        np.array_equal(subtracted.w_compact, terms.w_compact)
    assert not subtracted.dirty_image.flags.writeable


def test_linear_light_is_the_dense_joint_solve(case):
    """The joint system written out densely: x = (F + diag(0, H))⁻¹ D over [L, T]."""
    ds, mesh = case.dataset, case.mesh
    columns = _light_columns(case)
    n, c = columns.shape[1], 1.0e-3
    w_tilde = case.value("w_tilde")
    design = np.hstack([columns, case.value("mapping_matrix")])
    curvature = design.T @ w_tilde @ design + np.diag([c] * n + [0.0] * mesh.pixels)
    regularization = np.zeros_like(curvature)
    regularization[n:, n:] = case.value("regularization_matrix")
    data_vector = design.T @ case.value("dirty_image")
    x = np.linalg.solve(curvature + regularization, data_vector)
    data_term = float(np.sum((ds.data.real / ds.noise_map.real) ** 2
                             + (ds.data.imag / ds.noise_map.imag) ** 2))
    chi_squared = x @ curvature @ x - 2.0 * x @ data_vector + data_term
    log_det = np.linalg.slogdet((curvature + regularization)[n:, n:])[1]
    result = _result(case, "original", _inversion(case, "original"),
                     linear_light_images=columns, linear_light_curvature_diagonal=c)
    assert relative_error(result.reconstruction, x) <= 1e-9
    assert result.chi_squared == pytest.approx(chi_squared, rel=1e-10)
    assert result.log_det_curvature_reg_matrix_term == pytest.approx(log_det, rel=1e-10)
    # matrices=True hands back the joint F and the source's H
    full = _result(case, "original", _inversion(case, "original"), linear_light_images=columns,
                   matrices=True)
    assert relative_error(full.curvature_matrix, curvature) <= 1e-12
    assert full.regularization_matrix.shape == (mesh.pixels, mesh.pixels)


def test_shapes_are_refused_by_name(case):
    inversion = _inversion(case, "original")
    with pytest.raises(InputShapeError, match="image"):
        get_kernel("light_subtracted_inversion_from", "original")(inversion, np.ones(7))
    with pytest.raises(InputShapeError, match="linear_light_images"):
        _result(case, "original", inversion, linear_light_images=np.ones((7, 2)))


# --- the reference against PyAutoLens -------------------------------------------------------

@pytest.fixture(scope="module")
def library():
    al = pytest.importorskip("autolens")
    import test_autoarray

    return al, test_autoarray


_FITS: dict = {}


def _library_fit(library, light_name, solver, transformer="dft"):
    key = (light_name, solver, transformer)
    if key not in _FITS:
        al = library[0]
        settings = al.Settings() if solver == "positive_only" else \
            al.Settings(use_positive_only_solver=False)
        _FITS[key] = _new_library_fit(library, _lights(al)[light_name], settings, transformer)
    return _FITS[key]


def _new_library_fit(library, light, settings, transformer):
    al, fits = library
    plain = fits.sma_dataset()
    dataset = al.Interferometer(
        data=plain.data, noise_map=plain.noise_map, uv_wavelengths=plain.uv_wavelengths,
        real_space_mask=plain.real_space_mask,
        **({"transformer_class": al.TransformerDFT} if transformer == "dft" else {}))
    mask = dataset.real_space_mask
    lens = al.Galaxy(redshift=0.5, mass=al.mp.Isothermal(
        centre=(0.0, 0.0), einstein_radius=1.4,
        ell_comps=al.convert.ell_comps_from(axis_ratio=0.9, angle=45.0)), **light)
    grid = al.image_mesh.append_with_circle_edge_points(
        image_plane_mesh_grid=al.image_mesh.Overlay(shape=(20, 20)).image_plane_mesh_grid_from(
            mask=mask), centre=(0.0, 0.0), radius=2.5, n_points=30)
    source = al.Galaxy(redshift=1.0, pixelization=al.Pixelization(
        mesh=al.mesh.Delaunay(pixels=len(grid) - 30, zeroed_pixels=30),
        regularization=al.reg.Constant(coefficient=0.5)))
    return al.FitInterferometer(
        dataset=dataset, tracer=al.Tracer(galaxies=[lens, source]),
        adapt_images=al.AdaptImages(galaxy_image_plane_mesh_grid_dict={source: grid}),
        settings=settings)


def _autokern_result(fit, backend="original"):
    """autokern's result for a library fit: the inversion of the dataset's own visibilities
    (built once per dataset, whatever the lens light), the fit's lens light image subtracted,
    its linear light profiles' images (their mapping matrices) solved with the source."""
    from autoarray.inversion.mappers.abstract import Mapper

    from autokern.apps import autoarray

    inversion = fit.inversion
    mapper = next(o for o in inversion.linear_obj_list if isinstance(o, Mapper))
    functions = [o for o in inversion.linear_obj_list if not isinstance(o, Mapper)]
    arrays = autoarray.arrays_from(fit.dataset, _OneMapper(inversion, mapper))
    raw = dataclasses.replace(arrays, data=np.asarray(fit.dataset.data.array))
    kept = autoarray.inversion_of(raw, backend, method="direct")
    subtracted = get_kernel("light_subtracted_inversion_from", backend)(
        kept, np.asarray(fit.profile_image.array))
    columns = np.hstack([np.asarray(f.mapping_matrix) for f in functions]) if functions \
        else None
    n = 0 if columns is None else columns.shape[1]
    return get_kernel("inversion_result_from", backend)(
        subtracted, arrays.pix_indexes_for_sub_slim_index, arrays.pix_weights_for_sub_slim_index,
        np.asarray(mapper.regularization_matrix), solver=arrays.solver,
        zeroed_pixels=arrays.zeroed_pixels if len(arrays.zeroed_pixels) else None,
        linear_light_images=columns,
        linear_light_curvature_diagonal=inversion.settings
        .no_regularization_add_to_curvature_diag_value), n


class _OneMapper:
    """A library inversion seen with its mapper alone (the adapter reads one Mapper)."""

    def __init__(self, inversion, mapper):
        self._inversion, self.linear_obj_list = inversion, [mapper]

    def __getattr__(self, name):
        return getattr(self._inversion, name)


def _lights(al):
    sersic = al.lp.Sersic(centre=(0.0, 0.0), intensity=0.05, effective_radius=0.6,
                          sersic_index=3.0)
    gaussians = {"bulge": al.lp_linear.Gaussian(centre=(0.0, 0.0), sigma=0.3),
                 "disk": al.lp_linear.Gaussian(centre=(0.0, 0.1), sigma=0.8,
                                               ell_comps=(0.1, 0.0))}
    return {"sersic": {"light": sersic}, "linear": gaussians,
            "sersic+linear": {"light": sersic, **gaussians}}


@pytest.mark.parametrize("solver", ["positive_negative", "positive_only"])
@pytest.mark.parametrize("light", ["sersic", "linear", "sersic+linear"])
def test_the_evidence_is_the_librarys_with_its_dft(library, light, solver):
    fit = _library_fit(library, light, solver)
    assert type(fit.dataset.transformer).__name__ == "TransformerDFT"
    result, n = _autokern_result(fit)
    tolerance = 1e-10 if light == "sersic" else 1e-9
    assert n == (0 if light == "sersic" else 2)
    assert abs(result.log_evidence / float(fit.log_evidence) - 1.0) <= tolerance
    assert abs(result.chi_squared / float(fit.inversion.fast_chi_squared) - 1.0) <= tolerance
    assert relative_error(result.reconstruction, np.asarray(fit.inversion.reconstruction)) \
        <= tolerance


def test_the_evidence_is_the_librarys_with_its_nufft_within_its_accuracy(library):
    """The library's default transformer (a NUFFT) is accurate to its own tolerance: autokern
    (exact sums) agrees with it within twice the NUFFT's distance from the DFT (measured on the
    SMA data: 4.7e-14 from its DFT, 4.2e-14 from autokern), and with the DFT to round-off."""
    nufft = _library_fit(library, "sersic", "positive_negative", transformer="nufft")
    dft = _library_fit(library, "sersic", "positive_negative")
    result, _ = _autokern_result(nufft)
    transformer_error = abs(float(nufft.log_evidence) / float(dft.log_evidence) - 1.0)
    ours = abs(result.log_evidence / float(nufft.log_evidence) - 1.0)
    print(f"library NUFFT vs its DFT {transformer_error:.2e}; autokern vs its NUFFT {ours:.2e}")
    assert ours <= max(2.0 * transformer_error, 1e-10), (ours, transformer_error)
    assert abs(result.log_evidence / float(dft.log_evidence) - 1.0) <= 1e-10
