"""Reliability round 3 (issue 24), the public edge: inputs refused by name, and an inversion
that owns its data.

Items 2 (circular masks' radius), 5 (an Inversion keeps no reference to the caller's arrays),
8 (non-finite terms and log det H), 9 (the adapter given an imaging fit) and 10 (a bad
``AUTOKERN_NUM_THREADS`` on every backend).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from autokern import get_kernel
from autokern.catalogue import BACKEND_NAMES
from autokern.data import grids, testing
from autokern.errors import ConfigurationError, InputValueError
from autokern.inversion import Inversion
from autokern.terms import VisibilityTerms

_CASE: list[testing.Case] = []


def tiny_case() -> testing.Case:
    """The tiny mock (M = 112, K = 200, S = 48), built once."""
    if not _CASE:
        _CASE.append(testing.mock_case("tiny", seed=1))
    return _CASE[0]


def private_terms() -> tuple[VisibilityTerms, np.ndarray]:
    """The tiny case's terms (NumPy, as the reference backend gives them) and native indexes,
    as fresh copies a test may scale or shuffle in place (C-contiguous, as the kernels take
    them: nothing on the way in copies them)."""
    case = tiny_case()
    terms = case.value("visibility_terms")
    return (dataclasses.replace(terms, w_compact=np.array(terms.w_compact),
                                dirty_image=np.array(terms.dirty_image)),
            np.ascontiguousarray(case.dataset.native_index_for_slim_index))


def log_evidence(inversion: Inversion, backend: str, **options) -> float:
    mesh = tiny_case().mesh
    result = get_kernel("inversion_result_from", backend)(
        inversion, mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index,
        tiny_case().value("regularization_matrix"), **options)
    return float(result.log_evidence)


# --- item 2: a circular mask's radius --------------------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("radius", [-0.25, -1.0, np.nan, np.inf])
def test_a_circular_mask_refuses_a_radius_the_kernel_refuses(radius, backend):
    """−0.25 used to give the +0.25 mask, −1, NaN and inf every pixel unmasked; the grids
    helpers now refuse what the kernel of the same name refuses, with its message."""
    with pytest.raises(InputValueError, match="radius") as kernel_error:
        get_kernel("mask_2d_circular_from", backend)((12, 12), (0.1, 0.1), radius, (0.0, 0.0))
    with pytest.raises(InputValueError, match="radius") as helper_error:
        grids.mask_2d_circular_from((12, 12), 0.1, radius)
    assert str(helper_error.value) == str(kernel_error.value)
    with pytest.raises(InputValueError, match="radius"):
        grids.MaskedGrid.circular((12, 12), 0.1, radius)


def test_a_circular_mask_of_a_valid_radius_is_unchanged():
    kernel = get_kernel("mask_2d_circular_from", "original")
    for radius in (0.0, 0.25, 0.4, 5.0):
        expected = kernel((12, 14), (0.1, 0.1), radius, (0.05, -0.1))
        np.testing.assert_array_equal(
            grids.mask_2d_circular_from((12, 14), (0.1, 0.1), radius, centre=(0.05, -0.1)),
            expected)


# --- item 5: an Inversion owns its data ------------------------------------------------------

def _scale_w_compact(terms: VisibilityTerms, native: np.ndarray) -> None:
    terms.w_compact[...] *= 2.0


def _scale_dirty_image(terms: VisibilityTerms, native: np.ndarray) -> None:
    terms.dirty_image[...] *= 2.0


def _swap_two_pixels(terms: VisibilityTerms, native: np.ndarray) -> None:
    native[[0, 50]] = native[[50, 0]]


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("change", [_scale_w_compact, _scale_dirty_image, _swap_two_pixels],
                         ids=["w_compact", "dirty_image", "native_index_for_slim_index"])
def test_an_inversion_is_not_changed_through_the_callers_arrays(change, backend):
    terms, native = private_terms()
    inversion = get_kernel("inversion_from", backend)(terms, native)
    before = log_evidence(inversion, backend)
    change(terms, native)
    after = log_evidence(inversion, backend)
    assert after == before, f"{change.__name__} changed the evidence: {before} -> {after}"


@pytest.mark.parametrize("backend", ["original", "numba"])
def test_an_inversions_arrays_are_read_only(backend):
    terms, native = private_terms()
    inversion = get_kernel("inversion_from", backend)(terms, native)
    for name in ("w_compact", "dirty_image", "native_index_for_slim_index"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(inversion, name)[0] = 0


# --- item 8: non-finite terms and log det H --------------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_non_finite_log_det_h_is_refused_by_name(value, backend):
    terms, native = private_terms()
    inversion = get_kernel("inversion_from", backend)(terms, native)
    with pytest.raises(InputValueError, match="log_det_regularization_matrix_term must be "
                                              "finite"):
        log_evidence(inversion, backend, log_det_regularization_matrix_term=value)


def _nan_in(name: str):
    def spoil(terms: VisibilityTerms) -> VisibilityTerms:
        if name in ("w_compact", "dirty_image"):
            array = np.array(getattr(terms, name))
            array.flat[3] = np.nan
            return dataclasses.replace(terms, **{name: array})
        return dataclasses.replace(terms, **{name: np.nan})

    return spoil


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("name", ["dirty_image", "data_chi_squared", "w_compact",
                                  "noise_normalization"])
def test_non_finite_visibility_terms_are_refused_by_name(name, backend):
    terms, native = private_terms()
    with pytest.raises(InputValueError, match=f"visibility_terms.{name} must be finite"):
        get_kernel("inversion_from", backend)(_nan_in(name)(terms), native)


# --- item 9: the adapter given an imaging fit ------------------------------------------------

def _imaging_fit():
    """A real PyAutoLens imaging fit of a pixelized source (no visibilities to evaluate)."""
    al = pytest.importorskip("autolens")
    shape, scale = (20, 20), 0.2
    mask = al.Mask2D.circular(shape_native=shape, pixel_scales=scale, radius=1.5)
    rng = np.random.default_rng(0)
    imaging = al.Imaging(
        data=al.Array2D.no_mask(rng.normal(size=shape), pixel_scales=scale),
        noise_map=al.Array2D.no_mask(np.ones(shape), pixel_scales=scale),
        psf=al.Convolver.from_gaussian(shape_native=(3, 3), sigma=0.2, pixel_scales=scale),
    ).apply_mask(mask=mask)
    lens = al.Galaxy(redshift=0.5, mass=al.mp.Isothermal(einstein_radius=1.0))
    source = al.Galaxy(redshift=1.0, pixelization=al.Pixelization(
        mesh=al.mesh.RectangularUniform(shape=(8, 8)), regularization=al.reg.Constant(1.0)))
    fit = al.FitImaging(dataset=imaging, tracer=al.Tracer(galaxies=[lens, source]))
    assert fit.inversion is not None  # a fit the adapter would otherwise read
    return fit


def _imaging_fit_of_a_light_profile():
    """The same imaging fitted by a parametric source: no inversion, and still the dataset is
    what is wrong."""
    al = pytest.importorskip("autolens")
    fit = _imaging_fit()
    return al.FitImaging(dataset=fit.dataset, tracer=al.Tracer(galaxies=[
        al.Galaxy(redshift=0.5, mass=al.mp.Isothermal(einstein_radius=1.0)),
        al.Galaxy(redshift=1.0, light=al.lp.Sersic(intensity=0.1))]))


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_the_adapter_refuses_an_imaging_fit_by_name(backend):
    fit = _imaging_fit()
    from autokern.apps import autoarray

    needs = r"needs an interferometer dataset .*uv_wavelengths.*got Imaging"
    with pytest.raises(InputValueError, match=needs):
        autoarray.arrays_from(fit)
    with pytest.raises(InputValueError, match=needs):
        autoarray.arrays_from(fit.dataset, fit.inversion)
    with pytest.raises(InputValueError, match=needs):
        autoarray.log_evidence_of(fit, backend=backend)
    with pytest.raises(InputValueError, match=needs):
        autoarray.inversion_of(fit, backend=backend)
    with pytest.raises(InputValueError, match=needs):
        autoarray.precision_operator_for(fit.dataset, backend=backend)
    with pytest.raises(InputValueError, match=needs):
        autoarray.log_evidence_of(_imaging_fit_of_a_light_profile(), backend=backend)


# --- item 10: a bad thread setting -----------------------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize(("variable", "raw"), [("AUTOKERN_NUM_THREADS", "abc"),
                                               ("AUTOKERN_NUM_THREADS", "0"),
                                               ("AUTOKERN_DETERMINISTIC", "2")])
def test_a_bad_thread_setting_is_the_same_error_on_every_backend(variable, raw, backend,
                                                                 monkeypatch):
    """Checked when the public call starts: on JAX it surfaced as a JaxRuntimeError from a
    callback inside the likelihood, and the CPU backends raised only where they read it."""
    terms, native = private_terms()
    inversion = get_kernel("inversion_from", backend)(terms, native)
    monkeypatch.setenv(variable, raw)
    with pytest.raises(ConfigurationError, match=variable):
        log_evidence(inversion, backend)
    monkeypatch.delenv(variable)
    log_evidence(inversion, backend)  # and nothing left behind
