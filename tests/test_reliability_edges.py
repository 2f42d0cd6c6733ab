"""Reliability round 3 (issue 24), the public edge: inputs refused by name.

Item 2 (circular masks' radius).
"""

from __future__ import annotations

import numpy as np
import pytest

from autokern import get_kernel, grids
from autokern.catalogue import BACKEND_NAMES
from autokern.errors import InputValueError

# --- item 2: a circular mask's radius --------------------------------------------------------

@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("radius", [-0.25, -1.0, np.nan, np.inf])
def test_a_circular_mask_refuses_a_radius_the_kernel_refuses(radius, backend):
    """−0.25 used to give the +0.25 mask, −1, NaN and inf every pixel unmasked; the grids
    helpers now refuse what the kernel of the same name refuses, with its message."""
    with pytest.raises(InputValueError, match="radius") as kernel_error:
        get_kernel("mask_2d_circular_from", backend)((12, 12), (0.1, 0.1), radius, (0.0, 0.0))
    with pytest.raises(InputValueError, match="radius") as helper_error:
        grids.mask_2d_circular_from((12, 12), 0.1, radius)
    assert str(helper_error.value) == str(kernel_error.value)
    with pytest.raises(InputValueError, match="radius"):
        grids.MaskedGrid.circular((12, 12), 0.1, radius)


def test_a_circular_mask_of_a_valid_radius_is_unchanged():
    kernel = get_kernel("mask_2d_circular_from", "original")
    for radius in (0.0, 0.25, 0.4, 5.0):
        expected = kernel((12, 14), (0.1, 0.1), radius, (0.05, -0.1))
        np.testing.assert_array_equal(
            grids.mask_2d_circular_from((12, 14), (0.1, 0.1), radius, centre=(0.05, -0.1)),
            expected)
