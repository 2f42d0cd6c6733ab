"""Adapter between the downstream lensing library (PyAutoArray / PyAutoLens) and autokern.

The library keeps what autokern's kernels take in its dataset (``aa.Interferometer``), its
inversion (``fit.inversion``) and the inversion's mapper; this module reads them out as plain
arrays in autokern's layouts, and goes the other way for the precision operator::

    import autolens as al
    from autokern.autoarray import arrays_from, log_evidence_of, precision_operator_for

    fit = al.FitInterferometer(dataset=dataset, tracer=tracer, ...)
    arrays = arrays_from(fit)                    # LibraryArrays: data, mapping, H, solver, ...
    log_evidence_of(fit, backend="numba")        # == fit.log_evidence (to ~1e-12 relative)

    inversion = inversion_of(fit, backend="numba")            # once per dataset, then per call:
    log_evidence_of(fit, backend="numba", inversion=inversion)  # no work of size K

    # autokern's preload, handed to the library instead of the library's own build
    dataset = dataset.apply_sparse_operator(
        nufft_precision_operator=precision_operator_for(dataset, backend="numba"))

Supported: one pixelization (one ``Mapper``, any mesh and any regularization scheme, its H taken
as the library built it), over-sampled pixelization grids (the sub-pixel mapping is reduced to
one row per image pixel by ``mapping_from_sub_pixels``), the positive-only solve with the
library's edge zeroing and the linear solve, light profiles subtracted by the fit (the
inversion's own visibilities are used), and a primary beam (folded into the mapping weights, as
the library folds it into its mapping matrix).  Not supported: imaging fits (no visibilities),
linear light profiles or several pixelizations in one inversion (an ``InputValueError`` says
so).

Importing this module needs the library: without it the import raises
:class:`autokern.errors.MissingDependencyError` naming the ``autolens`` extra.
"""

from __future__ import annotations

import os as _os
from dataclasses import dataclass
from typing import Any

import numpy as np

from autokern._api.dispatch import get_kernel
from autokern._runtime.parallelism import (
    choose_fork_safe_threading_layer as _choose_fork_safe_threading_layer,
)
from autokern._runtime.parallelism import one_blas_thread as _one_blas_thread
from autokern._shared.inversion import Inversion
from autokern._shared.lattice import DEFAULT_EPS
from autokern.errors import InputValueError, MissingDependencyError

try:
    import autoarray as _aa
except ImportError as _error:  # pragma: no cover - exercised only without the library
    raise MissingDependencyError(
        "autokern.autoarray adapts the lensing library's objects (PyAutoArray / PyAutoLens), "
        'which is not installed: pip install "autokern[autolens]"'
    ) from _error

# the library runs Numba kernels of its own (its precision operator, its mapper): Numba's
# threading layer is chosen here, before they start its threads, so that it is the fork-safe
# one autokern's kernels choose (GNU OpenMP, Numba's default otherwise, aborts a fork pool's
# workers, and its spinning threads slow the single-threaded parts of a likelihood)
_choose_fork_safe_threading_layer()

__all__ = ["AnalysisInterferometer", "LibraryArrays", "arrays_from", "inversion_of",  # noqa: F822
           "log_evidence_of",
           "precision_operator_for"]

#: the two values of ``solver``, from the library's ``Settings.use_positive_only_solver``
POSITIVE_ONLY, POSITIVE_NEGATIVE = "positive_only", "positive_negative"


@dataclass(frozen=True, eq=False)
class LibraryArrays:
    """Everything autokern's inversion kernels take, read from one library fit.

    Shapes: K visibilities, M unmasked image pixels, (Ny, Nx) their extent, S source pixels,
    B mappings per image pixel (after merging sub-pixels), P neighbours per source pixel,
    Z zeroed source pixels.

    Attributes
    ----------
    data : complex128 (K,)
        The visibilities the inversion fits (the dataset's, less any light profiles the fit
        subtracted), in the library's units (Jy).
    noise_map : complex128 (K,)
        Noise σ: real part for Re V, imaginary part for Im V.
    uv_wavelengths : float64 (K, 2)
        Baselines (u, v) in wavelengths.
    grid_radians_slim : float64 (M, 2)
        (y, x) of each unmasked pixel centre in radians, slim (row-major) order.
    native_index_for_slim_index : int64 (M, 2)
        (row, col) of each unmasked pixel on the mask's native grid.
    shape_masked_pixels_2d : (int, int)
        (Ny, Nx), the extent of the unmasked pixels, in pixels.
    pixel_scale : float
        Pixel scale in arcseconds (square pixels).
    pix_indexes_for_sub_slim_index : int64 (M, B)
        Source pixel of each mapping entry of each image pixel, sub-pixels merged (duplicates
        summed, sorted by source pixel), -1 padded.
    pix_weights_for_sub_slim_index : float64 (M, B)
        Weight of each entry: Σ over the pixel's sub-pixels of sub_fraction × interpolation
        weight, times the primary beam at that pixel when the dataset has one.
    pix_sizes_for_sub_slim_index : int64 (M,)
        Number of valid entries in each row.
    pixels : int
        S, the number of source pixels (the mapper's parameters).
    neighbors : int64 (S, P)
        Neighbours of each source pixel, -1 padded (the mesh's neighbour graph).
    neighbors_sizes : int64 (S,)
        Number of valid neighbours of each source pixel.
    zeroed_pixels : int64 (Z,)
        Source pixels the positive-only solve fixes at zero; empty unless the library's
        settings zero them (positive-only solver with edge zeroing).
    regularization_matrix : float64 (S, S)
        H exactly as the library built it (any scheme: constant, adaptive, split, ...).
    solver : "positive_only" | "positive_negative"
        The library's solver (``Settings.use_positive_only_solver``).
    nufft_precision_operator : float64 (2Ny, 2Nx) or None
        The library's cached precision operator (preload layout) when the dataset has a sparse
        operator (``apply_sparse_operator``), else None.
    """

    data: np.ndarray
    noise_map: np.ndarray
    uv_wavelengths: np.ndarray
    grid_radians_slim: np.ndarray
    native_index_for_slim_index: np.ndarray
    shape_masked_pixels_2d: tuple[int, int]
    pixel_scale: float
    pix_indexes_for_sub_slim_index: np.ndarray
    pix_weights_for_sub_slim_index: np.ndarray
    pix_sizes_for_sub_slim_index: np.ndarray
    pixels: int
    neighbors: np.ndarray
    neighbors_sizes: np.ndarray
    zeroed_pixels: np.ndarray
    regularization_matrix: np.ndarray
    solver: str
    nufft_precision_operator: np.ndarray | None = None

    def __repr__(self) -> str:
        m, b = self.pix_indexes_for_sub_slim_index.shape
        return (f"LibraryArrays(K={len(self.data)}, M={m}, extent={self.shape_masked_pixels_2d}, "
                f"S={self.pixels}, B={b}, solver={self.solver!r}, "
                f"zeroed={len(self.zeroed_pixels)}, "
                f"precision_operator={self.nufft_precision_operator is not None})")


