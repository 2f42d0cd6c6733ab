"""``autokern.cost``, the public path of :mod:`autokern._runtime.routes`: The router: every
choice of route a kernel makes, one inspectable function per decision, calibrated by measurement
where it is a cost model."""

from autokern._runtime.routes import (
    CURVATURE_ROUTES,
    CURVATURE_SECONDS_PER_UNIT,
    NUFFT_MIN_LAGS,
    NUFFT_WORK_THRESHOLD,
    Route,
    curvature_costs,
    curvature_method,
    curvature_route,
    jax_engine_route,
    nufft_route,
    use_nufft,
)

__all__ = [
    "CURVATURE_ROUTES",
    "CURVATURE_SECONDS_PER_UNIT",
    "NUFFT_MIN_LAGS",
    "NUFFT_WORK_THRESHOLD",
    "Route",
    "curvature_costs",
    "curvature_method",
    "curvature_route",
    "jax_engine_route",
    "nufft_route",
    "use_nufft",
]
