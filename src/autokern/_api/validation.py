"""Input checks shared by every backend, run at each public entry point before compiled code.

:func:`check` reads a kernel's catalogue entry and, for each argument, converts it to its
canonical form (float64 / complex128 / int64, C-contiguous; Python scalars and tuples), checks
its rank, binds the shape symbols of the catalogue (``K``, ``M``, ``S``, …) so that every array
agrees with the others, checks values (:data:`VALUE_RULES`: finite, positive noise and pixel
scales, indices in [-1, S), lattice offsets that fit the w-compact or precision operator they
index; every field of a VisibilityTerms finite), and
refuses a dense result that would not fit the memory budget before anything is allocated.

Finiteness is checked with one summation pass (a NaN or inf anywhere makes the sum
non-finite), and only a failing sum pays for locating the bad entry.

On the JAX backend, conversion keeps tracers as they are, so ``jit``, ``grad`` and ``vmap``
work through the public functions; NumPy visibilities given to a reduction over K stay NumPy
(they stream to the device chunk by chunk).  Shapes and dtypes are checked under tracing too; values
only where the argument is concrete (not a tracer).
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from autokern._runtime import memory, parallelism
from autokern._shared.inversion import Inversion
from autokern._shared.visibility_terms import VisibilityTerms
from autokern.errors import AutokernError, InputShapeError, InputTypeError, InputValueError

if TYPE_CHECKING:
    from autokern.catalogue import Arg, Kernel

ArrayConverter = Callable[[Any, np.dtype], Any]

_DTYPES = {
    "float": np.dtype(np.float64),
    "complex": np.dtype(np.complex128),
    "int": np.dtype(np.int64),
    "bool": np.dtype(np.bool_),
    "matrix": np.dtype(np.float64),
}
#: dtype kinds accepted for each argument kind ("b" bool, "i"/"u" ints, "f" floats, "c" complex)
#: complex arguments (visibilities, their noise) must be complex: taking ``.real`` of real input
#: would silently drop the imaginary part
_ACCEPTED_KINDS = {"float": "iuf", "matrix": "iuf", "complex": "c", "int": "iu", "bool": "b"}
#: shape symbols that may be 0 (no zeroed pixels)
_MAY_BE_EMPTY = frozenset({"Z"})
_DERIVED_DIM = re.compile(r"^(?:(\d+))?([A-Za-z]\w*)(?:([+-])(\d+))?$")


def _numpy_array(value: Any, dtype: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(value, dtype=dtype)


def _jax_array(value: Any, dtype: np.dtype) -> Any:
    import jax.numpy as jnp

    if hasattr(value, "todense") and hasattr(value, "indices"):  # a BCOO matrix: keep sparse
        return value
    return jnp.asarray(value, dtype=dtype)


def converter(arrays: str) -> ArrayConverter:
    """How a backend whose kernels take ``arrays`` ("numpy" or "jax", its declared ``ARRAYS``)
    turns an argument into its canonical array type."""
    return _jax_array if arrays == "jax" else _numpy_array


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
            if rem or base < (0 if symbol in _MAY_BE_EMPTY else 1):
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
    """A real number: a Python float, or on JAX a 0-d array (tracers stay differentiable)."""
    dtype = _dtype_of(value) if hasattr(value, "dtype") else None
    if np.ndim(value) != 0 or (dtype is not None and dtype.kind not in "iuf") or \
            isinstance(value, (str, bytes, complex)):
        raise InputTypeError(
            f"{kernel.name}: {name} must be a real number, got {type(value).__name__} {value!r}"
        )
    if backend_arrays is _jax_array:
        return backend_arrays(value, np.dtype(np.float64))
    return float(value)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" or word.startswith("int") else "a"


def _host_rows(kernel: Kernel, arg: Arg, value: Any, arrays: ArrayConverter) -> ArrayConverter:
    """``arrays``, except NumPy for a NumPy array of visibilities given to a JAX reduction over
    K: it streams to the device chunk by chunk (:mod:`autokern.jax._chunks`), never whole."""
    if arrays is _jax_array and kernel.family == "reductions" and arg.dims[:1] == ("K",) \
            and isinstance(value, np.ndarray):
        return _numpy_array
    return arrays


def _normalise(kernel: Kernel, arg: Arg, value: Any, arrays: ArrayConverter,
               shapes: _Shapes) -> Any:
    """One argument in canonical form, its shape symbols bound in ``shapes``."""
    if arg.kind in ("pixel_set", "optional_count", "optional_scalar", "optional_float") and \
            value is None:
        return None
    if arg.kind == "optional_float":  # a float64 array when given
        arg = dataclasses.replace(arg, kind="float")
    if arg.kind == "pixel_set":  # int indexes (Z,)
        value = np.asarray(value) if isinstance(value, (list, tuple)) else value
        dtype = _dtype_of(value)
        if dtype.kind not in "iu":
            raise InputTypeError(
                f"{kernel.name}: {arg.name} must be None or an int64 array of source pixel "
                f"indexes, got dtype {dtype}")
        value = arrays(value, _DTYPES["int"])
        shapes.bind(arg.name, arg.dims, tuple(value.shape))
        return value
    if arg.kind == "optional_count":
        return _positive_int(kernel, arg.name, value)
    if arg.kind in _DTYPES:
        dtype = _dtype_of(value)
        if dtype.kind not in _ACCEPTED_KINDS[arg.kind]:
            raise InputTypeError(
                f"{kernel.name}: {arg.name} must be {_article(_DTYPES[arg.kind].name)} "
                f"{_DTYPES[arg.kind].name} array, got dtype {dtype}"
            )
        value = _host_rows(kernel, arg, value, arrays)(value, _DTYPES[arg.kind])
        shapes.bind(arg.name, arg.dims, tuple(value.shape))
        return value
    if arg.kind == "count":
        value = _positive_int(kernel, arg.name, value)
        shapes.define("S", value, arg.name)
        return value
    if arg.kind in ("shape", "grid_size"):
        return tuple(_positive_int(kernel, arg.name, v)
                     for v in _pair(kernel, arg.name, value, operator.index))
    if arg.kind == "pair":
        return _pair(kernel, arg.name, value, float)
    if arg.kind == "scalar":
        return _scalar(kernel, arg.name, value, arrays)
    if arg.kind == "chunk" and not (isinstance(value, str) and value == "auto"):
        return _positive_int(kernel, arg.name, value)
    if arg.kind == "choice":
        if not isinstance(value, str) or value not in arg.choices:
            raise InputValueError(
                f"{kernel.name}: {arg.name} must be one of {', '.join(map(repr, arg.choices))}, "
                f"got {value!r}"
            )
        return value
    if arg.kind == "tolerance":
        value = float(value)
        if not 0.0 < value < 1.0:
            raise InputValueError(f"{kernel.name}: {arg.name} must lie in (0, 1), got {value}")
        return value
    if arg.kind == "terms":
        _bind_sums(kernel, arg.name, value, VisibilityTerms,
                   "autokern.terms.VisibilityTerms (from visibility_terms_from)", shapes)
        _check_terms_finite(kernel, arg.name, value)
        return value
    if arg.kind == "inversion":
        return _inversion(kernel, arg.name, value, arrays, shapes)
    if arg.kind == "optional_scalar":
        return _scalar(kernel, arg.name, value, arrays)
    if arg.kind == "flag":
        if not isinstance(value, (bool, np.bool_)):
            raise InputTypeError(f"{kernel.name}: {arg.name} must be True or False, got "
                                 f"{value!r}")
        return bool(value)
    return value


def _bind_sums(kernel: Kernel, name: str, value: Any, expected: type, what: str,
               shapes: _Shapes) -> None:
    """Check that ``value`` is an ``expected`` (VisibilityTerms or Inversion) and bind the
    shapes of its w-compact (Ny, 2Nx-1) and dirty image (M,)."""
    if not isinstance(value, expected):
        raise InputTypeError(f"{kernel.name}: {name} must be an {what}, got "
                             f"{type(value).__name__}")
    shapes.bind(f"{name}.w_compact", ("Ny", "2Nx-1"), tuple(value.w_compact.shape))
    shapes.bind(f"{name}.dirty_image", ("M",), tuple(value.dirty_image.shape))


#: the fields of a VisibilityTerms that must be finite: a NaN there surfaced only as "F + H is
#: not symmetric positive definite", far from its cause
_TERMS_FINITE = ("w_compact", "dirty_image", "data_chi_squared", "noise_normalization")


def _check_terms_finite(kernel: Kernel, name: str, terms: VisibilityTerms) -> None:
    """Refuse a VisibilityTerms with a NaN or inf in any field, naming it (``name.field``);
    traced fields are left to the computation."""
    for field in _TERMS_FINITE:
        value = _concrete(getattr(terms, field))
        problem = None if value is None else _finite(field, np.asarray(value), {})
        if problem:
            raise InputValueError(f"{kernel.name}: {name}.{field} {problem}")


def _inversion(kernel: Kernel, name: str, value: Any, arrays: ArrayConverter,
               shapes: _Shapes) -> Inversion:
    """An Inversion with its arrays on this backend (converted when it was built on another),
    its shapes bound (Ny, Nx, M)."""
    _bind_sums(kernel, name, value, Inversion,
               "autokern.inversion.Inversion (from inversion_from)", shapes)
    shapes.bind(f"{name}.native_index_for_slim_index", ("M", "2"),
                tuple(value.native_index_for_slim_index.shape))
    converted = {
        "w_compact": arrays(value.w_compact, _DTYPES["float"]),
        "dirty_image": arrays(value.dirty_image, _DTYPES["float"]),
        "native_index_for_slim_index": arrays(value.native_index_for_slim_index,
                                              _DTYPES["int"]),
    }
    if all(converted[k] is getattr(value, k) for k in converted):
        return value
    return dataclasses.replace(value, **converted)


def check(kernel: Kernel, arguments: dict[str, Any], arrays: ArrayConverter) -> dict[str, Any]:
    """Validate and normalise the bound ``arguments`` of ``kernel``; return them normalised
    (the thread settings are checked first:
    :func:`autokern._runtime.parallelism.check_thread_settings`)."""
    parallelism.check_thread_settings()
    shapes = _Shapes(kernel)
    out: dict[str, Any] = {}
    for arg in kernel.args:
        try:
            out[arg.name] = _normalise(kernel, arg, arguments[arg.name], arrays, shapes)
        except AutokernError:
            raise
        except (TypeError, ValueError, OverflowError) as error:
            raise InputTypeError(
                f"{kernel.name}: {arg.name} could not be read as {arg.kind} "
                f"({type(error).__name__}: {error})"
            ) from error
    _check_values(kernel, out, shapes.sizes)
    if kernel.largest_array:
        dims = [shapes.sizes[d] for d in kernel.largest_array.split()]
        memory.require(kernel.name, 8 * int(np.prod(dims)), kernel.largest_array,
                       kernel.alternative)
    return out


# --- values ---------------------------------------------------------------------------------

def _concrete(value: Any) -> np.ndarray | None:
    """A NumPy view of ``value``, or None for a JAX tracer or a sparse matrix."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "todense"):
        return None
    if type(value).__module__.startswith("jax"):
        from jax.core import Tracer

        if isinstance(value, Tracer):
            return None
    return np.asarray(value)


