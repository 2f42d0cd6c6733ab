"""The positive-only solve at S = 1 500: every backend against ``scipy.optimize.nnls``.

    pytest benchmarks/test_positive_only.py --benchmark-group-by=group

A realistic SPD problem at S source pixels on a square lattice: F = GᵀG with G a blurred
(Gaussian PSF on the image grid) three-entry interpolation mapping of ~2S image pixels onto the
source lattice, H the constant regularization of the lattice's 4-neighbour graph, and
D = F s_true + noise with a compact positive source, so that ~27 % of the unconstrained
solution is negative.  scipy solves the equivalent least-squares problem min ‖Lᵀs − L⁻¹D‖,
s ≥ 0 (A = LLᵀ; the Cholesky and triangular solve are timed with it).  Every backend's
solution is checked against scipy's.  The downstream library's own fnnls route is timed where
autolens is installed (the PyAutoLens issue); it is not here.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize

from autokern import bench, get_kernel
from autokern.catalogue import BACKEND_NAMES

PIXELS = 1500


def lattice_neighbours(side: int, pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """4-neighbour graph of the first ``pixels`` cells of a side × side lattice, −1 padded."""
    neighbors = np.full((pixels, 4), -1, dtype=np.int64)
    sizes = np.zeros(pixels, dtype=np.int64)
    for i in range(pixels):
        row, col = divmod(i, side)
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            r, c = row + dr, col + dc
            j = r * side + c
            if 0 <= r < side and 0 <= c < side and j < pixels:
                neighbors[i, sizes[i]] = j
                sizes[i] += 1
    return neighbors, sizes


def build_problem(pixels: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    """(D (S,), A = F + H (S, S), info) for the benchmark."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(pixels)))
    lattice = np.stack(np.divmod(np.arange(pixels), side), axis=1).astype(float)
    image_side = int(np.ceil(np.sqrt(2 * pixels)))
    image = image_side * image_side
    # each image pixel maps to a random point of the source plane: barycentric weights of the
    # lattice triangle holding it (three entries, like a Delaunay mapping)
    points = rng.uniform(0.0, side - 1.001, size=(image, 2))
    base = np.floor(points).astype(int)
    frac = points - base
    upper = frac[:, 0] + frac[:, 1] > 1.0
    corners = np.where(upper[:, None, None],
                       base[:, None, :] + np.array([[1, 1], [1, 0], [0, 1]]),
                       base[:, None, :] + np.array([[0, 0], [1, 0], [0, 1]]))
    wy = np.where(upper, 1.0 - frac[:, 1], frac[:, 0])
    wx = np.where(upper, 1.0 - frac[:, 0], frac[:, 1])
    weights = np.stack([1.0 - wy - wx, wy, wx], axis=1)
    indexes = corners[..., 0] * side + corners[..., 1]
    weights = np.where(indexes < pixels, weights, 0.0)
    indexes = np.minimum(indexes, pixels - 1)
    mapping = np.zeros((image, pixels))
    np.add.at(mapping, (np.repeat(np.arange(image), 3), indexes.ravel()), weights.ravel())
    # a Gaussian PSF of 1.2 image pixels, applied along both image axes
    offsets = np.arange(image_side)
    kernel = np.exp(-0.5 * ((offsets[:, None] - offsets[None, :]) / 1.2) ** 2)
    kernel[kernel < 1e-6] = 0.0
    blurred = np.einsum("ab,bcs->acs", kernel, mapping.reshape(image_side, image_side, pixels))
    blurred = np.einsum("cd,ads->acs", kernel, blurred).reshape(image, pixels)
    noise = 0.05
    curvature = blurred.T @ blurred / noise**2
    neighbors, sizes = lattice_neighbours(side, pixels)
    curvature_reg = curvature + get_kernel("constant_regularization_matrix_from", "original")(
        2.0, neighbors, sizes)
    # a compact positive source (a Gaussian blob over ~1/3 of the lattice), zero elsewhere
    centre = np.array([side / 2.0, side / 2.0])
    radius2 = np.sum((lattice - centre) ** 2, axis=1)
    truth = np.exp(-radius2 / (2.0 * (side / 6.0) ** 2))
    truth[truth < 0.05] = 0.0
    data_image = blurred @ truth + noise * rng.standard_normal(image)
    data_vector = blurred.T @ data_image / noise**2
    unconstrained = np.linalg.solve(curvature_reg, data_vector)
    info = {"negative_fraction": float(np.mean(unconstrained < 0.0)),
            "condition": float(np.linalg.cond(curvature_reg))}
    return data_vector, np.ascontiguousarray(curvature_reg), info


def scipy_nnls(data_vector: np.ndarray, curvature_reg_matrix: np.ndarray) -> np.ndarray:
    """The same minimiser via nnls on min ‖Lᵀs − L⁻¹D‖ (A = LLᵀ)."""
    lower = scipy.linalg.cholesky(curvature_reg_matrix, lower=True)
    rhs = scipy.linalg.solve_triangular(lower, data_vector, lower=True)
    solution, _ = scipy.optimize.nnls(np.ascontiguousarray(lower.T), rhs,
                                      maxiter=50 * len(data_vector))
    return solution



_PROBLEM: dict[str, tuple] = {}


def problem() -> tuple[np.ndarray, np.ndarray, dict, np.ndarray]:
    """(D, F + H, info, scipy's solution), built once per session."""
    if "problem" not in _PROBLEM:
        data_vector, curvature_reg, info = build_problem(PIXELS)
        _PROBLEM["problem"] = (data_vector, curvature_reg, info,
                               scipy_nnls(data_vector, curvature_reg))
    return _PROBLEM["problem"]


@pytest.mark.parametrize("solver", ["scipy", *BACKEND_NAMES])
def test_positive_only_solve(benchmark, solver):
    benchmark.group = f"positive_only S={PIXELS}"
    data_vector, curvature_reg, info, expected = problem()
    benchmark.extra_info.update(info)
    if solver == "scipy":
        def run():
            return scipy_nnls(data_vector, curvature_reg)
    else:
        solve = get_kernel("reconstruction_positive_only_from", solver)

        def run():
            return bench.block(solve(data_vector, curvature_reg))
    first_call_s, result = bench.timed(run)
    benchmark.extra_info["first_call_s"] = first_call_s
    benchmark.pedantic(run, rounds=bench.repeats_for(first_call_s, budget_s=10.0, low=3,
                                                     high=10), iterations=1)
    assert bench.relative_difference(result, expected) <= 1e-9
