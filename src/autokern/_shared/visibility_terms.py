"""The sums over visibilities the likelihood needs, as one value that adds across chunks
(re-exported by :mod:`autokern.terms`)."""

from __future__ import annotations

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
