"""Visibilities, noise map and uv wavelengths from the downstream library's FITS layout (see
:mod:`autokern.io`)."""

from __future__ import annotations

import os

import numpy as np

from autokern.errors import (
    InputShapeError,
    InputValueError,
    optional_module,
)
from autokern.io.measurement_set import Chunk

__all__ = [
    "visibilities_from_fits",
]


# --- FITS ------------------------------------------------------------------------------------

def visibilities_from_fits(data_path: str | os.PathLike, noise_map_path: str | os.PathLike,
                           uv_wavelengths_path: str | os.PathLike) -> Chunk:
    """(data, noise_map, uv_wavelengths) from the downstream library's FITS files.

    Each file holds a (K, 2) table in its primary HDU: (real, imag) of the data and of the
    noise map, (u, v) in wavelengths; any file names.  A file that is not readable FITS is an
    :class:`~autokern.errors.InputValueError` naming it (as data, noise_map or uv_wavelengths).

    Returns
    -------
    data : (K,) complex128
    noise_map : (K,) complex128
    uv_wavelengths : (K, 2) float64
        Native-endian and C-contiguous.
    """
    fits = optional_module("astropy.io.fits",
                           'reading FITS needs astropy: pip install "autokern[fits]"')

    def table(name: str, path: str | os.PathLike) -> np.ndarray:
        try:
            with fits.open(path) as hdul:
                values = hdul[0].data
                values = None if values is None else np.asarray(values, dtype=np.float64)
        except (OSError, TypeError) as error:
            if getattr(error, "errno", None) is not None:  # the file system's: as it is
                raise
            # astropy's "No SIMPLE card found", "Empty or corrupt FITS file" or a truncated
            # file's "buffer is too small" do not say which of the three files it is
            raise InputValueError(f"{name} file {os.fspath(path)!r} is not a readable FITS "
                                  f"file ({error})") from error
        if values is None:
            raise InputValueError(f"{name} file {os.fspath(path)!r} has no data in its "
                                  "primary HDU")
        if values.ndim != 2 or values.shape[1] != 2:
            raise InputShapeError(f"{name} file {os.fspath(path)!r}: expected a (K, 2) table, "
                                  f"got shape {values.shape}")
        return values

    data = table("data", data_path)
    noise = table("noise_map", noise_map_path)
    uv = table("uv_wavelengths", uv_wavelengths_path)
    if not len(data) == len(noise) == len(uv):
        raise InputShapeError(f"data, noise_map and uv_wavelengths have {len(data)}, "
                              f"{len(noise)} and {len(uv)} rows; they must have the same K")
    return (np.ascontiguousarray(data[:, 0] + 1j * data[:, 1]),
            np.ascontiguousarray(noise[:, 0] + 1j * noise[:, 1]), np.ascontiguousarray(uv))
