"""JAX: the log evidence as a differentiable, vectorisable function of the regularization.

The JAX backend's kernels run under ``jax.jit``, ``jax.vmap`` and ``jax.grad`` (float64). Here the
regularization coefficient λ is scanned with ``vmap`` and the evidence is maximised over log λ
by gradient ascent with ``grad`` — what a sampler or an optimiser over λ would do.

    python examples/jax_grad_vmap.py                  # the "small" preset
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp

from autokern import jax as kern
from autokern.data import datasets, testing


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small", choices=sorted(datasets.PRESETS))
    parser.add_argument("--steps", type=int, default=20, help="gradient-ascent steps")
    args = parser.parse_args(argv)

    case = testing.mock_case(args.preset)
    terms = kern.visibility_terms_from(**case.arguments("visibility_terms_from"))
    inversion = kern.inversion_from(terms, case.value("native_index_for_slim_index"))
    indexes = jnp.asarray(case.value("pix_indexes_for_sub_slim_index"))
    weights = jnp.asarray(case.value("pix_weights_for_sub_slim_index"))
    neighbors = jnp.asarray(case.value("neighbors"))
    neighbors_sizes = jnp.asarray(case.value("neighbors_sizes"))

    @jax.jit
    def log_evidence(log_coefficient):
        regularization_matrix = kern.constant_regularization_matrix_from(
            jnp.exp(log_coefficient), neighbors, neighbors_sizes)
        return kern.inversion_result_from(inversion, indexes, weights,
                                          regularization_matrix).log_evidence

    grid = jnp.linspace(-4.0, 4.0, 9)
    scan = jax.vmap(log_evidence)(grid)
    for value, evidence in zip(grid, scan, strict=True):
        print(f"λ = {float(jnp.exp(value)):9.4f}   log evidence {float(evidence):14.4f}")

    slope = jax.jit(jax.grad(log_evidence))
    log_coefficient, step = grid[int(jnp.argmax(scan))], 0.5
    direction = jnp.sign(slope(log_coefficient))
    for _ in range(args.steps):   # sign-gradient ascent, halving the step at each overshoot
        if jnp.sign(slope(log_coefficient)) != direction:
            direction, step = -direction, step / 2
        log_coefficient = log_coefficient + step * direction
    best = float(log_evidence(log_coefficient))
    print(f"gradient ascent: λ = {float(jnp.exp(log_coefficient)):.4f}, log evidence {best:.4f} "
          f"(d/dlogλ = {float(slope(log_coefficient)):.2e})")
    if best < float(scan.max()) - 1e-6:
        raise SystemExit("gradient ascent ended below the best point of the scan")
    return best


if __name__ == "__main__":
    main()
