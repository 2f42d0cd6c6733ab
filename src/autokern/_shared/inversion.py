"""The reusable inversion: what a sampler keeps per dataset, and what each call returns
(re-exported by :mod:`autokern.inversion`).

An :class:`Inversion` holds everything of the likelihood that does not change between calls —
w-compact, the dirty image, Σ (V/σ)², the noise normalization and the image geometry — on one
backend's arrays, so that a call costs F, H's log det and one Cholesky of F + H and nothing of
size K.  It is built by the ``inversion_from`` kernel and used by ``inversion_result_from``; on
JAX it is a pytree, so it can be closed over or passed through ``jit``/``vmap``/``grad``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True, eq=False)
class Inversion:
    """Per-dataset state of the likelihood on one backend.

    Attributes: ``w_compact`` (Ny, 2Nx-1); ``dirty_image`` (M,); ``data_chi_squared``
    Σ (Re V/Re σ)² + (Im V/Im σ)²; ``noise_normalization``; ``native_index_for_slim_index``
    (M, 2); ``curvature_method`` the route F takes ("auto": the cost model's choice for each
    call's S and B); ``backend`` whose arrays these are; ``n_visibilities`` K.

    It owns its arrays: ``inversion_from`` copies w_compact, the dirty image and the native
    indexes once (O(M), per dataset), and on the NumPy backends marks the copies read-only, so
    that nothing the caller later does to the arrays it passed in (nor, through these
    attributes, to the inversion's own) changes a later evidence.
    """

    w_compact: Any
    dirty_image: Any
    data_chi_squared: Any
    noise_normalization: Any
    native_index_for_slim_index: Any
    curvature_method: str
    backend: str
    n_visibilities: int

    def __repr__(self) -> str:
        ny, width = self.w_compact.shape
        return (f"Inversion(backend={self.backend!r}, M={self.dirty_image.shape[0]}, "
                f"extent=({ny}, {(width + 1) // 2}), K={self.n_visibilities}, "
                f"curvature_method={self.curvature_method!r})")

    #: the array fields (the rest is static: a JAX pytree's children and auxiliary data)
    ARRAYS = ("w_compact", "dirty_image", "data_chi_squared", "noise_normalization",
              "native_index_for_slim_index")
    STATIC = ("curvature_method", "backend", "n_visibilities")


class InversionResult(NamedTuple):
    """One likelihood evaluation: log L = -½ (χ² + sᵀHs + log det(F + H) - log det H +
    noise_normalization) and its terms; ``curvature_matrix`` F and ``regularization_matrix`` H
    (S, S) only when asked for (``matrices=True``), else None; ``solver_state`` the positive-only
    solve's :class:`autokern._shared.nnls.PositiveOnlyState` (the next call's ``warm_start``), None
    for
    the linear solve."""

    log_evidence: Any
    reconstruction: Any
    chi_squared: Any
    regularization_term: Any
    log_det_curvature_reg_matrix_term: Any
    log_det_regularization_matrix_term: Any
    noise_normalization: Any
    curvature_matrix: Any = None
    regularization_matrix: Any = None
    solver_state: Any = None
