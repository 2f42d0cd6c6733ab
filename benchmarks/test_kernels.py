"""Every kernel of every backend, timed with pytest-benchmark at one preset.

    pytest benchmarks/                         # small preset
    pytest benchmarks/ --preset medium -k "curvature and numba"
    pytest benchmarks/ --benchmark-disable     # one call each: a quick correctness smoke test

The first call (JIT compilation included) is timed on its own and stored in the benchmark's
``extra_info["first_call_s"]``; the timed rounds start after it.  JAX results are waited for with
``block_until_ready``.  Each result is checked against ``original`` where that is affordable.
"""

from autokern import get_backend
from autokern._api.dispatch import provides
from autokern.apps import bench
from autokern.catalogue import BACKEND_NAMES, KERNELS

#: Benchmark groups, named like the tables of the earlier port.
GROUPS = {
    "w_tilde_data_interferometer_from": "dirty_image",
    "w_tilde_curvature_interferometer_from": "w_tilde",
    "nufft_precision_operator_from": "precision operator",
    "w_compact_curvature_interferometer_from": "w_compact",
    "mapping_matrix_from_BCOO": "mapping",
    "visibility_terms_from": "visibility_terms",
}
FAMILY_GROUPS = {"expansions": "expansions", "mapping": "mapping",
                 "curvature": "curvature_matrix", "solve": "solve",
                 "evidence": "log_likelihood", "grid": "grid"}
#: Combinations that would take minutes per call (dense W̃ by direct sums over K).
TOO_SLOW = {
    ("original", "w_tilde_curvature_interferometer_from"): {"medium", "large"},
    ("original", "nufft_precision_operator_from"): {"large"},
    ("original", "w_compact_curvature_interferometer_from"): {"large"},
}
DENSE_W_TILDE = {k.name for k in KERNELS.values() if k.largest_array == "M M"} | {
    "curvature_matrix_via_w_tilde_from",
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
    "log_likelihood_function_via_w_tilde_from",
}



def affordable(backend: str, kernel: str, preset: str) -> bool:
    """False for combinations that take minutes per call at ``preset`` (not collected)."""
    return preset not in TOO_SLOW.get((backend, kernel), set()) and \
        not (preset == "large" and kernel in DENSE_W_TILDE)


def pytest_generate_tests(metafunc):
    preset = metafunc.config.getoption("--preset")
    pairs = [(b, k) for k in KERNELS for b in BACKEND_NAMES
             if provides(b, k) and affordable(b, k, preset)]
    metafunc.parametrize("backend, kernel", pairs, ids=[f"{k}-{b}" for b, k in pairs])


def group_of(kernel: str) -> str:
    return GROUPS[kernel] if kernel in GROUPS else FAMILY_GROUPS[KERNELS[kernel].family]


def test_kernel(benchmark, backend, kernel, preset, case):
    benchmark.group = group_of(kernel)
    arguments = case.arguments(kernel)
    fn = getattr(get_backend(backend), kernel)
    first_call_s, result = bench.timed(lambda: fn(**arguments))
    benchmark.extra_info["first_call_s"] = first_call_s
    benchmark.extra_info["preset"] = preset
    benchmark.pedantic(lambda: bench.block(fn(**arguments)),
                       rounds=bench.repeats_for(first_call_s), iterations=1)
    reference = KERNELS[kernel].same_as or kernel
    if backend != "original" and affordable("original", reference, preset):
        expected = getattr(get_backend("original"), reference)(**arguments)
        assert bench.relative_difference(result, expected) <= 1e-10
