"""Sufficient statistics of visibilities, so that data larger than memory can stream through.

Everything the likelihood needs from the visibilities is a sum over them: w-compact, the dirty
image, Σ (Re V/Re σ)² + (Im V/Im σ)², the noise normalization and K.  :class:`VisibilityTerms`
holds those sums, and the terms of disjoint chunks of visibilities add::

    terms = visibility_terms_from(*chunk_1, grid, native, scale) + \\
            visibility_terms_from(*chunk_2, grid, native, scale)

:func:`visibility_terms_from_chunks` folds an iterable of chunks (read from disk one at a
time, say) with a progress bar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VisibilityTerms:
    """The sums over visibilities that the likelihood needs (arrays of any backend).

    Attributes: ``w_compact`` (Ny, 2Nx-1); ``dirty_image`` (M,); ``data_chi_squared``
    Σ (Re V/Re σ)² + (Im V/Im σ)²; ``noise_normalization`` Σ log(2π (Re σ)²) + log(2π (Im σ)²);
    ``n_visibilities`` K.
    """

    w_compact: Any
    dirty_image: Any
    data_chi_squared: float
    noise_normalization: float
    n_visibilities: int

    def __add__(self, other: VisibilityTerms) -> VisibilityTerms:
        if not isinstance(other, VisibilityTerms):
            return NotImplemented
        if self.w_compact.shape != other.w_compact.shape or \
                self.dirty_image.shape != other.dirty_image.shape:
            raise ValueError(
                "cannot add VisibilityTerms of different images: w_compact "
                f"{self.w_compact.shape} vs {other.w_compact.shape}, dirty_image "
                f"{self.dirty_image.shape} vs {other.dirty_image.shape}"
            )
        return VisibilityTerms(
            self.w_compact + other.w_compact,
            self.dirty_image + other.dirty_image,
            self.data_chi_squared + other.data_chi_squared,
            self.noise_normalization + other.noise_normalization,
            self.n_visibilities + other.n_visibilities,
        )


def terms_with(backend: str, *, data: Any, noise_map: Any, uv_wavelengths: Any,
               grid_radians_slim: Any, native_index_for_slim_index: Any, pixel_scale: Any,
               **options: Any) -> VisibilityTerms:
    """``visibility_terms_from`` composed from ``backend``'s own reductions (every backend)."""
    import numpy as np

    from autokern import _evidence, get_kernel

    index = np.asarray(native_index_for_slim_index)
    extent = tuple(int(n) for n in np.ptp(index, axis=0) + 1)
    w_compact = get_kernel("w_compact_curvature_interferometer_from", backend, fallback=False)(
        extent, noise_map.real, uv_wavelengths, pixel_scale, **options)
    dirty_image = get_kernel("w_tilde_data_interferometer_from", backend, fallback=False)(
        data, noise_map, uv_wavelengths, grid_radians_slim, **options)
    data, noise_map = np.asarray(data), np.asarray(noise_map)
    return VisibilityTerms(w_compact, dirty_image, _evidence.data_term(data, noise_map),
                           _evidence.noise_normalization(noise_map), len(data))


def log_likelihood_with(backend: str, *, visibility_terms: VisibilityTerms,
                        native_index_for_slim_index: Any, pix_indexes_for_sub_slim_index: Any,
                        pix_weights_for_sub_slim_index: Any, neighbors: Any,
                        neighbors_sizes: Any, coefficient: Any) -> float:
    """The log evidence from terms, composed from ``backend``'s curvature, mapping and
    regularization kernels and one Cholesky (NumPy/SciPy; not differentiable on JAX)."""
    import numpy as np

    from autokern import _evidence, get_kernel

    def run(name: str, *args: Any) -> np.ndarray:
        return np.asarray(get_kernel(name, backend, fallback=False)(*args))

    pixels = len(neighbors)
    curvature = run("curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
                    visibility_terms.w_compact, native_index_for_slim_index,
                    pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    data_vector = run("sparse_mapping_matrix_transpose_matmul", visibility_terms.dirty_image,
                      pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    regularization = run("constant_regularization_matrix_from", coefficient, neighbors,
                         neighbors_sizes)
    return _evidence.log_evidence_from_terms(curvature, regularization, data_vector,
                                             float(visibility_terms.data_chi_squared),
                                             float(visibility_terms.noise_normalization))


def visibility_terms_from_chunks(chunks: Iterable[tuple[Any, Any, Any]], grid_radians_slim: Any,
                                 native_index_for_slim_index: Any, pixel_scale: float, *,
                                 backend: str | None = None, progress: bool = True,
                                 total: int | None = None, **options: Any) -> VisibilityTerms:
    """Fold ``(data, noise_map, uv_wavelengths)`` chunks into one :class:`VisibilityTerms`.

    ``backend`` picks the kernels (``DEFAULT_JIT`` when None); ``options`` (``method``,
    ``eps``, ``chunk_size``) go to ``visibility_terms_from``.  ``progress`` shows a tqdm bar
    (``total`` chunks, when known).
    """
    from autokern import get_kernel

    terms_from = get_kernel("visibility_terms_from", backend)
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, total=total, desc="visibility chunks", unit="chunk")
    result = None
    for data, noise_map, uv_wavelengths in chunks:
        terms = terms_from(data, noise_map, uv_wavelengths, grid_radians_slim,
                           native_index_for_slim_index, pixel_scale, **options)
        result = terms if result is None else result + terms
    if result is None:
        raise ValueError("visibility_terms_from_chunks: no chunks were given")
    return result
