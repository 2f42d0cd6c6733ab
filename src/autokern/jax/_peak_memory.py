"""Peak memory of one JAX reduction over visibilities beyond its inputs (Linux).

    python -m autokern.jax._peak_memory w_compact nufft 2000000 100 [--inputs jax]

builds K synthetic visibilities and a square (extent × extent) lattice of pixels, starts JAX's
runtime, then runs the reduction once and prints one JSON line: ``inputs_bytes`` (resident
memory once the inputs exist), ``peak_bytes`` (the peak resident memory during the call, from
``VmHWM`` restarted through /proc/self/clear_refs) and ``overhead_bytes`` (their difference:
work space, compiled programs and any copy of the inputs).  Run it in a fresh process: the
peak says nothing in one that has already run something bigger.  ``--inputs jax`` hands the
kernel JAX arrays (already on the device) instead of NumPy arrays.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

KERNELS = ("w_compact", "dirty_image", "nufft_precision_operator", "visibility_terms")


def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as status:
        return int(status.read().split(key + ":")[1].split()[0]) * 1024


def _restart_peak() -> None:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # VmHWM restarts from the current resident size


def _inputs(n_visibilities: int, extent: int, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    pixel_scale = 0.05
    d = pixel_scale * np.pi / 648000.0
    rows, cols = np.divmod(np.arange(extent * extent), extent)
    y, x = 1e-5 - np.arange(extent) * d, -1e-5 + np.arange(extent) * d
    sigma = rng.uniform(1.0, 2.0, n_visibilities)
    noise_map = sigma * (1.0 + 1.0j)  # equal real and imaginary noise, as W̃ needs
    return {
        "data": rng.normal(size=n_visibilities) + 1j * rng.normal(size=n_visibilities),
        "noise_map": noise_map,
        "noise_map_real": sigma,
        "uv_wavelengths": rng.uniform(-1e5, 1e5, size=(n_visibilities, 2)),
        "grid_radians_slim": np.stack([y[rows], x[cols]], axis=1),
        "grid_radians_2d": np.stack(np.meshgrid(y, x, indexing="ij"), axis=-1),
        "native_index_for_slim_index": np.stack([rows, cols], axis=1),
        "pixel_scale": pixel_scale,
        "extent": (extent, extent),
    }


def _call(kernel: str, method: str, a: dict[str, Any]) -> Any:
    import autokern.jax as aj

    if kernel == "w_compact":
        return aj.w_compact_curvature_interferometer_from(
            a["extent"], a["noise_map_real"], a["uv_wavelengths"], a["pixel_scale"],
            method=method)
    if kernel == "dirty_image":
        return aj.w_tilde_data_interferometer_from(a["data"], a["noise_map"],
                                                   a["uv_wavelengths"], a["grid_radians_slim"],
                                                   method=method)
    if kernel == "nufft_precision_operator":
        return aj.nufft_precision_operator_from(a["noise_map_real"], a["uv_wavelengths"],
                                                a["extent"], a["grid_radians_2d"],
                                                method=method)
    terms = aj.visibility_terms_from(a["data"], a["noise_map"], a["uv_wavelengths"],
                                     a["grid_radians_slim"], a["native_index_for_slim_index"],
                                     a["pixel_scale"], method=method)
    return terms.w_compact


def measure(kernel: str, method: str, n_visibilities: int, extent: int,
            inputs: str = "numpy") -> dict[str, Any]:
    """Run one reduction in this process and report its peak memory above its inputs."""
    import jax
    import jax.numpy as jnp

    import autokern.jax  # noqa: F401  (x64, and the kernels compiled on first use)

    arrays = _inputs(n_visibilities, extent)
    if inputs == "jax":
        arrays = {k: jax.device_put(v) if isinstance(v, np.ndarray) else v
                  for k, v in arrays.items()}
    jnp.zeros(1).block_until_ready()  # the runtime (client, thread pools) is up
    base = _status_bytes("VmRSS")
    _restart_peak()
    start = time.perf_counter()
    np.asarray(_call(kernel, method, arrays))
    seconds = time.perf_counter() - start
    peak = _status_bytes("VmHWM")
    return {"kernel": kernel, "method": method, "inputs": inputs, "K": n_visibilities,
            "extent": extent, "inputs_bytes": base, "peak_bytes": peak,
            "overhead_bytes": peak - base, "seconds": seconds,
            "devices": len(jax.devices())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kernel", choices=KERNELS)
    parser.add_argument("method", choices=("direct", "nufft"))
    parser.add_argument("visibilities", type=float, help="K")
    parser.add_argument("extent", type=int, help="Ny = Nx")
    parser.add_argument("--inputs", choices=("numpy", "jax"), default="numpy")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.kernel, args.method, int(args.visibilities), args.extent,
                             args.inputs)))


if __name__ == "__main__":
    main()
