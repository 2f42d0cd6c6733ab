"""W̃ applied to images on the mask (reference): W̃ gathered from w-compact a block of rows at a
time and multiplied, so memory is a block of W̃ rows, never M × M."""

import numpy as np

from autokern._runtime import memory
from autokern._shared.lattice import compact_index


def w_tilde_image_from(w_compact, native_index_for_slim_index, image):
    columns = image.reshape(image.shape[0], -1)
    out = np.empty_like(columns)
    m = len(native_index_for_slim_index)
    for rows in memory.chunk_slices(m, "auto", 24 * m):
        block = w_compact[compact_index(w_compact.shape, native_index_for_slim_index[rows],
                                        native_index_for_slim_index)]
        out[rows] = block @ columns
    return out.reshape(image.shape)
