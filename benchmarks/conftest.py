"""Benchmark options: the preset (``--preset`` or ``AUTOKERN_BENCH_PRESET``, default small)."""

import os

import pytest

from autokern.data import datasets, testing


def pytest_addoption(parser):
    parser.addoption("--preset", default=os.environ.get("AUTOKERN_BENCH_PRESET", "small"),
                     choices=list(datasets.PRESETS), help="mock dataset size to time")


@pytest.fixture(scope="session")
def preset(request):
    return request.config.getoption("--preset")


_CASES: dict[str, testing.Case] = {}


@pytest.fixture(scope="session")
def case(preset):
    if preset not in _CASES:
        _CASES[preset] = testing.mock_case(preset, seed=0)
    return _CASES[preset]