def _array(value: Any, dtype: Any) -> np.ndarray:
    """A C-contiguous NumPy copy of a library structure (``.array`` when it has one)."""
    return np.ascontiguousarray(np.asarray(getattr(value, "array", value)), dtype=dtype)


def _mask_geometry(mask: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, int], float]:
    """(grid_radians_slim, native_index_for_slim_index, shape_masked_pixels_2d, pixel_scale)
    of a ``Mask2D``, with the library's own expressions (``Grid2D.from_mask(...).in_radians``
    is the grid its ``TransformerNUFFT`` transforms on)."""
    dy, dx = (float(d) for d in mask.pixel_scales)
    if dy != dx:
        raise InputValueError(
            f"autokern.autoarray: the real-space mask must have square pixels, got pixel_scales "
            f"{(dy, dx)}")
    grid = _array(_aa.Grid2D.from_mask(mask=mask).in_radians, np.float64)
    native = _array(mask.derive_indexes.native_for_slim, np.int64)
    extent = tuple(int(n) for n in mask.shape_native_masked_pixels)
    return grid, native, extent, dy


def _interferometer(dataset: Any, function: str) -> Any:
    """``dataset``, or ``InputValueError`` naming what ``function`` needs when it is not an
    interferometer's (an ``Imaging`` has no ``uv_wavelengths``: an ``AttributeError`` deep
    inside otherwise)."""
    if not hasattr(dataset, "uv_wavelengths"):
        raise InputValueError(
            f"autokern.autoarray.{function} needs an interferometer dataset (al.Interferometer, "
            "its fit an al.FitInterferometer) holding visibilities: data, noise_map and "
            f"uv_wavelengths; got {type(dataset).__name__}")
    return dataset


def _single_mapper(inversion: Any) -> Any:
    """The inversion's one linear object, a ``Mapper``; anything else is refused by name."""
    from autoarray.inversion.mappers.abstract import Mapper

    objects = list(inversion.linear_obj_list)
    if len(objects) != 1 or not isinstance(objects[0], Mapper):
        kinds = [type(o).__name__ for o in objects]
        raise InputValueError(
            f"autokern.autoarray supports an inversion of exactly one pixelization (one Mapper) "
            f"and no linear light profiles; this inversion has {kinds}")
    return objects[0]


def _primary_beam_slim(dataset: Any) -> np.ndarray | None:
    """The dataset's primary beam per unmasked pixel (M,), or None (the library's
    ``primary_beam_slim``, also carried by its sparse operator)."""
    beam = getattr(dataset, "primary_beam_slim", None)
    if beam is None:
        beam = getattr(getattr(dataset, "sparse_operator", None), "primary_beam_slim", None)
    return None if beam is None else _array(beam, np.float64)


