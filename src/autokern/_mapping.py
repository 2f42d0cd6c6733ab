"""Index maths of the sparse mapping, shared by every backend (NumPy or JAX arrays)."""

from __future__ import annotations

from typing import Any

import numpy as np


def indexes_within_sizes(xp: Any, pix_indexes_for_sub_slim_index: Any,
                         pix_size_for_sub_slim_index: Any) -> Any:
    """The (M, B) indexes with every entry past its row's size set to -1 (adds nothing)."""
    beyond_size = (np.arange(pix_indexes_for_sub_slim_index.shape[1])
                   >= pix_size_for_sub_slim_index[:, None])
    return xp.where(beyond_size, -1, pix_indexes_for_sub_slim_index)
