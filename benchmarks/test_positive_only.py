"""The positive-only solve: a sampler's sequence of calls on real fits, and one synthetic solve.

    pytest benchmarks/test_positive_only.py --benchmark-group-by=group
    pytest benchmarks/test_positive_only.py --benchmark-disable      # smoke: SMA, 3 calls

**The sampler's sequence** (``test_sampler_sequence``, issue 26): PyAutoLens fits with the
library's default ``Settings()`` (positive-only, the 30 edge-ring pixels zeroed), an isothermal
lens and a Delaunay source with ``ConstantSplit`` regularization — ``sma``: the real SMA
visibilities (``../shared/data/sma``) on the ``sma35`` geometry (3.5″ mask of 0.1″ pixels,
M = 3 852, a 36 × 36 overlay: S = 1 034); ``alma35``: the preset's visibilities (K = 10⁶,
M = 15 380, a 44 × 44 overlay: S ≈ 1 550).  A random walk of :data:`CALLS` steps in Einstein
radius θE (σ 0.01″) and coefficient λ (× e^(0.1 N)) from the best fit region (many pixels at the
bound); the fits' mappings and H are built once, outside the timing.  One round is the whole
sequence, so a warm start carries from call to call as in a sampler; the time is per round
(divide by :data:`CALLS` for a call).  Contenders, at one thread and at every core
(``autokern.threads``; JAX's pool is XLA's):

- ``autokern-linear``: ``inversion_result_from`` (Numba), the linear solve — the floor;
- ``autokern-positive-cold``, ``autokern-positive-warm``: the same with
  ``solver="positive_only"``, cold every call or ``warm_start`` = the previous call's
  ``solver_state``;
- ``autokern-jax-positive-warm``: the warm sequence on JAX, one ``jax.jit`` of
  ``inversion_result_from`` (the mapping padded to one width so it compiles once);
- ``library-fnnls-memo``, ``library-fnnls``: the library's positive-only solve
  (``inversion_util.reconstruction_positive_only_from``: its fnnls, with its warm-start memo —
  a fingerprint, ``Settings.nnls_warm_start_memo`` — or without), on the kept F + H and D of each
  call, precomputed: the solve alone, not F nor the log determinants, so the ratio of autokern's
  whole evidence to it is the conservative one.  The memo is cleared when a round starts.

Every autokern positive-only evidence is checked against the library's fnnls solution (1e-8)
and the first call's evidence against the library's own ``fit.log_evidence`` (1e-9).

**One synthetic solve** (``test_positive_only_solve``): a realistic SPD problem at S = 1 500 on a
square lattice: F = GᵀG with G a blurred (Gaussian PSF on the image grid) three-entry
interpolation mapping of ~2S image pixels onto the source lattice, H the constant regularization
of the lattice's 4-neighbour graph, and D = F s_true + noise with a compact positive source, so
that ~27 % of the unconstrained solution is negative; every backend against
``scipy.optimize.nnls`` on the equivalent least-squares problem min ‖Lᵀs − L⁻¹D‖, s ≥ 0
(A = LLᵀ; the Cholesky and triangular solve are timed with it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize

import autokern
from autokern import get_kernel
from autokern._shared import nnls as _nnls
from autokern.apps import bench
from autokern.catalogue import BACKEND_NAMES
from autokern.data import datasets, testing

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


# --- the sampler's sequence ------------------------------------------------------------------

#: calls in one sequence (a round); the smoke run (--benchmark-disable) takes SMOKE_CALLS
CALLS = 50
SMOKE_CALLS = 3
FITS = ("sma", "alma35")
THREADS = sorted({1, os.cpu_count() or 1})
SEQUENCE_CONTENDERS = ("autokern-linear", "autokern-positive-cold", "autokern-positive-warm",
                       "autokern-jax-positive-warm", "library-fnnls-memo", "library-fnnls")
#: (θE, λ, overlay side, edge ring radius) where each walk starts
START = {"sma": (1.60, 0.17, 36, 3.6), "alma35": (1.75, 0.1, 44, 3.6)}


def _library_dataset(name: str) -> Any:
    import autolens as al

    if name == "sma":
        directory = testing.default_data_dir()
        if directory is None or not (directory / "sma" / "data.fits").is_file():
            pytest.skip("the SMA dataset (shared/data/sma) is not available")
        spec = datasets.PRESETS["sma35"].mask_spec()
        mask = al.Mask2D.circular(shape_native=spec.shape_native, pixel_scales=spec.pixel_scale,
                                  radius=spec.radius)
        sma = directory / "sma"
        dataset = al.Interferometer.from_fits(
            data_path=sma / "data.fits", noise_map_path=sma / "noise_map.fits",
            uv_wavelengths_path=sma / "uv_wavelengths.fits", real_space_mask=mask)
        return dataset.apply_sparse_operator()
    from test_autoarray import _dataset  # the preset's visibilities, as one fit there reads them

    return _dataset(name)


def _library_fit(dataset: Any, einstein_radius: float, coefficient: float, overlay: int,
                 edge: float) -> Any:
    import autolens as al

    from test_autoarray import fit_of

    return fit_of(dataset, einstein_radius, overlay, edge,
                  al.reg.ConstantSplit(coefficient=coefficient))


@dataclass(eq=False)
class Sequence:
    """One fit's walk: the library arrays of every call, autokern's Numba inversion, the
    library's fnnls solution of every call and its first evidence."""

    calls: list
    inversion: Any
    library_solutions: list
    library_first_log_evidence: float
    info: dict[str, Any] = field(default_factory=dict)
    _kept: list = field(default_factory=list)
    _jax: dict[str, Any] = field(default_factory=dict)

    def kept_problems(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(D, F + H) on the kept pixels of every call (the library's solve deletes the zeroed
        rows and columns first), built once."""
        if not self._kept:
            for arrays in self.calls:
                data_vector, matrix = _matrices(self.inversion, arrays)
                keep = _nnls.kept_pixels(arrays.pixels, arrays.zeroed_pixels)
                self._kept.append((np.ascontiguousarray(data_vector[keep]),
                                   np.ascontiguousarray(matrix[np.ix_(keep, keep)])))
        return self._kept


def _matrices(inversion: Any, arrays: Any) -> tuple[np.ndarray, np.ndarray]:
    """(D, F + H) of one call (Numba)."""
    mapping = (arrays.pix_indexes_for_sub_slim_index, arrays.pix_weights_for_sub_slim_index)
    curvature = get_kernel("curvature_matrix_via_w_compact_from", "numba")(
        inversion.w_compact, inversion.native_index_for_slim_index, *mapping, arrays.pixels)
    data_vector = get_kernel("sparse_mapping_matrix_transpose_matmul", "numba")(
        inversion.dirty_image, *mapping, arrays.pixels)
    return data_vector, curvature + arrays.regularization_matrix


def _library_solve(data_vector: np.ndarray, matrix: np.ndarray, memo: bool) -> np.ndarray:
    from autoarray.inversion.inversion import inversion_util
    from autoarray.settings import Settings

    return inversion_util.reconstruction_positive_only_from(
        data_vector=data_vector, curvature_reg_matrix=matrix, settings=Settings(),
        fingerprint="autokern-benchmark" if memo else None)


def _sequence_from(name: str, calls: int) -> Sequence:
    pytest.importorskip("autolens")
    from autokern.apps.autoarray import arrays_from, inversion_of

    dataset = _library_dataset(name)
    einstein_radius, coefficient, overlay, edge = START[name]
    rng = np.random.default_rng(1)
    walk, first = [], None
    for _ in range(calls):
        fit = _library_fit(dataset, einstein_radius, coefficient, overlay, edge)
        first = first or fit
        walk.append(arrays_from(fit))
        einstein_radius += 0.01 * rng.standard_normal()
        coefficient *= float(np.exp(0.1 * rng.standard_normal()))
    inversion = inversion_of(walk[0])
    solutions = []
    for arrays in walk:
        data_vector, matrix = _matrices(inversion, arrays)
        keep = _nnls.kept_pixels(arrays.pixels, arrays.zeroed_pixels)
        solution = np.zeros(arrays.pixels)
        solution[keep] = _library_solve(np.ascontiguousarray(data_vector[keep]),
                                        np.ascontiguousarray(matrix[np.ix_(keep, keep)]), False)
        solutions.append(solution)
    bound = [int(np.sum(s[_nnls.kept_pixels(a.pixels, a.zeroed_pixels)] == 0.0))
             for s, a in zip(solutions, walk, strict=True)]
    info = {"fit": name, "calls": calls, "S": walk[0].pixels,
            "M": int(walk[0].native_index_for_slim_index.shape[0]),
            "zeroed": len(walk[0].zeroed_pixels),
            "kept_pixels_at_bound_median": float(np.median(bound))}
    return Sequence(walk, inversion, solutions, float(first.log_evidence), info)


_SEQUENCES: dict[tuple[str, int], Sequence] = {}


def sequence_for(name: str, calls: int) -> Sequence:
    """The fit's :class:`Sequence`, built once (the previous fit's is let go)."""
    key = (name, calls)
    if key not in _SEQUENCES:
        _SEQUENCES.clear()
        _SEQUENCES[key] = _sequence_from(name, calls)
    return _SEQUENCES[key]


def _autokern_run(sequence: Sequence, solver: str, warm: bool):
    result = get_kernel("inversion_result_from", "numba")

    def run():
        state, out = None, []
        for arrays in sequence.calls:
            evaluated = result(sequence.inversion, arrays.pix_indexes_for_sub_slim_index,
                               arrays.pix_weights_for_sub_slim_index,
                               arrays.regularization_matrix, solver=solver,
                               zeroed_pixels=arrays.zeroed_pixels,
                               warm_start=state if warm else None)
            state = evaluated.solver_state
            out.append((evaluated.log_evidence, evaluated.reconstruction))
        return out
    return run


def _jax_run(sequence: Sequence):
    jax = pytest.importorskip("jax")
    import autokern.jax  # noqa: F401  (float64)

    jnp = jax.numpy
    if not sequence._jax:
        width = max(a.pix_indexes_for_sub_slim_index.shape[1] for a in sequence.calls)

        def padded(values, fill):
            return np.pad(values, ((0, 0), (0, width - values.shape[1])),
                          constant_values=fill)
        sequence._jax["inversion"] = get_kernel("inversion_from", "jax")(
            _terms_of(sequence.inversion), sequence.inversion.native_index_for_slim_index)
        sequence._jax["calls"] = [
            (jnp.asarray(padded(a.pix_indexes_for_sub_slim_index, 0)),
             jnp.asarray(padded(a.pix_weights_for_sub_slim_index, 0.0)),
             jnp.asarray(a.regularization_matrix),
             jnp.zeros(a.pixels, dtype=bool).at[jnp.asarray(a.zeroed_pixels)].set(True))
            for a in sequence.calls]
        bare = get_kernel("inversion_result_from", "jax", checked=False)

        @jax.jit
        def call(inversion, indexes, weights, regularization, zeroed, state):
            evaluated = bare(inversion, indexes, weights, regularization,
                             solver="positive_only", zeroed_pixels=zeroed, warm_start=state)
            return evaluated.log_evidence, evaluated.reconstruction, evaluated.solver_state
        sequence._jax["call"] = call
    inversion, calls, call = (sequence._jax[key] for key in ("inversion", "calls", "call"))
    from autokern.inversion import PositiveOnlyState

    def run():
        state = PositiveOnlyState(jnp.ones(sequence.calls[0].pixels, dtype=bool))
        out = []
        for arguments in calls:
            log_evidence, reconstruction, state = call(inversion, *arguments, state)
            out.append((log_evidence, reconstruction))
        return bench.block(out)
    return run


def _terms_of(inversion: Any) -> Any:
    """The VisibilityTerms an Inversion was built from (for the JAX inversion)."""
    from autokern.terms import VisibilityTerms

    return VisibilityTerms(inversion.w_compact, inversion.dirty_image,
                           inversion.data_chi_squared, inversion.noise_normalization,
                           inversion.n_visibilities)


def _library_run(sequence: Sequence, memo: bool):
    from autoarray.inversion.inversion import nnls_memo

    problems = sequence.kept_problems()

    def run():
        nnls_memo.memo_clear()
        return [_library_solve(data_vector, matrix, memo) for data_vector, matrix in problems]
    return run


def _check_autokern(sequence: Sequence, out: list) -> None:
    assert float(out[0][0]) == pytest.approx(sequence.library_first_log_evidence, rel=1e-9)
    for (_, reconstruction), expected in zip(out, sequence.library_solutions, strict=True):
        assert bench.relative_difference(np.asarray(reconstruction), expected) <= 1e-8


def _check_library(sequence: Sequence, out: list) -> None:
    for solution, expected, arrays in zip(out, sequence.library_solutions, sequence.calls,
                                          strict=True):
        keep = _nnls.kept_pixels(arrays.pixels, arrays.zeroed_pixels)
        assert bench.relative_difference(solution, expected[keep]) <= 1e-8


# fit varies slowest (each fit's sequence is built once), the thread count fastest
@pytest.mark.parametrize("threads", THREADS, ids=[f"threads{n}" for n in THREADS])
@pytest.mark.parametrize("contender", SEQUENCE_CONTENDERS)
@pytest.mark.parametrize("fit", FITS)
def test_sampler_sequence(benchmark, fit, threads, contender):
    if benchmark.disabled and (fit != "sma" or threads != THREADS[0]):
        pytest.skip("the smoke run (--benchmark-disable): SMA, one thread count")
    calls = SMOKE_CALLS if benchmark.disabled else CALLS
    sequence = sequence_for(fit, calls)
    benchmark.group = f"positive-only sequence {fit} threads={threads} ({calls} calls a round)"
    benchmark.extra_info.update(sequence.info, threads=threads)
    if contender.startswith("library"):
        run, check = _library_run(sequence, memo=contender.endswith("memo")), _check_library
    elif contender == "autokern-jax-positive-warm":
        run, check = _jax_run(sequence), _check_autokern
    else:
        solver = "positive_negative" if contender == "autokern-linear" else "positive_only"
        run = _autokern_run(sequence, solver, warm=contender.endswith("warm"))
        check = (lambda s, out: None) if solver == "positive_negative" else _check_autokern
    with autokern.threads(threads):
        first_call_s, out = bench.timed(run)
        check(sequence, out)
        benchmark.extra_info["first_round_s"] = first_call_s
        call_s = first_call_s if benchmark.disabled else bench.timed(run)[0]
        benchmark.pedantic(run, iterations=1, rounds=bench.repeats_for(
            call_s, budget_s=15.0, low=3, high=10))
