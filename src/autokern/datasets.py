"""``autokern.datasets``, the public path of :mod:`autokern.data.datasets`: Datasets: the arrays
the kernels take, from visibilities and a mask; real data and mock presets."""

from autokern.data.datasets import (
    PRESETS,
    SCIENCE_PRESETS,
    Interferometer,
    MaskSpec,
    Preset,
    SourceMesh,
    mock_chunk,
    mock_chunks,
    read_visibilities_fits,
)
from autokern.data.testing import (
    DEV_REFERENCE_KEYS,
    Case,
    default_data_dir,
    load_dev_reference,
    mock_case,
)

__all__ = [
    "DEV_REFERENCE_KEYS",
    "PRESETS",
    "SCIENCE_PRESETS",
    "Case",
    "Interferometer",
    "MaskSpec",
    "Preset",
    "SourceMesh",
    "default_data_dir",
    "load_dev_reference",
    "mock_case",
    "mock_chunk",
    "mock_chunks",
    "read_visibilities_fits",
]
