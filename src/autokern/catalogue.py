"""The kernel catalogue: the one place where every kernel's signature, shapes and docs live.

Data only.  Each backend module (``autokern.<backend>.<Kernel.module>``) defines a plain core
under the kernel's name with the catalogue's arguments; kernels with ``composed_of`` are written
once, in :mod:`autokern._api.composed`, over a backend's cores.  The dispatcher
(:mod:`autokern._api.dispatch`) turns each core into the public function — the catalogue's
signature and docstring, the shared input checks of :mod:`autokern._api.validation` — and the
tests and benchmarks read this module; none of them lists kernels by hand.

Shapes use these symbols: ``K`` visibilities, ``M`` unmasked image pixels, ``Ny, Nx``
the extent of the unmasked pixels, ``S`` source pixels, ``B`` mappings per image pixel, ``P``
neighbours per source pixel, ``N`` a free column count.  ``"2Ny"`` etc. are derived dimensions.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from autokern._shared.lattice import DEFAULT_EPS
from autokern._shared.solvers import SOLVERS

BACKEND_NAMES: tuple[str, ...] = ("original", "numba", "jax")

_REQUIRED = inspect.Parameter.empty
#: options that follow the data arguments and are always passed by keyword
_KEYWORD_ONLY_KINDS = ("chunk", "choice", "tolerance", "pixel_set", "optional_count", "flag",
                       "optional_scalar", "solver_state", "optional_float")


@dataclass(frozen=True)
class Arg:
    """One argument: its name, the kind of value, its symbolic shape and its meaning.

    ``kind`` is one of ``float``/``complex``/``int``/``bool`` (arrays of float64, complex128,
    int64, bool), ``matrix`` (a float64 array or, on JAX, a BCOO), ``scalar`` (a Python float),
    ``count`` (a positive int), ``grid_size`` (an int N or a pair (Ny, Nx)), ``shape`` (a pair of
    positive ints), ``pair`` (a pair of floats), ``chunk`` (an int or ``"auto"``), ``flag`` (a
    bool), ``optional_scalar`` (None or a real number), ``terms`` (a VisibilityTerms),
    ``inversion`` (an Inversion), ``solver_state`` (None or a PositiveOnlyState, checked by the
    positive-only solve itself), ``optional_float`` (None or a float64 array).
    """

    name: str
    kind: str
    shape: str = ""
    doc: str = ""
    default: Any = _REQUIRED
    #: the allowed values of a ``choice`` argument (a registry's live keys, for solver)
    choices: tuple[str, ...] | dict[str, Any] = ()

    @property
    def keyword_only(self) -> bool:
        return self.kind in _KEYWORD_ONLY_KINDS

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(self.shape.split())

    def describe(self) -> str:
        trailing = "," if len(self.dims) == 1 else ""
        shape = f"({', '.join(self.dims)}{trailing})" if self.shape else ""
        kind = {
            "float": "float64 array",
            "complex": "complex128 array",
            "int": "int64 array",
            "bool": "bool array",
            "matrix": "float64 array",
        }.get(self.kind, self.kind)
        if self.choices:
            kind = " | ".join(f'"{c}"' for c in self.choices)
        head = f"{self.name} : {kind} {shape}".rstrip()
        if self.default is not _REQUIRED:
            head += f", default {self.default!r}"
        return f"{head}\n    {self.doc}"


def _arg(name: str, **override: Any) -> Arg:
    """An argument from the glossary, optionally with a different default."""
    base = GLOSSARY[name]
    return Arg(**{**base.__dict__, **override})


GLOSSARY: dict[str, Arg] = {
    a.name: a
    for a in [
        Arg("shape_native", "shape", doc="(N', N') shape of the real-space mask, in pixels."),
        Arg("pixel_scales", "pair", doc="(dy, dx) pixel scales in arcseconds."),
        Arg("radius", "scalar", doc="Mask radius in arcseconds."),
        Arg("centre", "pair", doc="(y, x) centre of the mask in arcseconds."),
        Arg("data", "complex", "K", "Visibilities V_k."),
        Arg("noise_map", "complex", "K", "Noise σ_k: real part for Re V, imaginary for Im V."),
        Arg("noise_map_real", "float", "K", "Real part of the noise map, Re σ_k."),
        Arg("uv_wavelengths", "float", "K 2", "Baselines (u, v) in wavelengths."),
        Arg(
            "grid_radians_slim",
            "float",
            "M 2",
            "(y, x) of each unmasked pixel in radians, slim (row-major) order.",
        ),
        Arg(
            "grid_radians_2d",
            "float",
            "Gy Gx 2",
            "Native (y, x) grid in radians, y = y0 - i d, x = x0 + j d; at least (Ny, Nx).",
        ),
        Arg(
            "shape_masked_pixels_2d",
            "shape",
            doc="(Ny, Nx) extent of the unmasked pixels, in pixels.",
        ),
        Arg("grid_size", "grid_size", doc="Extent N (square) or (Ny, Nx), in pixels."),
        Arg("pixel_scale", "scalar", doc="Pixel scale d in arcseconds (square pixels)."),
        Arg(
            "native_index_for_slim_index",
            "int",
            "M 2",
            "(row, col) of each unmasked pixel on the native grid.",
        ),
        Arg("w_tilde", "float", "M M", "Dense W̃ (symmetric)."),
        Arg("w_compact", "float", "Ny 2Nx-1", "W̃ on the half-plane of lattice offsets."),
        Arg("nufft_precision_operator", "float", "2Ny 2Nx",
            "W̃ lags in FFT wrap-around order (the downstream library's name; autokern called "
            "it the precision operator)."),
        Arg(
            "pix_indexes_for_sub_slim_index",
            "int",
            "M B",
            "Source pixel of each mapping entry, -1 for none.",
        ),
        Arg("pix_weights_for_sub_slim_index", "float", "M B", "Weight of each mapping entry."),
        Arg(
            "pix_sizes_for_sub_slim_index",
            "int",
            "M",
            "Number of valid entries in each row of the mapping (the downstream library's name; "
            "pix_size_for_sub_slim_index is a deprecated alias).",
        ),
        Arg("slim_index_for_sub_slim_index", "int", "J", "Image pixel of each sub-pixel."),
        Arg("sub_fraction", "float", "M",
            "Area fraction of one sub-pixel of each image pixel (1 / sub_size²)."),
        Arg("max_per_pixel", "optional_count", default=None,
            doc="B' of the result: None for the most distinct source pixels of any image pixel "
                "(on JAX this needs concrete inputs: pass it under jax.jit, where a row with "
                "more keeps its first B'); a larger value pads, a smaller one is an error."),
        Arg("curvature_matrix", "float", "S S", "F = Tᵀ W̃ T."),
        Arg("regularization_matrix", "float", "S S",
            "H, symmetric positive definite: any scheme (constant, adaptive, split)."),
        Arg("zeroed_pixels", "pixel_set", "Z", default=None,
            doc="Source pixels the positive-only solve fixes at zero (e.g. the edge ring a "
                "Delaunay mesh appends), or None. The linear solve ignores them, as the "
                "downstream library does."),
        Arg("solver", "choice", default="positive_negative", choices=SOLVERS,
            doc="; ".join(f'"{s.name}": {s.doc}' for s in SOLVERS.values())
            + " (autokern._shared.solvers: one registry)."),
        Arg("pixels", "count", doc="Number of source pixels S."),
        Arg("mapping_matrix", "matrix", "M S", "Dense mapping matrix T."),
        Arg("dirty_image", "float", "M", "Noise-weighted dirty image d (adjoint DFT of the data)."),
        Arg("matrix", "float", "M ...", "Any array whose first axis is image pixels."),
        Arg("neighbors", "int", "S P", "Neighbours of each source pixel, -1 padded."),
        Arg("neighbors_sizes", "int", "S", "Number of valid neighbours of each source pixel."),
        Arg("coefficient", "scalar", doc="Regularization coefficient λ.", default=1.0),
        Arg("data_vector", "float", "S", "D = Tᵀ d."),
        Arg("curvature_reg_matrix", "float", "S S", "F + H, symmetric positive definite."),
        Arg(
            "chunk_size",
            "chunk",
            doc=(
                'Visibilities per chunk of the reduction over K, or "auto" for the largest '
                "chunk whose work space fits autokern's memory budget "
                "(AUTOKERN_CHUNK_BUDGET_MB, default 256 MB)."
            ),
            default="auto",
        ),
        Arg(
            "method",
            "choice",
            doc=(
                '"direct": exact sums over visibilities; "nufft": a type-1 non-uniform FFT '
                '(O(K + Ny·Nx·log), accurate to eps; needs the "nufft" extra); "auto": the NUFFT '
                "when it is installed and the problem is large enough to gain from it."
            ),
            default="auto",
            choices=("auto", "direct", "nufft"),
        ),
        Arg(
            "eps",
            "tolerance",
            doc="Relative accuracy requested of the NUFFT (ignored by the direct sums).",
            default=DEFAULT_EPS,
        ),
        Arg(
            "visibility_terms",
            "terms",
            doc=(
                "autokern.terms.VisibilityTerms: the sufficient statistics of the visibilities "
                "(w-compact, dirty image, Σ (V/σ)², noise normalization, K)."
            ),
        ),
        Arg(
            "inversion",
            "inversion",
            doc=(
                "autokern.inversion.Inversion (from inversion_from): the per-dataset state "
                "(w-compact, dirty image, Σ (V/σ)², noise normalization, native indexes)."
            ),
        ),
        Arg(
            "curvature_method",
            "choice",
            doc=(
                'The route F takes on each call: "direct" (no M × S intermediate), "sparse" '
                '(two passes), "fft" (FFT convolution), or "auto": the cheapest by the cost '
                "model (autokern.cost.curvature_method) for each call's S and B."
            ),
            default="auto",
            choices=("auto", "sparse", "direct", "fft"),
        ),
        Arg(
            "log_det_regularization_matrix_term",
            "optional_scalar",
            doc=(
                "log det H when the caller already has it (a fixed H: pass the previous "
                "result's log_det_regularization_matrix_term), or None to compute it."
            ),
            default=None,
        ),
        Arg(
            "matrices",
            "flag",
            doc="Also return F and H (S, S) in the result.",
            default=False,
        ),
        Arg(
            "warm_start",
            "solver_state",
            doc=(
                "autokern.inversion.PositiveOnlyState: where the positive-only solve starts its "
                "active-set search — a previous call's state (return_state=True, or an "
                "InversionResult's solver_state) — or None (cold: the unconstrained solution). "
                "Never changes the answer, only its cost; a state for another S is ignored. "
                "The linear solve ignores it."
            ),
            default=None,
        ),
        Arg("image", "float", "M",
            "A model image on the mask, slim order (e.g. the lens light): the visibilities it "
            "gives are V_k = Σ_j image_j exp(−2πi (x_j u_k + y_j v_k)) (the downstream library's "
            "DFT; times the primary beam first, if the data has one), in the data's units "
            "(Jy per pixel for the library)."),
        Arg("linear_light_images", "optional_float", "M L", default=None,
            doc="Linear light profiles: L columns, each the image on the mask (slim order) of "
                "one profile at unit amplitude (the library's mapping_matrix of its linear "
                "light profiles, e.g. an MGE basis), solved jointly with the source; None for "
                "none. Their amplitudes come first in the reconstruction (the library's order); "
                "they are not regularized, and the positive-only solve keeps them ≥ 0 too."),
        Arg("linear_light_curvature_diagonal", "optional_scalar", default=1.0e-3,
            doc="c added to the diagonal of the linear light profiles' block of F (the "
                "library's Settings.no_regularization_add_to_curvature_diag_value, 1e-3 by "
                "default; it also enters χ² = xᵀFx − 2xᵀD + Σ|V/σ|², as the library's does); "
                "None for 0."),
        Arg(
            "return_state",
            "flag",
            doc=(
                "Also return the solve's autokern.inversion.PositiveOnlyState (free (S,) bool, "
                "s > 0), for the next call's warm_start: the result is then a pair (the "
                "linear solve's state is None)."
            ),
            default=False,
        ),
    ]
}


@dataclass(frozen=True)
class Kernel:
    """A catalogue entry: what a kernel computes and the arguments it takes."""

    name: str
    family: str
    module: str
    args: tuple[Arg, ...]
    returns: str
    summary: str
    maths: str = ""
    backends: tuple[str, ...] = BACKEND_NAMES
    notes: str = ""
    #: dims of the largest array the kernel allocates, checked against the memory budget
    largest_array: str = ""
    #: what to call instead when ``largest_array`` does not fit
    alternative: str = ""
    #: for a kernel the reference backend lacks: the kernel that computes the same numbers
    same_as: str = ""
    #: None: each backend has its own core; a tuple: written once (autokern._api.composed) over
    #: these kernels' cores of the backend it runs on
    composed_of: tuple[str, ...] | None = None
    #: deprecated argument names the public function still accepts: old name → catalogue name
    renamed: dict[str, str] | None = None

    @property
    def composed(self) -> bool:
        return self.composed_of is not None

    @property
    def signature(self) -> inspect.Signature:
        params = []
        for a in self.args:
            kind = (
                inspect.Parameter.KEYWORD_ONLY
                if a.keyword_only
                else inspect.Parameter.POSITIONAL_OR_KEYWORD
            )
            params.append(inspect.Parameter(a.name, kind, default=a.default))
        return inspect.Signature(params)

    @property
    def doc(self) -> str:
        parts = [self.summary]
        if self.maths:
            parts.append(inspect.cleandoc(self.maths))
        if self.notes:
            parts.append(inspect.cleandoc(self.notes))
        params = "\n".join(a.describe() for a in self.args)
        parts.append(f"Parameters\n----------\n{params}")
        parts.append(f"Returns\n-------\n{self.returns}")
        return "\n\n".join(parts) + "\n"


def _kernel(name: str, family: str, module: str, argnames: str, returns: str, summary: str,
            **kw: Any) -> Kernel:
    args = tuple(_arg(n) for n in argnames.split())
    overrides = kw.pop("arg_overrides", {})
    args = tuple(_arg(a.name, **overrides[a.name]) if a.name in overrides else a for a in args)
    return Kernel(name, family, module, args, returns, summary, **kw)


_MAPPING = "pix_indexes_for_sub_slim_index pix_weights_for_sub_slim_index pixels"
_COMPACT_CURV = (
    "w_compact native_index_for_slim_index pix_indexes_for_sub_slim_index "
    "pix_weights_for_sub_slim_index pixels"
)
_LIKELIHOOD_TAIL = (
    "pix_indexes_for_sub_slim_index pix_weights_for_sub_slim_index neighbors neighbors_sizes "
    "coefficient solver zeroed_pixels"
)
_USE_COMPACT = (
    "w_compact_curvature_interferometer_from with "
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from (never forms W̃)"
)
_W_TILDE_MATHS = """
    W̃[i, j] = Σ_k cos(2π[(x_i - x_j) u_k + (y_i - y_j) v_k]) / (Re σ_k)²
