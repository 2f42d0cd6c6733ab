"""The JAX backend beyond parity: BCOO, autodiff, vmap, compilation behaviour, chunking, x64."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402

import autokern.jax as aj  # noqa: E402
import autokern.original as ref  # noqa: E402
from autokern import get_kernel  # noqa: E402
from autokern.catalogue import kernels_for  # noqa: E402
from autokern.jax import curvature, mapping  # noqa: E402
from helpers import relative_error  # noqa: E402

LIKELIHOOD = "log_likelihood_function_via_w_compact_from"


@pytest.fixture(scope="module")
def tiny(get_case):
    return get_case("tiny")


def _arguments(case, kernel, **override):
    return {**case.arguments(kernel), **override}


def test_jax_provides_every_kernel_the_catalogue_declares():
    for entry in kernels_for("jax"):
        public = getattr(aj, entry.name)
        assert get_kernel(entry.name, "jax", fallback=False) is public
        assert public.__doc__ == entry.doc


def test_x64_is_on_and_results_are_float64(tiny):
    assert jax.config.jax_enable_x64
    info = aj.backend_info()
    assert info["x64"] and info["default_float_dtype"] == "float64"
    assert {"jax", "jaxlib", "devices", "default_backend", "compilation_cache_dir"} <= set(info)
    result = aj.w_compact_curvature_interferometer_from(
        **tiny.arguments("w_compact_curvature_interferometer_from"))
    assert result.dtype == jnp.float64


def test_bcoo_kernels_equal_their_dense_counterparts(tiny):
    arguments = tiny.arguments("mapping_matrix_from")
    dense = aj.mapping_matrix_from(**arguments)
    bcoo = aj.mapping_matrix_from_BCOO(**arguments)
    np.testing.assert_array_equal(bcoo.todense(), dense)
    compact = tiny.arguments("curvature_matrix_via_w_compact_sparse_mapping_matrix_from")
    assert relative_error(
        aj.curvature_matrix_via_w_compact_sparse_mapping_matrix_from_BCOO(**compact),
        aj.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(**compact)) <= 1e-14
    w_tilde_dense = tiny.value("w_tilde")
    assert relative_error(aj.curvature_matrix_via_w_tilde_from(w_tilde_dense, bcoo),
                          aj.curvature_matrix_via_w_tilde_from(w_tilde_dense, dense)) <= 1e-14
    dirty = tiny.value("dirty_image")
    assert relative_error(aj.data_vector_from(bcoo, dirty),
                          aj.data_vector_from(dense, dirty)) <= 1e-14


def test_gather_and_scatter_forms_of_the_sparse_mapping_agree(tiny):
    indexes = jnp.asarray(tiny.value("pix_indexes_for_sub_slim_index"))
    weights = jnp.asarray(tiny.value("pix_weights_for_sub_slim_index"))
    pixels = tiny.value("pixels")
    bucket = mapping.per_source_bucket(indexes, pixels)
    assert bucket is not None and bucket % 8 == 0
    w_dense = jnp.asarray(tiny.value("w_tilde"))
    gather = curvature.curvature_via_w_tilde_sparse(w_dense, indexes, weights, pixels=pixels,
                                                    per_source=bucket)
    scatter = curvature.curvature_via_w_tilde_sparse(w_dense, indexes, weights, pixels=pixels,
                                                     per_source=None)
    assert relative_error(gather, scatter) <= 1e-14


def test_dense_mapping_matrix_routes_agree(tiny):
    w_dense = tiny.value("w_tilde")
    sparse_rows = tiny.value("mapping_matrix")
    dense = np.random.default_rng(3).normal(size=sparse_rows.shape)
    for matrix in (sparse_rows, dense):  # the sparse-row form, then the matrix products
        assert relative_error(aj.curvature_matrix_via_w_tilde_from(w_dense, matrix),
                              ref.curvature_matrix_via_w_tilde_from(w_dense, matrix)) <= 1e-12


@pytest.mark.parametrize("kernel", ["w_compact_curvature_interferometer_from",
                                    "nufft_precision_operator_from",
                                    "w_tilde_curvature_interferometer_from",
                                    "w_tilde_data_interferometer_from"])
def test_chunk_padding_never_changes_the_result(kernel, tiny):
    arguments = tiny.arguments(kernel)
    n_visibilities = len(tiny.value("uv_wavelengths"))
    assert n_visibilities % 7 and n_visibilities % 50 == 0
    results = [getattr(aj, kernel)(**arguments, chunk_size=size)
               for size in (7, 50, n_visibilities, "auto")]
    for result in results[1:]:
        assert relative_error(result, results[0]) <= 1e-12


def test_dirty_image_direct_and_factorised_paths_agree(tiny):
    arguments = tiny.arguments("w_tilde_data_interferometer_from")
    factorised = aj.w_tilde_data_interferometer_from(**arguments)
    # Under jit the grid is traced, so the direct (chunk × M) path runs.
    traced = jax.jit(lambda grid: aj.w_tilde_data_interferometer_from(
        **{**arguments, "grid_radians_slim": grid}))(arguments["grid_radians_slim"])
    assert relative_error(traced, factorised) <= 1e-12


def test_dense_w_tilde_off_the_lattice_uses_the_direct_sum(tiny):
    arguments = tiny.arguments("w_tilde_curvature_interferometer_from")
    rng = np.random.default_rng(0)
    grid = arguments["grid_radians_slim"]
    arguments = {**arguments, "grid_radians_slim": grid + rng.normal(0, 1e-8, grid.shape)}
    assert relative_error(aj.w_tilde_curvature_interferometer_from(**arguments),
                          ref.w_tilde_curvature_interferometer_from(**arguments)) <= 1e-10


@pytest.fixture
def count_compiles():
    """A list that receives one entry per XLA compilation while the test runs."""
    compiles = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    yield compiles
    jax.monitoring.unregister_event_duration_listener(listener)


def test_no_recompilation_when_only_values_change(tiny, count_compiles):
    arguments = tiny.arguments(LIKELIHOOD)

    def run(values):
        aj.log_likelihood_function_via_w_compact_from(**values)
        # traced inputs of F: the one-program path
        jax.grad(lambda w: aj.log_likelihood_function_via_w_compact_from(
            **{**values, "pix_weights_for_sub_slim_index": w}))(
            jnp.asarray(values["pix_weights_for_sub_slim_index"]))
        compact = tiny.arguments("w_compact_curvature_interferometer_from")
        aj.w_compact_curvature_interferometer_from(
            **{**compact, "noise_map_real": np.abs(values["data"].real) + 1.0,
               "pixel_scale": values["coefficient"] / 10})

    run(arguments)
    assert count_compiles
    count_compiles.clear()
    rng = np.random.default_rng(1)
    run({**arguments,
         "coefficient": 3.0,
         "data": arguments["data"] * 1.5,
         "dirty_image": arguments["dirty_image"] + rng.normal(size=arguments["dirty_image"].shape),
         "pix_weights_for_sub_slim_index": arguments["pix_weights_for_sub_slim_index"][::-1],
         "pix_indexes_for_sub_slim_index": arguments["pix_indexes_for_sub_slim_index"][::-1]})
    assert count_compiles == []


def test_public_functions_work_under_a_user_jit(tiny):
    arguments = tiny.arguments(LIKELIHOOD)
    expected = aj.log_likelihood_function_via_w_compact_from(**arguments)

    @jax.jit
    def traced(weights, indexes, coefficient):
        return aj.log_likelihood_function_via_w_compact_from(
            **{**arguments, "pix_weights_for_sub_slim_index": weights,
               "pix_indexes_for_sub_slim_index": indexes, "coefficient": coefficient})

    result = traced(arguments["pix_weights_for_sub_slim_index"],
                    arguments["pix_indexes_for_sub_slim_index"], arguments["coefficient"])
    assert relative_error(result, expected) <= 1e-12
    # A traced mapping takes the scatter form of Tᵀ.
    name = "curvature_matrix_via_nufft_precision_operator_from"
    two_pass = tiny.arguments(name)
    result = jax.jit(lambda indexes: getattr(aj, name)(
        **{**two_pass, "pix_indexes_for_sub_slim_index": indexes}))(
        two_pass["pix_indexes_for_sub_slim_index"])
    assert relative_error(result, getattr(ref, name)(**two_pass)) <= 1e-10


@pytest.fixture(scope="module")
def dev_likelihood(dev_case):
    arguments = {name: jnp.asarray(value) if isinstance(value, np.ndarray) else value
                 for name, value in dev_case.arguments(LIKELIHOOD).items()}

    def log_likelihood(coefficient, weights):
        return aj.log_likelihood_function_via_w_compact_from(
            **{**arguments, "coefficient": coefficient,
               "pix_weights_for_sub_slim_index": weights})

    return log_likelihood, arguments["pix_weights_for_sub_slim_index"]


def _central_difference(f, step):
    return (f(step) - f(-step)) / (2.0 * step)


def test_gradient_wrt_coefficient_matches_finite_differences(dev_likelihood):
    log_likelihood, weights = dev_likelihood
    gradient = jax.grad(log_likelihood)(2.0, weights)
    numeric = _central_difference(lambda h: log_likelihood(2.0 + h, weights), 1e-4)
    assert abs(gradient - numeric) <= 1e-6 * abs(numeric)


def test_gradient_wrt_mapping_weights_matches_finite_differences(dev_likelihood):
    log_likelihood, weights = dev_likelihood
    gradient = jax.grad(log_likelihood, argnums=1)(2.0, weights)
    assert gradient.shape == weights.shape
    rng = np.random.default_rng(2)
    direction = jnp.asarray(rng.normal(size=weights.shape)) * (weights != 0)
    numeric = _central_difference(
        lambda h: log_likelihood(2.0, weights + h * direction), 1e-5)
    assert abs(jnp.vdot(gradient, direction) - numeric) <= 1e-6 * abs(numeric)
    # and entry by entry, where the gradient is largest
    for flat in np.argsort(np.abs(np.asarray(gradient)).ravel())[-3:]:
        unit = jnp.zeros(weights.size).at[flat].set(1.0).reshape(weights.shape)
        numeric = _central_difference(lambda h, u=unit: log_likelihood(2.0, weights + h * u),
                                      1e-5)
        assert abs(gradient.ravel()[flat] - numeric) <= 1e-6 * abs(numeric)


def test_vmap_over_coefficients_equals_a_loop(dev_likelihood):
    log_likelihood, weights = dev_likelihood
    import threadpoolctl

    coefficients = jnp.array([0.5, 1.0, 2.0, 4.0])
    # Concrete calls run LAPACK on one BLAS thread, traced ones on the caller's setting, and
    # OpenBLAS's rounding depends on its thread count (~1e-12 here): compare on one thread.
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        batched = jax.vmap(lambda c: log_likelihood(c, weights))(coefficients)
        looped = jnp.array([log_likelihood(c, weights) for c in coefficients])
    np.testing.assert_allclose(batched, looped, rtol=1e-12)


def test_likelihood_matches_the_dev_reference(dev_case):
    arguments = dev_case.arguments(LIKELIHOOD)
    assert relative_error(aj.log_likelihood_function_via_w_compact_from(**arguments),
                          ref.log_likelihood_function_via_w_compact_from(**arguments)) <= 1e-10


_CACHE_PROBE = """
import json, sys
import jax
hits = []
jax.monitoring.register_event_listener(
    lambda event, **kw: hits.append(event) if "cache_hits" in event else None)
