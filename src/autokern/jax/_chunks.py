"""Chunked reductions over visibilities in O(chunk) memory, on one device or across several.

A reduction Σ_k f(k) is described by a *contribution*,

    contribution(static, constants, valid, *rows) -> the partial sum of one chunk,

where every array of ``rows`` holds c visibilities (leading axis c), ``constants`` are arrays
every chunk shares (lags, the grid), ``static`` is hashable configuration (shapes, eps), and
``valid`` (c,) float64 is 1 for rows to add and 0 for rows that must add nothing: the
contribution multiplies its per-visibility weight by it.  Whatever is derived per visibility
(1/σ², NUFFT strengths and phases) is derived inside the contribution, one chunk at a time.

No padded copy of the inputs is made: when c does not divide K, the last chunk is the last c
rows, which overlap the chunk before, and ``valid`` masks the overlap out.  :func:`chunked_sum`
picks the driver from its inputs:

- traced (inside ``jit``, ``grad`` or ``vmap``): one ``lax.scan`` over ``lax.dynamic_slice``s
  of the unpadded arrays.  Each chunk's work is recomputed in the backward pass
  (``jax.checkpoint``), so reverse mode keeps O(K) residuals (the chunks' rows), not
  O(K × lags).  Under :func:`autokern.jax.sharded`, a ``shard_map`` gives each device its share
  of the rows to scan and a ``psum`` adds the shares (the < n rows left over by n devices are
  added outside it);
- concrete JAX arrays, one device: the same scan, compiled once per shape;
- NumPy arrays, and concrete JAX arrays under :func:`~autokern.jax.sharded`: streamed.  Each
  block of rows (whole chunks, within an eighth of the chunk budget) is sliced, put on the
  device (split over the devices), and scanned into one partial sum per device by one
  compiled step, at most two steps in flight; the inputs are never copied whole to a device.

Work space per device, beyond the inputs themselves: ``m0 + m1 * chunk`` (one chunk's tables)
plus, when streamed, two blocks of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from autokern._runtime import memory
from autokern.jax.sharding import AXIS, active_mesh

#: contribution(static, constants, valid, *rows) -> partial sum
Contribution = Callable[..., jax.Array]
#: (contribution, static, output shape, output dtype): everything the compiled code is keyed on
_Spec = tuple[Contribution, Hashable, tuple[int, ...], np.dtype]


def resolve(chunk_size: int | str, n_visibilities: int, floats_per_visibility: int) -> int:
    """``chunk_size`` as an int; ``"auto"`` is the largest chunk whose work space fits
    :func:`autokern._runtime.memory.chunk_budget_bytes` (``floats_per_visibility`` float64 each)."""
    return memory.resolve_chunk_size(chunk_size, n_visibilities, 8 * floats_per_visibility)


def is_traced(tree: Any) -> bool:
    """Whether any leaf of ``tree`` is a JAX tracer (inside jit, grad or vmap)."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def chunked_sum(contribution: Contribution, shape: tuple[int, ...], dtype: Any,
                per_visibility: tuple, chunk: int, *, constants: Any = (),
                static: Hashable = None) -> jax.Array:
    """Σ over the K rows of ``per_visibility`` of ``contribution``: an array ``shape``/``dtype``.

    ``per_visibility``: arrays with leading axis K (NumPy or JAX, concrete or traced);
    ``constants``: a pytree of arrays every chunk shares; ``chunk``: rows per chunk (per device
    when sharded); see the module docstring for the drivers.  The result is a JAX array
    (replicated over the devices when sharded).
    """
    spec: _Spec = (contribution, static, tuple(shape), np.dtype(dtype))
    mesh = active_mesh()
    if is_traced((per_visibility, constants)):
        return _traced_sum(spec, constants, per_visibility, chunk, mesh)
    if mesh is None and not all(isinstance(x, np.ndarray) for x in per_visibility):
        return _compiled_sum(spec, constants, per_visibility, chunk=chunk)
    return _streamed_sum(spec, constants, per_visibility, chunk, mesh)


# --- inside one program: a scan of dynamic slices ------------------------------------------

def _scan_sum(spec: _Spec, constants: Any, arrays: tuple, chunk: int,
              bounds: tuple[Any, Any, Any] | None = None) -> jax.Array:
    """Σ of the chunks of ``arrays``; with ``bounds`` = (first, lo, hi), only the rows whose
    index + first lies in [lo, hi) (a block of a streamed sum)."""
    contribution, static, shape, dtype = spec
    n = arrays[0].shape[0]
    total = jnp.zeros(shape, dtype)
    if n == 0:
        return total
    chunk = min(chunk, n)
    # Recomputed in the backward pass: the scan then saves each chunk's rows, not its tables.
    part = jax.checkpoint(contribution, static_argnums=(0,))

    def step(total, nominal):
        start = jnp.minimum(nominal, n - chunk)  # the last chunk overlaps the one before
        rows = [lax.dynamic_slice_in_dim(x, start, chunk) for x in arrays]
        index = start + jnp.arange(chunk)
        keep = index >= nominal
        if bounds is not None:
            first, lo, hi = bounds
            keep = keep & (first + index >= lo) & (first + index < hi)
        return total + part(static, constants, keep.astype(jnp.float64), *rows), None

    total, _ = lax.scan(step, total, jnp.arange(0, n, chunk))
    return total


_compiled_sum = jax.jit(_scan_sum, static_argnums=(0,), static_argnames=("chunk",))


