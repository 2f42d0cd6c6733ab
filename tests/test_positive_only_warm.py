"""The positive-only solve's explicit warm start (issue 26) and its block principal pivoting.

A warm start (:class:`autokern.inversion.PositiveOnlyState`, ``return_state=True`` or an
``InversionResult``'s ``solver_state`` → ``warm_start=``) may cost iterations, never the answer:
every state below — the right one, a stale one, another dataset's, another S's, garbage — gives
the library's solution (``../shared/data/sma_delaunay_dev_positive.npz``) and evidence.  Then
fits with many pixels at the bound against SciPy's NNLS; JAX under ``jit`` and ``vmap`` (a batch
of 100, each member its own state) and ``grad`` against finite differences.
"""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize

from autokern import get_kernel
from autokern.catalogue import BACKEND_NAMES
from autokern.errors import InputTypeError
from autokern.inversion import InversionResult, PositiveOnlyState
from helpers import relative_error
from test_inversion import reference


def _states(ref: dict, other: dict) -> dict[str, PositiveOnlyState]:
    pixels = len(ref["data_vector"])
    rng = np.random.default_rng(3)
    return {
        "exact": PositiveOnlyState(ref["reconstruction"] > 0),
        "empty": PositiveOnlyState(np.zeros(pixels, dtype=bool)),
        "all": PositiveOnlyState(np.ones(pixels, dtype=bool)),
        "inverted": PositiveOnlyState(~(ref["reconstruction"] > 0)),
        "random": PositiveOnlyState(rng.random(pixels) < 0.5),
        "another dataset": PositiveOnlyState(other["reconstruction"] > 0),
        "another S": PositiveOnlyState(np.ones(pixels + 7, dtype=bool)),
        "garbage floats": PositiveOnlyState(np.where(rng.random(pixels) < 0.3, np.nan, 0.0)),
        "zeroed pixels free": PositiveOnlyState(np.isin(np.arange(pixels),
                                                        ref["zeroed_pixels"])),
    }


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_no_warm_start_changes_the_answer(backend):
    ref, other = reference("positive"), reference("adaptive")
    solve = get_kernel("reconstruction_positive_only_from", backend)
    matrix = ref["curvature_matrix"] + ref["regularization_matrix"]
    cold, state = solve(ref["data_vector"], matrix, zeroed_pixels=ref["zeroed_pixels"],
                        return_state=True)
    assert isinstance(state, PositiveOnlyState)
    np.testing.assert_array_equal(np.asarray(state.free), np.asarray(cold) > 0)
    for name, warm in _states(ref, other).items():
        solution = np.asarray(solve(ref["data_vector"], matrix,
                                    zeroed_pixels=ref["zeroed_pixels"], warm_start=warm))
        assert relative_error(solution, ref["reconstruction"]) <= 1e-8, name
        assert relative_error(solution, cold) <= 1e-10, name
        assert np.all(solution[ref["zeroed_pixels"]] == 0.0) and np.all(solution >= 0.0), name


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_the_evidence_carries_its_state_and_any_state_gives_the_library_evidence(backend):
    ref, other = reference("positive"), reference("adaptive")
    evidence = get_kernel("log_evidence_from", backend)
    arguments = (ref["curvature_matrix"], ref["regularization_matrix"], ref["data_vector"],
                 ref["data"], ref["noise_map"])
    value, state = evidence(*arguments, solver="positive_only",
                            zeroed_pixels=ref["zeroed_pixels"], return_state=True)
    assert value == pytest.approx(float(ref["log_evidence"]), rel=1e-9)
    for name, warm in [("own", state), *_states(ref, other).items()]:
        assert evidence(*arguments, solver="positive_only", zeroed_pixels=ref["zeroed_pixels"],
                        warm_start=warm) == pytest.approx(float(ref["log_evidence"]),
                                                          rel=1e-9), name
    linear, none = evidence(*arguments, return_state=True, warm_start=state)
    assert none is None and linear == pytest.approx(float(ref["log_evidence_linear"]), rel=1e-9)


def test_a_state_that_is_not_a_state_is_refused():
    ref = reference("positive")
    for backend in BACKEND_NAMES:
        with pytest.raises(InputTypeError, match="warm_start must be None or an"):
            get_kernel("reconstruction_positive_only_from", backend)(
                ref["data_vector"], ref["curvature_matrix"] + ref["regularization_matrix"],
                warm_start=np.ones(len(ref["data_vector"]), dtype=bool))


def test_inversion_result_hands_back_its_state_and_is_pickled_for_workers(dev_case):
    numba = get_kernel("inversion_result_from", "numba")
    case = dev_case
    terms = get_kernel("visibility_terms_from", "numba")(
        *(case.value(name) for name in ("data", "noise_map", "uv_wavelengths",
                                        "grid_radians_slim", "native_index_for_slim_index",
                                        "pixel_scale")))
    inversion = get_kernel("inversion_from", "numba")(terms, case.value(
        "native_index_for_slim_index"))
    mapping = (case.value("pix_indexes_for_sub_slim_index"),
               case.value("pix_weights_for_sub_slim_index"))
    pixels = mapping[0].max() + 1
    regularization = get_kernel("constant_regularization_matrix_from", "numba")(
        0.05, case.value("neighbors"), case.value("neighbors_sizes"))
    cold = numba(inversion, *mapping, regularization, solver="positive_only")
    assert isinstance(cold, InversionResult) and cold.solver_state.free.shape == (pixels,)
    state = pickle.loads(pickle.dumps(cold.solver_state))  # a forked worker's copy
    warm = numba(inversion, *mapping, 1.3 * regularization, solver="positive_only",
                 warm_start=state)
    again = numba(inversion, *mapping, 1.3 * regularization, solver="positive_only")
    assert warm.log_evidence == pytest.approx(again.log_evidence, rel=1e-12)
    assert numba(inversion, *mapping, regularization).solver_state is None


