"""Chunked reductions over visibilities: ``lax.scan`` over fixed-size chunks.

A reduction Σ_k f(k) is computed as a scan over ``ceil(K / chunk)`` chunks of ``chunk``
visibilities, each chunk vectorised.  The last chunk is padded with zero-weight visibilities
(weight 0, u = v = 0), whose terms are exactly zero, so padding never changes the result.
Work space is ``m0 + m1 * chunk`` (the output plus one chunk's tables).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
from jax import lax

from autokern import _memory


def resolve(chunk_size: int | str, n_visibilities: int, floats_per_visibility: int) -> int:
    """``chunk_size`` as an int; ``"auto"`` is the largest chunk whose work space fits
    :func:`autokern._memory.chunk_budget_bytes` (``floats_per_visibility`` float64 each)."""
    return _memory.resolve_chunk_size(chunk_size, n_visibilities, 8 * floats_per_visibility)


def scan_sum(contribution: Callable[..., Any], init: Any, per_visibility: tuple,
             chunk: int) -> Any:
    """``init + Σ_chunks contribution(*chunk_arrays)`` over arrays with leading axis K.

    Every array of ``per_visibility`` is zero-padded to a multiple of ``chunk``; the caller
    makes sure a zero row contributes nothing (a zero weight multiplies every term).
    """
    n = per_visibility[0].shape[0]
    n_chunks = -(-n // chunk)
    pad = n_chunks * chunk - n

    def split(x):
        x = jnp.pad(x, [(0, pad)] + [(0, 0)] * (x.ndim - 1))
        return x.reshape(n_chunks, chunk, *x.shape[1:])

    def step(total, xs):
        return total + contribution(*xs), None

    total, _ = lax.scan(step, init, tuple(split(x) for x in per_visibility))
    return total
