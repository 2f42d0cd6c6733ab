"""The reusable inversion a sampler keeps per dataset.

Build it once from the visibilities' sufficient statistics, then call it per likelihood::

    from autokern import numba as kern   # or jax, original

    terms = kern.visibility_terms_from(data, noise_map, uv_wavelengths, grid_radians_slim,
                                       native_index_for_slim_index, pixel_scale)
    inversion = kern.inversion_from(terms, native_index_for_slim_index)
    for ...:                                                 # the sampler's loop
        regularization_matrix = kern.constant_regularization_matrix_from(
            coefficient, neighbors, neighbors_sizes)         # or any H (adaptive, split)
        result = kern.inversion_result_from(
            inversion, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
            regularization_matrix, solver="positive_only", zeroed_pixels=zeroed_pixels)
        result.log_evidence, result.reconstruction, result.chi_squared, ...

A call does no work of size K: F (by the inversion's ``curvature_method``), D = Tᵀ d, the
solve, one Cholesky factorisation of F + H for both the linear solve and log det(F + H), and log
det H (skipped when ``log_det_regularization_matrix_term`` is passed for a fixed H).
"""

from autokern._inversion import Inversion, InversionResult

__all__ = ["Inversion", "InversionResult"]