def _reduced_mapping(mapper: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mapper's sub-pixel mapping reduced to one row per image pixel (autokern's
    ``mapping_from_sub_pixels``: T[m, s] = sub_fraction[m] Σ_j Σ_b w[j, b])."""
    reduce = get_kernel("mapping_from_sub_pixels", "original")
    over_sampler = mapper.over_sampler
    indexes, weights, sizes = reduce(
        _array(mapper.pix_indexes_for_sub_slim_index, np.int64),
        _array(mapper.pix_weights_for_sub_slim_index, np.float64),
        _array(mapper.pix_sizes_for_sub_slim_index, np.int64),
        _array(over_sampler.slim_for_sub_slim, np.int64),
        _array(over_sampler.sub_fraction, np.float64),
        int(mapper.params))
    return np.asarray(indexes), np.asarray(weights), np.asarray(sizes)


def arrays_from(fit_or_dataset: Any, inversion: Any | None = None) -> LibraryArrays:
    """Read everything autokern's inversion takes out of a library fit.

    Call as ``arrays_from(fit)`` with an ``al.FitInterferometer`` / ``aa.FitInterferometer``
    (its ``.dataset`` and ``.inversion`` are used), or ``arrays_from(dataset, inversion)`` with
    an ``aa.Interferometer`` and the inversion of a fit to it.

    Where each field comes from (``mapper = inversion.linear_obj_list[0]``):

    - ``data``, ``noise_map``: ``inversion.data`` / ``inversion.noise_map`` (the visibilities the
      inversion fits; the dataset's ``data`` / ``noise_map`` when the inversion holds none,
      as the library's sparse route does when nothing is subtracted);
    - ``uv_wavelengths``: ``dataset.uv_wavelengths``;
    - ``grid_radians_slim``: ``aa.Grid2D.from_mask(mask=dataset.real_space_mask).in_radians``;
      ``native_index_for_slim_index``: ``real_space_mask.derive_indexes.native_for_slim``;
      ``shape_masked_pixels_2d``: ``real_space_mask.shape_native_masked_pixels``;
      ``pixel_scale``: ``real_space_mask.pixel_scales[0]``;
    - the mapping: ``mapper.pix_indexes_for_sub_slim_index``, ``pix_weights_for_sub_slim_index``,
      ``pix_sizes_for_sub_slim_index``, ``mapper.over_sampler.slim_for_sub_slim`` and
      ``.sub_fraction``, reduced by autokern's ``mapping_from_sub_pixels``, then multiplied per
      image pixel by ``dataset.primary_beam_slim`` when there is one;
    - ``pixels``: ``mapper.params``; ``neighbors``, ``neighbors_sizes``: ``mapper.neighbors``
      and ``mapper.neighbors.sizes``;
    - ``zeroed_pixels``: ``mapper.zeroed_pixels`` when ``inversion.settings`` has both
      ``use_positive_only_solver`` and ``use_edge_zeroed_pixels`` (the library zeroes only then),
      else empty; ``solver``: from ``inversion.settings.use_positive_only_solver``;
    - ``regularization_matrix``: ``inversion.regularization_matrix``;
    - ``nufft_precision_operator``: ``dataset.sparse_operator.nufft_precision_operator``.

    Raises :class:`autokern.errors.InputValueError` for a fit autokern cannot evaluate (an
    imaging fit, linear light profiles, several pixelizations, a dataset without visibilities,
    non-square pixels).
    """
    dataset = _interferometer(fit_or_dataset if inversion is not None else
                              fit_or_dataset.dataset, "arrays_from")
    if inversion is None:
        inversion = fit_or_dataset.inversion
        if inversion is None:
            raise InputValueError(
                "autokern.autoarray.arrays_from: this fit has no inversion (no pixelization); "
                "there is nothing for autokern to evaluate")
    mapper = _single_mapper(inversion)

    data = getattr(inversion, "data", None)
    data = dataset.data if data is None else data
    noise_map = getattr(inversion, "noise_map", None)
    noise_map = dataset.noise_map if noise_map is None else noise_map
    if data is None or noise_map is None or dataset.uv_wavelengths is None:
        raise InputValueError(
            "autokern.autoarray.arrays_from: the dataset holds no visibilities (an array-free "
            "Interferometer built from sparse terms); autokern needs data, noise_map and "
            "uv_wavelengths")

    grid, native, extent, pixel_scale = _mask_geometry(dataset.real_space_mask)
    indexes, weights, sizes = _reduced_mapping(mapper)
    beam = _primary_beam_slim(dataset)
    if beam is not None:
        weights = weights * beam[:, None]

    settings = inversion.settings
    positive_only = bool(settings.use_positive_only_solver)
    if positive_only and bool(settings.use_edge_zeroed_pixels):
        zeroed = _array(mapper.zeroed_pixels, np.int64).reshape(-1)
    else:
        zeroed = np.zeros(0, dtype=np.int64)

    neighbors = mapper.neighbors
    operator = getattr(dataset, "sparse_operator", None)
    preload = getattr(operator, "nufft_precision_operator", None)
    return LibraryArrays(
        data=_array(data, np.complex128),
        noise_map=_array(noise_map, np.complex128),
        uv_wavelengths=_array(dataset.uv_wavelengths, np.float64),
        grid_radians_slim=grid,
        native_index_for_slim_index=native,
        shape_masked_pixels_2d=extent,
        pixel_scale=pixel_scale,
        pix_indexes_for_sub_slim_index=indexes,
        pix_weights_for_sub_slim_index=np.ascontiguousarray(weights),
        pix_sizes_for_sub_slim_index=sizes,
        pixels=int(mapper.params),
        neighbors=_array(neighbors, np.int64),
        neighbors_sizes=_array(neighbors.sizes, np.int64),
        zeroed_pixels=zeroed,
        regularization_matrix=_array(inversion.regularization_matrix, np.float64),
        solver=POSITIVE_ONLY if positive_only else POSITIVE_NEGATIVE,
        nufft_precision_operator=None if preload is None else _array(preload, np.float64),
    )


def inversion_of(fit_or_arrays: Any, backend: str = "numba", *, method: str = "auto",
                 curvature_method: str = "auto") -> Inversion:
    """autokern's reusable :class:`~autokern.inversion.Inversion` of the visibilities a fit
    inverts (``visibility_terms_from`` → ``inversion_from``): build it once per dataset and
    pass it to :func:`log_evidence_of` in the sampler, so that no call does work of size K.
    Valid for every fit of the same dataset whose inverted visibilities do not change (no light
    profiles subtracted: their visibilities change with the model)."""
    arrays = fit_or_arrays if isinstance(fit_or_arrays, LibraryArrays) else \
        arrays_from(fit_or_arrays)
    terms = get_kernel("visibility_terms_from", backend)(
        arrays.data, arrays.noise_map, arrays.uv_wavelengths, arrays.grid_radians_slim,
        arrays.native_index_for_slim_index, arrays.pixel_scale, method=method)
    return get_kernel("inversion_from", backend)(terms, arrays.native_index_for_slim_index,
                                                 curvature_method=curvature_method)


def log_evidence_of(fit: Any, backend: str = "numba", *, inversion: Inversion | None = None,
                    method: str = "auto", curvature_method: str = "auto") -> float:
    """The library's ``fit.log_evidence``, computed by autokern from :func:`arrays_from`.

    ``inversion`` (from :func:`inversion_of`, built once per dataset) is the per-dataset part;
    without it one is built from the fit's visibilities (``method`` as in
    ``visibility_terms_from``: "auto", "direct" or "nufft"; ``curvature_method`` as in
    ``inversion_from``).  Then ``inversion_result_from`` with the library's mapping, its H, its
    solver and its zeroed pixels, on ``backend`` ("original", "numba" or "jax").  Also accepts
    an ``arrays_from`` result in place of the fit.  Returns a Python float (the log evidence,
    dimensionless).
    """
    arrays = fit if isinstance(fit, LibraryArrays) else arrays_from(fit)
    if inversion is None:
        inversion = inversion_of(arrays, backend, method=method,
                                 curvature_method=curvature_method)
    result = get_kernel("inversion_result_from", backend)(
        inversion, arrays.pix_indexes_for_sub_slim_index, arrays.pix_weights_for_sub_slim_index,
        arrays.regularization_matrix, solver=arrays.solver,
        zeroed_pixels=arrays.zeroed_pixels if len(arrays.zeroed_pixels) else None)
    return float(result.log_evidence)


def precision_operator_for(dataset: Any, backend: str = "numba", *, method: str = "auto",
                           eps: float = DEFAULT_EPS) -> np.ndarray:
    """The NUFFT precision operator of a library ``aa.Interferometer``, built by autokern.

    Returns the (2Ny, 2Nx) float64 preload in the library's layout, W̃ for every lattice lag
    (units of 1 / σ², σ in the visibilities' units), computed by autokern's
    ``nufft_precision_operator_from`` on ``backend`` from the same inputs the
    library's ``Interferometer.psf_precision_operator_from`` uses (``noise_map.real``,
    ``uv_wavelengths``, ``real_space_mask.shape_native_masked_pixels`` and the mask's full native
    grid ``real_space_mask.derive_grid.all_false.in_radians.native``).  Hand it to the library
    with ``dataset.apply_sparse_operator(nufft_precision_operator=...)``, its entry point for a
    cached operator, which then skips its own build.  ``method``/``eps`` as in the kernel
    ("auto", "direct" or "nufft").  An ``InputValueError`` for a dataset that is not an
    interferometer's.
    """
    mask = _interferometer(dataset, "precision_operator_for").real_space_mask
    noise_map = _array(dataset.noise_map, np.complex128)
    grid_2d = _array(mask.derive_grid.all_false.in_radians.native, np.float64)
    preload = get_kernel("nufft_precision_operator_from", backend)(
        np.ascontiguousarray(noise_map.real), _array(dataset.uv_wavelengths, np.float64),
        tuple(int(n) for n in mask.shape_native_masked_pixels), grid_2d, method=method,
        eps=eps)
    return np.asarray(preload, dtype=np.float64)


# --- a drop-in Analysis ---------------------------------------------------------------------

#: what the likelihood hands to the library, each named once by a warning (per process)
_WARNED: set[str] = set()


def _warn_once(what: str) -> None:
    """One ``UserWarning`` per process naming what autokern leaves to the library."""
    if what not in _WARNED:
        import warnings

        _WARNED.add(what)
        warnings.warn(f"autokern.autoarray.AnalysisInterferometer: {what}", UserWarning,
                      stacklevel=3)


def _split_mappings(points: np.ndarray, triangulation: Any,
                    areas_factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The library's ``ConstantSplit`` stencils on autokern's triangulation of ``points``:
    each vertex split into a cross of four points at ``areas_factor`` √(barycentric dual
    area), each point mapped barycentrically onto the mesh (nearest vertex outside it, as the
    library's interpolator does), reduced by the library's ``reg_split_from``: (mappings
    (4S, 4) int32 −1 padded, sizes (4S,) int32, weights (4S, 4))."""
    from autoarray.inversion.regularization import regularization_util as util

    from autokern.data.mesh import mapping_from

    simplices = triangulation.simplices
    p0, p1, p2 = (points[simplices[:, k]] for k in range(3))
    cross = ((p1[:, 0] - p0[:, 0]) * (p2[:, 1] - p0[:, 1])
             - (p1[:, 1] - p0[:, 1]) * (p2[:, 0] - p0[:, 0]))
    contribution = 0.5 * np.abs(cross) / 3.0
    areas = np.zeros(len(points))
    for k in range(3):
        np.add.at(areas, simplices[:, k], contribution)
    split = util.split_points_from(points=points, area_weights=areas_factor * np.sqrt(areas))
    indexes, weights, sizes = mapping_from(triangulation, points, split)
    # the library's split mappings carry a fourth, empty column
    indexes = np.hstack([indexes, np.full((len(split), 1), -1, dtype=np.int64)])
    weights = np.hstack([weights, np.zeros((len(split), 1))])
    return util.reg_split_from(
        splitted_mappings=indexes.astype(np.int32), splitted_sizes=sizes.astype(np.int32),
        splitted_weights=weights)