def _finite(name: str, value: np.ndarray, sizes: dict[str, int]) -> str | None:
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(value)):
            return None
    bad = ~np.isfinite(value)
    if bad.any():
        if not value.ndim:
            return f"must be finite, found {value}"
        where = np.unravel_index(np.argmax(bad), value.shape)
        return f"must be finite, found {value[where]} at index {tuple(map(int, where))}"
    return None


def _positive(name: str, value: np.ndarray, sizes: dict[str, int]) -> str | None:
    if np.iscomplexobj(value) and value.flags.c_contiguous and value.dtype == np.complex128 \
            and np.all(value.view(np.float64) > 0):  # one contiguous pass, not two strided
        return None
    for part, values in (("", value.real), ("imaginary part ", value.imag)) \
            if np.iscomplexobj(value) else (("", value),):
        if np.any(values <= 0):
            where = np.unravel_index(np.argmin(values), values.shape) if values.ndim else ()
            return (f"{part}must be strictly positive, found {values[where]} at index "
                    f"{tuple(map(int, where))}")
    return None


def _in_range(low: int | str, high: str, inclusive: bool = False):
    """Check that integer entries lie in [low, sizes[high]) (or ] when ``inclusive``)."""

    def rule(name: str, value: np.ndarray, sizes: dict[str, int]) -> str | None:
        if high not in sizes or value.size == 0:
            return None
        top = sizes[high] + (1 if inclusive else 0)
        lo = low if isinstance(low, int) else sizes[low]
        bad = (value < lo) | (value >= top)
        if bad.any():
            where = np.unravel_index(np.argmax(bad), value.shape)
            bracket = "]" if inclusive else ")"
            limit = f"{high}={sizes[high]}"
            return (f"must lie in [{lo}, {limit}{bracket}, found {value[where]} at index "
                    f"{tuple(map(int, where))}")
        return None

    return rule


