"""The ``autokern`` command: ``autokern info`` (versions, devices, settings) and
``autokern bench`` (the whole inversion on a mock dataset, on every backend, timed)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import textwrap
from importlib import metadata
from typing import Any

from autokern import __version__
from autokern._api.dispatch import DEFAULT_JIT, provides
from autokern._runtime import memory, routes
from autokern.catalogue import BACKEND_NAMES, KERNELS, kernels_for

#: optional packages, by distribution name, and what each is for
OPTIONAL_PACKAGES: dict[str, str] = {
    "ducc0": "NUFFT on the CPU backends; extra: nufft",
    "jax-finufft": "NUFFT on the JAX backend; extra: nufft",
    "astropy": "FITS files; extra: fits",
    "matplotlib": "figures (autokern.plot, bench --plot); extra: plot",
    "python-casacore": "Measurement Sets; extra: ms",
    "dask": "reductions on a Dask cluster; extra: ms",
}


def _numba_info() -> dict[str, Any]:
    import numba

    get_backend_kernels = [k.name for k in kernels_for("numba") if provides("numba", k.name)]
    return {
        "version": numba.__version__,
        "threads": numba.config.NUMBA_NUM_THREADS,
        "threading_layer": numba.config.THREADING_LAYER,
        "cache_dir": numba.config.CACHE_DIR or "beside the sources (__pycache__)",
        "kernels": len(get_backend_kernels),
    }


def _jax_info() -> dict[str, Any]:
    import autokern.jax as kern

    info = dict(kern.backend_info()) if hasattr(kern, "backend_info") else {}
    info["kernels"] = sum(provides("jax", k.name) for k in kernels_for("jax"))
    return info


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _nufft_info() -> dict[str, str]:
    """Whether ``method="auto"`` can pick the NUFFT on each backend, and by which library."""
    from autokern._cpu import nufft as _nufft

    try:
        from autokern.jax import nufft as jax_nufft

        jax_available = jax_nufft.available()
    except ImportError:  # JAX itself is missing
        jax_available = False
    rule = (f'method="auto" uses it where Ny·Nx >= {routes.NUFFT_MIN_LAGS} and '
            f"K·Ny·Nx >= {routes.NUFFT_WORK_THRESHOLD:.0e}")
    report = {"rule": rule}
    for backend in BACKEND_NAMES:
        library, available = (("jax-finufft", jax_available) if backend == "jax" else
                              ("ducc0", _nufft.available()))
        report[backend] = (f"yes ({library} {_version(library)})" if available else
                           f'no: {library} is missing (pip install "autokern[nufft]"); '
                           "direct sums only")
    return report


def info() -> dict[str, Any]:
    """Versions, devices, precision, threads and cache settings of every backend, the
    optional packages and whether each backend's ``method="auto"`` can use the NUFFT."""
    import numpy
    import scipy

    report: dict[str, Any] = {
        "autokern": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "default_backend (DEFAULT_JIT)": DEFAULT_JIT,
        "memory_budget_gb": round(memory.budget_bytes() / 1e9, 2),
        "chunk_budget_mb (chunk_size='auto')": memory.chunk_budget_bytes() >> 20,
        "catalogue_kernels": len(KERNELS),
        "original": {"numpy": numpy.__version__, "scipy": scipy.__version__,
                     "dtype": "float64",
                     "kernels": sum(provides("original", k.name)
                                    for k in kernels_for("original"))},
    }
    for name, probe in (("numba", _numba_info), ("jax", _jax_info)):
        try:
            report[name] = probe()
        except ImportError as error:
            report[name] = {"error": str(error)}
    report["optional packages"] = {name: f"{_version(name)} — {purpose}"
                                   for name, purpose in OPTIONAL_PACKAGES.items()}
    report["nufft"] = _nufft_info()
    return report


def _print_info(report: dict[str, Any]) -> None:
    for key, value in report.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{key}: {value}")