"""
_COMPACT_MATHS = """
    w_compact[a, b + Nx - 1] = Σ_k cos(2π d (b u_k - a v_k)) / (Re σ_k)²,
    a ∈ [0, Ny), b ∈ (-Nx, Nx), d = pixel_scale · π / 648000 (radians);
    W̃[i, j] = w_compact[|a|, sign(a) b + Nx - 1] with (a, b) = (row_i - row_j, col_i - col_j)
    and sign(0) = +1.
"""
_PRECISION_OPERATOR_LAYOUT = """
    P[p mod 2Ny, q mod 2Nx] = W̃ for the lag (row_j - row_i, col_j - col_i) = (p, q),
    |p| < Ny, |q| < Nx (FFT wrap-around order); the Nyquist row Ny and column Nx are zero.
"""
_CURVATURE_MATHS = "F = Tᵀ W̃ T, with T[m, s] = Σ_b weights[m, b] for indexes[m, b] == s."
#: F, H and F + H are dense S × S: nothing smaller holds them
_DENSE_SOURCE = {"largest_array": "S S",
                 "alternative": "a source mesh with fewer pixels (F and H are dense S × S)"}
#: the kernels every log likelihood composes after F
_EVIDENCE_PARTS = ("sparse_mapping_matrix_transpose_matmul", "constant_regularization_matrix_from",
                   "reconstruction_positive_only_from")
_EVIDENCE_MATHS = """
    s = (F + H)⁻¹ D (solver "positive_negative") or the s ≥ 0 minimising sᵀ(F + H)s − 2sᵀD with
    s = 0 on zeroed_pixels (solver "positive_only"),
    χ² = sᵀ F s - 2 sᵀ D + Σ_k (Re V_k / Re σ_k)² + (Im V_k / Im σ_k)²,
    log L = -½ [χ² + sᵀ H s + log det(F + H) - log det(H) + noise_normalization],
    with log det(F + H) and log det(H) of the full S × S matrices and one Cholesky
    factorisation of F + H for the linear solve and its log determinant.
