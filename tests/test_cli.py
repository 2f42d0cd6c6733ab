"""The ``autokern`` command line: info and bench."""

import json
import subprocess
import sys

from autokern import bench, cli
from autokern.catalogue import BACKEND_NAMES


def test_info_reports_every_backend_and_x64(capsys):
    assert cli.main(["info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("autokern", "default_backend (DEFAULT_JIT)", "memory_budget_gb", *BACKEND_NAMES):
        assert key in report
    assert report["original"]["dtype"] == "float64"
    assert report["numba"]["threads"] >= 1


def test_info_runs_as_a_console_command():
    run = subprocess.run([sys.executable, "-m", "autokern.cli", "info"], capture_output=True,
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
