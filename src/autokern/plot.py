"""``autokern.plot``, the public path of :mod:`autokern.apps.plot`: Figures of a fit: images on
the mask, the source reconstruction, uv coverage, residuals."""

from autokern.apps.plot import (
    plot_dirty_image,
    plot_image,
    plot_reconstruction,
    plot_residuals,
    plot_uv_coverage,
    require_matplotlib,
)

__all__ = [
    "plot_dirty_image",
    "plot_image",
    "plot_reconstruction",
    "plot_residuals",
    "plot_uv_coverage",
    "require_matplotlib",
]
