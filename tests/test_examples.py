"""Every script in examples/ runs, at small sizes, so that none of them can rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autokern.data import testing

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: (script, arguments that make it small enough for CI); "{sma}" is the SMA FITS directory
SMALL_RUNS: list[tuple[str, list[str]]] = [
    ("choose_backend.py", ["--preset", "tiny"]),
    ("jax_grad_vmap.py", ["--preset", "tiny", "--steps", "5"]),
    ("sma_quickstart.py", ["{sma}/data.fits", "{sma}/noise_map.fits",
                           "{sma}/uv_wavelengths.fits", "--out", "sma.png"]),
    ("stream_mock_alma.py", ["--preset", "small", "--visibilities", "5000", "--chunk-size",
                             "2000", "--source-pixels", "100"]),
    ("measurement_set.py", ["--preset", "tiny", "--chunk-rows", "64"]),
    ("measurement_set.py", ["--preset", "tiny", "--chunk-rows", "64", "--dask-workers", "2"]),
]


def test_every_example_is_run_here():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted({n for n, _ in SMALL_RUNS})


@pytest.mark.parametrize(("name", "arguments"), SMALL_RUNS,
                         ids=[" ".join([n, *a[:4]]) for n, a in SMALL_RUNS])
def test_example_runs(name, arguments, tmp_path):
    sma = str(testing.default_data_dir() / "sma")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    command = [sys.executable, str(EXAMPLES / name), *(a.format(sma=sma) for a in arguments)]
    completed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    if name == "sma_quickstart.py":
        assert written == ["sma.png", "sma_dirty.png"]


def _readme_block(heading: str) -> str:
    text = (EXAMPLES.parent / "README.md").read_text()
    section = text.split(f"\n## {heading}\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_quick_start_runs(tmp_path):
    code = _readme_block("Quick start").replace(
        "../shared/data", str(testing.default_data_dir()))
    completed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                               text=True, timeout=600, env={**os.environ, "MPLBACKEND": "Agg"})
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert float(completed.stdout.split()[-1]) == pytest.approx(-23046.43, abs=0.01)
    assert (tmp_path / "reconstruction.png").stat().st_size > 10_000
