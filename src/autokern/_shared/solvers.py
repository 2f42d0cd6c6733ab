"""The solvers of the inversion, as one family registered in one place.

A :class:`Solver` turns F + H and D into the reconstruction s the evidence is evaluated at, on
any backend (through the backend's cores and array namespace):

- ``solve(cores, curvature, regularization, data_vector, zeroed_pixels, warm_start)`` → s, or
  None where s is the linear solution, which the evidence then takes from its own Cholesky of
  F + H (one factorisation for s and log det(F + H));
- ``state(solution)`` → what a caller carries to the next call's ``warm_start`` (or None);
- ``derivative`` — how ``jax.grad`` goes through it (the backend's rule, stated).

The catalogue's ``solver`` argument takes the names registered in :data:`SOLVERS`; adding a
solver is its own module (or function) and one :func:`register_solver` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autokern._shared import nnls


@dataclass(frozen=True)
class Solver:
    """One member of the family (see the module docstring)."""

    name: str
    solve: Callable[..., Any]
    state: Callable[[Any], Any]
    derivative: str
    doc: str


def _linear(cores: Any, curvature: Any, regularization: Any, data_vector: Any,
            zeroed_pixels: Any, warm_start: Any) -> None:
    return None  # the evidence's own factorisation of F + H gives s = (F + H)⁻¹ D


def _positive_only(cores: Any, curvature: Any, regularization: Any, data_vector: Any,
                   zeroed_pixels: Any, warm_start: Any) -> Any:
    return cores.reconstruction_positive_only_from(data_vector, curvature + regularization,
                                                   zeroed_pixels=zeroed_pixels,
                                                   warm_start=warm_start)


POSITIVE_NEGATIVE = Solver(
    "positive_negative", _linear, lambda solution: None,
    derivative="through the Cholesky of F + H (JAX's factorisation rules)",
    doc="the linear solve s = (F + H)⁻¹ D")
POSITIVE_ONLY = Solver(
    "positive_only", _positive_only, nnls.state_of,
    derivative="implicit differentiation of the KKT system on the final free set",
    doc="s ≥ 0 minimising sᵀ(F + H)s − 2sᵀD with zeroed_pixels fixed at 0 (the downstream "
        "library's default Settings(); an exact active-set solve)")

#: every solver by name: the ``solver`` argument's choices
SOLVERS: dict[str, Solver] = {s.name: s for s in (POSITIVE_NEGATIVE, POSITIVE_ONLY)}


def register_solver(solver: Solver) -> None:
    """Make ``solver`` available as ``solver=solver.name`` on every kernel that takes one."""
    SOLVERS[solver.name] = solver
