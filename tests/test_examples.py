"""Every script in examples/ runs, at small sizes, so that none of them can rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: the command-line arguments that make each example small enough for CI
SMALL_ARGUMENTS: dict[str, list[str]] = {
    "choose_backend.py": ["--preset", "tiny"],
    "jax_grad_vmap.py": ["--preset", "tiny", "--steps", "5"],
}


def test_every_example_is_run_here():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(SMALL_ARGUMENTS)


@pytest.mark.parametrize("name", sorted(SMALL_ARGUMENTS))
def test_example_runs(name, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    completed = subprocess.run([sys.executable, str(EXAMPLES / name), *SMALL_ARGUMENTS[name]],
                               cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
