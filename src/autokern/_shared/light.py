"""Light profiles through W̃, written once over a backend's array namespace (NumPy or JAX).

With Re σ = Im σ = σ (which every W̃ of autokern requires), the model visibilities of an image
I on the mask are V^I = A I, A_kj = exp(−i φ_jk) (the downstream library's DFT), the dirty image
is d = Re(Aᴴ Σ⁻¹ V) and W̃ = Re(Aᴴ Σ⁻¹ A), Σ = diag(σ²).  So the visibilities V − A I need no
sum over visibilities again:

    dirty image of V − A I   = d − W̃ I
    Σ_k |V_k − (A I)_k|² / σ_k² = Σ_k |V_k|² / σ_k² − 2 Iᵀ d + Iᵀ W̃ I

and W̃ I is one convolution on the image lattice (:func:`w_tilde_image_fft`), O(Ny Nx log)
whatever K.  Linear light profiles are dense columns L (M, n) of the mapping, solved jointly
with the source: their blocks of the curvature are Lᵀ W̃ L and Lᵀ W̃ T, of the data vector Lᵀ d
(:func:`joint_system`), and the evidence takes the downstream library's conventions for them
(:func:`joint_evidence_terms`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autokern._shared import lattice
from autokern._shared.evidence import ArrayOps, terms_at

#: the downstream library's Settings.no_regularization_add_to_curvature_diag_value (its
#: general.yaml): added to the diagonal of the curvature of every unregularized linear object
LINEAR_LIGHT_CURVATURE_DIAGONAL = 1.0e-3


def set_at(xp: Any, target: Any, index: Any, values: Any) -> Any:
    """``target`` with ``target[index] = values`` (a fresh NumPy array, or JAX's ``.at``)."""
    if xp is np:
        target[index] = values
        return target
    return target.at[index].set(values)


def w_tilde_image_fft(xp: Any, rfft2: Any, irfft2: Any, w_compact: Any,
                      native_index_for_slim_index: Any, image: Any) -> Any:
    """W̃ I (M,) or (M, N) by FFT convolution on the (2Ny, 2Nx) box (lags span (−Ny, Ny) ×
    (−Nx, Nx), so nothing wraps): out[i] = Σ_j lag[r_i − r_j, c_i − c_j] I[j]."""
    ny, nx = w_compact.shape[0], (w_compact.shape[1] + 1) // 2
    box = (2 * ny, 2 * nx)
    kernel = set_at(xp, xp.zeros(box), lattice.precision_operator_positions(ny, nx),
                  lattice.lag_table_from_compact(w_compact))
    rows = native_index_for_slim_index[:, 0] - xp.min(native_index_for_slim_index[:, 0])
    cols = native_index_for_slim_index[:, 1] - xp.min(native_index_for_slim_index[:, 1])
    columns = image.reshape(image.shape[0], -1).T  # (N, M)
    grid = set_at(xp, xp.zeros((columns.shape[0], *box)), (slice(None), rows, cols), columns)
    convolved = irfft2(rfft2(grid) * rfft2(kernel), s=box)
    return convolved[:, rows, cols].T.reshape(image.shape)


def subtracted_terms(ops: ArrayOps, dirty_image: Any, data_chi_squared: Any, image: Any,
                     w_tilde_image: Any) -> tuple[Any, Any]:
    """(d − W̃ I, χ²_data − 2 Iᵀ d + Iᵀ W̃ I): the dirty image and Σ |V − A I|²/σ² of the
    visibilities less those of the image I."""
    return (dirty_image - w_tilde_image,
            data_chi_squared - 2.0 * (image @ dirty_image) + image @ w_tilde_image)


def joint_system(ops: ArrayOps, curvature: Any, data_vector: Any, light_images: Any,
                 w_tilde_light: Any, cross: Any, dirty_image: Any, diagonal: Any
                 ) -> tuple[Any, Any]:
    """The curvature and data vector of the light columns L (M, n) solved with the source:
    [[Lᵀ W̃ L + c I, (Tᵀ W̃ L)ᵀ], [Tᵀ W̃ L, F]] and [Lᵀ d; D], light first (the downstream
    library's order: non-pixel linear objects before the mapper); ``cross`` is Tᵀ W̃ L (S, n),
    ``diagonal`` c."""
    xp = ops.xp
    light = light_images.T @ w_tilde_light
    light = 0.5 * (light + light.T) + diagonal * xp.eye(light.shape[0])
    joint = xp.concatenate([xp.concatenate([light, cross.T], axis=1),
                            xp.concatenate([cross, curvature], axis=1)], axis=0)
    return joint, xp.concatenate([light_images.T @ dirty_image, data_vector])


def joint_evidence_terms(ops: ArrayOps, curvature: Any, regularization: Any, data_vector: Any,
                         data_chi_squared: Any, noise_normalization_term: Any,
                         solution: Any = None, log_det_regularization: Any = None
                         ) -> tuple[Any, ...]:
    """:func:`autokern._shared.evidence.evidence_terms` of the joint system (n light columns first,
    then the S source pixels; ``regularization`` is the source's H, (S, S)) as the downstream
    library takes them: x = (F + H')⁻¹ D with H' = diag(0, H) (or ``solution``), χ² =
    xᵀ F x − 2 xᵀ D + χ²_data over every parameter (F with the light diagonal c, as the
    library's χ² has it), sᵀ H s, log det(F + H) and log det H over the source block only.

    One Cholesky factorisation of A = F_ss + H, as without light columns: it gives log det A
    and A⁻¹ [D_s, F_sl] together; the light amplitudes then solve the n × n Schur complement
    C − F_lsA⁻¹F_sl, and s = A⁻¹(D_s − F_sl x_l): one S × S factorisation, not two."""
    xp = ops.xp
    n = curvature.shape[0] - regularization.shape[0]
    cross, light_block = curvature[n:, :n], curvature[:n, :n]
    light_vector, pixel_vector = data_vector[:n], data_vector[n:]
    solve_in_place = ops.solve_log_det_in_place or ops.solve_log_det
    solved, log_det_curvature_reg = solve_in_place(
        curvature[n:, n:] + regularization,
        xp.concatenate([pixel_vector[:, None], cross], axis=1))
    if solution is None:
        pixels_only, response = solved[:, 0], solved[:, 1:]
        schur = light_block - cross.T @ response
        schur = 0.5 * (schur + schur.T)
        light = ops.solve_log_det(schur, light_vector - cross.T @ pixels_only)[0]
        solution = xp.concatenate([light, pixels_only - response @ light])
    return terms_at(ops, solution, solution[n:], curvature, regularization, data_vector,
                    data_chi_squared, log_det_curvature_reg, log_det_regularization,
                    noise_normalization_term)
