"""``autokern.explain``: which backend and which routes a call would take, and why, without
running it.  Every decision is the router's (:mod:`autokern.cost`) or the dispatcher's
(:func:`autokern.resolve_backend`); this module only reads the call's shapes and asks them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autokern._api import dispatch
from autokern._cpu import nufft
from autokern._runtime import routes as cost
from autokern._runtime.routes import Route
from autokern._shared import lattice
from autokern.catalogue import KERNELS
from autokern.errors import InputTypeError

#: the reductions over visibilities: (kernel, what sets the extent of its lags)
_REDUCTIONS = ("w_compact_curvature_interferometer_from", "nufft_precision_operator_from",
               "w_tilde_data_interferometer_from")
#: kernels whose F takes the direct w-compact route whatever the cost model says
_DIRECT_F = ("log_likelihood_function_via_w_compact_from",
             "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from")


@dataclass(frozen=True)
class Explanation:
    """The backend a call runs on and each route decision it takes (in order)."""

    kernel: str
    backend: str
    routes: list[Route] = field(default_factory=list)

    def route(self, decision: str) -> Route:
        """The route of one ``decision`` ("backend", "reduction …", "curvature", "jax engine")."""
        for route in self.routes:
            if route.decision == decision:
                return route
        raise KeyError(f"{self.kernel} on {self.backend} takes no {decision!r} decision; it "
                       f"takes {[r.decision for r in self.routes]}")

    def __str__(self) -> str:
        return "\n".join([f"{self.kernel} on {self.backend}:",
                          *(f"  {route}" for route in self.routes)])


def _nufft_library(backend: str) -> dict[str, Any]:
    """What the NUFFT route of ``backend`` runs on: available, the smallest eps, the library."""
    if backend == "jax":
        module = importlib.import_module("autokern.jax.nufft")
        return {"available": module.available(), "min_eps": module.MIN_EPS,
                "library": "finufft"}
    return {"available": nufft.available(), "min_eps": nufft.MIN_EPS, "library": "ducc0"}


def _reduction(kernel: str, backend: str, arguments: dict[str, Any]) -> Route:
    method, eps = arguments["method"], arguments["eps"]
    uv_wavelengths = np.asarray(arguments["uv_wavelengths"])
    if kernel == "w_compact_curvature_interferometer_from":
        extent = tuple(arguments["grid_size"])
    elif kernel == "nufft_precision_operator_from":
        extent = tuple(arguments["shape_masked_pixels_2d"])
    else:
        grid = np.asarray(arguments["grid_radians_slim"])
        extent = nufft.extent_of(grid)
        if method != "direct" and lattice.lattice_of(grid, uv_wavelengths, eps) is None:
            return Route(f"reduction {kernel}", "direct",
                         f"the grid is not a lattice to within eps={eps:g}: no NUFFT onto it")
    route = cost.nufft_route(kernel, method, eps, len(uv_wavelengths), extent,
                             **_nufft_library(backend))
    return route._replace(decision=f"reduction {kernel}")


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(np.shape(value))


def _curvature(backend: str, method: str, w_compact: Any, native_index_for_slim_index: Any,
               pix_indexes_for_sub_slim_index: Any, pixels: int) -> list[Route]:
    ny, width = _shape(w_compact)
    route = cost.curvature_route(_shape(native_index_for_slim_index)[0], pixels,
                                 _shape(pix_indexes_for_sub_slim_index)[1],
                                 (ny, (width + 1) // 2), method)
    return [route, *(_jax_engine() if backend == "jax" and route.choice == "direct" else [])]


def _jax_engine() -> list[Route]:
    import jax

    return [cost.jax_engine_route(jax.default_backend())]


def explain(kernel: str, backend: str | None = None, **arguments: Any) -> Explanation:
    """Which backend ``kernel`` runs on for a request for ``backend`` (``DEFAULT_JIT`` when
    None) and which route each of its decisions takes for these ``arguments`` — the same
    keyword arguments the kernel takes (only shapes and options are read; defaults are the
    catalogue's) — and why, without running it.

    >>> print(autokern.explain("visibility_terms_from", "numba", **arguments))  # doctest: +SKIP
    visibility_terms_from on numba:
      backend: numba — numba provides it
      reduction w_compact_curvature_interferometer_from: nufft — ducc0: Ny·Nx = 2500 ≥ 400 …
    """
    name = dispatch.current_name(kernel)
    chosen = backend or dispatch.DEFAULT_JIT
    resolved = dispatch.resolve_backend(name, chosen)
    routes = [Route("backend", resolved, f"{resolved} provides it" if resolved == chosen else
                    f"{chosen} has no {name}: the fallback backend's")]
    signature = KERNELS[name].signature
    try:
        bound = signature.bind_partial(**arguments)
    except TypeError as error:
        raise InputTypeError(f"explain({name!r}): {error}") from None
    bound.apply_defaults()
    given = bound.arguments

    def needs(*names: str) -> bool:
        return all(given.get(n) is not None for n in names)

    if name in _REDUCTIONS:
        routes.append(_reduction(name, resolved, given))
    elif name == "visibility_terms_from" and needs("uv_wavelengths", "grid_radians_slim",
                                                   "native_index_for_slim_index"):
        grid_size = lattice.extent_of_mask(given["native_index_for_slim_index"])
        routes.append(_reduction("w_compact_curvature_interferometer_from", resolved,
                                 {**given, "grid_size": grid_size}))
        routes.append(_reduction("w_tilde_data_interferometer_from", resolved, given))
    elif name == "curvature_matrix_via_w_compact_from" and needs(
            "w_compact", "native_index_for_slim_index", "pix_indexes_for_sub_slim_index",
            "pixels"):
        routes += _curvature(resolved, given["method"], given["w_compact"],
                             given["native_index_for_slim_index"],
                             given["pix_indexes_for_sub_slim_index"], int(given["pixels"]))
    elif name == "inversion_result_from" and needs("inversion", "pix_indexes_for_sub_slim_index",
                                                   "regularization_matrix"):
        inversion = given["inversion"]
        routes += _curvature(resolved, inversion.curvature_method, inversion.w_compact,
                             inversion.native_index_for_slim_index,
                             given["pix_indexes_for_sub_slim_index"],
                             _shape(given["regularization_matrix"])[0])
    elif name in _DIRECT_F:
        routes.append(Route("curvature", "direct", "this kernel takes the direct route"))
        if resolved == "jax":
            routes += _jax_engine()
    return Explanation(name, resolved, routes)