def _split_regularization_matrix(points: np.ndarray, triangulation: Any, coefficient: float,
                                 areas_factor: float) -> np.ndarray:
    """H of the library's ``ConstantSplit`` on autokern's triangulation of ``points``: the
    stencils of :func:`_split_mappings`, then the library's own assembly
    (``regularization_util``, NumPy) of the gradient matrix from them."""
    from autoarray.inversion.regularization import regularization_util as util

    mappings, sizes, weights = _split_mappings(points, triangulation, areas_factor)
    return np.ascontiguousarray(util.pixel_splitted_regularization_matrix_from(
        regularization_weights=np.full(len(points), coefficient),
        splitted_mappings=mappings, splitted_sizes=sizes, splitted_weights=weights),
        dtype=np.float64)


@dataclass(eq=False)
class _CallArrays:
    """One likelihood's mapping, H, solver and zeroed pixels (autokern's layouts)."""

    pix_indexes_for_sub_slim_index: np.ndarray
    pix_weights_for_sub_slim_index: np.ndarray
    regularization_matrix: np.ndarray
    solver: str
    zeroed_pixels: np.ndarray | None


def _pixelizations(tracer: Any) -> list:
    return [p for galaxy in tracer.galaxies for p in galaxy.cls_list_from(cls=_aa.Pixelization)]


