"""The reusable inversion a sampler keeps per dataset.

Build it once from the visibilities' sufficient statistics, then call it per likelihood::

    from autokern import numba as kern   # or jax, original

    terms = kern.visibility_terms_from(data, noise_map, uv_wavelengths, grid_radians_slim,
                                       native_index_for_slim_index, pixel_scale)
    inversion = kern.inversion_from(terms, native_index_for_slim_index)
    state = None
    for ...:                                                 # the sampler's loop
        regularization_matrix = kern.constant_regularization_matrix_from(
            coefficient, neighbors, neighbors_sizes)         # or any H (adaptive, split)
        result = kern.inversion_result_from(
            inversion, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
            regularization_matrix, solver="positive_only", zeroed_pixels=zeroed_pixels,
            warm_start=state)
        state = result.solver_state                          # the next call starts there
        result.log_evidence, result.reconstruction, result.chi_squared, ...

A call does no work of size K: F (by the inversion's ``curvature_method``), D = Tᵀ d, the
solve, one Cholesky factorisation of F + H for both the linear solve and log det(F + H), and log
det H (skipped when ``log_det_regularization_matrix_term`` is passed for a fixed H).

The positive-only solve's :class:`PositiveOnlyState` (``result.solver_state``) is an explicit,
immutable warm start: pass it back as ``warm_start=`` and the next call's active-set search
starts at the previous free set (a few factorisations of the free block instead of a search
from the unconstrained solution).  Any state — stale, another dataset's — gives the same answer.
"""

from autokern._shared.inversion import Inversion, InversionResult
from autokern._shared.nnls import PositiveOnlyState

__all__ = ["Inversion", "InversionResult", "PositiveOnlyState"]
