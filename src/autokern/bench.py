"""``autokern.bench``, the public path of :mod:`autokern.apps.bench`: ``autokern bench``: the
whole inversion on a mock dataset, on every backend, timed."""

from autokern.apps.bench import (
    TASKS,
    Row,
    as_array,
    block,
    format_table,
    plot,
    precompute_scaling,
    relative_difference,
    repeats_for,
    run,
    timed,
    worst_disagreement,
    write_json,
)

__all__ = [
    "TASKS",
    "Row",
    "as_array",
    "block",
    "format_table",
    "plot",
    "precompute_scaling",
    "relative_difference",
    "repeats_for",
    "run",
    "timed",
    "worst_disagreement",
    "write_json",
]
