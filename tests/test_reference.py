"""The reference backend reproduces the downstream library's own numbers (SPEC §6)."""

import numpy as np
import pytest

from autokern import original
from autokern.data.testing import DEV_REFERENCE_KEYS
from helpers import RTOL, reference_name, relative_error

REFERENCE_KERNELS = sorted(k for k in DEV_REFERENCE_KEYS if reference_name(k) == k)


@pytest.mark.parametrize("kernel", REFERENCE_KERNELS)
def test_original_reproduces_dev_reference(kernel, dev_case):
    result = getattr(original, kernel)(**dev_case.arguments(kernel))
    assert relative_error(result, dev_case.expected(kernel)) <= RTOL


def test_log_evidence_end_to_end_from_visibilities(dev_case):
    """From the visibilities alone (no saved intermediates) to the log evidence."""
    ds, mesh = dev_case.dataset, dev_case.mesh
    dirty = original.w_tilde_data_interferometer_from(ds.data, ds.noise_map, ds.uv_wavelengths,
                                                      ds.grid_radians_slim)
    w_compact = original.w_compact_curvature_interferometer_from(
        ds.shape_masked_pixels_2d, ds.noise_map_real, ds.uv_wavelengths, ds.pixel_scale)
    log_evidence = original.log_likelihood_function_via_w_compact_from(
        dirty, ds.data, ds.noise_map, w_compact, ds.native_index_for_slim_index,
        mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index,
        mesh.neighbors, mesh.neighbors_sizes, coefficient=2.0)
    assert log_evidence == pytest.approx(-22905.57251045543, rel=RTOL)


def test_w_compact_matches_reference_preload(dev_case):
    ds = dev_case.dataset
    w_compact = original.w_compact_curvature_interferometer_from(
        ds.shape_masked_pixels_2d, ds.noise_map_real, ds.uv_wavelengths, ds.pixel_scale)
    precision_operator = dev_case.reference["nufft_precision_operator"]
    ny, nx = ds.shape_masked_pixels_2d
    # w_compact[a, b + Nx - 1] is the precision operator at lag (a, b), read in wrap-around order
    expected = precision_operator[:ny][:, np.arange(-nx + 1, nx) % (2 * nx)]
    assert relative_error(w_compact, expected) <= RTOL


@pytest.mark.parametrize(
    "term, key",
    [("chi_squared", "chi_squared_linear"),
     ("regularization_term", "regularization_term_linear"),
     ("log_det_curvature_reg", "log_det_curvature_reg_matrix_term_linear"),
     ("log_det_regularization", "log_det_regularization_matrix_term_linear")],
)
def test_evidence_terms(term, key, dev_case):
    from autokern._shared import evidence

    ref = dev_case.reference
    curvature, regularization = ref["curvature_matrix_wtilde"], ref["regularization_matrix"]
    s = original.reconstruction_positive_negative_from(ref["data_vector_wtilde"],
                                                       curvature + regularization)
    ops = evidence.NUMPY_OPS
    terms = {
        "chi_squared": s @ curvature @ s - 2 * s @ ref["data_vector_wtilde"]
        + evidence.data_term(ops, ref["data"], ref["noise_map"]),
        "regularization_term": s @ regularization @ s,
        "log_det_curvature_reg": ops.solve_log_det(curvature + regularization,
                                                   ref["data_vector_wtilde"])[1],
        "log_det_regularization": ops.log_det_pivots(regularization)[0],
    }
    assert terms[term] == pytest.approx(ref[key], rel=RTOL)
