"""Survey-scale visibilities: a K-visibility Measurement Set streamed into the visibility terms.

Writes a synthetic MS block by block (Earth-rotation tracks of an ALMA-like array, two parallel
hands, several channels and spectral windows, row and channel flags, WEIGHT per row), then
streams it with :func:`autokern.io.measurement_set_chunks` into
:func:`autokern.terms.visibility_terms_from_chunks` (``method="nufft"``, Numba backend) on a
circular mask whose unmasked pixels span ``--extent`` × ``--extent``::

    python benchmarks/survey_scale.py              # K = 10⁸ (~1.9 GB of MS under /tmp)
    python benchmarks/survey_scale.py --k 1e7

Prints one JSON object: the write time; the read alone (chunks read and discarded) and the
read folded into the terms, each in a fresh Python process with its wall time and peak RSS
(``resource.getrusage`` maxrss of that process; the fold's one-off warm-up is reported
apart).  The MS is read just after being written, so it comes from the page cache: a cold
disk adds its read time.  The issue's aim at K = 10⁸ on the 2-core machine: < 60 s, < 2 GB.
Not collected by pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

C_LIGHT = 299_792_458.0
DECLINATION = np.deg2rad(-30.0)
#: rows of one spectral window per block written (one block is in memory at a time)
BLOCK_ROWS = 20_000


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=float, default=1e8, help="visibilities (rows × channels)")
    parser.add_argument("--channels", type=int, default=50, help="channels per window")
    parser.add_argument("--windows", type=int, default=2, help="spectral windows")
    parser.add_argument("--antennas", type=int, default=43)
    parser.add_argument("--extent", type=int, default=280, help="unmasked extent, pixels")
    parser.add_argument("--pixel-scale", type=float, default=0.025, help="arcsec")
    parser.add_argument("--max-uv", type=float, default=4.0e6, help="longest |u|, |v| (λ)")
    parser.add_argument("--chunk-rows", type=int, default=None,
                        help="rows per chunk (default: autokern.io's memory budget)")
    parser.add_argument("--threads", type=int, default=None, help="autokern.set_num_threads")
    parser.add_argument("--weight-spectrum", action="store_true",
                        help="also write WEIGHT_SPECTRUM (+2 bytes per visibility on disk)")
    parser.add_argument("--dir", default=None, help="where to write (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the MS afterwards")
    parser.add_argument("--ms", default=None, help="measure an existing MS (no writing)")
    parser.add_argument("--dask-workers", type=int, default=0,
                        help="also fold the MS on a Dask LocalCluster of this many one-thread "
                             "workers (one task per row range; 0: not)")
    parser.add_argument("--stage", choices=("read", "terms", "cluster"), default=None,
                        help=argparse.SUPPRESS)  # one measurement, in a child process
    return parser.parse_args(argv)


def _windows(args: argparse.Namespace) -> list[np.ndarray]:
    """Band-6-like windows 2 GHz apart, 15.625 MHz channels."""
    return [230e9 + 2e9 * w + 15.625e6 * np.arange(args.channels) for w in range(args.windows)]


def _tracks(args: argparse.Namespace, steps: int) -> np.ndarray:
    """(steps, baselines, 3) uvw in metres of Earth-rotation tracks over ±4 h, scaled so that
    max |u|, |v| at the highest frequency is ``--max-uv`` wavelengths."""
    rng = np.random.default_rng(7)
    positions = rng.normal(size=(args.antennas, 3)) * np.array([1.0, 1.0, 0.1])
    first, second = np.triu_indices(args.antennas, k=1)
    bx, by, bz = (positions[second] - positions[first]).T
    hour = np.linspace(-np.pi / 3, np.pi / 3, steps)[:, None]
    sin_h, cos_h, sin_d, cos_d = np.sin(hour), np.cos(hour), np.sin(DECLINATION), \
        np.cos(DECLINATION)
    u = sin_h * bx + cos_h * by
    v = -sin_d * cos_h * bx + sin_d * sin_h * by + cos_d * bz
    w = cos_d * cos_h * bx - cos_d * sin_h * by + sin_d * bz
    uvw = np.stack([u, v, w], axis=-1)
    top = max(f[-1] for f in _windows(args))
    return uvw * (args.max_uv * C_LIGHT / top / np.abs(uvw[..., :2]).max())


def _blocks(args: argparse.Namespace, rows: int):
    """Row blocks: per time step, every baseline of each window in turn."""
    from autokern.io import RowBlock

    windows = _windows(args)
    baselines = args.antennas * (args.antennas - 1) // 2
    steps = -(-rows // (baselines * len(windows)))
    tracks = _tracks(args, steps)
    first, second = np.triu_indices(args.antennas, k=1)
    rng = np.random.default_rng(11)
    steps_per_block = max(1, BLOCK_ROWS // baselines)
    width = 0.3 * args.extent / 2 * args.pixel_scale * np.pi / 648000
    offset = 0.2 * args.extent / 2 * args.pixel_scale * np.pi / 648000
    written = 0
    for step in range(0, steps, steps_per_block):
        uvw = tracks[step:step + steps_per_block].reshape(-1, 3)
        antenna1 = np.tile(first, len(uvw) // baselines)
        antenna2 = np.tile(second, len(uvw) // baselines)
        time_s = 58_849.0 * 86_400.0 + 10.0 * np.repeat(
            np.arange(step, step + len(uvw) // baselines), baselines)
        for window, frequencies in enumerate(windows):
            n = min(len(uvw), rows - written)
            if n <= 0:
                return
            scale = frequencies / C_LIGHT
            u, v = uvw[:n, 0, None] * scale, uvw[:n, 1, None] * scale
            model = 0.02 * np.exp(-2.0 * (np.pi * width) ** 2 * (u**2 + v**2)) * \
                np.exp(-2j * np.pi * offset * (u - v))
            sigma = rng.uniform(0.5, 1.5, size=(n, 1)) * 0.05  # per row, both hands
            shape = (n, len(frequencies), 2)
            noise = rng.standard_normal(shape, dtype=np.float32) + \
                1j * rng.standard_normal(shape, dtype=np.float32)
            data = (model[..., None] + sigma[..., None] * noise).astype(np.complex64)
            flag = np.zeros(shape, dtype=bool)
            flag[:, [0, -1], :] = True  # edge channels
            flag[::97, len(frequencies) // 2, 0] = True  # one hand only: dropped too
            weight = np.repeat(1.0 / sigma**2, 2, axis=1)
            yield RowBlock(uvw[:n], data, window, weight=weight, flag=flag,
                           flag_row=rng.random(n) < 0.02, antenna1=antenna1[:n],
                           antenna2=antenna2[:n], time=time_s[:n])
            written += n


def _write(args: argparse.Namespace, path: Path) -> dict:
    from autokern.io import write_measurement_set

    rows = -(-int(args.k) // args.channels)
    start = time.perf_counter()
    write_measurement_set(path, _blocks(args, rows), spectral_windows=_windows(args),
                          weight_spectrum=args.weight_spectrum, overwrite=True)
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return {"rows": rows, "k_written": rows * args.channels, "write_s": round(seconds, 2),
            "ms_gb": round(size / 1e9, 3)}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def _grid(args: argparse.Namespace):
    from autokern.data.datasets import Interferometer, MaskSpec

    radius = args.extent // 2
    mask = MaskSpec((2 * radius + 4, 2 * radius + 4), args.pixel_scale,
                    radius * args.pixel_scale)
    one = np.ones(1)
    return Interferometer(one + 0j, one + 1j, np.zeros((1, 2)), mask)


def _stage(args: argparse.Namespace) -> dict:
    """One measurement in this (fresh) process."""
    import autokern
    from autokern.io import measurement_set_chunks

    if args.threads:
        autokern.set_num_threads(args.threads)
    chunks = measurement_set_chunks(args.ms, chunk_rows=args.chunk_rows)
    if args.stage == "read":
        start, k, count = time.perf_counter(), 0, 0
        for data, _, _ in chunks:
            k, count = k + len(data), count + 1
        return {"wall_s": round(time.perf_counter() - start, 2), "k_read": k, "chunks": count,
                "peak_rss_gb": round(_peak_rss_mb() / 1024, 3)}
    from autokern import get_kernel
    from autokern.terms import visibility_terms_from_chunks

    grid = _grid(args)
    index, slim, scale = grid.native_index_for_slim_index, grid.grid_radians_slim, \
        grid.pixel_scale
    if args.stage == "cluster":
        return _on_cluster(args, slim, index, scale)
    start = time.perf_counter()  # compilation and first-call set-up, on a few visibilities
    rng = np.random.default_rng(0)
    few = rng.normal(size=(64, 2)) * args.max_uv / 2
    get_kernel("visibility_terms_from", "numba")(np.ones(64) + 0j, np.ones(64) * (1 + 1j), few,
                                                 slim, index, scale, method="nufft")
    warm_up = time.perf_counter() - start
    start = time.perf_counter()
    terms = visibility_terms_from_chunks(chunks, slim, index, scale, backend="numba",
                                         progress=False, method="nufft")
    return {"wall_s": round(time.perf_counter() - start, 2), "warm_up_s": round(warm_up, 2),
            "k_read": int(terms.n_visibilities), "M": len(index),
            "extent": list(grid.shape_masked_pixels_2d),
            "data_chi_squared": terms.data_chi_squared,
            "peak_rss_gb": round(_peak_rss_mb() / 1024, 3)}


def _on_cluster(args: argparse.Namespace, slim: np.ndarray, index: np.ndarray,
                scale: float) -> dict:
    """The same fold as one task per row range on a fresh LocalCluster (autokern.dask)."""
    from functools import partial

    from autokern.io import measurement_set_parts, read_measurement_set_part
    from autokern.io.dask import delayed_chunks, run_on_local_cluster

    parts = measurement_set_parts(args.ms, chunk_rows=args.chunk_rows)
    run = run_on_local_cluster(delayed_chunks(partial(read_measurement_set_part), parts), slim,
                               index, scale, n_workers=args.dask_workers, method="nufft")
    return {**run.summary(), "client_peak_rss_gb": round(_peak_rss_mb() / 1024, 3),
            "data_chi_squared": run.terms.data_chi_squared}


def _measure(args: argparse.Namespace, path: Path, stage: str) -> dict:
    command = [sys.executable, __file__, "--stage", stage, "--ms", str(path),
               "--extent", str(args.extent), "--pixel-scale", str(args.pixel_scale),
               "--max-uv", str(args.max_uv)]
    for flag, value in (("--chunk-rows", args.chunk_rows), ("--threads", args.threads),
                        ("--dask-workers", args.dask_workers)):
        if value:
            command += [flag, str(value)]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode:
        raise SystemExit(f"survey_scale: the {stage} stage failed:\n{run.stderr}")
    return json.loads(run.stdout)


def main(argv: list[str] | None = None) -> dict:
    args = _arguments(argv)
    if args.stage:
        result = _stage(args)
        print(json.dumps(result))
        return result
    folder = Path(args.dir or tempfile.mkdtemp(prefix="autokern_survey_", dir="/tmp"))
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(args.ms) if args.ms else folder / f"survey_k{int(args.k)}.ms"
    try:
        written = {} if args.ms else _write(args, path)
        result = {"k_requested": int(args.k), **written, "channels": args.channels,
                  "spectral_windows": args.windows, "correlations": "XX YY",
                  "method": "nufft", "backend": "numba", "threads": args.threads,
                  "chunk_rows": args.chunk_rows, "cpus": os.cpu_count(),
                  "read_only": _measure(args, path, "read"),
                  "read_and_terms": _measure(args, path, "terms")}
        if args.dask_workers:
            result["dask_local_cluster"] = _measure(args, path, "cluster")
    finally:
        if not args.keep and not args.ms:
            shutil.rmtree(path, ignore_errors=True)
            if not args.dir:
                shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