def _library_only_reason(fit: Any, shared: Any) -> str | None:
    """Why a fit goes to the library's own objects as a whole, or None when autokern takes it
    (one pixelization, no light profiles, no shared preloads)."""
    from autogalaxy.profiles.light.abstract import LightProfile

    tracer = fit.tracer
    if shared is not None:
        return "shared preloads of a factor graph (the library's fit)"
    if any(galaxy.cls_list_from(cls=LightProfile) for galaxy in tracer.galaxies):
        return ("light profiles: the library's fit evaluates models with light profiles "
                "(autokern's inversion is cached for visibilities that do not change)")
    pixelizations = _pixelizations(tracer)
    if len(pixelizations) != 1:
        return (f"{len(pixelizations)} pixelizations: the library's fit evaluates models "
                "without exactly one pixelization")
    return None


def _zeroed(settings: Any, mesh: Any, pixels: int) -> tuple[str, np.ndarray | None]:
    """(solver, zeroed pixels or None) as the library's inversion reads its settings."""
    positive_only = bool(settings.use_positive_only_solver)
    if positive_only and bool(settings.use_edge_zeroed_pixels):
        zeroed = np.asarray(mesh.zeroed_pixels_from(pixels=pixels), dtype=np.int64).reshape(-1)
        return POSITIVE_ONLY, (zeroed if len(zeroed) else None)
    return (POSITIVE_ONLY if positive_only else POSITIVE_NEGATIVE), None


def _call_arrays(mapper: Any, settings: Any, beam: np.ndarray | None) -> _CallArrays:
    """The mapping, H, solver and zeroed pixels of one fit's mapper: autokern's Delaunay mesh
    and mapping (sub-pixels merged) and H for ``Constant`` / ``ConstantSplit``; the library's
    mapper for another mesh, and its H for another scheme (each named once by a warning)."""
    from autoarray.inversion.mesh.mesh.delaunay import Delaunay
    from autoarray.inversion.regularization.constant import Constant
    from autoarray.inversion.regularization.constant_split import ConstantSplit

    from autokern.data.mesh import _neighbors, mapping_from, triangulation_from

    interpolator = mapper.interpolator
    mesh = interpolator.mesh
    regularization = mapper.regularization
    if type(mesh) is not Delaunay:
        _warn_once(f"mesh {type(mesh).__name__}: the library's mapper and H (autokern's mesh "
                   "is Delaunay)")
        arrays = _reduced_mapping(mapper)
        indexes, weights = arrays[0], arrays[1]
        h = _array(mapper.regularization_matrix, np.float64)
    else:
        points = _array(interpolator.mesh_grid, np.float64)
        traced = _array(interpolator.data_grid.over_sampled, np.float64)
        triangulation = triangulation_from(points)
        indexes, weights, sizes = mapping_from(triangulation, points, traced)
        over_sampler = mapper.over_sampler
        if len(traced) != len(_array(over_sampler.sub_fraction, np.float64)):
            indexes, weights, _ = get_kernel("mapping_from_sub_pixels", "numba")(
                indexes, weights, sizes,
                _array(over_sampler.slim_for_sub_slim, np.int64),
                _array(over_sampler.sub_fraction, np.float64), len(points))
        if type(regularization) is Constant:
            neighbors, sizes = _neighbors(triangulation)
            h = get_kernel("constant_regularization_matrix_from", "numba")(
                float(regularization.coefficient), neighbors, sizes)
        elif type(regularization) is ConstantSplit:
            h = _split_regularization_matrix(points, triangulation,
                                             float(regularization.coefficient),
                                             float(mesh.areas_factor))
        else:
            _warn_once(f"regularization {type(regularization).__name__}: the library's H "
                       "(autokern builds Constant and ConstantSplit)")
            h = _array(mapper.regularization_matrix, np.float64)
    solver, zeroed = _zeroed(settings, mesh, int(mapper.params))
    weights = np.asarray(weights, dtype=np.float64)
    if beam is not None:
        weights = weights * beam[:, None]
    return _CallArrays(np.ascontiguousarray(indexes, dtype=np.int64),
                       np.ascontiguousarray(weights), np.ascontiguousarray(h), solver, zeroed)


