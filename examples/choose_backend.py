"""Choosing a backend: the same likelihood on the NumPy reference, Numba and JAX.

Every backend has every kernel under the same name and signature, so switching is one import.
This script builds a seeded mock dataset, evaluates the log evidence on each backend, and prints
the agreement with the reference and the time of the first call (compilation included) and of a
warm call.

    python examples/choose_backend.py                 # the "small" preset
    python examples/choose_backend.py --preset medium
"""

from __future__ import annotations

import argparse
import time

import autokern
from autokern.data import datasets, testing


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small", choices=sorted(datasets.PRESETS))
    args = parser.parse_args(argv)

    case = testing.mock_case(args.preset)
    print(case.dataset, case.mesh, sep="\n")
    evidences = {}
    for backend in autokern.BACKEND_NAMES:
        kern = autokern.Kernels(backend)     # or: from autokern import numba as kern
        # once per dataset: the sums over visibilities, then the reusable inversion
        terms = kern.visibility_terms_from(**case.arguments("visibility_terms_from"))
        inversion = kern.inversion_from(terms, case.value("native_index_for_slim_index"))
        regularization_matrix = kern.constant_regularization_matrix_from(
            case.coefficient, case.value("neighbors"), case.value("neighbors_sizes"))

        def likelihood(kern=kern, inversion=inversion, regularization_matrix=regularization_matrix):
            result = kern.inversion_result_from(
                inversion, case.value("pix_indexes_for_sub_slim_index"),
                case.value("pix_weights_for_sub_slim_index"), regularization_matrix)
            return float(result.log_evidence)

        start = time.perf_counter()
        evidences[backend] = likelihood()
        first = time.perf_counter() - start
        start = time.perf_counter()
        likelihood()
        warm = time.perf_counter() - start
        print(f"{backend:>8}: log evidence {evidences[backend]:.10f}   first call "
              f"{first * 1e3:8.1f} ms   warm call {warm * 1e3:7.2f} ms")
    reference = evidences["original"]
    worst = max(abs(v - reference) / abs(reference) for v in evidences.values())
    print(f"backends agree with the reference to {worst:.1e} (relative)")
    if worst > 1e-10:
        raise SystemExit("backends disagree")
    return evidences


if __name__ == "__main__":
    main()
