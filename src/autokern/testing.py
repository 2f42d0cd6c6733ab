"""``autokern.testing``, the public path of :mod:`autokern.data.testing`: the test harness
(``Case``, ``mock_case``, the downstream library's reference run, ``default_data_dir``)."""

from autokern.data.testing import (
    DEV_REFERENCE_KEYS,
    Case,
    default_data_dir,
    load_dev_reference,
    mock_case,
)

__all__ = ["DEV_REFERENCE_KEYS", "Case", "default_data_dir", "load_dev_reference", "mock_case"]