def _traced_reason(mapper: Any) -> str | None:
    """Why a traced likelihood (``use_jax=True``) goes to the library's traced fit, or None
    when autokern traces it (a Delaunay mesh, ``Constant`` or ``ConstantSplit``)."""
    from autoarray.inversion.mesh.mesh.delaunay import Delaunay
    from autoarray.inversion.regularization.constant import Constant
    from autoarray.inversion.regularization.constant_split import ConstantSplit

    mesh, regularization = mapper.interpolator.mesh, mapper.regularization
    if type(mesh) is not Delaunay:
        return (f"mesh {type(mesh).__name__} under use_jax=True: the library's traced fit "
                "(autokern traces a Delaunay mesh)")
    if type(regularization) not in (Constant, ConstantSplit):
        return (f"regularization {type(regularization).__name__} under use_jax=True: the "
                "library's traced fit (autokern traces Constant and ConstantSplit)")
    return None


def _traced_mesh_callback(pixels: int, image_pixels: int, slim_for_sub_slim: np.ndarray | None,
                          sub_fraction: np.ndarray, width: int, split: bool,
                          areas_factor: float):
    """The host function and output shapes of the one ``jax.pure_callback`` of a traced
    likelihood: from the traced mesh points (S, 2) and data grid (M or sub-pixels, 2) it runs
    autokern's NumPy mesh code (triangulation, barycentric mapping, sub-pixels merged) and
    returns fixed shapes: indexes (M, width) −1 padded, weights (M, width), then either the
    ``ConstantSplit`` stencils (mappings (4S, 4), sizes (4S,), weights (4S, 4)) or the
    neighbours (S, S − 1) −1 padded and their counts (S,), and an ``ok`` flag (False, with
    empty mappings, where there is no triangulation: the likelihood is then NaN, which
    ``Fitness`` resamples)."""
    import jax

    from autokern.data.mesh import _neighbors, mapping_from, triangulation_from

    f64, i64 = np.float64, np.int64
    if split:
        tail = ((4 * pixels, 4), i64), ((4 * pixels,), i64), ((4 * pixels, 4), f64)
    else:
        tail = ((pixels, max(pixels - 1, 1)), i64), ((pixels,), i64)
    layout = (((image_pixels, width), i64), ((image_pixels, width), f64), *tail, ((), np.bool_))
    shapes = tuple(jax.ShapeDtypeStruct(shape, dtype) for shape, dtype in layout)

    def empty():
        arrays = [np.full(shape, -1, dtype) if dtype is i64 else np.zeros(shape, dtype)
                  for shape, dtype in layout[:-1]]
        return (*arrays, np.bool_(False))

    def host(points, traced):
        points = np.ascontiguousarray(points, dtype=f64)
        traced = np.ascontiguousarray(traced, dtype=f64)
        try:
            with _one_blas_thread():
                triangulation = triangulation_from(points)
                indexes, weights, sizes = mapping_from(triangulation, points, traced)
                if slim_for_sub_slim is not None:
                    indexes, weights, _ = get_kernel("mapping_from_sub_pixels", "numba")(
                        indexes, weights, sizes, slim_for_sub_slim, sub_fraction, pixels,
                        max_per_pixel=width)
                if split:
                    mappings, split_sizes, split_weights = _split_mappings(
                        points, triangulation, areas_factor)
                    tail = (np.asarray(mappings, i64), np.asarray(split_sizes, i64),
                            np.asarray(split_weights, f64))
                else:
                    neighbors, neighbors_sizes = _neighbors(triangulation)
                    padded = np.full(layout[2][0], -1, dtype=i64)
                    padded[:, :neighbors.shape[1]] = neighbors
                    tail = (padded, neighbors_sizes)
        except (InputValueError, ValueError, IndexError):
            return empty()
        out = (np.asarray(indexes, i64), np.asarray(weights, f64), *tail)
        if any(a.shape != shape for a, (shape, _) in zip(out, layout, strict=False)):
            return empty()
        return (*(np.ascontiguousarray(a) for a in out), np.bool_(True))

    return host, shapes