def _sky_angle(name: str, value: np.ndarray, sizes: dict[str, int]) -> str | None:
    """Angles on the sky: |value| ≤ π radians (648 000 arcsec for pixel scales)."""
    limit = 648000.0 if name.startswith("pixel_scale") else np.pi
    if np.any(np.abs(value) > limit):
        return f"must be an angle on the sky (|value| <= {limit:g}), found {np.max(np.abs(value))}"
    return None


#: tile side (entries) of the symmetry check
_SYMMETRY_TILE = 256


def _symmetric(name: str, value: np.ndarray, sizes: dict[str, int]) -> str | None:
    """A symmetric matrix, to within round-off (1e-10 of its largest entry): LAPACK reads one
    triangle and JAX's Cholesky averages both, so a non-symmetric one means two answers."""
    scale = np.max(np.abs(value), initial=0.0)
    asymmetry = 0.0
    # tile against mirrored tile: A - Aᵀ whole reads Aᵀ across rows, a cache miss each
    for i in range(0, value.shape[0], _SYMMETRY_TILE):
        for j in range(i, value.shape[1], _SYMMETRY_TILE):
            tile = value[i:i + _SYMMETRY_TILE, j:j + _SYMMETRY_TILE]
            mirror = value[j:j + _SYMMETRY_TILE, i:i + _SYMMETRY_TILE].T
            asymmetry = max(asymmetry, float(np.max(np.abs(tile - mirror), initial=0.0)))
    if asymmetry > 1e-10 * scale:
        return f"must be symmetric, found |A - Aᵀ| up to {asymmetry:g} (max |A| = {scale:g})"
    return None


