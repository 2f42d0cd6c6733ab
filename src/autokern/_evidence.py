"""The linear-inversion evidence from its terms, in NumPy/SciPy (shared by the CPU backends).

Given F, H, D and the dataset's scalar terms, one Cholesky factorisation of F + H gives both the
solve and log det(F + H) (SPEC §3).  The JAX backend has its own ``jnp`` version so that it can
be differentiated and vmapped.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from autokern.errors import InputValueError


def cholesky(matrix: np.ndarray, what: str) -> np.ndarray:
    """Lower Cholesky factor of a symmetric positive definite ``matrix``."""
    try:
        return scipy.linalg.cholesky(matrix, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise InputValueError(f"{what} is not symmetric positive definite") from None


def solve_cholesky(factor: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return scipy.linalg.cho_solve((factor, True), rhs, check_finite=False)


def log_det_cholesky(factor: np.ndarray) -> float:
    return 2.0 * float(np.sum(np.log(np.diag(factor))))


def data_term(data: np.ndarray, noise_map: np.ndarray) -> float:
    """Σ_k (Re V_k / Re σ_k)² + (Im V_k / Im σ_k)²."""
    return float(np.sum((data.real / noise_map.real) ** 2 + (data.imag / noise_map.imag) ** 2))


def noise_normalization(noise_map: np.ndarray) -> float:
    """Σ_k log(2π (Re σ_k)²) + log(2π (Im σ_k)²)."""
    return float(np.sum(np.log(2.0 * np.pi * noise_map.real**2)
                        + np.log(2.0 * np.pi * noise_map.imag**2)))


def log_evidence(curvature: np.ndarray, regularization: np.ndarray, data_vector: np.ndarray,
                 data: np.ndarray, noise_map: np.ndarray) -> float:
    """log L of SPEC §3 from F, H, D and the visibilities."""
    return log_evidence_from_terms(curvature, regularization, data_vector,
                                   data_term(data, noise_map), noise_normalization(noise_map))


def log_evidence_from_terms(curvature: np.ndarray, regularization: np.ndarray,
                            data_vector: np.ndarray, data_chi_squared: float,
                            noise_normalization_term: float) -> float:
    """log L of SPEC §3 from F, H, D, Σ (V/σ)² and the noise normalization."""
    curvature_reg = curvature + regularization
    factor = cholesky(curvature_reg, "F + H")
    reconstruction = solve_cholesky(factor, data_vector)
    chi_squared = (reconstruction @ curvature @ reconstruction
                   - 2.0 * reconstruction @ data_vector + data_chi_squared)
    regularization_term = reconstruction @ regularization @ reconstruction
    log_det_regularization = log_det_cholesky(cholesky(regularization, "H"))
    return float(-0.5 * (chi_squared + regularization_term + log_det_cholesky(factor)
                         - log_det_regularization + noise_normalization_term))
