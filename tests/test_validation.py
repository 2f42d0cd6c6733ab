"""Every backend refuses bad input before compiled code runs, with an error that names it."""

import numpy as np
import pytest

from autokern import get_kernel
from autokern._api.dispatch import provides
from autokern.catalogue import BACKEND_NAMES, KERNELS
from autokern.errors import AutokernError, InputShapeError, InputTypeError, InputValueError


def _with(case, kernel, **changes):
    return {**case.arguments(kernel), **changes}


def _bad_inputs(case):
    """(kernel, arguments, error, message) for each class of bad input."""
    idx = case.value("pix_indexes_for_sub_slim_index")
    nan_data = case.value("data").copy()
    nan_data[3] = np.nan
    zero_noise = case.value("noise_map").copy()
    zero_noise[5] = 1.0 + 0.0j
    big_index = idx.copy()
    big_index[2, 0] = case.value("pixels")
    low_index = idx.copy()
    low_index[0, 0] = -2
    neighbors = case.value("neighbors").copy()
    neighbors[0, 0] = 10_000
    sizes = case.value("neighbors_sizes").copy()
    sizes[1] = neighbors.shape[1] + 1
    far_native = case.value("native_index_for_slim_index").copy()
    far_native[0] = (0, 0)
    w_compact = case.value("w_compact")
    return [
        ("w_tilde_data_interferometer_from",
         _with(case, "w_tilde_data_interferometer_from", data=nan_data),
         InputValueError, r"data must be finite, found \(nan\+0j\) at index \(3,\)"),
        ("w_tilde_data_interferometer_from",
         _with(case, "w_tilde_data_interferometer_from", noise_map=zero_noise),
         InputValueError, "noise_map imaginary part must be strictly positive"),
        ("w_compact_curvature_interferometer_from",
         _with(case, "w_compact_curvature_interferometer_from", pixel_scale=-0.05),
         InputValueError, "pixel_scale must be strictly positive"),
        ("w_compact_curvature_interferometer_from",
         _with(case, "w_compact_curvature_interferometer_from",
               noise_map_real=case.value("noise_map_real") * 0),
         InputValueError, "noise_map_real must be strictly positive"),
        ("mapping_matrix_from",
         _with(case, "mapping_matrix_from", pix_indexes_for_sub_slim_index=big_index),
         InputValueError, r"must lie in \[-1, S=48\), found 48 at index \(2, 0\)"),
        ("mapping_matrix_from",
         _with(case, "mapping_matrix_from", pix_indexes_for_sub_slim_index=low_index),
         InputValueError, r"pix_indexes_for_sub_slim_index must lie in \[-1, S=48\)"),
        ("mapping_matrix_from",
         _with(case, "mapping_matrix_from",
               pix_weights_for_sub_slim_index=case.value("pix_weights_for_sub_slim_index") > 0),
         InputTypeError, "pix_weights_for_sub_slim_index must be a float64 array, got dtype "
                         "bool"),
        ("constant_regularization_matrix_from",
         _with(case, "constant_regularization_matrix_from", neighbors=neighbors),
         InputValueError, r"neighbors must lie in \[-1, S=48\)"),
        ("constant_regularization_matrix_from",
         _with(case, "constant_regularization_matrix_from", neighbors_sizes=sizes),
         InputValueError, r"neighbors_sizes must lie in \[0, P=\d+\]"),
        ("constant_regularization_matrix_from",
         _with(case, "constant_regularization_matrix_from", coefficient=float("inf")),
         InputValueError, "coefficient must be finite"),
        ("w_tilde_via_compact_from",
         _with(case, "w_tilde_via_compact_from", native_index_for_slim_index=far_native),
         InputValueError, r"spans \(\d+, \d+\) pixels, more than the \(Ny, Nx\) = \(12, 12\)"),
        ("w_tilde_via_compact_from",
         _with(case, "w_tilde_via_compact_from", w_compact=w_compact[:, :-1]),
         InputShapeError, "axis 2Nx-1 of w_compact must be 2Nx-1, got 22"),
        ("nufft_precision_operator_from",
         _with(case, "nufft_precision_operator_from",
               grid_radians_2d=case.value("grid_radians_2d")[:5]),
         InputShapeError, r"grid_radians_2d covers \(5, 16\) pixels"),
        ("noise_normalization_complex_from", {"noise_map": np.zeros(0, complex)},
         InputShapeError, "axis K of noise_map must be K, got 0"),
        ("reconstruction_positive_negative_from",
         _with(case, "reconstruction_positive_negative_from",
               curvature_reg_matrix=-np.eye(48)),
         InputValueError, "not symmetric positive definite"),
    ]


def _ids():
    from autokern.data.testing import mock_case

    entries = _bad_inputs(mock_case("tiny", seed=1))
    return [(b, i, k) for i, (k, *_r) in enumerate(entries) for b in BACKEND_NAMES
            if provides(b, k)]


PARAMS = _ids()


@pytest.mark.parametrize("backend, index, kernel", PARAMS,
                         ids=[f"{b}-{k}-{i}" for b, i, k in PARAMS])
def test_bad_input_is_refused_by_name(backend, index, kernel, get_case):
    _kernel, arguments, error, message = _bad_inputs(get_case("tiny"))[index]
    with pytest.raises(error, match=message) as info:
        get_kernel(kernel, backend)(**arguments)
    assert isinstance(info.value, AutokernError)
    assert kernel in str(info.value)


def test_errors_are_the_builtin_kinds():
    assert issubclass(InputShapeError, ValueError) and issubclass(InputValueError, ValueError)
    assert issubclass(InputTypeError, TypeError)


def test_every_kernel_argument_kind_is_known():
    from autokern._api.validation import _DTYPES

    kinds = set(_DTYPES) | {"count", "shape", "grid_size", "pair", "scalar", "chunk", "choice",
                            "tolerance", "terms", "pixel_set", "optional_count", "inversion",
                            "optional_scalar", "flag", "solver_state", "optional_float"}
    for kernel in KERNELS.values():
        assert {a.kind for a in kernel.args} <= kinds
