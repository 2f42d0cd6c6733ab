"""The memory budget: refuse an allocation that cannot fit, before making it.

The budget is ``AUTOKERN_MEMORY_BUDGET_MB`` megabytes when that variable is set, otherwise half
of the memory the operating system reports available when the check runs.  Reductions over
visibilities have their own, smaller work-space budget (``AUTOKERN_CHUNK_BUDGET_MB``, default
256 MB) that sets ``chunk_size="auto"``.
"""

from __future__ import annotations

import os

from autokern.errors import MemoryBudgetError

_MB = 1 << 20
DEFAULT_CHUNK_BUDGET_MB = 256


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
    configured = os.environ.get("AUTOKERN_MEMORY_BUDGET_MB")
    if configured:
        return int(float(configured) * _MB)
    return available_bytes() // 2


def chunk_budget_bytes() -> int:
    """Work space allowed for one chunk of a reduction over visibilities."""
    return int(float(os.environ.get("AUTOKERN_CHUNK_BUDGET_MB", DEFAULT_CHUNK_BUDGET_MB)) * _MB)


def require(kernel: str, nbytes: int, what: str, alternative: str) -> None:
    """Raise :class:`MemoryBudgetError` when ``nbytes`` exceeds the budget."""
    budget = budget_bytes()
    if nbytes > budget:
        raise MemoryBudgetError(
            f"{kernel}: the ({what}) float64 array needs {nbytes / 1e9:.2f} GB, over the "
            f"memory budget of {budget / 1e9:.2f} GB (set AUTOKERN_MEMORY_BUDGET_MB to change "
            f"it). Use {alternative} instead."
        )


def resolve_chunk_size(chunk_size: int | str, n_visibilities: int,
                       bytes_per_visibility: int) -> int:
    """``chunk_size`` as an int in [1, K]: ``"auto"`` is the largest chunk within the budget."""
    if chunk_size == "auto":
        chunk_size = chunk_budget_bytes() // max(bytes_per_visibility, 1)
    return int(max(1, min(int(chunk_size), max(n_visibilities, 1))))
