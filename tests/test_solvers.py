"""Solvers are one family (``autokern._shared.solvers``): adding one is its own function and one
registry line, and every kernel that takes ``solver=`` runs it on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from autokern import get_kernel
from autokern._shared import solvers
from autokern.catalogue import BACKEND_NAMES
from autokern.errors import InputValueError
from helpers import RTOL, relative_error


def _toy_solve(cores, curvature, regularization, data_vector, zeroed_pixels, warm_start):
    # the linear solution by the backend's array namespace: a solver written once
    return cores.ops.xp.linalg.solve(curvature + regularization, data_vector)


TOY = solvers.Solver("toy_linear", _toy_solve, state=lambda solution: "toy state",
                     derivative="through xp.linalg.solve", doc="the linear solve, by xp")


@pytest.fixture
def toy_solver(monkeypatch):
    monkeypatch.setitem(solvers.SOLVERS, TOY.name, TOY)
    return TOY.name


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_toy_solver_needs_only_the_registry(backend, toy_solver, get_case):
    case = get_case("small")
    inversion = get_kernel("inversion_from", backend)(case.value("visibility_terms"),
                                                      case.value("native_index_for_slim_index"))
    mapping = [case.value(k) for k in ("pix_indexes_for_sub_slim_index",
                                       "pix_weights_for_sub_slim_index",
                                       "regularization_matrix")]
    result_from = get_kernel("inversion_result_from", backend)
    toy = result_from(inversion, *mapping, solver=toy_solver)
    linear = result_from(inversion, *mapping, solver="positive_negative")
    assert relative_error(toy.log_evidence, linear.log_evidence) <= RTOL
    assert relative_error(np.asarray(toy.reconstruction),
                          np.asarray(linear.reconstruction)) <= 1e-9
    assert toy.solver_state == "toy state" and linear.solver_state is None
    # the evidence from F, H and D takes it too
    name = "log_evidence_from"
    arguments = case.arguments(name)
    assert relative_error(get_kernel(name, backend)(**{**arguments, "solver": toy_solver}),
                          get_kernel(name, backend)(**arguments)) <= RTOL


def test_an_unregistered_solver_is_refused_naming_the_registered_ones(get_case):
    case = get_case("small")
    arguments = {**case.arguments("log_evidence_from"), "solver": "toy_linear"}
    with pytest.raises(InputValueError, match="'positive_negative', 'positive_only'"):
        get_kernel("log_evidence_from", "numba")(**arguments)


def test_every_solver_states_its_derivative_rule():
    for solver in solvers.SOLVERS.values():
        assert solver.derivative and solver.doc
