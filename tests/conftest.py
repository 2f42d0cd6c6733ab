"""Cases shared by the tests: the dev reference (real SMA data) and small mock presets.

On CI (``CI=true``) a missing ``../shared/data`` is an error, not a skip.
"""

from __future__ import annotations

import os

import pytest

from autokern.data import testing

MOCK_PRESETS = ("tiny", "small")
CASE_NAMES = ("dev", *MOCK_PRESETS)


@pytest.fixture(scope="session")
def data_dir():
    found = testing.default_data_dir()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("../shared/data is missing on CI")
        pytest.skip("../shared/data not found (set AUTOKERN_DATA_DIR)")
    return found


_CASES: dict[str, testing.Case] = {}


@pytest.fixture(scope="session")
def get_case(data_dir):
    def get(name: str) -> testing.Case:
        if name not in _CASES:
            _CASES[name] = (testing.load_dev_reference(data_dir) if name == "dev"
                            else testing.mock_case(name, seed=1))
        return _CASES[name]

    return get


@pytest.fixture(scope="session")
def dev_case(get_case):
    return get_case("dev")
