"""The test harness: a :class:`Case` bundles a dataset, a source mesh and a coefficient and hands
any kernel argument out by its catalogue name (:meth:`Case.arguments`), so tests and benchmarks
call every kernel the same way; :func:`mock_case` makes seeded mock cases at the presets of
:data:`autokern.datasets.PRESETS`, :func:`load_dev_reference` the downstream library's
end-to-end reference run, found by :func:`default_data_dir` (``../shared/data`` beside a
checkout, or ``$AUTOKERN_DATA_DIR``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autokern._shared.lattice import ARCSEC_TO_RADIANS
from autokern.data.datasets import (
    PRESETS,
    Interferometer,
    MaskSpec,
    Preset,
    SourceMesh,
    _mock_visibilities,
    _uv_coverage,
)
from autokern.errors import ConfigurationError

#: Where a kernel's reference value sits in the dev reference file, by kernel name.
DEV_REFERENCE_KEYS: dict[str, str] = {
    "mask_2d_circular_from": "real_space_mask",
    "w_tilde_data_interferometer_from": "dirty_image_weighted",
    "w_tilde_curvature_interferometer_from": "w_tilde",
    "nufft_precision_operator_from": "nufft_precision_operator",
    "w_tilde_via_nufft_precision_operator_from": "w_tilde",
    "w_tilde_via_compact_from": "w_tilde",
    "nufft_precision_operator_via_w_compact_from": "nufft_precision_operator",
    "data_vector_from": "data_vector_wtilde",
    "sparse_mapping_matrix_transpose_matmul": "data_vector_wtilde",
    "curvature_matrix_via_w_tilde_from": "curvature_matrix_wtilde",
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from": "curvature_matrix_wtilde",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from": "curvature_matrix_wtilde",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from": "curvature_matrix_wtilde",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from_BCOO": "curvature_matrix_wtilde",
    "curvature_matrix_via_nufft_precision_operator_from":
        "curvature_matrix_wtilde",
    "curvature_matrix_via_w_compact_fft_from": "curvature_matrix_wtilde",
    "curvature_matrix_via_w_compact_from": "curvature_matrix_wtilde",
    "log_likelihood_function_via_visibility_terms_from": "log_evidence_linear",
    "constant_regularization_matrix_from": "regularization_matrix",
    "reconstruction_positive_negative_from": "reconstruction_linear",
    "noise_normalization_complex_from": "noise_normalization_linear",
    "log_likelihood_function_via_w_tilde_from": "log_evidence_linear",
    "log_likelihood_function_via_w_compact_from": "log_evidence_linear",
    "log_evidence_from": "log_evidence_linear",
}

#: Intermediate arguments a reference run provides, by argument name.
_REFERENCE_INTERMEDIATES = {
    "w_tilde": "w_tilde",
    "nufft_precision_operator": "nufft_precision_operator",
    "dirty_image": "dirty_image_weighted",
    "data_vector": "data_vector_wtilde",
}


@dataclass(eq=False)
class Case:
    """A dataset, a source mesh and a coefficient: everything one inversion needs.

    ``reference`` holds the downstream library's own outputs where the case comes from a
    reference run; its intermediates (W̃, the precision operator, dirty image, F, H, D) are then
    the inputs handed to the kernels, so each kernel is checked on its own.
    """

    name: str
    dataset: Interferometer
    mesh: SourceMesh
    coefficient: float = 1.0
    reference: dict[str, Any] = field(default_factory=dict, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def expected(self, kernel: str) -> Any | None:
        """The reference value of ``kernel``'s output, or None when the reference lacks it."""
        key = DEV_REFERENCE_KEYS.get(kernel)
        return self.reference.get(key) if key is not None else None

    def value(self, argname: str) -> Any:
        """The value of the kernel argument called ``argname`` for this case."""
        if argname not in self._cache:
            self._cache[argname] = self._compute(argname)
        return self._cache[argname]

    def arguments(self, kernel: Any) -> dict[str, Any]:
        """Keyword arguments for a catalogue ``kernel`` (its required arguments only)."""
        from autokern.catalogue import KERNELS

        entry = KERNELS[kernel] if isinstance(kernel, str) else kernel
        out = {a.name: self.value(a.name) for a in entry.args if not a.keyword_only}
        if entry.name == "constant_regularization_matrix_from":
            out["coefficient"] = self.coefficient
        return out

    def _compute(self, name: str) -> Any:
        from autokern import original as ref

        ds, mesh = self.dataset, self.mesh
        if name in _REFERENCE_INTERMEDIATES and _REFERENCE_INTERMEDIATES[name] in self.reference:
            return self.reference[_REFERENCE_INTERMEDIATES[name]]
        simple = {
            "data": lambda: ds.data,
            "noise_map": lambda: ds.noise_map,
            "noise_map_real": lambda: ds.noise_map_real,
            "uv_wavelengths": lambda: ds.uv_wavelengths,
            "grid_radians_slim": lambda: ds.grid_radians_slim,
            "grid_radians_2d": lambda: ds.grid_radians_2d,
            "shape_masked_pixels_2d": lambda: ds.shape_masked_pixels_2d,
            "grid_size": lambda: ds.shape_masked_pixels_2d,
            "pixel_scale": lambda: ds.pixel_scale,
            "native_index_for_slim_index": lambda: ds.native_index_for_slim_index,
            "shape_native": lambda: ds.grid.shape_native,
            "pixel_scales": lambda: (ds.pixel_scale, ds.pixel_scale),
            "radius": lambda: self._circle().radius,
            "centre": lambda: self._circle().centre,
            "pix_indexes_for_sub_slim_index": lambda: mesh.pix_indexes_for_sub_slim_index,
            "pix_weights_for_sub_slim_index": lambda: mesh.pix_weights_for_sub_slim_index,
            "pix_sizes_for_sub_slim_index": lambda: mesh.pix_sizes_for_sub_slim_index,
            "neighbors": lambda: mesh.neighbors,
            "neighbors_sizes": lambda: mesh.neighbors_sizes,
            "pixels": lambda: mesh.pixels,
            "coefficient": lambda: self.coefficient,
            # one sub-pixel per image pixel unless the case says otherwise
            "slim_index_for_sub_slim_index": lambda: np.arange(
                len(mesh.pix_indexes_for_sub_slim_index), dtype=np.int64),
            "sub_fraction": lambda: np.ones(len(ds.native_index_for_slim_index)),
        }
        if name in simple:
            return simple[name]()
        v = self.value
        derived = {
            "dirty_image": lambda: ref.w_tilde_data_interferometer_from(
                ds.data, ds.noise_map, ds.uv_wavelengths, ds.grid_radians_slim),
            "w_compact": lambda: ref.w_compact_curvature_interferometer_from(
                ds.shape_masked_pixels_2d, ds.noise_map_real, ds.uv_wavelengths, ds.pixel_scale),
            "nufft_precision_operator": lambda: ref.nufft_precision_operator_via_w_compact_from(
                v("w_compact")),
            "w_tilde": lambda: ref.w_tilde_via_compact_from(v("w_compact"),
                                                            ds.native_index_for_slim_index),
            "mapping_matrix": lambda: ref.mapping_matrix_from(
                mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index,
                mesh.pixels),
            "matrix": lambda: v("dirty_image"),
            "image": lambda: self._light_image(),
            "data_vector": lambda: ref.data_vector_from(v("mapping_matrix"), v("dirty_image")),
            "curvature_reg_matrix": lambda: self._curvature_reg_matrix(),
            "curvature_matrix": lambda: self.reference.get("curvature_matrix_wtilde",
                                                           ref.curvature_matrix_via_w_tilde_from(
                                                               v("w_tilde"), v("mapping_matrix"))),
            "regularization_matrix": lambda: ref.constant_regularization_matrix_from(
                self.coefficient, mesh.neighbors, mesh.neighbors_sizes),
            "inversion": lambda: ref.inversion_from(v("visibility_terms"),
                                                    ds.native_index_for_slim_index),
            "visibility_terms": lambda: ref.visibility_terms_from(
                ds.data, ds.noise_map, ds.uv_wavelengths, ds.grid_radians_slim,
                ds.native_index_for_slim_index, ds.pixel_scale, method="direct"),
        }
        if name not in derived:
            raise KeyError(f"case {self.name!r} has no value for argument {name!r}")
        return derived[name]()

    def _light_image(self) -> np.ndarray:
        """A smooth model image on the mask (M,): a round Gaussian of unit peak and a width of a
        quarter of the mask's extent, centred on the mask (a stand-in for lens light)."""
        grid = self.dataset.grid_radians_slim
        centre = 0.5 * (grid.max(axis=0) + grid.min(axis=0))
        width = 0.25 * float(np.max(np.ptp(grid, axis=0))) or 1.0
        return np.exp(-0.5 * np.sum((grid - centre) ** 2, axis=1) / width**2)

    def _circle(self) -> MaskSpec:
        spec = self.dataset.mask_spec
        if not isinstance(spec, MaskSpec):
            raise KeyError(f"case {self.name!r} has no circular mask (radius, centre): its mask "
                           "is a MaskedGrid")
        return spec

    def _curvature_reg_matrix(self) -> np.ndarray:
        from autokern import original as ref

        if {"curvature_matrix_wtilde", "regularization_matrix"} <= self.reference.keys():
            return self.reference["curvature_matrix_wtilde"] + \
                self.reference["regularization_matrix"]
        curvature = ref.curvature_matrix_via_w_tilde_from(self.value("w_tilde"),
                                                          self.value("mapping_matrix"))
        regularization = ref.constant_regularization_matrix_from(
            self.coefficient, self.mesh.neighbors, self.mesh.neighbors_sizes)
        return curvature + regularization