def _traced_sum(spec: _Spec, constants: Any, arrays: tuple, chunk: int,
                mesh: Mesh | None) -> jax.Array:
    # NumPy arrays closed over by the caller's trace: one device array each, not constants
    arrays = tuple(jnp.asarray(x) for x in arrays)
    if mesh is None:
        return _scan_sum(spec, constants, arrays, chunk)
    contribution, static, shape, dtype = spec
    n, devices = arrays[0].shape[0], mesh.size
    split = n - n % devices  # shard_map needs equal shares
    total = jnp.zeros(shape, dtype)
    if split:
        def share(constants, *rows):
            return lax.psum(_scan_sum(spec, constants, rows, chunk), AXIS)

        total = jax.shard_map(share, mesh=mesh, out_specs=P(), check_vma=False,
                              in_specs=(P(), *[P(AXIS)] * len(arrays)))(
            constants, *[x[:split] for x in arrays])
    if split < n:
        rest = [x[split:] for x in arrays]
        total = total + contribution(static, constants, jnp.ones(n - split), *rest)
    return total


# --- streamed: blocks of rows put on the device(s) one at a time ---------------------------

def _block(x: Any, start: int, size: int) -> Any:
    """Rows [start, start + size) of ``x``, the last row repeated where ``x`` is shorter."""
    rows = x[start:start + size]
    missing = size - rows.shape[0]
    if isinstance(x, np.ndarray):
        rows = np.ascontiguousarray(rows)
        return np.pad(rows, [(0, missing)] + [(0, 0)] * (x.ndim - 1), mode="edge") \
            if missing else rows
    return jnp.pad(rows, [(0, missing)] + [(0, 0)] * (x.ndim - 1), mode="edge") \
        if missing else rows


@partial(jax.jit, static_argnums=(0, 1), donate_argnums=(2,))
def _step(spec: _Spec, chunk: int, total, constants, lo, hi, *rows):
    """``total`` + the rows [lo, hi) of one block, chunk by chunk; the second output is only
    something to wait on (ready when the step is)."""
    return total + _scan_sum(spec, constants, rows, chunk, (0, lo, hi)), hi - lo


@partial(jax.jit, static_argnums=(0, 1, 2), donate_argnums=(3,))
def _sharded_step(spec: _Spec, chunk: int, mesh: Mesh, totals, constants, lo, hi, *rows):
    """:func:`_step` on each device's share of the block, into that device's partial sum."""

    def share(totals, constants, lo, hi, *rows):
        first = lax.axis_index(AXIS) * rows[0].shape[0]
        return (totals + _scan_sum(spec, constants, rows, chunk, (first, lo, hi))[None],
                (hi - lo)[None])

    return jax.shard_map(share, mesh=mesh, out_specs=(P(AXIS), P(AXIS)), check_vma=False,
                         in_specs=(P(AXIS), P(), P(), P(), *[P(AXIS)] * len(rows)))(
        totals, constants, lo, hi, *rows)


@partial(jax.jit, static_argnums=(0, 1, 2))
def _zeros(shape: tuple[int, ...], dtype: np.dtype, sharding: NamedSharding) -> jax.Array:
    return jax.lax.with_sharding_constraint(jnp.zeros(shape, dtype), sharding)


@partial(jax.jit, static_argnums=(0,))
def _sum_over_devices(mesh: Mesh, totals):
    return jax.shard_map(lambda t: lax.psum(t[0], AXIS), mesh=mesh, in_specs=P(AXIS),
                         out_specs=P(), check_vma=False)(totals)


def _block_rows(n: int, devices: int, chunk: int, row_bytes: int) -> tuple[int, int]:
    """(chunk, rows per device of a block): whole chunks, the block's rows within an eighth of
    the chunk budget, as few blocks as cover K, split evenly (so the last block's overlap with
    the one before is under a chunk per device)."""
    per_device = max(1, _ceil_div(n, devices))
    chunk = max(1, min(chunk, per_device))
    largest = max(1, memory.chunk_budget_bytes() // (8 * max(row_bytes, 1) * chunk)) * chunk
    share = _ceil_div(per_device, _ceil_div(per_device, largest))
    return chunk, _ceil_div(share, chunk) * chunk


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _streamed_sum(spec: _Spec, constants: Any, arrays: tuple, chunk: int,
                  mesh: Mesh | None) -> jax.Array:
    # A step scans several chunks of one block: its temporaries are allocated once per block
    # (fresh pages for every chunk made a step-per-chunk ~30% slower on the CPU).
    _, _, shape, dtype = spec
    n = arrays[0].shape[0]
    devices = 1 if mesh is None else mesh.size
    row_bytes = sum(np.dtype(x.dtype).itemsize * int(np.prod(x.shape[1:])) for x in arrays)
    chunk, rows_per_device = _block_rows(n, devices, chunk, row_bytes)
    size = devices * rows_per_device  # rows per step
    if mesh is None:
        rows_on, total = jax.device_put, jnp.zeros(shape, dtype)
        constants = jax.device_put(constants)  # once, not with every step
        step = partial(_step, spec, chunk)
    else:
        split = NamedSharding(mesh, P(AXIS))
        rows_on = partial(jax.device_put, device=split)
        constants = jax.device_put(constants, NamedSharding(mesh, P()))
        total = _zeros((devices, *shape), dtype, split)  # made on the devices, not the host
        step = partial(_sharded_step, spec, chunk, mesh)
    running = None
    for nominal in range(0, n, size):
        start = max(0, min(nominal, n - size))  # the last block overlaps the one before
        rows = [rows_on(_block(x, start, size)) for x in arrays]
        # rows below nominal - start were added by the previous block, rows from n - start on
        # are padding (when K < size)
        total, done = step(total, constants, nominal - start, n - start, *rows)
        if running is not None:
            running.block_until_ready()  # back-pressure: at most two blocks alive
        running = done
    return total if mesh is None else _sum_over_devices(mesh, total)
