"""The ``autokern`` command line: info and bench."""

import importlib.util
import json
import re
import subprocess
import sys

import pytest

from autokern import __version__
from autokern.apps import bench, cli
from autokern.catalogue import BACKEND_NAMES
from autokern.data import datasets


def test_info_reports_every_backend_and_x64(capsys):
    assert cli.main(["info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("autokern", "default_backend (DEFAULT_JIT)", "memory_budget_gb", *BACKEND_NAMES):
        assert key in report
    assert report["original"]["dtype"] == "float64"
    assert report["numba"]["threads"] >= 1


def test_info_runs_as_a_console_command():
    run = subprocess.run([sys.executable, "-m", "autokern.apps.cli", "info"], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "default_backend (DEFAULT_JIT)" in run.stdout


def test_bench_writes_a_table_json_and_plot(tmp_path, capsys):
    json_path, png_path = tmp_path / "bench.json", tmp_path / "bench.png"
    code = cli.main(["bench", "--preset", "tiny", "--budget", "0.05", "--json", str(json_path),
                     "--plot", str(png_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    report = json.loads(json_path.read_text())
    assert {r["task"] for r in report["rows"]} == set(bench.TASKS)
    assert {r["backend"] for r in report["rows"]} >= {"original"}
    assert "agree with original" in out and "OK" in out
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"autokern {__version__}"


def test_info_lists_the_optional_packages_and_the_nufft(capsys, monkeypatch):
    from autokern._cpu import nufft as _nufft

    assert cli.main(["info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    optional = report["optional packages"]
    assert set(optional) == {"ducc0", "jax-finufft", "astropy", "matplotlib", "python-casacore",
                             "dask"}
    for name, line in optional.items():
        installed = importlib.util.find_spec(name.replace("-", "_").replace("python_", ""))
        assert line.startswith("not installed") != (installed is not None), (name, line)
    assert set(report["nufft"]) == {"rule", *BACKEND_NAMES}
    monkeypatch.setattr(_nufft, "available", lambda: False)
    nufft = cli.info()["nufft"]
    assert nufft["numba"].startswith("no: ducc0 is missing") and "autokern[nufft]" in \
        nufft["original"]


def test_bench_help_documents_every_option_and_preset(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    text = capsys.readouterr().out
    for option in ("--preset", "--backends", "--seed", "--budget", "--json", "--plot"):
        assert option in text
    for name, preset in datasets.PRESETS.items():
        sizes = preset.sizes()
        line = next(row for row in text.splitlines() if row.strip().startswith(name + " "))
        for key in ("K", "M", "S"):
            assert re.search(rf"{key}=\s*{sizes[key]:,}\b", line), (name, key, line)
        assert f"extent {sizes['Ny']}×{sizes['Nx']}" in line
    for name in datasets.SCIENCE_PRESETS:  # bench.run takes any preset
        assert cli.parser().parse_args(["bench", "--preset", name]).preset == name


def _report() -> dict:
    rows = [{"task": task, "kernel": kernel, "backend": backend, "first_call_s": first,
             "median_s": median, "best_s": median, "repeats": 3,
             "max_rel_diff_vs_original": 0.0, "ratio_to_fastest": 1.0}
            for task, kernel in bench.TASKS.items()
            for backend, first, median in (("original", 2e-3, 1e-3), ("numba", 0.4, 2e-4),
                                           ("jax", 0.9, 5e-4))]
    return {"autokern": __version__, "date": "2026-01-02", "machine": "x86_64, cpu",
            "python": "3.12.0", "preset": "tiny",
            "sizes": {"K": 200, "M": 112, "S": 48, "Ny": 12, "Nx": 12}, "rows": rows,
            "precompute_scaling": [{"backend": "numba", "method": m, "K": k, "median_s": t}
                                   for m, scale in (("direct", 1e-6), ("nufft", 1e-5))
                                   for k in (100, 1000) for t in [scale * k]]}


def test_bench_plot_stamps_and_shows_first_calls(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "bench.png"
    figure = bench.plot(_report(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax, ax_k = figure.axes
    stamp = " ".join(t.get_text() for t in figure.texts)
    assert f"autokern {__version__}" in stamp and "2026-01-02" in stamp
    # the legend sits outside the bars, to the right of the axes
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1 - 1
    assert [t.get_text() for t in legend.get_texts()][:3] == ["original", "numba", "jax"]
    # every first call is drawn (a tick) and labelled with its time
    labels = [t.get_text() for t in ax.texts]
    assert len(labels) == 3 * len(bench.TASKS) and "400.00 ms" in labels
    assert [line.get_label() for line in ax_k.lines] == ["numba direct", "numba nufft"]
