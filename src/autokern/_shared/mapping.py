"""Index maths of the sparse mapping, shared by every backend (NumPy or JAX arrays)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autokern.errors import InputValueError


def indexes_within_sizes(xp: Any, pix_indexes_for_sub_slim_index: Any,
                         pix_sizes_for_sub_slim_index: Any) -> Any:
    """The (M, B) indexes with every entry past its row's size set to -1 (adds nothing)."""
    beyond_size = (np.arange(pix_indexes_for_sub_slim_index.shape[1])
                   >= pix_sizes_for_sub_slim_index[:, None])
    return xp.where(beyond_size, -1, pix_indexes_for_sub_slim_index)


def output_width(kernel: str, sizes: np.ndarray, max_per_pixel: int | None) -> int:
    """B' of a reduced mapping: ``max_per_pixel`` when given (an error when a row needs more),
    else the largest row ``sizes``."""
    needed = int(sizes.max(initial=0))
    if max_per_pixel is None:
        return needed
    if max_per_pixel < needed:
        raise InputValueError(f"{kernel}: max_per_pixel = {max_per_pixel} is less than the "
                              f"{needed} distinct source pixels of the fullest image pixel")
    return max_per_pixel


def pad_columns(indexes: np.ndarray, weights: np.ndarray, width: int) -> tuple:
    """(M, W) indexes (−1 padded) and weights (0 padded) cut or padded to ``width`` columns."""
    extra = width - indexes.shape[1]
    if extra <= 0:
        return indexes[:, :width], weights[:, :width]
    return (np.pad(indexes, ((0, 0), (0, extra)), constant_values=-1),
            np.pad(weights, ((0, 0), (0, extra))))
