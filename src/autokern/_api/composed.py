"""Kernels written once for every backend: they only combine other kernels and shared maths.

Each function takes a :class:`Cores` — one backend's bare cores as attributes, plus its array
namespace (:class:`autokern._shared.evidence.ArrayOps`) — followed by the catalogue's arguments,
already checked at the public edge.  The catalogue lists, in ``Kernel.composed_of``, the
cores each one calls, so the dispatcher knows which backends can run it and the tests know
which comparisons between backends are independent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from autokern._runtime import memory, routes
from autokern._shared import evidence as _evidence_maths
from autokern._shared import lattice
from autokern._shared import light as _light_maths
from autokern._shared.evidence import ArrayOps
from autokern._shared.inversion import Inversion, InversionResult
from autokern._shared.lattice import DEFAULT_EPS
from autokern._shared.solvers import SOLVERS
from autokern._shared.visibility_terms import VisibilityTerms
from autokern.errors import InputValueError

#: kernels here that do no array maths at all: the same code on every backend
PURE_PYTHON = frozenset({"mask_2d_centres_from"})
#: the sums Σ (V/σ)² and the noise normalization: a block's data, noise and temporaries
_SUMS_BYTES_PER_VISIBILITY = 64


class Cores:
    """One backend's bare cores (attributes named as the catalogue's kernels) and its
    :class:`ArrayOps`; ``lookup(name, backend)`` finds a core (the dispatcher supplies it)."""

    def __init__(self, backend: str, ops: ArrayOps,
                 lookup: Callable[[str, str], Callable[..., Any]]):
        self.backend = backend
        self.ops = ops
        self._lookup = lookup

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        core = self._lookup(name, self.backend)
        setattr(self, name, core)  # later look-ups are plain attribute reads
        return core

    def __repr__(self) -> str:
        return f"Cores({self.backend!r})"


def _require_finite(cores: Cores, value: Any, kernel: str, what: str) -> Any:
    """``value``, or an error naming ``kernel`` when a factorisation inside it failed."""
    if not cores.ops.is_traced(value) and not bool(np.all(np.isfinite(np.asarray(value)))):
        raise InputValueError(f"{kernel}: {what} is not symmetric positive definite "
                              "(to within rounding)")
    return value


def mask_2d_centres_from(cores: Cores, shape_native, pixel_scales, centre):
    # Pure Python on the checked tuples (on JAX the centre feeds static shapes elsewhere).
    return (
        (shape_native[0] - 1) / 2 - centre[0] / pixel_scales[0],
        (shape_native[1] - 1) / 2 + centre[1] / pixel_scales[1],
    )


def reconstruction_positive_negative_from(cores: Cores, data_vector, curvature_reg_matrix):
    solution = cores.ops.compiled(_evidence_maths.reconstruction)(data_vector, curvature_reg_matrix)
    return _require_finite(cores, solution, "reconstruction_positive_negative_from",
                           "curvature_reg_matrix")


def noise_normalization_complex_from(cores: Cores, noise_map):
    return cores.ops.compiled(_evidence_maths.noise_normalization)(noise_map)


def visibility_terms_from(cores: Cores, data, noise_map, uv_wavelengths, grid_radians_slim,
                          native_index_for_slim_index, pixel_scale, *, chunk_size="auto",
                          method="auto", eps=DEFAULT_EPS):
    extent = lattice.extent_of_mask(native_index_for_slim_index)
    options = {"chunk_size": chunk_size, "method": method, "eps": eps}
    ops = cores.ops
    w_compact = cores.w_compact_curvature_interferometer_from(
        extent, noise_map.real, uv_wavelengths, pixel_scale, **options)
    dirty_image = cores.w_tilde_data_interferometer_from(data, noise_map, uv_wavelengths,
                                                         grid_radians_slim, **options)
    # in blocks within the chunk budget: no K-sized temporaries (nor, on JAX, a device copy of
    # NumPy visibilities, which the reductions above stream)
    data_term = noise_normalization = 0.0
    for rows in memory.chunk_slices(len(data), "auto", _SUMS_BYTES_PER_VISIBILITY):
        data_term += float(ops.compiled(_evidence_maths.data_term)(data[rows], noise_map[rows]))
        noise_normalization += float(
            ops.compiled(_evidence_maths.noise_normalization)(noise_map[rows]))
    return VisibilityTerms(w_compact, dirty_image, data_term, noise_normalization, len(data))


def curvature_matrix_via_w_compact_from(cores: Cores, w_compact, native_index_for_slim_index,
                                        pix_indexes_for_sub_slim_index,
                                        pix_weights_for_sub_slim_index, pixels, *,
                                        method="auto"):
    if method == "auto":  # shapes only, so this also works on traced JAX arrays
        ny, width = w_compact.shape
        method = routes.curvature_method(native_index_for_slim_index.shape[0], pixels,
                                         pix_indexes_for_sub_slim_index.shape[1],
                                         (ny, (width + 1) // 2))
    route = getattr(cores, routes.CURVATURE_ROUTES[method])
    return route(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                 pix_weights_for_sub_slim_index, pixels)


def _solution(cores: Cores, curvature, regularization, data_vector, solver, zeroed_pixels,
              warm_start=None):
    """``solver``'s reconstruction (:data:`autokern._shared.solvers.SOLVERS`; from ``warm_start``),
    or None for the linear solve (done with log det).  F and H go in apart: a solver that needs
    F + H makes it (the linear one does not: the evidence factorises its own)."""
    return SOLVERS[solver].solve(cores, curvature, regularization, data_vector, zeroed_pixels,
                                 warm_start)


def _state(solver, solution):
    """``solver``'s state of ``solution`` for the next call's warm start (or None)."""
    return None if solution is None else SOLVERS[solver].state(solution)


def _finished_evidence(cores: Cores, kernel: str, what: str, curvature, regularization,
                       data_vector, data_chi_squared, noise_normalization, solver,
                       zeroed_pixels, warm_start=None, return_state=False):
    solution = _solution(cores, curvature, regularization, data_vector, solver, zeroed_pixels,
                         warm_start)
    log_evidence = cores.ops.compiled(_evidence_maths.log_evidence_from_terms)(
        curvature, regularization, data_vector, data_chi_squared, noise_normalization, solution)
    if not cores.ops.is_traced(log_evidence):
        _require_finite(cores, log_evidence, kernel, what)
        log_evidence = float(log_evidence)
    return (log_evidence, _state(solver, solution)) if return_state else log_evidence


def _log_evidence(cores: Cores, kernel: str, curvature, dirty_image, data_chi_squared,
                  noise_normalization, pix_indexes_for_sub_slim_index,
                  pix_weights_for_sub_slim_index, neighbors, neighbors_sizes, coefficient,
                  solver, zeroed_pixels):
    pixels = neighbors.shape[0]
    data_vector = cores.sparse_mapping_matrix_transpose_matmul(
        dirty_image, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    regularization = cores.constant_regularization_matrix_from(coefficient, neighbors,
                                                               neighbors_sizes)
    coefficient_text = "traced" if cores.ops.is_traced(coefficient) else \
        f"{float(coefficient):g}"
    return _finished_evidence(cores, kernel,
                              f"F + H (or H) with coefficient {coefficient_text}", curvature,
                              regularization, data_vector, data_chi_squared,
                              noise_normalization, solver, zeroed_pixels)


def _data_terms(cores: Cores, data, noise_map) -> tuple[Any, Any]:
    ops = cores.ops
    return (ops.compiled(_evidence_maths.data_term)(data, noise_map),
            ops.compiled(_evidence_maths.noise_normalization)(noise_map))


def log_evidence_from(cores: Cores, curvature_matrix, regularization_matrix, data_vector, data,
                      noise_map, *, solver="positive_negative", zeroed_pixels=None,
                      warm_start=None, return_state=False):
    return _finished_evidence(cores, "log_evidence_from",
                              "curvature_matrix + regularization_matrix (or "
                              "regularization_matrix)", curvature_matrix, regularization_matrix,
                              data_vector, *_data_terms(cores, data, noise_map), solver,
                              zeroed_pixels, warm_start, return_state)


def log_likelihood_function_via_w_tilde_from(cores: Cores, dirty_image, data, noise_map,
                                             w_tilde, pix_indexes_for_sub_slim_index,
                                             pix_weights_for_sub_slim_index, neighbors,
                                             neighbors_sizes, coefficient=1.0, *,
                                             solver="positive_negative", zeroed_pixels=None):
    curvature = cores.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
        w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
        neighbors.shape[0])
    return _log_evidence(cores, "log_likelihood_function_via_w_tilde_from", curvature,
                         dirty_image, *_data_terms(cores, data, noise_map),
                         pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                         neighbors, neighbors_sizes, coefficient, solver, zeroed_pixels)


def log_likelihood_function_via_w_compact_from(cores: Cores, dirty_image, data, noise_map,
                                               w_compact, native_index_for_slim_index,
                                               pix_indexes_for_sub_slim_index,
                                               pix_weights_for_sub_slim_index, neighbors,
                                               neighbors_sizes, coefficient=1.0, *,
                                               solver="positive_negative", zeroed_pixels=None):
    curvature = cores.curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, neighbors.shape[0])
    return _log_evidence(cores, "log_likelihood_function_via_w_compact_from", curvature,
                         dirty_image, *_data_terms(cores, data, noise_map),
                         pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                         neighbors, neighbors_sizes, coefficient, solver, zeroed_pixels)


def log_likelihood_function_via_visibility_terms_from(cores: Cores, visibility_terms,
                                                      native_index_for_slim_index,
                                                      pix_indexes_for_sub_slim_index,
                                                      pix_weights_for_sub_slim_index,
                                                      neighbors, neighbors_sizes,
                                                      coefficient=1.0, *,
                                                      solver="positive_negative",
                                                      zeroed_pixels=None):
    xp = cores.ops.xp
    w_compact = xp.asarray(visibility_terms.w_compact)
    curvature = cores.curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, neighbors.shape[0])
    return _log_evidence(cores, "log_likelihood_function_via_visibility_terms_from", curvature,
                         xp.asarray(visibility_terms.dirty_image),
                         visibility_terms.data_chi_squared, visibility_terms.noise_normalization,
                         pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                         neighbors, neighbors_sizes, coefficient, solver, zeroed_pixels)


def _owned(cores: Cores, value, dtype):
    """A private copy of ``value`` (read-only on NumPy): the checked arguments may be the
    caller's own arrays, and on the CPU even ``jnp.asarray`` of a NumPy array shares its
    memory, so an in-place change by the caller would reach every later call."""
    array = cores.ops.xp.array(value, dtype=dtype, copy=True)
    if isinstance(array, np.ndarray):
        array.flags.writeable = False
    return array


def inversion_from(cores: Cores, visibility_terms, native_index_for_slim_index, *,
                   curvature_method="auto"):
    terms = visibility_terms
    return Inversion(_owned(cores, terms.w_compact, np.float64),
                     _owned(cores, terms.dirty_image, np.float64), terms.data_chi_squared,
                     terms.noise_normalization,
                     _owned(cores, native_index_for_slim_index, np.int64), curvature_method,
                     cores.backend, int(terms.n_visibilities))


def inversion_result_from(cores: Cores, inversion, pix_indexes_for_sub_slim_index,
                          pix_weights_for_sub_slim_index, regularization_matrix, *,
                          solver="positive_negative", zeroed_pixels=None,
                          log_det_regularization_matrix_term=None, matrices=False,
                          warm_start=None, linear_light_images=None,
                          linear_light_curvature_diagonal=_light_maths.LINEAR_LIGHT_CURVATURE_DIAGONAL):
    pixels = regularization_matrix.shape[0]
    curvature = curvature_matrix_via_w_compact_from(
        cores, inversion.w_compact, inversion.native_index_for_slim_index,
        pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels,
        method=inversion.curvature_method)
    data_vector = cores.sparse_mapping_matrix_transpose_matmul(
        inversion.dirty_image, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
        pixels)
    # F is this call's own temporary unless it is handed back
    evidence_terms = (_evidence_maths.evidence_terms if matrices
                      else _evidence_maths.evidence_terms_consuming)
    solve_regularization = regularization_matrix
    if linear_light_images is not None:
        curvature, data_vector, solve_regularization, zeroed_pixels = _with_linear_light(
            cores, inversion, curvature, data_vector, regularization_matrix,
            pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, linear_light_images,
            linear_light_curvature_diagonal, zeroed_pixels)
        evidence_terms = _light_maths.joint_evidence_terms
    solution = _solution(cores, curvature, solve_regularization, data_vector, solver,
                         zeroed_pixels, warm_start)
    terms = cores.ops.compiled(evidence_terms)(
        curvature, regularization_matrix, data_vector, inversion.data_chi_squared,
        inversion.noise_normalization, solution, log_det_regularization_matrix_term)
    _require_finite(cores, terms[0], "inversion_result_from", "F + H (or H, or its log det)")
    return InversionResult(*terms, inversion.noise_normalization,
                           curvature if matrices else None,
                           regularization_matrix if matrices else None,
                           _state(solver, solution))


def _with_linear_light(cores: Cores, inversion, curvature, data_vector, regularization_matrix,
                       pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                       linear_light_images, diagonal, zeroed_pixels):
    """The joint system of the linear light columns and the source (light first): F, D,
    diag(0, H) for the solve, and the zeroed pixels shifted past the light amplitudes."""
    xp = cores.ops.xp
    w_tilde_light = cores.w_tilde_image_from(inversion.w_compact,
                                             inversion.native_index_for_slim_index,
                                             linear_light_images)
    cross = cores.sparse_mapping_matrix_transpose_matmul(
        w_tilde_light, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
        regularization_matrix.shape[0])
    joint, joint_vector = cores.ops.compiled(_light_maths.joint_system)(
        curvature, data_vector, linear_light_images, w_tilde_light, cross,
        inversion.dirty_image, 0.0 if diagonal is None else diagonal)
    n = linear_light_images.shape[1]
    regularization = xp.zeros_like(joint)
    regularization = _light_maths.set_at(xp, regularization, (slice(n, None), slice(n, None)),
                                       regularization_matrix)
    if zeroed_pixels is not None:
        zeroed_pixels = zeroed_pixels + n
    return joint, joint_vector, regularization, zeroed_pixels


def light_subtracted_inversion_from(cores: Cores, inversion, image):
    w_tilde_image = cores.w_tilde_image_from(inversion.w_compact,
                                             inversion.native_index_for_slim_index, image)
    dirty_image, data_chi_squared = cores.ops.compiled(_light_maths.subtracted_terms)(
        inversion.dirty_image, inversion.data_chi_squared, image, w_tilde_image)
    if not cores.ops.is_traced(dirty_image) and cores.ops.xp is np:
        dirty_image.setflags(write=False)
    return dataclasses.replace(inversion, dirty_image=dirty_image,
                               data_chi_squared=data_chi_squared)
