"""``autokern.grids``, the public path of :mod:`autokern.data.grids`: Image-plane grids from any
real-space mask: the arrays autokern's kernels take."""

from autokern.data.grids import (
    MaskedGrid,
    array_2d_native_from,
    grid_arcsec_slim_from,
    grid_radians_2d_from,
    grid_radians_slim_from,
    mask_2d_circular_annular_from,
    mask_2d_circular_from,
    native_index_for_slim_index_from,
    pixel_scale_from,
    shape_masked_pixels_2d_from,
)

__all__ = [
    "MaskedGrid",
    "array_2d_native_from",
    "grid_arcsec_slim_from",
    "grid_radians_2d_from",
    "grid_radians_slim_from",
    "mask_2d_circular_annular_from",
    "mask_2d_circular_from",
    "native_index_for_slim_index_from",
    "pixel_scale_from",
    "shape_masked_pixels_2d_from",
]