def _symmetric_lags(name: str, value: np.ndarray, sizes: dict[str, int]) -> str | None:
    """A precision operator of a symmetric W̃: the lag (p, q) equals the lag (-p, -q)
    (wrap-around order), to within 1e-10 of its largest entry; the curvature cores use W̃'s
    symmetry."""
    mirrored = np.roll(value[::-1, ::-1], (1, 1), axis=(0, 1))
    scale = np.max(np.abs(value), initial=0.0)
    asymmetry = np.max(np.abs(value - mirrored), initial=0.0)
    if asymmetry > 1e-10 * scale:
        return (f"must hold the lags of a symmetric W̃ (lag (p, q) equal to lag (-p, -q)), found "
                f"differences up to {asymmetry:g} (max |entry| = {scale:g})")
    return None


def _non_negative(name: str, value: np.ndarray, sizes: dict[str, int]) -> str | None:
    if value.size and value.min() < 0:
        return f"must be non-negative, found {value.min()}"
    return None


#: Value checks by argument name (names are the same in every kernel).
VALUE_RULES: dict[str, tuple[Callable[..., str | None], ...]] = {
    "data": (_finite,),
    "w_tilde": (_finite, _symmetric),
    "mapping_matrix": (_finite,),
    "matrix": (_finite,),
    "noise_map": (_finite, _positive),
    "noise_map_real": (_finite, _positive),
    "uv_wavelengths": (_finite,),
    "grid_radians_slim": (_finite, _sky_angle),
    "grid_radians_2d": (_finite, _sky_angle),
    "w_compact": (_finite,),
    "nufft_precision_operator": (_finite, _symmetric_lags),
    "pix_weights_for_sub_slim_index": (_finite,),
    "dirty_image": (_finite,),
    "image": (_finite,),
    "linear_light_images": (_finite,),
    "linear_light_curvature_diagonal": (_finite, _non_negative),
    "data_vector": (_finite,),
    "curvature_reg_matrix": (_finite, _symmetric),
    "pixel_scale": (_finite, _positive, _sky_angle),
    "pixel_scales": (_finite, _positive, _sky_angle),
    "radius": (_finite, _non_negative),
    "centre": (_finite,),
    "coefficient": (_finite, _non_negative),
    "log_det_regularization_matrix_term": (_finite,),
    "native_index_for_slim_index": (_non_negative,),
    "pix_indexes_for_sub_slim_index": (_in_range(-1, "S"),),
    "neighbors": (_in_range(-1, "S"),),
    "zeroed_pixels": (_in_range(0, "S"),),
    "slim_index_for_sub_slim_index": (_in_range(0, "M"),),
    "sub_fraction": (_finite, _positive),
    "curvature_matrix": (_finite, _symmetric),
    "regularization_matrix": (_finite, _symmetric),
    "pix_sizes_for_sub_slim_index": (_in_range(0, "B", inclusive=True),),
    "neighbors_sizes": (_in_range(0, "P", inclusive=True),),
}