def default_data_dir() -> Path | None:
    """``$AUTOKERN_DATA_DIR`` (an error when it names no directory), else ``../shared/data``
    from the working directory or the repository; None when neither exists."""
    configured = os.environ.get("AUTOKERN_DATA_DIR", "").strip()
    if configured:
        if not Path(configured).is_dir():
            raise ConfigurationError(
                f"environment variable AUTOKERN_DATA_DIR names {configured!r}, which is not a "
                "directory; unset it to use ../shared/data beside the checkout")
        return Path(configured)
    candidates = [str(Path.cwd().parent / "shared" / "data")]
    candidates += [str(Path(__file__).resolve().parents[3] / "shared" / "data")]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def _data_dir(path: str | os.PathLike | None) -> Path:
    found = Path(path) if path is not None else default_data_dir()
    if found is None or not found.is_dir():
        raise FileNotFoundError(
            "autokern's reference data directory was not found; pass its path or set "
            "AUTOKERN_DATA_DIR (it is ../shared/data beside a checkout)"
        )
    return found


def load_dev_reference(path: str | os.PathLike | None = None) -> Case:
    """The SMA dev reference (``sma_delaunay_dev.npz``) as a :class:`Case` whose ``reference``
    holds every output the downstream library saved."""
    file = Path(path) if path is not None and Path(path).is_file() else \
        _data_dir(path) / "sma_delaunay_dev.npz"
    with np.load(file) as npz:
        ref = {k: npz[k] for k in npz.files}
    mask = ref["real_space_mask"]
    pixel_scale = float(ref["pixel_scale"])
    dataset = Interferometer(ref["data"], ref["noise_map"], ref["uv_wavelengths"],
                             MaskSpec(mask.shape, pixel_scale, radius=2.4))
    mesh = SourceMesh(ref["pix_indexes_for_sub_slim_index"],
                      ref["pix_weights_for_sub_slim_index"], ref["neighbors"],
                      ref["neighbors_sizes"],
                      ref["pix_size_for_sub_slim_index"])  # the dev file's older name
    for key in ("real_space_mask", "native_index_for_slim_index", "grid_radians_slim"):
        if not np.array_equal(getattr(dataset, key), ref[key]):
            raise ValueError(f"dev reference: derived {key} differs from the saved one")
    scalars = {k: float(v) for k, v in ref.items() if v.ndim == 0}
    return Case("dev", dataset, mesh, coefficient=2.0, reference={**ref, **scalars})



