"""``autokern bench``: the whole inversion on a mock dataset, on every backend, timed.

For each task (precompute, curvature, likelihood) and backend it records the first-call time
(which includes JIT compilation), then the median and best of steady-state repeats (JAX results
are waited for with ``block_until_ready``), and the largest disagreement with ``original``
(max |a - b| / max |b|).  The same helpers time the pytest-benchmark suite in ``benchmarks/``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from autokern import __version__
from autokern._api.dispatch import get_backend, provides
from autokern.catalogue import BACKEND_NAMES
from autokern.data import testing

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The inversion, step by step: task name → catalogue kernel.
TASKS: dict[str, str] = {
    "dirty_image": "w_tilde_data_interferometer_from",
    "w_compact": "w_compact_curvature_interferometer_from",
    "curvature_matrix": "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "curvature_matrix_direct": "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
    "log_likelihood": "log_likelihood_function_via_w_compact_from",
}


def block(value: Any) -> Any:
    """Wait for an asynchronous (JAX) result; anything else is returned as is."""
    ready = getattr(value, "block_until_ready", None)
    if ready is not None:
        return ready()
    if hasattr(value, "data") and hasattr(value.data, "block_until_ready"):  # BCOO
        value.data.block_until_ready()
    return value


def as_array(value: Any) -> np.ndarray:
    """A kernel result as a float64 NumPy array (BCOO densified; VisibilityTerms, Inversion and
    tuples flattened, None parts of a result left out)."""
    from autokern._shared.inversion import Inversion
    from autokern._shared.visibility_terms import VisibilityTerms

    if isinstance(value, Inversion):
        return np.concatenate([as_array(getattr(value, name)).ravel()
                               for name in Inversion.ARRAYS]).astype(float)
    if isinstance(value, VisibilityTerms):
        return np.concatenate([as_array(value.w_compact).ravel(),
                               as_array(value.dirty_image).ravel(),
                               [value.data_chi_squared, value.noise_normalization,
                                value.n_visibilities]]).astype(float)
    if isinstance(value, tuple):  # (indexes, weights, sizes) of a reduced mapping; a result
        return np.concatenate([as_array(part).ravel() for part in value if part is not None])
    if hasattr(value, "todense"):
        value = value.todense()
    return np.asarray(value, dtype=float)


def relative_difference(actual: Any, expected: Any) -> float:
    """max |actual - expected| / max |expected| (entries near zero make an elementwise relative
    error meaningless for sums of cosines)."""
    a, b = as_array(actual), as_array(expected)
    scale = float(np.max(np.abs(b))) or 1.0
    return float(np.max(np.abs(a - b)) / scale)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = block(fn())
    return time.perf_counter() - start, result


def repeats_for(first_call_s: float, budget_s: float = 2.0, low: int = 3, high: int = 30) -> int:
    """How many steady-state repeats fit in ``budget_s`` (bounded to [low, high])."""
    return int(min(high, max(low, budget_s / max(first_call_s, 1e-6))))


@dataclass
class Row:
    task: str
    kernel: str
    backend: str
    first_call_s: float
    median_s: float
    best_s: float
    repeats: int
    max_rel_diff_vs_original: float | None
    ratio_to_fastest: float = 1.0


def run(preset: str = "small", backends: Iterable[str] = BACKEND_NAMES, seed: int = 0,
        progress: Callable[[str], None] | None = None, budget_s: float = 2.0) -> dict[str, Any]:
    """Time every task on every backend; return the JSON-ready report."""
    case = testing.mock_case(preset, seed=seed)
    rows: list[Row] = []
    backends = list(backends)
    for task, kernel in TASKS.items():
        arguments = case.arguments(kernel)
        reference = None
        for backend in backends:
            if not provides(backend, kernel):
                continue
            if progress:
                progress(f"{task} on {backend}")
            call = partial(getattr(get_backend(backend), kernel), **arguments)
            first, result = timed(call)
            repeats = repeats_for(first, budget_s)
            times = [timed(call)[0] for _ in range(repeats)]
            if backend == "original":
                reference = result
            diff = None if reference is None else relative_difference(result, reference)
            rows.append(Row(task, kernel, backend, first, statistics.median(times), min(times),
                            repeats, diff))
    for task in TASKS:
        task_rows = [r for r in rows if r.task == task]
        fastest = min((r.median_s for r in task_rows), default=1.0)
        for r in task_rows:
            r.ratio_to_fastest = r.median_s / fastest
    scaling_backend = next((b for b in ("numba", "jax", "original") if b in backends), None)
    return {
        "precompute_scaling": precompute_scaling(case, scaling_backend, progress)
        if scaling_backend else [],
        "autokern": __version__,
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "python": platform.python_version(),
        "preset": preset,
        "sizes": _sizes(case),
        "rows": [asdict(r) for r in rows],
    }


def precompute_scaling(case: testing.Case, backend: str,
                       progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """w-compact time against K, direct sums vs NUFFT, at the case's extent (K up to the
    case's own K, visibilities repeated from the case)."""
    from autokern._cpu import nufft

    ds = case.dataset
    fn = get_backend(backend).w_compact_curvature_interferometer_from
    methods = ["direct", "nufft"] if nufft.available() else ["direct"]
    rows = []
    for n in sorted({min(k, len(ds.data)) for k in (100, 1_000, 10_000, 100_000)}):
        uv = np.resize(ds.uv_wavelengths, (n, 2))
        noise = np.resize(ds.noise_map_real, n)
        for method in methods:
            if progress:
                progress(f"w_compact K={n} {method} on {backend}")
            call = partial(fn, ds.shape_masked_pixels_2d, noise, uv, ds.pixel_scale,
                           method=method)
            first, _ = timed(call)
            times = [timed(call)[0] for _ in range(repeats_for(first, 0.5, high=10))]
            rows.append({"backend": backend, "method": method, "K": n,
                         "median_s": statistics.median(times)})
    return rows