def _check_values(kernel: Kernel, arguments: dict[str, Any], sizes: dict[str, int]) -> None:
    concrete = {}
    for name, rules in VALUE_RULES.items():
        if arguments.get(name) is None:
            continue
        value = _concrete(arguments[name])
        if value is None:
            continue
        concrete[name] = value
        for rule in rules:
            problem = rule(name, np.asarray(value), sizes)
            if problem:
                raise InputValueError(f"{kernel.name}: {name} {problem}")
    noise = concrete.get("noise_map")
    if noise is not None and _builds_or_uses_w_tilde(kernel):
        _check_equal_noise(kernel, noise)
    extent = arguments.get("shape_masked_pixels_2d")
    if extent is not None and "Gy" in sizes and (sizes["Gy"] < extent[0] or
                                                 sizes["Gx"] < extent[1]):
        raise InputShapeError(
            f"{kernel.name}: grid_radians_2d covers ({sizes['Gy']}, {sizes['Gx']}) pixels, "
            f"less than shape_masked_pixels_2d = {tuple(extent)}"
        )
    native = concrete.get("native_index_for_slim_index")
    if native is not None and native.size:
        _check_lattice_fits(kernel, native, sizes)


def _builds_or_uses_w_tilde(kernel: Kernel) -> bool:
    """Whether ``kernel`` pairs the complex noise map with a W̃: one it is given, or one it
    builds by composing a W̃ reduction (read off the catalogue, not a list of names)."""
    names = {a.name for a in kernel.args}
    builds = {"w_compact_curvature_interferometer_from", "w_tilde_curvature_interferometer_from",
              "nufft_precision_operator_from"} & set(kernel.composed_of or ())
    return "noise_map" in names and bool(names & {"w_tilde", "w_compact"} or builds)


#: Re σ and Im σ count as equal within this relative difference
EQUAL_NOISE_RTOL = 1e-12


def _check_equal_noise(kernel: Kernel, noise: np.ndarray) -> None:
    """W̃ is Σ cos(φ_i − φ_j)/σ² only when Re σ = Im σ; with unequal parts the χ² the kernel
    would compute mixes two noise models, so it is refused instead."""
    if np.array_equal(noise.real, noise.imag):  # the usual case, in one pass
        return
    difference = np.abs(noise.real - noise.imag)
    if np.any(difference > EQUAL_NOISE_RTOL * np.abs(noise.real)):
        worst = int(np.argmax(difference / np.abs(noise.real)))
        raise InputValueError(
            f"{kernel.name}: noise_map has unequal real and imaginary parts (at index {worst}: "
            f"{noise[worst]}); W̃ (w_tilde / w_compact) is built from Re σ alone, which is "
            "exact only when Re σ = Im σ. Pool them first, e.g. sigma = np.sqrt((noise_map.real"
            "**2 + noise_map.imag**2) / 2); noise_map = sigma + 1j * sigma (and rebuild W̃ "
            "from sigma)"
        )


def _check_lattice_fits(kernel: Kernel, native: np.ndarray, sizes: dict[str, int]) -> None:
    """Every offset between two unmasked pixels must have an entry in the w-compact or the
    precision operator."""
    if "Ny" not in sizes:
        return
    span = native.max(axis=0) - native.min(axis=0) + 1
    if span[0] > sizes["Ny"] or span[1] > sizes["Nx"]:
        raise InputValueError(
            f"{kernel.name}: native_index_for_slim_index spans ({span[0]}, {span[1]}) pixels, "
            f"more than the (Ny, Nx) = ({sizes['Ny']}, {sizes['Nx']}) extent its "
            "w-compact/precision operator covers"
        )
