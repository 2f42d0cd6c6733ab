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
from typing import Any

from autokern._api.dispatch import get_kernel
from autokern._shared.visibility_terms import VisibilityTerms

__all__ = ["VisibilityTerms", "visibility_terms_from_chunks"]


def visibility_terms_from_chunks(chunks: Iterable[tuple[Any, Any, Any]], grid_radians_slim: Any,
                                 native_index_for_slim_index: Any, pixel_scale: float, *,
                                 backend: str | None = None, progress: bool = True,
                                 total: int | None = None, **options: Any) -> VisibilityTerms:
    """Fold ``(data, noise_map, uv_wavelengths)`` chunks into one :class:`VisibilityTerms`.

    ``backend`` picks the kernels (``DEFAULT_JIT`` when None); ``options`` (``method``,
    ``eps``, ``chunk_size``) go to ``visibility_terms_from``.  ``progress`` shows a tqdm bar
    (``total`` chunks, when known).
    """
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