def _traced_log_evidence(mapper: Any, settings: Any, state: dict[str, Any]) -> Any:
    """The log evidence of one fit's mapper under JAX tracing (``use_jax=True``): the
    library's traced mesh points and data grid, one host callback into autokern's mesh code
    (:func:`_traced_mesh_callback`, ``vmap_method="sequential"``), H in JAX (autokern's
    ``Constant``; the library's JAX assembly of the ``ConstantSplit`` stencils), and the JAX
    backend's ``inversion_result_from`` on the cached ``Inversion`` (no warm start)."""
    import jax
    import jax.numpy as jnp
    from autoarray.inversion.regularization import regularization_util as util
    from autoarray.inversion.regularization.constant_split import ConstantSplit

    interpolator = mapper.interpolator
    mesh, regularization = interpolator.mesh, mapper.regularization
    points = jnp.asarray(getattr(interpolator.mesh_grid, "array", interpolator.mesh_grid))
    traced = interpolator.data_grid.over_sampled
    traced = jnp.asarray(getattr(traced, "array", traced))
    over_sampler = mapper.over_sampler
    sub_fraction = _array(over_sampler.sub_fraction, np.float64)
    pixels, image_pixels = int(points.shape[0]), len(sub_fraction)
    slim_for_sub_slim, width = None, min(3, pixels)
    if traced.shape[0] != image_pixels:
        slim_for_sub_slim = _array(over_sampler.slim_for_sub_slim, np.int64)
        width = min(3 * int(np.bincount(slim_for_sub_slim).max()), pixels)
    split = type(regularization) is ConstantSplit
    host, shapes = _traced_mesh_callback(
        pixels, image_pixels, slim_for_sub_slim, sub_fraction, width, split,
        float(mesh.areas_factor) if split else 0.0)

    @jax.custom_jvp
    def mesh_arrays(points, traced):
        return jax.pure_callback(host, shapes, points, traced, vmap_method="sequential")

    @mesh_arrays.defjvp
    def _no_gradient(primals, tangents):
        raise InputValueError(
            "autokern.autoarray.AnalysisInterferometer(use_jax=True): the likelihood has no "
            "gradient (the Delaunay mesh and mapping are a host callback into NumPy); use a "
            "search that needs no gradient (Nautilus, ...) or the library's own Analysis")

    *arrays, ok = mesh_arrays(points, traced)
    indexes, weights = arrays[0], arrays[1]
    coefficient = jnp.asarray(regularization.coefficient, dtype=jnp.float64)
    if split:
        h = util.pixel_splitted_regularization_matrix_from(
            regularization_weights=jnp.full(pixels, coefficient), splitted_mappings=arrays[2],
            splitted_sizes=arrays[3], splitted_weights=arrays[4], xp=jnp)
    else:
        h = get_kernel("constant_regularization_matrix_from", "jax", checked=False)(
            coefficient, arrays[2], arrays[3])
    h = jnp.where(ok, h, jnp.eye(pixels))  # no triangulation: a benign system, NaN below
    if state["beam"] is not None:
        weights = weights * jnp.asarray(state["beam"])[:, None]
    solver, zeroed = _zeroed(settings, mesh, pixels)
    result = state["result"](state["inversion"], indexes, weights, h, solver=solver,
                             zeroed_pixels=zeroed, warm_start=None)
    return jnp.where(ok, result.log_evidence, jnp.nan)