def _sizes(case: testing.Case) -> dict[str, int]:
    ny, nx = case.dataset.shape_masked_pixels_2d
    return {"K": len(case.dataset.data), "M": len(case.dataset.native_index_for_slim_index),
            "S": case.mesh.pixels, "Ny": ny, "Nx": nx}


def format_table(report: dict[str, Any]) -> str:
    """The report as fixed-width tables (tasks, then precompute against K)."""
    sizes = ", ".join(f"{k}={v}" for k, v in report["sizes"].items())
    lines = [f"autokern {report['autokern']} bench, preset {report['preset']} ({sizes})",
             f"{'task':<24}{'backend':<10}{'median':>11}{'best':>11}{'first call':>12}"
             f"{'x fastest':>10}{'vs original':>13}"]
    for r in report["rows"]:
        diff = "-" if r["max_rel_diff_vs_original"] is None else \
            f"{r['max_rel_diff_vs_original']:.1e}"
        lines.append(f"{r['task']:<24}{r['backend']:<10}{_ms(r['median_s']):>11}"
                     f"{_ms(r['best_s']):>11}{_ms(r['first_call_s']):>12}"
                     f"{r['ratio_to_fastest']:>10.2f}{diff:>13}")
    scaling = report.get("precompute_scaling", [])
    if scaling:
        lines.append("")
        lines.append(f"w-compact against K ({scaling[0]['backend']}):")
        for r in scaling:
            lines.append(f"  K={r['K']:<8d} {r['method']:<7}{_ms(r['median_s']):>11}")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 10 else f"{seconds:.1f} s"


def worst_disagreement(report: dict[str, Any]) -> float:
    diffs = [r["max_rel_diff_vs_original"] for r in report["rows"]
             if r["max_rel_diff_vs_original"] is not None]
    return max(diffs, default=0.0)


