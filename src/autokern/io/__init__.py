"""Visibilities from disk: Measurement Sets (python-casacore) and the downstream FITS layout.

Measurement Sets
================
:func:`measurement_set_chunks` streams one Measurement Set (MS), or several, as
``(data, noise_map, uv_wavelengths)`` chunks of Stokes I visibilities, which
:func:`autokern.terms.visibility_terms_from_chunks` folds; it holds one block of rows at a
time, never a whole column.  :func:`measurement_set_parts` cuts the MSs into small picklable
:class:`MeasurementSetPart` row ranges and :func:`read_measurement_set_part` reads one of them
on its own (one ``dask.delayed`` task each); :func:`measurement_set_chunks` is those two in a
loop.  :func:`write_measurement_set` (or :class:`MeasurementSetWriter`) writes a valid MS block
by block, for mock data, tests and benchmarks.

Conventions (columns as in the MS definition v2.0, AIPS++ Note 229; weights as on CASA's
*Data Weights* page and in its ``statwt`` task):

- **One visibility per (row, channel) kept**, in row order, then channel order.  A row's
  channels take their frequencies ν from CHAN_FREQ of the spectral window that its
  DATA_DESC_ID names (DATA_DESCRIPTION/SPECTRAL_WINDOW_ID), so rows of several spectral windows
  may be mixed in one MS: u = UVW[0]·ν/c, v = UVW[1]·ν/c with c = 299 792 458 m/s.
- **(u, v) signs**: as stored, and the visibilities are not conjugated.  The downstream library
  (PyAutoArray, ``autoarray/operators/transformer_util.py``) models V_k = Σ_i I_i exp(−2πi
  (x_i u_k + y_i v_k)), the sign of the measurement equation V = ∫ I exp(−2πi (u l + v m)) for
  which MS UVW are defined, and its workspace's CASA guide builds ``uv_wavelengths`` from UVW
  the same way (UVW[:2]·ν/c, no sign change).  So x plays the role of l and y of m.
- **Stokes I** from POLARIZATION/CORR_TYPE (of the row's DATA_DESCRIPTION/POLARIZATION_ID):
  I = (XX + YY)/2 for linear feeds, I = (RR + LL)/2 for circular ones, or the I correlation
  itself when the MS holds one.  Any other layout (one parallel hand only, cross hands only)
  is an :class:`~autokern.errors.InputValueError`: Stokes I cannot be formed from it.
- **Noise**: CASA's weight of a correlation is w = 1/σ², σ the rms noise of its real part and,
  equally, of its imaginary part (``statwt`` sets w = 2/(var Re + var Im)); SIGMA holds that σ.
  The weights of a row are WEIGHT_SPECTRUM (per channel) when the column is present and the
  row's cell was written, else WEIGHT (per correlation, for every channel of its row), else
  SIGMA: chosen row by row, so CASA's added but unfilled WEIGHT_SPECTRUM, or one filled in
  some rows only, gives the same visibilities whatever ``chunk_rows`` is (``weight_column``
  picks one column for every row, SIGMA_SPECTRUM included).  With σ₁², σ₂² of the two
  correlations, σ_I² = (σ₁² + σ₂²)/4 (σ_I = σ for an I correlation), and the noise map is
  σ_I + iσ_I (Re σ = Im σ, as W̃ requires).  CASA keeps WEIGHT for CORRECTED_DATA and SIGMA
  for the uncalibrated DATA; after ``split``/``mstransform`` of the corrected data, DATA and
  WEIGHT belong together.
- **Flags**: a visibility is dropped when FLAG_ROW is set, when FLAG is set on either of its
  two correlations (I from one hand alone is I ± Q or I ± V, not Stokes I; CASA's Stokes I
  imaging drops such data too), when a weight (or σ) is not positive and finite, or when its
  data are not finite.  Chunks left empty are skipped.
- **Refused** (:class:`~autokern.errors.InputValueError`, naming the MS, the column and the
  row): a data column that is not complex (channel, correlation) cells (FLOAT_DATA, FLAG, a
  weight column), an MS without UVW, FLAG, FLAG_ROW or DATA_DESC_ID, a cell of the data column,
  FLAG, UVW or an explicit ``weight_column`` that was never written, cells whose shape is not
  the rows' (channels, correlations) or (correlations,) (WEIGHT with one value for two
  correlations), and a :class:`MeasurementSetPart` selecting windows or channels the MS lacks.

FITS
====
:func:`visibilities_from_fits` reads the downstream library's FITS layout from three paths;
a file that is not readable FITS (empty, another format, truncated) is an
:class:`~autokern.errors.InputValueError` that names it and its role.
"""

from autokern.io.fits import (
    visibilities_from_fits,
)
from autokern.io.measurement_set import (
    DEFAULT_CHUNK_CELLS,
    SPEED_OF_LIGHT,
    MeasurementSetPart,
    measurement_set_chunks,
    measurement_set_parts,
    read_measurement_set_part,
)
from autokern.io.ms_writer import (
    MeasurementSetWriter,
    RowBlock,
    write_measurement_set,
)

__all__ = [
    "DEFAULT_CHUNK_CELLS",
    "SPEED_OF_LIGHT",
    "MeasurementSetPart",
    "MeasurementSetWriter",
    "RowBlock",
    "measurement_set_chunks",
    "measurement_set_parts",
    "read_measurement_set_part",
    "visibilities_from_fits",
    "write_measurement_set",
]