def _analysis_class() -> type:
    """``AnalysisInterferometer``, made when first asked for (``import autolens`` is slow)."""
    cached = globals().get("_ANALYSIS_CLASS")
    if cached is not None:
        return cached
    import autolens as al
    from autolens.analysis.exceptions import raise_fit_exception

    from autokern.catalogue import BACKEND_NAMES

    class AnalysisInterferometer(al.AnalysisInterferometer):
        """The library's ``al.AnalysisInterferometer`` whose likelihood runs on autokern.

        Takes every argument of the library's class, plus ``backend`` ("numba", default;
        "jax"; "original") and ``jax_cache_dir`` (JAX's persistent compilation cache, used
        when ``backend="jax"``: that argument, else ``$AUTOKERN_JAX_CACHE_DIR``, else
        ``~/.cache/autokern/jax``).  ``use_jax`` defaults to False: the library's NumPy ray
        tracing feeds autokern.  ``use_jax=True`` (with ``backend="jax"`` only) traces the
        whole likelihood under PyAutoFit's ``jax.jit`` and ``jax.jit(jax.vmap)``: the
        library's traced ray tracing, one host callback (``jax.pure_callback``,
        ``vmap_method="sequential"``) into autokern's NumPy mesh code for the triangulation,
        mapping and neighbours, H and the evidence in JAX (no warm start); a model with no
        triangulation gives NaN (``Fitness`` resamples it), and a mesh or scheme autokern does
        not trace is the library's traced fit, named once by a warning; there is no gradient
        (an ``InputValueError`` while tracing ``jax.grad``).

        ``log_likelihood_function(instance)`` keeps the library's ray tracing, image mesh and
        border relocation (its ``fit_from`` and the mapper's relocated grids) and does the rest
        in autokern: the Delaunay source mesh and mapping (sub-pixels merged), the edge
        zeroing, H for ``Constant`` and ``ConstantSplit``, and the inversion and evidence from
        one cached :class:`~autokern.inversion.Inversion` per dataset and process, the
        positive-only solve warm-started from the previous call in the same process.  It
        returns the library's ``fit.figure_of_merit`` minus its positions penalty, and an
        exception raised in the fit is the library's ``af.exc.FitException`` (a resample).
        Anything else (light profiles, another mesh or scheme, several pixelizations) is the
        library's own objects, named once by a warning.  Searches, results, output and
        visualisation are the library's.
        """

        def __init__(self, dataset, *args, backend: str = "numba", use_jax: bool = False,
                     jax_cache_dir: str | None = None, **kwargs):
            if backend not in BACKEND_NAMES:
                raise InputValueError(f"backend must be one of {list(BACKEND_NAMES)}, got "
                                      f"{backend!r}")
            if use_jax and backend != "jax":
                raise InputValueError(
                    "autokern.autoarray.AnalysisInterferometer(use_jax=True) traces the whole "
                    f"likelihood with JAX, which needs backend='jax' (got {backend!r}); or "
                    "use_jax=False for the library's NumPy ray tracing on any backend")
            _interferometer(dataset, "AnalysisInterferometer")
            super().__init__(dataset, *args, use_jax=bool(use_jax), **kwargs)
            self.backend = backend
            self.jax_cache_dir = jax_cache_dir
            self._state: dict[str, Any] = {}
            self._prepare()  # the Inversion, once per dataset (O(K)), before any likelihood

        def __getstate__(self):
            state = self.__dict__.copy()
            state["_state"] = {}  # per process: rebuilt where unpickled
            return state

        def _prepare(self) -> dict[str, Any]:
            """The per-process state: the cached Inversion (once per dataset), the beam."""
            state = self._state
            if state.get("pid") != _os.getpid():
                # a new process: a pool's worker (forked or spawned) runs one likelihood per
                # core, so its Numba and BLAS threads go to one
                import multiprocessing

                state["pid"] = _os.getpid()
                if multiprocessing.parent_process() is not None:
                    from autokern import set_num_threads

                    set_num_threads(1)
            if "inversion" not in state:
                if self.backend == "jax":
                    from autokern.jax import enable_compilation_cache

                    path = self.jax_cache_dir or _os.environ.get("AUTOKERN_JAX_CACHE_DIR") or \
                        _os.path.join(_os.path.expanduser("~"), ".cache", "autokern", "jax")
                    state["jax_cache_dir"] = enable_compilation_cache(path)
                dataset = self.dataset
                grid, native, _, pixel_scale = _mask_geometry(dataset.real_space_mask)
                terms = get_kernel("visibility_terms_from", self.backend)(
                    _array(dataset.data, np.complex128), _array(dataset.noise_map, np.complex128),
                    _array(dataset.uv_wavelengths, np.float64), grid, native, pixel_scale)
                state["inversion"] = get_kernel("inversion_from", self.backend)(terms, native)
                state["beam"] = _primary_beam_slim(dataset)
                state["result"] = get_kernel("inversion_result_from", self.backend,
                                             checked=False)  # the arrays are made here
                state["warm_start"] = None
            return state

        def figure_of_merit_from(self, instance, shared=None) -> float:
            """The library's ``fit.figure_of_merit`` (its log evidence) for ``instance``,
            computed by autokern where it can; no penalty, no exception handling."""
            fit = self.fit_from(instance=instance, preloads=shared)
            reason = _library_only_reason(fit, shared)
            if reason is not None:
                _warn_once(reason)
                return fit.figure_of_merit if self._use_jax else float(fit.figure_of_merit)
            state = self._prepare()
            mapper = next(iter(fit.tracer_to_inversion.mapper_galaxy_dict))
            if self._use_jax:  # traced: jax.jit / jax.vmap of the whole likelihood
                reason = _traced_reason(mapper)
                if reason is not None:
                    _warn_once(reason)
                    return fit.figure_of_merit
                return _traced_log_evidence(mapper, fit.settings, state)
            # BLAS on one thread: the mesh's small LAPACK calls (qhull's barycentric
            # transforms) on a multi-threaded OpenBLAS beside Numba's threads took 10-1000x
            # longer on two busy cores; nothing here wants BLAS's threads
            with _one_blas_thread():
                arrays = _call_arrays(mapper, fit.settings, state["beam"])
            warm = state["warm_start"] if arrays.solver == POSITIVE_ONLY else None
            result = state["result"](
                state["inversion"], arrays.pix_indexes_for_sub_slim_index,
                arrays.pix_weights_for_sub_slim_index, arrays.regularization_matrix,
                solver=arrays.solver, zeroed_pixels=arrays.zeroed_pixels, warm_start=warm)
            if result.solver_state is not None:
                state["warm_start"] = result.solver_state
            return float(result.log_evidence)

        def log_likelihood_function(self, instance, shared=None):
            """The library's figure of merit less its positions penalty, by autokern; an
            exception in the fit is raised as the library does (``af.exc.FitException``)."""
            log_likelihood_penalty = self.log_likelihood_penalty_from(instance=instance)
            if self._use_jax:  # as the library: no exception handling inside a trace
                return self.figure_of_merit_from(instance, shared) - log_likelihood_penalty
            try:
                return self.figure_of_merit_from(instance, shared) - log_likelihood_penalty
            except Exception as error:
                raise_fit_exception(error)

    AnalysisInterferometer.__module__ = __name__
    AnalysisInterferometer.__qualname__ = "AnalysisInterferometer"  # found by pickle
    globals()["_ANALYSIS_CLASS"] = AnalysisInterferometer
    return AnalysisInterferometer


def __getattr__(name: str) -> Any:
    if name == "AnalysisInterferometer":
        return _analysis_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
