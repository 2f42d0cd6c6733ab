"""The errors autokern raises for bad input, so callers can catch them by kind.

Every one subclasses the builtin a caller would expect (``ValueError``, ``TypeError``,
``MemoryError``) and its message names the kernel, the argument, what was expected and what was
given.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType


class AutokernError(Exception):
    """Base class of every error autokern raises on purpose."""


class InputShapeError(AutokernError, ValueError):
    """An array has the wrong rank, or its shape disagrees with another argument."""


class InputValueError(AutokernError, ValueError):
    """A value is out of its allowed range (non-positive size, bad index, …)."""


class InputTypeError(AutokernError, TypeError):
    """An argument has the wrong type or dtype (e.g. real data where complex is meant)."""


class MemoryBudgetError(AutokernError, MemoryError):
    """A result would not fit the memory budget; the message names the compact alternative."""


class BackendError(AutokernError, ValueError):
    """An unknown backend name, or a kernel no backend provides."""


class MissingDependencyError(AutokernError, ImportError):
    """An optional dependency is missing; the message names the extra that installs it."""


class ConfigurationError(AutokernError, ValueError):
    """An autokern environment variable has a value that cannot be used."""


def optional_module(name: str, message: str) -> ModuleType:
    """The module ``name`` of an optional dependency, imported, or
    :class:`MissingDependencyError` with ``message`` (which names the extra to install).

    Each parent package is imported first, as ``from a.b import c`` does: a cached submodule
    does not hide a parent that cannot be imported."""
    parts = name.split(".")
    try:
        for end in range(1, len(parts) + 1):
            module = importlib.import_module(".".join(parts[:end]))
    except ImportError as error:
        raise MissingDependencyError(message) from error
    return module