import autokern.jax as aj
from autokern.datasets import mock_case
case = mock_case("tiny", seed=1)
aj.w_compact_curvature_interferometer_from(
    **case.arguments("w_compact_curvature_interferometer_from")).block_until_ready()
print(json.dumps({"info": aj.backend_info(), "hits": len(hits),
                  "min_size": jax.config.jax_persistent_cache_min_entry_size_bytes,
                  "min_time": jax.config.jax_persistent_cache_min_compile_time_secs}))
"""


def test_compilation_cache_is_written_then_read_by_a_second_process(tmp_path):
    environment = {**os.environ, "AUTOKERN_JAX_CACHE_DIR": str(tmp_path)}

    def probe():
        run = subprocess.run([sys.executable, "-c", _CACHE_PROBE], capture_output=True,
                             text=True, env=environment, timeout=120)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout.strip().splitlines()[-1])

    first = probe()
    assert first["info"]["compilation_cache_dir"] == str(tmp_path)
    assert first["min_size"] == -1 and first["min_time"] == 0
    assert any(tmp_path.iterdir())
    assert probe()["hits"] > 0


def test_enable_compilation_cache_needs_a_path(monkeypatch):
    monkeypatch.delenv("AUTOKERN_JAX_CACHE_DIR", raising=False)
    with pytest.raises(ValueError, match="AUTOKERN_JAX_CACHE_DIR"):
        aj.enable_compilation_cache()


def test_importing_the_backend_changes_no_process_setting_but_x64():
    """x64 is the one process-wide setting of ``import autokern.jax``; dispatch, the thread
    pool and the CPU affinity stay as JAX and the user left them."""
    code = ("import os, jax; before = os.sched_getaffinity(0); "
            "dispatch = jax.config.values['jax_cpu_enable_async_dispatch']; "
            "import autokern.jax as aj; assert os.sched_getaffinity(0) == before; "
            "assert aj.backend_info()['cpu_async_dispatch'] == dispatch; "
            "assert jax.config.jax_enable_x64")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr


def test_the_cpu_route_of_f_and_its_gradient_equal_the_xla_route(tiny):
    # On the CPU the direct w-compact route is the Numba core behind jax.pure_callback, with
    # the Numba adjoint as its custom_vjp; the XLA route (the GPU's) is the independent check.
    w_compact = jnp.asarray(tiny.value("w_compact"))
    native = jnp.asarray(tiny.dataset.native_index_for_slim_index)
    indexes = jnp.asarray(tiny.mesh.pix_indexes_for_sub_slim_index)
    weights = jnp.asarray(tiny.mesh.pix_weights_for_sub_slim_index)
    pixels = tiny.mesh.pixels
    cotangent = jnp.asarray(np.random.default_rng(5).normal(size=(pixels, pixels)))

    def projected(route):
        return lambda w, t: jnp.sum(cotangent * route(w, native, indexes, t, pixels=pixels))

    on_cpu = projected(curvature._curvature_via_compact_on_cpu)
    on_xla = projected(curvature.curvature_via_compact_direct)
    assert abs(float(on_cpu(w_compact, weights)) / float(on_xla(w_compact, weights)) - 1) < 1e-13
    for ours, theirs in zip(jax.grad(on_cpu, argnums=(0, 1))(w_compact, weights),
                            jax.grad(on_xla, argnums=(0, 1))(w_compact, weights), strict=True):
        assert relative_error(ours, theirs) <= 1e-12
    scales = jnp.array([0.5, 2.0])
    batched = jax.vmap(jax.grad(lambda s: on_cpu(w_compact, weights * s)))(scales)
    single = [float(jax.grad(lambda s: on_xla(w_compact, weights * s))(x)) for x in scales]
    assert relative_error(batched, np.array(single)) <= 1e-12


def test_cpu_log_det_of_a_sparse_regularization_is_the_numpy_backends():
    """On the CPU, log det H (sparse: a few neighbours per pixel) goes through the NumPy
    backends' SuperLU route, under jit and vmap too, instead of a dense Cholesky."""
    from autokern._shared.evidence import NUMPY_OPS
    from autokern.data.testing import mock_case
    from autokern.jax import linalg

    mesh = mock_case("small", seed=0).mesh
    regularization = get_kernel("constant_regularization_matrix_from", "jax")(
        1.0, jnp.asarray(mesh.neighbors), jnp.asarray(mesh.neighbors_sizes))
    expected = NUMPY_OPS.log_det_pivots(np.asarray(regularization))
    assert [float(x) for x in jax.jit(linalg.log_det_pivots)(regularization)] == \
        [float(x) for x in expected]
    batched = jax.vmap(linalg.log_det_pivots)(jnp.stack([regularization, 2.0 * regularization]))
    assert float(batched[0][0]) == float(expected[0])
    assert relative_error(np.asarray(batched[0][1]),
                          np.asarray(expected[0] + mesh.pixels * np.log(2.0))) <= 1e-12


