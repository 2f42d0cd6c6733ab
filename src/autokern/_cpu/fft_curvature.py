"""Curvature F = Tᵀ W̃ T by FFT convolution, in NumPy/SciPy (shared by the CPU backends).

W̃[i, j] depends only on the lattice lag between pixels i and j, so W̃ applied to a column
of T is a 2-D convolution with the precision operator.  Columns are zero-padded onto the
(2Ny, 2Nx) box (lags span (-Ny, Ny) × (-Nx, Nx), so nothing wraps), multiplied by the rfft2 of
the precision operator in Fourier space, read back at the unmasked pixels (Ω = W̃ T, one batch
of source columns at a time) and reduced with the sparse Tᵀ.  W̃ is never formed; memory is
O(batch · Ny · Nx + S²).

The CPU implementation of ``curvature_matrix_via_w_compact_fft_from``, shared by the reference
and the Numba backend (scipy.fft with threads does the work in both).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.sparse

from autokern._runtime import memory, parallelism
from autokern._shared import lattice


def sparse_mapping(pix_indexes_for_sub_slim_index: np.ndarray,
                   pix_weights_for_sub_slim_index: np.ndarray,
                   pixels: int) -> scipy.sparse.csr_array:
    """T as a SciPy CSR matrix (M × S); -1 entries dropped, duplicates summed."""
    image, slot = np.nonzero(pix_indexes_for_sub_slim_index >= 0)
    return scipy.sparse.csr_array(
        (pix_weights_for_sub_slim_index[image, slot],
         (image, pix_indexes_for_sub_slim_index[image, slot])),
        shape=(len(pix_indexes_for_sub_slim_index), pixels))


def curvature_matrix(precision_operator: np.ndarray, native_index_for_slim_index: np.ndarray,
                     pix_indexes_for_sub_slim_index: np.ndarray,
                     pix_weights_for_sub_slim_index: np.ndarray, pixels: int) -> np.ndarray:
    """F = Tᵀ W̃ T with W̃ applied by FFT convolution with ``precision operator`` (2Ny, 2Nx)."""
    box = precision_operator.shape
    workers = parallelism.num_threads()
    kernel_ft = scipy.fft.rfft2(precision_operator, workers=workers)
    rows = native_index_for_slim_index[:, 0] - native_index_for_slim_index[:, 0].min()
    cols = native_index_for_slim_index[:, 1] - native_index_for_slim_index[:, 1].min()
    mapping = sparse_mapping(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                             pixels)
    by_source = mapping.T.tocsr()  # row s lists the image pixels of source pixel s
    batch = memory.resolve_chunk_size("auto", pixels, 40 * box[0] * box[1])
    curvature = np.zeros((pixels, pixels))
    for start in range(0, pixels, batch):
        sources = slice(start, min(start + batch, pixels))
        block = by_source[sources].tocoo()
        columns = np.zeros((block.shape[0], *box))
        np.add.at(columns, (block.row, rows[block.col], cols[block.col]), block.data)
        convolved = scipy.fft.irfft2(scipy.fft.rfft2(columns, workers=workers) * kernel_ft,
                                     s=box, workers=workers)
        omega = convolved[:, rows, cols].T  # (M, batch) = W̃ T[:, sources]
        curvature[:, sources] = mapping.T @ omega
    return curvature


def curvature_matrix_via_w_compact_fft_from(w_compact: np.ndarray,
                                            native_index_for_slim_index: np.ndarray,
                                            pix_indexes_for_sub_slim_index: np.ndarray,
                                            pix_weights_for_sub_slim_index: np.ndarray,
                                            pixels: int) -> np.ndarray:
    """F from w-compact by FFT convolution (the catalogue kernel's CPU core)."""
    return curvature_matrix(lattice.nufft_precision_operator_via_w_compact_from(w_compact),
                            native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                            pix_weights_for_sub_slim_index, pixels)