def plot(report: dict[str, Any], path: str | os.PathLike | None = None) -> Figure:
    """The report as a figure: time per call of each task and backend, and w-compact against K.

    Left, per task, one bar per backend: the filled bar is the median steady-state time, the
    black tick (and hatched outline) the first call, compilation included, labelled with its
    time.
    Right, the w-compact precompute against K (direct sums and NUFFT).  A stamp gives the
    autokern version, date, machine and Python.  Saved to ``path`` (PNG by its suffix) when
    given; the figure is returned.
    """
    from autokern.apps.plot import require_matplotlib

    matplotlib = require_matplotlib()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    rows = report["rows"]
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    backends = list(dict.fromkeys(r["backend"] for r in rows))
    colours = {b: f"C{i}" for i, b in enumerate(backends)}
    width = 0.8 / max(len(backends), 1)
    figure = matplotlib.figure.Figure(figsize=(14, 5.4), layout="constrained")
    ax, ax_k = figure.subplots(1, 2, width_ratios=[2.4, 1])
    for i, backend in enumerate(backends):
        mine = {r["task"]: r for r in rows if r["backend"] == backend}
        xs = [t + (i - (len(backends) - 1) / 2) * width for t, task in enumerate(tasks)
              if task in mine]
        chosen = [mine[task] for task in tasks if task in mine]
        first = [r["first_call_s"] * 1e3 for r in chosen]
        ax.bar(xs, first, width * 0.92, facecolor="none", edgecolor=colours[backend],
               hatch="////", linewidth=0.8, alpha=0.6)
        median = [r["median_s"] * 1e3 for r in chosen]
        ax.bar(xs, median, width * 0.92, color=colours[backend])
        # a tick at the first call's height: visible even where it is below the median
        ax.hlines(first, [x - width * 0.46 for x in xs], [x + width * 0.46 for x in xs],
                  color="k", linewidth=1.2)
        for x, value, top in zip(xs, first, median, strict=True):
            ax.annotate(_ms(value / 1e3), (x, max(value, top)), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=6.5,
                        rotation=90, color="0.3")
    ax.set_xticks(range(len(tasks)), tasks, rotation=12)
    ax.set_yscale("log")
    ax.margins(y=0.25)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_ylabel("time per call (ms, log scale)")
    ax.set_title("median time per call (bars); first call, compilation included (ticks)",
                 fontsize=10)
    handles = [Patch(color=colours[b], label=b) for b in backends]
    handles.append((Patch(facecolor="none", edgecolor="0.4", hatch="////"),
                    Line2D([], [], color="k", linewidth=1.2)))
    labels = [*backends, "first call\n(incl. compilation)"]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
              frameon=False)
    for method, marker in (("direct", "o-"), ("nufft", "s--")):
        points = [r for r in report.get("precompute_scaling", []) if r["method"] == method]
        if points:
            ax_k.loglog([r["K"] for r in points], [r["median_s"] * 1e3 for r in points],
                        marker, label=f"{points[0]['backend']} {method}")
    for axis in (ax_k.xaxis, ax_k.yaxis):  # plain numbers at 1, 2, 5 × 10ⁿ
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=30))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())
    ax_k.set_xlabel("visibilities K")
    ax_k.set_ylabel("w-compact median time (ms)")
    ax_k.set_title(f"precompute against K (extent {report['sizes']['Ny']}×"
                   f"{report['sizes']['Nx']})", fontsize=10)
    if ax_k.lines:
        ax_k.legend(fontsize=8)
    sizes = ", ".join(f"{k}={v:,}" for k, v in report["sizes"].items())
    figure.suptitle(f"autokern bench — preset {report['preset']} ({sizes})")
    figure.text(0.995, 0.005, f"autokern {report['autokern']} · {report['date']} · "
                f"{report['machine']} · Python {report['python']}", ha="right", va="bottom",
                fontsize=7, color="0.4")
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure


def write_json(report: dict[str, Any], path: str) -> None:
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