def test_traced_cpu_solve_runs_the_numba_cholesky_on_one_blas_thread(monkeypatch):
    """Under a caller's jit and vmap, the CPU factorisation of F + H is the Numba backend's
    blocked Cholesky (a host callback on one of XLA's threads) with BLAS on one thread and
    Numba on autokern's count, not XLA's LAPACK on the caller's BLAS setting; same numbers."""
    import numba
    import threadpoolctl

    import autokern
    from autokern._cpu import cholesky
    from autokern.jax import linalg

    controller = threadpoolctl.ThreadpoolController()
    seen = []
    solve = cholesky.solve_log_det_in_place

    def spy(*args):
        seen.append((min(pool.num_threads
                         for pool in controller.select(user_api="blas").lib_controllers),
                     numba.get_num_threads()))
        return solve(*args)

    monkeypatch.setattr(cholesky, "solve_log_det_in_place", spy)
    rng = np.random.default_rng(5)
    factor = rng.normal(size=(40, 80))
    matrix, rhs = jnp.asarray(factor @ factor.T), jnp.asarray(rng.normal(size=40))
    with autokern.threads(2):
        solution, log_det = jax.jit(linalg.solve_log_det)(matrix, rhs)
        batched = jax.vmap(linalg.solve_log_det, in_axes=(None, 0))(matrix, jnp.stack([rhs] * 2))
    assert seen == [(1, min(2, numba.config.NUMBA_NUM_THREADS))] * 3
    assert relative_error(np.asarray(solution), np.linalg.solve(factor @ factor.T, rhs)) <= 1e-10
    assert relative_error(np.asarray(log_det),
                          np.asarray(np.linalg.slogdet(factor @ factor.T)[1])) <= 1e-12
    assert relative_error(np.asarray(batched[0][1]), np.asarray(solution)) <= 1e-14