"""

KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in [
        _kernel(
            "mask_2d_centres_from", "grid", "grid", "shape_native pixel_scales centre",
            "(y, x) centre of the mask in (fractional) pixel coordinates",
            "Centre of a mask in pixel coordinates, rows counted from the top.",
            maths="""
                y_c = (N'_y - 1) / 2 - centre_y / dy,   x_c = (N'_x - 1) / 2 + centre_x / dx
            """,
            composed_of=(),
        ),
        _kernel(
            "mask_2d_circular_from", "grid", "grid", "shape_native pixel_scales radius centre",
            "(N', N') bool array, True = masked",
            "Circular real-space mask: a pixel is unmasked when its centre lies strictly within "
            "radius (on the circle it is masked, as in the downstream library's Mask2D.circular).",
            arg_overrides={"centre": {"default": (0.0, 0.0)}},
        ),
        _kernel(
            "w_tilde_data_interferometer_from", "reductions", "w_tilde",
            "data noise_map uv_wavelengths grid_radians_slim chunk_size method eps",
            "(M,) float64 dirty image",
            "Noise-weighted dirty image (adjoint DFT of the data).",
            maths="""
                phase_ik = 2π (x_i u_k + y_i v_k)
                dirty[i] = Σ_k (Re V_k / (Re σ_k)²) cos(phase_ik)
                           - (Im V_k / (Im σ_k)²) sin(phase_ik)
            """,
        ),
        _kernel(
            "w_tilde_curvature_interferometer_from", "reductions", "w_tilde",
            "noise_map_real uv_wavelengths grid_radians_slim chunk_size",
            "(M, M) float64 W̃, symmetric",
            "Dense NUFFT precision matrix W̃ (M × M: 39 GB at M = 70 000; prefer w-compact).",
            maths=_W_TILDE_MATHS, largest_array="M M", alternative=_USE_COMPACT,
        ),
        _kernel(
            "nufft_precision_operator_from", "reductions", "w_tilde",
            "noise_map_real uv_wavelengths shape_masked_pixels_2d grid_radians_2d chunk_size "
            "method eps",
            "(2Ny, 2Nx) float64 precision operator",
            "W̃ for every lattice lag, in the downstream library's precision operator layout.",
            maths=_W_TILDE_MATHS + _PRECISION_OPERATOR_LAYOUT,
        ),
        _kernel(
            "w_compact_curvature_interferometer_from", "reductions", "w_tilde",
            "grid_size noise_map_real uv_wavelengths pixel_scale chunk_size method eps",
            "(Ny, 2Nx - 1) float64 w-compact",
            "W̃ on the half-plane of lattice offsets (cos is even, so half holds all of it).",
            maths=_COMPACT_MATHS,
        ),
        _kernel(
            "visibility_terms_from", "reductions", "w_tilde",
            "data noise_map uv_wavelengths grid_radians_slim native_index_for_slim_index "
            "pixel_scale chunk_size method eps",
            "autokern.terms.VisibilityTerms",
            "Sufficient statistics of a set of visibilities: w-compact, dirty image, "
            "Σ (V/σ)², noise normalization and K.  Terms of disjoint chunks of visibilities "
            "add (a + b), so data larger than memory streams through in pieces.",
            notes="The w-compact extent (Ny, Nx) is that of native_index_for_slim_index.",
            composed_of=("w_compact_curvature_interferometer_from",
                         "w_tilde_data_interferometer_from"),
        ),
        _kernel(
            "w_tilde_via_nufft_precision_operator_from", "expansions", "w_tilde",
            "nufft_precision_operator native_index_for_slim_index",
            "(M, M) float64 W̃",
            "Expand a precision operator to dense W̃.",
            maths="W̃[i, j] = precision operator[(r_j - r_i) mod 2Ny, (c_j - c_i) mod 2Nx]",
            largest_array="M M", alternative=_USE_COMPACT,
            renamed={"w_tilde_preload": "nufft_precision_operator"},
        ),
        _kernel(
            "w_tilde_via_compact_from", "expansions", "w_tilde",
            "w_compact native_index_for_slim_index",
            "(M, M) float64 W̃",
            "Expand w-compact to dense W̃.",
            maths=_COMPACT_MATHS, largest_array="M M", alternative=_USE_COMPACT,
        ),
        _kernel(
            "w_compact_via_nufft_precision_operator_from", "expansions", "w_tilde",
            "nufft_precision_operator",
            "(Ny, 2Nx - 1) float64 w-compact",
            "Exact re-indexing of a precision operator into w-compact.",
            maths=_PRECISION_OPERATOR_LAYOUT,
            renamed={"w_tilde_preload": "nufft_precision_operator"},
        ),
        _kernel(
            "nufft_precision_operator_via_w_compact_from", "expansions", "w_tilde", "w_compact",
            "(2Ny, 2Nx) float64 precision operator",
            "Exact re-indexing of w-compact into the precision operator layout.",
            maths=_PRECISION_OPERATOR_LAYOUT,
        ),
        _kernel(
            "mapping_matrix_from", "mapping", "mapping", _MAPPING,
            "(M, S) float64 T",
            "Dense mapping matrix from its sparse (indexes, weights) form.",
            largest_array="M S",
            alternative="the sparse-mapping kernels (e.g. "
                        "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from) or "
                        "mapping_matrix_from_BCOO",
            maths="T[m, s] = Σ_b weights[m, b] for indexes[m, b] == s; -1 entries add nothing.",
        ),
        _kernel(
            "mapping_matrix_from_BCOO", "mapping", "mapping", _MAPPING,
            "jax.experimental.sparse.BCOO (M, S)",
            "Mapping matrix as a JAX BCOO sparse matrix (-1 entries dropped).",
            backends=("jax",), same_as="mapping_matrix_from",
        ),
        _kernel(
            "mapping_from_sub_pixels", "mapping", "mapping",
            "pix_indexes_for_sub_slim_index pix_weights_for_sub_slim_index "
            "pix_sizes_for_sub_slim_index slim_index_for_sub_slim_index sub_fraction pixels "
            "max_per_pixel",
            "(pix_indexes (M, B') int64, pix_weights (M, B') float64, pix_sizes (M,) int64)",
            "Over-sampled (sub-pixel) mapping reduced to one row per image pixel: duplicate "
            "source pixels merged, sorted by source pixel, padded with -1.",
            maths="""
                T[m, s] = sub_fraction[m] Σ_{sub-pixels j of m} Σ_b weights[j, b] for
                indexes[j, b] == s (the first pix_sizes_for_sub_slim_index[j] entries of row j).
            """,
            arg_overrides={
                "pix_indexes_for_sub_slim_index": {"shape": "J B",
                                                   "doc": "Source pixel of each sub-pixel's "
                                                          "mapping entry, -1 for none."},
                "pix_weights_for_sub_slim_index": {"shape": "J B"},
                "pix_sizes_for_sub_slim_index": {"shape": "J"}},
        ),
        _kernel(
            "data_vector_from", "mapping", "mapping", "mapping_matrix dirty_image",
            "(S,) float64 D",
            "Data vector D = Tᵀ d.",
        ),
        _kernel(
            "curvature_matrix_via_w_tilde_from", "curvature", "curvature",
            "w_tilde mapping_matrix", "(S, S) float64 F",
            "Curvature matrix from dense W̃ and dense T.", maths=_CURVATURE_MATHS,
            **_DENSE_SOURCE,
        ),
        _kernel(
            "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from", "curvature", "curvature",
            "w_tilde " + _MAPPING, "(S, S) float64 F",
            "Curvature matrix from dense W̃ and the sparse mapping.", maths=_CURVATURE_MATHS,
            **_DENSE_SOURCE,
        ),
        _kernel(
            "curvature_matrix_via_w_compact_sparse_mapping_matrix_from", "curvature",
            "curvature", _COMPACT_CURV, "(S, S) float64 F",
            "Curvature matrix from w-compact in two passes: Ω = W̃ T (M × S), then Tᵀ Ω.",
            maths=_CURVATURE_MATHS, largest_array="M S",
            alternative="curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
        ),
        _kernel(
            "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from", "curvature",
            "curvature", _COMPACT_CURV, "(S, S) float64 F",
            "Curvature matrix from w-compact with no M × S intermediate (output-sized memory).",
            maths=_CURVATURE_MATHS,
            **_DENSE_SOURCE,
        ),
        _kernel(
            "curvature_matrix_via_w_compact_sparse_mapping_matrix_from_BCOO", "curvature",
            "curvature", _COMPACT_CURV, "(S, S) float64 F",
            "Curvature matrix from w-compact with T as a JAX BCOO matrix.",
            maths=_CURVATURE_MATHS, backends=("jax",),
            same_as="curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
            **_DENSE_SOURCE,
        ),
        _kernel(
            "curvature_matrix_via_w_compact_fft_from", "curvature", "curvature", _COMPACT_CURV,
            "(S, S) float64 F",
            "Curvature matrix with W̃ applied by FFT convolution: source columns zero-padded "
            "onto the (2Ny, 2Nx) box, multiplied by rfft2 of the precision operator, then Tᵀ(·).",
            maths=_CURVATURE_MATHS,
            **_DENSE_SOURCE,
        ),
        _kernel(
            "curvature_matrix_via_w_compact_from", "curvature", "curvature",
            _COMPACT_CURV + " method", "(S, S) float64 F",
            "Curvature matrix from w-compact by the route a cost model of (M, S, B, Ny, Nx) "
            "picks (see autokern.cost), or by the one named.",
            maths=_CURVATURE_MATHS,
            arg_overrides={"method": {
                "choices": ("auto", "sparse", "direct", "fft"),
                "doc": '"sparse": two passes (Ω = W̃T, then TᵀΩ); "direct": no M × S '
                       'intermediate; "fft": FFT convolution; "auto": the cheapest by the '
                       "calibrated cost model (autokern.cost.curvature_method)."}},
            composed_of=("curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
                         "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
                         "curvature_matrix_via_w_compact_fft_from"),
            **_DENSE_SOURCE,
        ),
        _kernel(
            "curvature_matrix_via_nufft_precision_operator_from", "curvature",
            "curvature",
            "nufft_precision_operator pix_indexes_for_sub_slim_index "
            "pix_sizes_for_sub_slim_index "
            "pix_weights_for_sub_slim_index native_index_for_slim_index pixels",
            "(S, S) float64 F",
            "Curvature matrix from the precision operator and the sparse mapping (entries past "
            "pix_sizes_for_sub_slim_index are ignored).",
            renamed={"pix_size_for_sub_slim_index": "pix_sizes_for_sub_slim_index",
                     "curvature_preload": "nufft_precision_operator",
                     "pix_pixels": "pixels"},
            maths=_CURVATURE_MATHS + "\n" + _PRECISION_OPERATOR_LAYOUT,
            **_DENSE_SOURCE,
        ),
        _kernel(
            "sparse_mapping_matrix_transpose_matmul", "curvature", "mapping",
            "matrix " + _MAPPING, "(S, ...) float64 Tᵀ @ matrix",
            "Tᵀ @ matrix with T in its sparse form.",
        ),
        _kernel(
            "constant_regularization_matrix_from", "solve", "regularization",
            "coefficient neighbors neighbors_sizes", "(S, S) float64 H",
            "Constant regularization matrix.",
            maths="""
                H = 1e-8 I + (λ²/2) Σ_(i→j) (e_i − e_j)(e_i − e_j)ᵀ over every listing i → j
                (the first neighbors_sizes[i] entries of row i; -1 entries add nothing):
                each listing is half an edge, so H is symmetric positive definite.
            """,
            notes="""
                For mutual neighbour lists (i lists j exactly when j lists i: the downstream
                library's Delaunay, Voronoi, rectangular and kNN meshes) this is the library's
                H[i, i] = 1e-8 + λ² neighbors_sizes[i], H[i, j] = −λ², to the last bit.  For a
                non-mutual list the library's own H is not symmetric and its log evidence depends
                on its backend (a NumPy Cholesky reads one triangle, JAX's averages both, and
                either may be indefinite); autokern's is one symmetric H on every backend.
            """,
            arg_overrides={"coefficient": {"default": _REQUIRED}},
            **_DENSE_SOURCE,
        ),
        _kernel(
            "reconstruction_positive_negative_from", "solve", "solve",
            "data_vector curvature_reg_matrix", "(S,) float64 s",
            "Linear source reconstruction s = (F + H)⁻¹ D by Cholesky.",
            composed_of=(),
        ),
        _kernel(
            "reconstruction_positive_only_from", "solve", "solve",
            "data_vector curvature_reg_matrix zeroed_pixels warm_start return_state",
            "(S,) float64 s ≥ 0 (source brightness, the units of D / (F + H)), or the pair "
            "(s, autokern.inversion.PositiveOnlyState) with return_state",
            "Positive-only source reconstruction: s ≥ 0 minimising sᵀ(F + H)s − 2sᵀD, with "
            "s = 0 on zeroed_pixels (their rows and columns deleted from the solve).",
            notes="""
                The unique minimiser, to the same KKT tolerance on every backend.  Numba and
                JAX: block principal pivoting (Júdice & Pires, Kim & Park's backup rule), many
                pixels per step, one Cholesky of the free block each (Numba: on its threads, or
                up/down-dates when few change), from warm_start's free set or the unconstrained
                solution; Numba finishes with fnnls if it runs out of iterations (exact,
                finite).  The reference: Bro & de Jong's fast NNLS from the empty set (it
                ignores warm_start).  JAX runs in a lax.while_loop (static shapes, jit- and
                vmap-able, each batch member its own state), differentiated implicitly through
                the KKT conditions of the final active set, ds_F = (F + H)_FF⁻¹ (dD_F −
                d(F + H)_FF s_F), ds = 0 elsewhere.
            """,
        ),
        _kernel(
            "noise_normalization_complex_from", "solve", "solve", "noise_map",
            "float",
            "Σ_k log(2π (Re σ_k)²) + log(2π (Im σ_k)²).",
            composed_of=(),
        ),
        _kernel(
            "log_evidence_from", "evidence", "evidence",
            "curvature_matrix regularization_matrix data_vector data noise_map solver "
            "zeroed_pixels warm_start return_state",
            "float log evidence, or (log evidence, autokern.inversion.PositiveOnlyState or "
            "None) with return_state",
            "Log evidence from F, H and D, with any regularization matrix H (constant, "
            "adaptive, split) and either solver.",
            maths=_EVIDENCE_MATHS,
            composed_of=("reconstruction_positive_only_from",),
            **_DENSE_SOURCE,
        ),
        _kernel(
            "inversion_from", "evidence", "evidence",
            "visibility_terms native_index_for_slim_index curvature_method",
            "autokern.inversion.Inversion",
            "The reusable inversion of one dataset: everything of the likelihood that does not "
            "change between calls, on this backend's arrays, for inversion_result_from.",
            notes="""
                Build it once per dataset (visibility_terms from visibility_terms_from or
                autokern.terms.visibility_terms_from_chunks) and keep it in the sampler: a
                call then costs F, log det H and one Cholesky factorisation of F + H, and
                nothing of size K.
            """,
            composed_of=(),
        ),
        _kernel(
            "inversion_result_from", "evidence", "evidence",
            "inversion pix_indexes_for_sub_slim_index pix_weights_for_sub_slim_index "
            "regularization_matrix solver zeroed_pixels log_det_regularization_matrix_term "
            "matrices warm_start linear_light_images linear_light_curvature_diagonal",
            "autokern.inversion.InversionResult (log_evidence, reconstruction, chi_squared, "
            "regularization_term, log_det_curvature_reg_matrix_term, "
            "log_det_regularization_matrix_term, noise_normalization, curvature_matrix, "
            "regularization_matrix, solver_state: the positive-only solve's PositiveOnlyState "
            "for the next call's warm_start, None for the linear solve)",
            "One likelihood evaluation of a reusable inversion: the log evidence and "
            "every term of it, for a mapping and any regularization matrix H.",
            maths=_EVIDENCE_MATHS,
            notes="""
                F takes the inversion's curvature_method route; D = Tᵀ d; log det H by a sparse
                factorisation on the CPU backends when H is sparse (the downstream library's
                way), a dense Cholesky on JAX.  On JAX the result is a pytree: jit, vmap and
                grad apply to the whole call.

                With linear_light_images L (M, L): the parameters are x = (a, s), the L light
                amplitudes first; F = [[LᵀW̃L + cI, LᵀW̃T], [TᵀW̃L, TᵀW̃T]] (W̃L through
                w-compact, w_tilde_image_from), D = [Lᵀd; Tᵀd], H only on the source block,
                zeroed_pixels index the source pixels; χ² over x, sᵀHs, and log det(F + H),
                log det H of the source block only — the downstream library's evidence for
                linear light profiles (its curvature_reg_matrix_reduced).  The reconstruction
                is x (L + S,); matrices=True returns the joint F and the source's H.
            """,
            composed_of=("curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
                         "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
                         "curvature_matrix_via_w_compact_fft_from",
                         "sparse_mapping_matrix_transpose_matmul",
                         "reconstruction_positive_only_from", "w_tilde_image_from"),
            **_DENSE_SOURCE,
        ),
        _kernel(
            "w_tilde_image_from", "curvature", "light",
            "w_compact native_index_for_slim_index image",
            "float64 array of image's shape: W̃ image (units of image / σ²)",
            "W̃ applied to images on the mask through w-compact, never forming W̃: "
            "W̃ I for one image (M,) or each column of (M, N).",
            maths="""
                out[i] = Σ_j W̃[i, j] image[j] = Σ_j w_compact[|a|, sign(a) b + Nx - 1] image[j],
                (a, b) = (row_i - row_j, col_i - col_j).
            """,
            notes="""
                Reference: W̃ gathered a block of rows at a time, O(M² N).  Numba: a direct
                gather over the lag table on its threads (O(M² N)) for small masks, an FFT
                convolution on the (2Ny, 2Nx) box (O(N Ny Nx log)) for large ones.  JAX: the
                FFT convolution, traceable and differentiable.  No cost depends on K.
            """,
            arg_overrides={"image": {"shape": "M ...",
                                     "doc": "Images on the mask, slim order: (M,) or (M, N) "
                                            "columns (any units)."}},
        ),
        _kernel(
            "light_subtracted_inversion_from", "evidence", "evidence",
            "inversion image",
            "autokern.inversion.Inversion of the visibilities V − V^image",
            "The inversion of the visibilities less those of a model image (parametric lens "
            "light), from the inversion of the visibilities, with no work of size K.",
            maths="""
                With Re σ = Im σ (which every autokern W̃ requires) and V^I = A I,
                A_kj = exp(−2πi (x_j u_k + y_j v_k)):
                dirty image of V − V^I = d − W̃ I,
                Σ_k |V_k − V^I_k|² / σ_k² = Σ_k |V_k|² / σ_k² − 2 Iᵀ d + Iᵀ W̃ I.
            """,
            notes="""
                One w_tilde_image_from (O(M²) direct or O(Ny Nx log) by FFT) and two dot
                products per call; w-compact, the noise normalization and K are the inversion's
                own (shared, not copied).  Pass the result to inversion_result_from.  With a
                primary beam P, pass P · image (the library's visibilities of an image are those
                of P I).
            """,
            composed_of=("w_tilde_image_from",),
        ),
        _kernel(
            "log_likelihood_function_via_w_tilde_from", "evidence", "evidence",
            "dirty_image data noise_map w_tilde " + _LIKELIHOOD_TAIL, "float log evidence",
            "Log evidence of the linear inversion from dense W̃.",
            maths=_EVIDENCE_MATHS,
            composed_of=("curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
                         *_EVIDENCE_PARTS),
            **_DENSE_SOURCE,
        ),
        _kernel(
            "log_likelihood_function_via_visibility_terms_from", "evidence", "evidence",
            "visibility_terms native_index_for_slim_index " + _LIKELIHOOD_TAIL,
            "float log evidence",
            "Log evidence of the linear inversion from streamed visibility terms.",
            maths=_EVIDENCE_MATHS,
            composed_of=("curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
                         *_EVIDENCE_PARTS),
            **_DENSE_SOURCE,
        ),
        _kernel(
            "log_likelihood_function_via_w_compact_from", "evidence", "evidence",
            "dirty_image data noise_map w_compact native_index_for_slim_index "
            + _LIKELIHOOD_TAIL,
            "float log evidence",
            "Log evidence of the linear inversion from w-compact.",
            maths=_EVIDENCE_MATHS,
            composed_of=("curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
                         *_EVIDENCE_PARTS),
            **_DENSE_SOURCE,
        ),
    ]
}

#: Former kernel names, deprecated: the dispatcher (get_kernel, Kernels, backend modules) still
#: answers to them with a DeprecationWarning.  The precision operator kernels took the downstream
#: library's name for the precision operator, the NUFFT precision operator.
RENAMED_KERNELS: dict[str, str] = {
    "w_tilde_curvature_preload_interferometer_from": "nufft_precision_operator_from",
    "preload_from_w_compact": "nufft_precision_operator_via_w_compact_from",
    "w_compact_from_preload": "w_compact_via_nufft_precision_operator_from",
    "w_tilde_via_preload_from": "w_tilde_via_nufft_precision_operator_from",
    "curvature_matrix_via_w_tilde_curvature_preload_interferometer_from":
        "curvature_matrix_via_nufft_precision_operator_from",
}

MODULES: tuple[str, ...] = ("grid", "w_tilde", "mapping", "curvature", "regularization", "solve",
                            "evidence", "light")


def kernels_for(backend: str) -> list[Kernel]:
    """The catalogue entries that ``backend`` is declared to provide."""
    return [k for k in KERNELS.values() if backend in k.backends]
