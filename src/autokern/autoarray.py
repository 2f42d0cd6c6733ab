"""``autokern.autoarray``, the public path of :mod:`autokern.apps.autoarray`: Adapter between
the downstream lensing library (PyAutoArray / PyAutoLens) and autokern."""

from autokern.apps.autoarray import (
    AnalysisInterferometer,
    LibraryArrays,
    arrays_from,
    inversion_of,
    log_evidence_of,
    precision_operator_for,
)

__all__ = [
    "AnalysisInterferometer",
    "LibraryArrays",
    "arrays_from",
    "inversion_of",
    "log_evidence_of",
    "precision_operator_for",
]