# --- mock cases-----------------------------------------------------------------------------

def _delaunay_mesh(rng: np.random.Generator, grid_arcsec: np.ndarray, source_pixels: int,
                   einstein_radius: float) -> SourceMesh:
    """Trace image pixels through a singular isothermal sphere and map them onto a Delaunay
    mesh of ``source_pixels`` vertices picked among the traced pixels (B = 3, -1 padded)."""
    from autokern.data.mesh import delaunay_mesh_from

    radius = np.maximum(np.hypot(grid_arcsec[:, 0], grid_arcsec[:, 1]), 1e-12)
    traced = grid_arcsec - einstein_radius * grid_arcsec / radius[:, None]
    picks = rng.choice(len(traced), size=source_pixels, replace=False)
    vertices = traced[picks] + rng.normal(scale=1e-3, size=(source_pixels, 2))
    # affine weights: the mock presets' arrays as they were first generated, bit for bit
    mesh = delaunay_mesh_from(vertices, traced, weights="affine")
    return SourceMesh(mesh.pix_indexes_for_sub_slim_index, mesh.pix_weights_for_sub_slim_index,
                      mesh.neighbors, mesh.neighbors_sizes, mesh.pix_sizes_for_sub_slim_index,
                      points=mesh.points)


def mock_case(preset: str | Preset = "small", seed: int = 0, coefficient: float = 1.0) -> Case:
    """A seeded, reproducible mock :class:`Case` at a preset of :data:`PRESETS`.

    uv coverage from Earth-rotation tracks (``|u|``, ``|v|`` up to the preset's ``max_uv``, 10⁶
    wavelengths unless it says otherwise, so phases across the mask span many radians), equal
    real and imaginary noise, a Gaussian source plus noise as data, and a Delaunay mapping of
    the image through an isothermal lens.
    """
    spec = PRESETS[preset] if isinstance(preset, str) else preset
    name = preset if isinstance(preset, str) else "custom"
    rng = np.random.default_rng(seed)
    mask = spec.mask_spec()
    uv = _uv_coverage(rng, spec.visibilities, spec.max_uv, spec.antennas)
    data, noise_map = _mock_visibilities(rng, uv, mask.radius)
    dataset = Interferometer(data, noise_map, uv, mask)
    grid_arcsec = dataset.grid_radians_slim / ARCSEC_TO_RADIANS
    mesh = _delaunay_mesh(rng, grid_arcsec, spec.source_pixels, 0.5 * mask.radius)
    return Case(name, dataset, mesh, coefficient=coefficient)