def test_concrete_cpu_evidence_runs_lapack_on_one_blas_thread():
    """The shared maths' concrete calls on the CPU run with BLAS on one thread (jaxlib's LAPACK
    is SciPy's OpenBLAS, which fights XLA's pool on more); traced under a caller's jit, the
    caller's setting applies; the setting is restored afterwards."""
    import threadpoolctl

    from autokern.jax.linalg import compile_shared

    controller = threadpoolctl.ThreadpoolController()

    def blas_threads():
        return min(pool.num_threads for pool in controller.select(user_api="blas").lib_controllers)

    def fn(x):
        seen = jax.pure_callback(lambda: np.int64(blas_threads()),
                                 jax.ShapeDtypeStruct((), jnp.int64))
        return x + 1.0, seen

    compiled = compile_shared(fn)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        assert int(compiled(jnp.ones(3))[1]) == 1
        assert int(jax.jit(lambda x: compiled(x)[1])(jnp.ones(3))) == 2  # traced: the caller's
        assert blas_threads() == 2


@pytest.mark.parametrize("count", [1, "all"])
def test_cpu_curvature_callbacks_run_numba_on_autokern_threads(count, tiny, monkeypatch):
    # The callbacks can run on XLA's threads, where Numba's per-thread count is its default
    # (every core) unless autokern sets it there: a one-thread-per-core sampler would
    # oversubscribe.  A Python thread of its own stands in for XLA's.
    import numba

    import autokern
    from autokern._cpu import lattice_curvature

    seen = []
    for name in ("lattice_curvature", "lattice_curvature_cotangents"):
        original = getattr(lattice_curvature, name)

        def spy(*args, _original=original):
            seen.append(numba.get_num_threads())
            return _original(*args)

        monkeypatch.setattr(lattice_curvature, name, spy)
    n = numba.config.NUMBA_NUM_THREADS if count == "all" else count
    kernel = "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from"
    arguments = {key: jnp.asarray(value) if key != "pixels" else value
                 for key, value in tiny.arguments(kernel).items()}

    def total(weights):
        return jnp.sum(getattr(curvature, kernel)(
            **{**arguments, "pix_weights_for_sub_slim_index": weights}) ** 2)

    import threading

    def run():  # on a thread of its own, like XLA's, where Numba is on its default count
        jax.block_until_ready(jax.grad(total)(arguments["pix_weights_for_sub_slim_index"]))

    with autokern.threads(n):
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    assert seen == [n, n]  # the forward F and its adjoint
