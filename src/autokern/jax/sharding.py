"""Splitting the JAX reductions over visibilities across devices (multi-GPU hosts).

    with autokern.jax.sharded():          # every device of JAX's default backend
        terms = autokern.jax.visibility_terms_from(data, noise_map, uv_wavelengths, ...)

Inside the block, each reduction over K of the JAX backend (w-compact, the precision operator,
the dirty image, dense W̃, and the kernels composed of them such as ``visibility_terms_from``) gives
every device one contiguous share of the visibilities; each device runs the chunked reduction
of :mod:`autokern.jax._chunks` on its share into its own partial sum, and one all-reduce
(``psum``) adds the partial sums at the end.  Results equal the one-device results to
round-off (the terms are added in another order) and come back replicated on those devices.

Outside such a block nothing is split: sharding is asked for, never automatic, because a host
that runs one sampler per GPU must not have each sampler's precompute spread over every GPU.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence

import jax
import numpy as np
from jax.sharding import Mesh

#: the one mesh axis the visibilities are split along
AXIS = "visibilities"

_MESH: contextvars.ContextVar[Mesh | None] = contextvars.ContextVar("autokern_jax_mesh",
                                                                   default=None)


def mesh_of(devices: Sequence[jax.Device] | Mesh | None = None) -> Mesh:
    """A 1-D mesh (axis :data:`AXIS`) over ``devices``: a sequence of devices, the devices of a
    ``jax.sharding.Mesh`` (any shape, flattened), or every device of the default backend."""
    if devices is None:
        devices = jax.devices()
    elif isinstance(devices, Mesh):
        devices = list(devices.devices.flat)
    devices = list(devices)
    if not devices or not all(isinstance(d, jax.Device) for d in devices):
        raise ValueError(f"sharded: devices must be a non-empty sequence of jax devices or a "
                         f"Mesh, got {devices!r}")
    if len(set(devices)) != len(devices):
        raise ValueError(f"sharded: a device is listed twice in {devices!r}")
    return Mesh(np.array(devices, dtype=object), (AXIS,))


@contextlib.contextmanager
def sharded(devices: Sequence[jax.Device] | Mesh | None = None) -> Iterator[Mesh | None]:
    """Within the block, the JAX reductions over visibilities split K across ``devices``.

    ``devices``: a sequence of ``jax.Device``, a ``jax.sharding.Mesh`` (its devices, in
    order), or None for every device of the default backend (``jax.devices()``).  One device
    means no split.  Yields the 1-D mesh in use (None for one device).  Blocks nest; the
    innermost wins.  Also a decorator (``@autokern.jax.sharded()``).

    NumPy inputs are streamed chunk by chunk from host memory to the devices, so each device
    holds O(chunk) of them whatever K is.  Under ``jax.jit``/``grad``/``vmap`` the inputs are
    split with ``shard_map`` instead; they must then not be committed to a single device
    (JAX refuses to mix one device with a mesh).
    """
    mesh = mesh_of(devices)
    token = _MESH.set(mesh if mesh.size > 1 else None)
    try:
        yield _MESH.get()
    finally:
        _MESH.reset(token)


def active_mesh() -> Mesh | None:
    """The mesh of the innermost :func:`sharded` block, or None (one device)."""
    return _MESH.get()
