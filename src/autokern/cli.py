"""``autokern.cli``, the public path of :mod:`autokern.apps.cli`: The ``autokern`` command:
``autokern info`` (versions, devices, settings) and ``autokern bench`` (the whole inversion on a
mock dataset, on every backend, timed)."""

from autokern.apps.cli import (
    OPTIONAL_PACKAGES,
    info,
    main,
    parser,
)

__all__ = [
    "OPTIONAL_PACKAGES",
    "info",
    "main",
    "parser",
]

if __name__ == "__main__":  # python -m autokern.cli
    import sys

    sys.exit(main())
