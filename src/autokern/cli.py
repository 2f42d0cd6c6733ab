"""The ``autokern`` command: ``autokern info`` and ``autokern bench``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from typing import Any

from autokern import __version__, _memory
from autokern._dispatch import DEFAULT_JIT, provides
from autokern.catalogue import BACKEND_NAMES, KERNELS, kernels_for


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


def info() -> dict[str, Any]:
    """Versions, devices, precision, threads and cache settings of every backend."""
    import numpy
    import scipy

    report: dict[str, Any] = {
        "autokern": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "default_backend (DEFAULT_JIT)": DEFAULT_JIT,
        "memory_budget_gb": round(_memory.budget_bytes() / 1e9, 2),
        "chunk_budget_mb (chunk_size='auto')": _memory.chunk_budget_bytes() >> 20,
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
    from autokern import bench

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autokern", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    info_parser = sub.add_parser("info", help="versions, devices, precision, threads, caches")
    info_parser.add_argument("--json", action="store_true", help="print JSON")
    bench_parser = sub.add_parser("bench", help="time the whole inversion on every backend")
    bench_parser.add_argument("--preset", default="small",
                              choices=["tiny", "small", "medium", "large"])
    bench_parser.add_argument("--backends", nargs="+", default=list(BACKEND_NAMES),
                              choices=list(BACKEND_NAMES))
    bench_parser.add_argument("--seed", type=int, default=0)
    bench_parser.add_argument("--budget", type=float, default=2.0,
                              help="seconds of steady-state repeats per task and backend")
    bench_parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    bench_parser.add_argument("--plot", metavar="FILE", help="also draw a PNG (matplotlib)")
    args = parser.parse_args(argv)
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
