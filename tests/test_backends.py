"""Every kernel of every compiled backend agrees with the reference backend (SPEC §6).

Parametrised from the catalogue: a kernel or backend added there is covered here with no new
test code.
"""

import pytest

from autokern import get_kernel
from conftest import CASE_NAMES
from helpers import RTOL, backend_kernel_pairs, reference_name, relative_error

PAIRS = backend_kernel_pairs()


@pytest.mark.parametrize("case_name", CASE_NAMES)
@pytest.mark.parametrize("backend, kernel", PAIRS, ids=[f"{b}-{k}" for b, k in PAIRS])
def test_backend_matches_original(backend, kernel, case_name, get_case):
    case = get_case(case_name)
    arguments = case.arguments(kernel)
    expected = get_kernel(reference_name(kernel), "original")(**arguments)
    result = get_kernel(kernel, backend)(**arguments)
    assert relative_error(result, expected) <= RTOL