def _bench(args: argparse.Namespace) -> int:
    from autokern.apps import bench

    def progress(step: str) -> None:
        print(f"  … {step}", file=sys.stderr, flush=True)

    report = bench.run(args.preset, args.backends, seed=args.seed, progress=progress,
                       budget_s=args.budget)
    print(bench.format_table(report))
    worst = bench.worst_disagreement(report)
    agree = worst <= 1e-10
    print(f"backends agree with original to {worst:.1e} (max |a-b|/max|b|): "
          f"{'OK' if agree else 'DISAGREE'}")
    if args.json:
        bench.write_json(report, args.json)
        print(f"wrote {args.json}")
    if args.plot:
        bench.plot(report, args.plot)
        print(f"wrote {args.plot}")
    return 0 if agree else 1


def _presets_help() -> str:
    """The bench presets and their sizes, read off :data:`autokern.datasets.PRESETS`."""
    from autokern.data import datasets

    lines = ["presets (K visibilities, M unmasked pixels, S source pixels, extent Ny×Nx):"]
    for name, preset in datasets.PRESETS.items():
        sizes = preset.sizes()
        science = "  science geometry" if name in datasets.SCIENCE_PRESETS else ""
        lines.append(f"  {name:<11} K={sizes['K']:>9,}  M={sizes['M']:>6,}  S={sizes['S']:>5,}  "
                     f"extent {sizes['Ny']}×{sizes['Nx']}, {preset.pixel_scale}\" pixels"
                     f"{science}")
    lines.append("alma35 and almahigh35 are large (K = 10⁶ and 5·10⁶): time them on the "
                 "backends you use, e.g. --backends numba jax.")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    """The ``autokern`` argument parser."""
    from autokern.apps import bench
    from autokern.data import datasets

    top = argparse.ArgumentParser(
        prog="autokern", description="autokern: numerical kernels for radio-interferometric "
        "lens modelling. 'autokern info' reports versions, devices and settings; "
        "'autokern bench' times the inversion on every backend.")
    top.add_argument("--version", action="version", version=f"autokern {__version__}")
    sub = top.add_subparsers(dest="command", required=True)
    info_parser = sub.add_parser(
        "info", help="versions, devices, precision, threads, caches, optional packages",
        description="Versions, devices, precision (float64), threads and compile-cache "
                    "settings of every backend; the optional packages and whether "
                    'method="auto" can use the NUFFT on each backend.')
    info_parser.add_argument("--json", action="store_true", help="print JSON")
    bench_parser = sub.add_parser(
        "bench", help="time the whole inversion on every backend",
        description=textwrap.fill(
            f"Time each step of the inversion ({', '.join(bench.TASKS)}) on a seeded mock "
            "dataset, on every backend: the first call (compilation included), then the "
            "median and best of repeats; and the w-compact precompute against K. Check the "
            "backends agree with original and print a table; the exit status is 1 where they "
            "disagree by more than 1e-10.", width=88),
        epilog=_presets_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_parser.add_argument("--preset", default="small", choices=list(datasets.PRESETS),
                              help="mock dataset size (listed below; default: small)")
    bench_parser.add_argument("--backends", nargs="+", default=list(BACKEND_NAMES),
                              choices=list(BACKEND_NAMES), metavar="BACKEND",
                              help=f"backends to time, of {', '.join(BACKEND_NAMES)} "
                                   "(default: all)")
    bench_parser.add_argument("--seed", type=int, default=0,
                              help="seed of the mock dataset (default: 0)")
    bench_parser.add_argument("--budget", type=float, default=2.0, metavar="SECONDS",
                              help="seconds of steady-state repeats per task and backend "
                                   "(3 to 30 repeats; default: 2)")
    bench_parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    bench_parser.add_argument("--plot", metavar="FILE",
                              help="also draw the report (PNG, needs matplotlib: "
                                   'pip install "autokern[plot]")')
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "info":
        report = info()
        if args.json:
            print(json.dumps(report, indent=2, default=str))
        else:
            _print_info(report)
        return 0
    return _bench(args)


if __name__ == "__main__":
    sys.exit(main())
