"""Resources: the memory budget and the chunking of reductions over visibilities (thread counts,
the threading layer and processes: :mod:`autokern._runtime.parallelism`).

Each setting comes from one environment variable, read and checked here or there (a bad value
raises :class:`~autokern.errors.ConfigurationError` naming the variable; the thread settings
when each public kernel call starts, whatever the backend):

- ``AUTOKERN_MEMORY_BUDGET_MB`` — the largest single array autokern will allocate; default half
  of the memory the operating system reports available when the check runs.  A dense result
  over it is refused before it is allocated, naming the compact alternative.
- ``AUTOKERN_CHUNK_BUDGET_MB`` — work space for one chunk of a reduction over visibilities,
  which sets ``chunk_size="auto"`` (default 256 MB).
- ``AUTOKERN_NUM_THREADS`` — threads for the CPU NUFFT (ducc0) and FFTs (scipy.fft); default
  every core.  ``autokern.threads`` / ``autokern.set_num_threads`` set it, Numba's threads and
  BLAS's together, in code.
- ``AUTOKERN_DETERMINISTIC`` — ``1`` makes every CPU result bitwise reproducible run to run: the
  NUFFT's spreading then runs on one thread (multithreaded ducc0 adds its pieces in a varying
  order, ~3e-16 apart).  Numba's kernels are reproducible for a fixed Numba thread count either
  way.  Default ``0``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from autokern.errors import ConfigurationError, MemoryBudgetError

_MB = 1 << 20
DEFAULT_CHUNK_BUDGET_MB = 256


def positive_setting(variable: str, default: float, *, integer: bool = False) -> float:
    """The positive number in environment ``variable`` (``default`` when unset or empty)."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = None
    if value is None or not value > 0 or value != value or value == float("inf"):
        kind = "a positive integer" if integer else "a positive number"
        raise ConfigurationError(f"environment variable {variable} must be {kind}, got {raw!r}")
    return value


def available_bytes() -> int:
    """Memory the OS reports available now (physical pages free + reclaimable where known)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def budget_bytes() -> int:
    """The largest single allocation autokern will attempt."""
    configured = positive_setting("AUTOKERN_MEMORY_BUDGET_MB", 0.0)
    return int(configured * _MB) if configured else available_bytes() // 2


def chunk_budget_bytes() -> int:
    """Work space allowed for one chunk of a reduction over visibilities."""
    return int(positive_setting("AUTOKERN_CHUNK_BUDGET_MB", DEFAULT_CHUNK_BUDGET_MB) * _MB)


def require(kernel: str, nbytes: int, what: str, alternative: str) -> None:
    """Raise :class:`MemoryBudgetError` when ``nbytes`` exceeds the budget."""
    budget = budget_bytes()
    if nbytes > budget:
        raise MemoryBudgetError(
            f"{kernel}: the ({', '.join(what.split())}) float64 array needs "
            f"{nbytes / 1e9:.2f} GB, over the memory budget of {budget / 1e9:.2f} GB (set "
            f"AUTOKERN_MEMORY_BUDGET_MB to change it). Use {alternative} instead."
        )


def resolve_chunk_size(chunk_size: int | str, n_visibilities: int,
                       bytes_per_visibility: int) -> int:
    """``chunk_size`` as an int in [1, K]: ``"auto"`` is the largest chunk within the budget."""
    if chunk_size == "auto":
        chunk_size = chunk_budget_bytes() // max(bytes_per_visibility, 1)
    return int(max(1, min(int(chunk_size), max(n_visibilities, 1))))


def chunk_slices(n_visibilities: int, chunk_size: int | str, bytes_per_visibility: int,
                 largest: int | None = None) -> Iterator[slice]:
    """Consecutive slices of at most ``chunk_size`` visibilities (and at most ``largest``)."""
    step = resolve_chunk_size(chunk_size, n_visibilities, bytes_per_visibility)
    if largest is not None:
        step = min(step, largest)
    for start in range(0, n_visibilities, step):
        yield slice(start, min(start + step, n_visibilities))
