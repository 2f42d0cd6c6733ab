"""Input checks shared by every backend, run at each public entry point before compiled code.

:func:`check` reads a kernel's catalogue entry and, for each argument, converts it to its
canonical form (float64 / complex128 / int64, C-contiguous; Python scalars and tuples), checks
its rank, binds the shape symbols of the catalogue (``K``, ``M``, ``S``, …) so that every array
agrees with the others, and refuses a dense result that would not fit the memory budget.

On the JAX backend, conversion keeps tracers as they are, so ``jit``, ``grad`` and ``vmap``
work through the public functions; shapes and dtypes are checked under tracing too.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from autokern import _memory
from autokern.errors import InputShapeError, InputTypeError, InputValueError

if TYPE_CHECKING:
    from autokern.catalogue import Kernel

ArrayConverter = Callable[[Any, np.dtype], Any]

_DTYPES = {
    "float": np.dtype(np.float64),
    "complex": np.dtype(np.complex128),
    "int": np.dtype(np.int64),
    "bool": np.dtype(np.bool_),
    "matrix": np.dtype(np.float64),
}
#: dtype kinds accepted for each argument kind ("b" bool, "i"/"u" ints, "f" floats, "c" complex)
_ACCEPTED_KINDS = {"float": "biuf", "matrix": "biuf", "complex": "biufc", "int": "biu", "bool": "b"}
_DERIVED_DIM = re.compile(r"^(?:(\d+))?([A-Za-z]\w*)(?:([+-])(\d+))?$")


def _numpy_array(value: Any, dtype: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(value, dtype=dtype)


def _jax_array(value: Any, dtype: np.dtype) -> Any:
    import jax.numpy as jnp

    if hasattr(value, "todense") and hasattr(value, "indices"):  # a BCOO matrix: keep sparse
        return value
    return jnp.asarray(value, dtype=dtype)


def converter(backend: str) -> ArrayConverter:
    """How ``backend`` turns an argument into its canonical array type."""
    return _jax_array if backend == "jax" else _numpy_array


def _dtype_of(value: Any) -> np.dtype:
    dtype = getattr(value, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.asarray(value).dtype


class _Shapes:
    """Binds shape symbols (``M``, ``2Ny``, ``2Nx-1`` …) across the arguments of one call."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self.sizes: dict[str, int] = {}
        self.source: dict[str, str] = {}

    def bind(self, argname: str, dims: tuple[str, ...], shape: tuple[int, ...]) -> None:
        ellipsis = bool(dims) and dims[-1] == "..."
        fixed = dims[:-1] if ellipsis else dims
        rank_ok = len(shape) >= len(fixed) if ellipsis else len(shape) == len(fixed)
        if not rank_ok:
            raise InputShapeError(
                f"{self.kernel.name}: {argname} must have shape ({', '.join(dims)}), "
                f"got an array of shape {shape}"
            )
        for dim, n in zip(fixed, shape, strict=False):
            if dim.isdigit():
                if n != int(dim):
                    raise InputShapeError(
                        f"{self.kernel.name}: {argname} must have shape ({', '.join(dims)}), "
                        f"got {shape}"
                    )
                continue
            factor, symbol, sign, offset = _DERIVED_DIM.match(dim).groups()
            factor = int(factor or 1)
            offset = int(offset or 0) * (-1 if sign == "-" else 1)
            base, rem = divmod(n - offset, factor)
            if rem or base < 0:
                raise InputShapeError(
                    f"{self.kernel.name}: axis {dim} of {argname} must be {dim}, got {n}"
                )
            self.define(symbol, base, f"{argname} (axis {dim})")

    def define(self, symbol: str, size: int, where: str) -> None:
        if symbol in self.sizes and self.sizes[symbol] != size:
            raise InputShapeError(
                f"{self.kernel.name}: inconsistent {symbol}: {self.sizes[symbol]} from "
                f"{self.source[symbol]} but {size} from {where}"
            )
        self.sizes.setdefault(symbol, size)
        self.source.setdefault(symbol, where)


def _positive_int(kernel: Kernel, name: str, value: Any) -> int:
    try:
        n = operator.index(value)
    except TypeError:
        raise InputTypeError(
            f"{kernel.name}: {name} must be an integer, got {type(value).__name__} {value!r}"
        ) from None
    if n < 1:
        raise InputValueError(f"{kernel.name}: {name} must be positive, got {n}")
    return n


def _pair(kernel: Kernel, name: str, value: Any, cast: Callable[[Any], Any]) -> tuple:
    values = np.atleast_1d(np.asarray(value)).ravel()
    if values.size == 1:
        values = np.repeat(values, 2)
    if values.size != 2:
        raise InputShapeError(f"{kernel.name}: {name} must be a pair, got {value!r}")
    return tuple(cast(v) for v in values)


def _scalar(kernel: Kernel, name: str, value: Any, backend_arrays: ArrayConverter) -> Any:
    if backend_arrays is _jax_array:  # keep tracers differentiable
        out = backend_arrays(value, np.dtype(np.float64))
        if out.shape != ():
            raise InputShapeError(f"{kernel.name}: {name} must be a scalar, got shape {out.shape}")
        return out
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputTypeError(
            f"{kernel.name}: {name} must be a real number, got {type(value).__name__} {value!r}"
        ) from None


def check(kernel: Kernel, arguments: dict[str, Any], arrays: ArrayConverter) -> dict[str, Any]:
    """Validate and normalise the bound ``arguments`` of ``kernel``; return them normalised."""
    shapes = _Shapes(kernel)
    out: dict[str, Any] = {}
    for arg in kernel.args:
        value = arguments[arg.name]
        if arg.kind in _DTYPES:
            dtype = _dtype_of(value)
            if dtype.kind not in _ACCEPTED_KINDS[arg.kind]:
                raise InputTypeError(
                    f"{kernel.name}: {arg.name} must be a {_DTYPES[arg.kind].name} array, "
                    f"got dtype {dtype}"
                )
            value = arrays(value, _DTYPES[arg.kind])
            shapes.bind(arg.name, arg.dims, tuple(value.shape))
        elif arg.kind == "count":
            value = _positive_int(kernel, arg.name, value)
            shapes.define("S", value, arg.name)
        elif arg.kind == "shape":
            value = tuple(_positive_int(kernel, arg.name, v) for v in _pair(kernel, arg.name,
                                                                          value, int))
        elif arg.kind == "grid_size":
            value = tuple(_positive_int(kernel, arg.name, v) for v in _pair(kernel, arg.name,
                                                                          value, operator.index))
        elif arg.kind == "pair":
            value = _pair(kernel, arg.name, value, float)
        elif arg.kind == "scalar":
            value = _scalar(kernel, arg.name, value, arrays)
        elif arg.kind == "chunk" and value != "auto":
            value = _positive_int(kernel, arg.name, value)
        out[arg.name] = value
    if kernel.largest_array:
        dims = [shapes.sizes[d] for d in kernel.largest_array.split()]
        _memory.require(kernel.name, 8 * int(np.prod(dims)), kernel.largest_array,
                        kernel.alternative)
    return out