# --- many pixels at the bound --------------------------------------------------------------

def _bound_problem(pixels: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(D, A, zeroed) with about half of the kept pixels at the bound."""
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((2 * pixels, pixels))
    matrix = mixing.T @ mixing + 0.5 * np.eye(pixels)
    matrix = 0.5 * (matrix + matrix.T)
    data_vector = matrix @ np.maximum(rng.standard_normal(pixels), 0.0) \
        + rng.standard_normal(pixels) * 3.0
    zeroed = np.sort(rng.choice(pixels, size=pixels // 10, replace=False))
    return data_vector, matrix, zeroed


def _scipy(data_vector: np.ndarray, matrix: np.ndarray, zeroed: np.ndarray) -> np.ndarray:
    keep = np.setdiff1d(np.arange(len(data_vector)), zeroed)
    lower = np.linalg.cholesky(matrix[np.ix_(keep, keep)])
    out = np.zeros(len(data_vector))
    out[keep] = scipy.optimize.nnls(
        lower.T, scipy.linalg.solve_triangular(lower, data_vector[keep], lower=True),
        maxiter=50 * len(keep))[0]
    return out


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_many_pixels_at_the_bound_from_every_start(backend):
    solve = get_kernel("reconstruction_positive_only_from", backend)
    state = None
    for seed in range(4):  # a sequence of problems, each warm-started from the last
        data_vector, matrix, zeroed = _bound_problem(150, seed)
        expected = _scipy(data_vector, matrix, zeroed)
        assert 0.3 < np.mean(expected == 0.0) < 0.8
        for warm in (None, state):
            solution = np.asarray(solve(data_vector, matrix, zeroed_pixels=zeroed,
                                        warm_start=warm))
            assert relative_error(solution, expected) <= 1e-9, (seed, warm is None)
        _, state = solve(data_vector, matrix, zeroed_pixels=zeroed, return_state=True)


@pytest.mark.parametrize("iterations", [1, 2])
def test_numba_finishes_with_fnnls_from_a_warm_start(iterations, monkeypatch):
    from autokern.numba import solve

    monkeypatch.setattr(solve, "PIVOTING_ITERATIONS", iterations)
    ref = reference("positive")
    for warm in _states(ref, reference("adaptive")).values():
        solution = solve.reconstruction_positive_only_from(
            ref["data_vector"], ref["curvature_matrix"] + ref["regularization_matrix"],
            ref["zeroed_pixels"], warm_start=warm)
        assert relative_error(solution, ref["reconstruction"]) <= 1e-8


def test_numba_states_are_per_caller_across_threads():
    solve = get_kernel("reconstruction_positive_only_from", "numba")
    problems = [_bound_problem(120, seed) for seed in (10, 11)]
    expected = [_scipy(*problem) for problem in problems]
    errors: list[float] = []

    def worker(index: int) -> None:
        data_vector, matrix, zeroed = problems[index]
        state = None
        for _ in range(5):
            solution, state = solve(data_vector, matrix, zeroed_pixels=zeroed,
                                    warm_start=state, return_state=True)
            errors.append(relative_error(solution, expected[index]))

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 10 and max(errors) <= 1e-9


# --- JAX: jit, vmap over a batch of 100 (each its own state), grad -------------------------

def test_jax_warm_start_under_jit_vmap_and_grad():
    jax = pytest.importorskip("jax")
    import autokern.jax  # noqa: F401  (float64)

    jnp = jax.numpy
    solve = get_kernel("reconstruction_positive_only_from", "jax", checked=False)
    pixels, batch = 24, 100
    rng = np.random.default_rng(5)
    mixing = rng.standard_normal((2 * pixels, pixels))
    matrix = mixing.T @ mixing + 0.5 * np.eye(pixels)
    matrix = 0.5 * (matrix + matrix.T)
    data_vectors = rng.standard_normal((batch, pixels)) * 5.0
    zeroed = jnp.zeros(pixels, dtype=bool).at[jnp.array([0, 5])].set(True)
    expected = np.stack([_scipy(d, matrix, np.array([0, 5])) for d in data_vectors])
    states = PositiveOnlyState(jnp.asarray(rng.random((batch, pixels)) < 0.5))

    def one(data_vector, state):
        return solve(data_vector, jnp.asarray(matrix), zeroed, warm_start=state,
                     return_state=True)

    batched, out_states = jax.jit(jax.vmap(one))(jnp.asarray(data_vectors), states)
    assert relative_error(batched, expected) <= 1e-9
    np.testing.assert_array_equal(np.asarray(out_states.free), expected > 0)
    again, _ = jax.jit(jax.vmap(one))(jnp.asarray(data_vectors), out_states)  # warm: same
    assert relative_error(again, expected) <= 1e-9

    # grad of a smooth function of s through the implicit KKT derivative, on the active set
    weights = jnp.asarray(rng.standard_normal(pixels))

    def objective(data_vector):
        return jnp.sum(weights * solve(data_vector, jnp.asarray(matrix), zeroed,
                                       warm_start=PositiveOnlyState(out_states.free[0])))

    point = jnp.asarray(data_vectors[0])
    gradient = np.asarray(jax.jit(jax.grad(objective))(point))
    step = 1e-6
    for index in range(pixels):
        shift = jnp.zeros(pixels).at[index].set(step)
        central = (float(objective(point + shift)) - float(objective(point - shift))) / (2 * step)
        assert gradient[index] == pytest.approx(central, rel=1e-6, abs=1e-9), index
