"""Writing Measurement Sets block by block, for mock data, tests and benchmarks (see
:mod:`autokern.io`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autokern.errors import (
    InputShapeError,
    InputValueError,
)
from autokern.io.measurement_set import _STOKES, _casacore_tables, _stokes_names

__all__ = [
    "MeasurementSetWriter",
    "RowBlock",
    "write_measurement_set",
]

#: Receptor order of each feed kind, for CORR_PRODUCT and FEED/POLARIZATION_TYPE.
_RECEPTORS = ("XY", "RL")
#: 2020-01-01T00:00 UTC as an MS TIME (MJD seconds): the time of rows written without one.
_DEFAULT_TIME = 58_849.0 * 86_400.0
#: Cells of one storage tile (correlations × channels × rows) of the columns written.
_TILE_CELLS = 1 << 17


# --- writing ---------------------------------------------------------------------------------

@dataclass(eq=False)
class RowBlock:
    """A block of R rows of one spectral window (C channels, P correlations) to write.

    Attributes
    ----------
    uvw : (R, 3) float64
        Baseline coordinates in metres.
    data : (R, C, P) complex
        The DATA column (stored as complex64, as the MS defines it).
    spectral_window : int
        The window of every row (its DATA_DESC_ID).
    weight, sigma : (R, P) float, optional
        WEIGHT and SIGMA; either derives the other (w = 1/σ²), both absent mean w = σ = 1.
    weight_spectrum : (R, C, P) float, optional
        WEIGHT_SPECTRUM, when the writer has that column (else WEIGHT spread over channels).
    flag : (R, C, P) bool, optional
        FLAG (default: nothing flagged).
    flag_row : (R,) bool, optional
        FLAG_ROW (default: False).
    antenna1, antenna2 : (R,) int, optional
        Default antennas 0 and 1.
    time : (R,) float or float, optional
        TIME in MJD seconds (default 2020-01-01).
    columns : mapping of str to (R, C, P) complex
        Further data columns the writer was given (e.g. CORRECTED_DATA, MODEL_DATA).
    """

    uvw: np.ndarray
    data: np.ndarray
    spectral_window: int = 0
    weight: np.ndarray | None = None
    sigma: np.ndarray | None = None
    weight_spectrum: np.ndarray | None = None
    flag: np.ndarray | None = None
    flag_row: np.ndarray | None = None
    antenna1: np.ndarray | None = None
    antenna2: np.ndarray | None = None
    time: np.ndarray | float | None = None
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_stokes_i(cls, uvw: np.ndarray, data: np.ndarray, sigma: np.ndarray, *,
                      spectral_window: int = 0, flag: np.ndarray | None = None,
                      weight_spectrum: bool = False, **others: Any) -> RowBlock:
        """Rows of two parallel hands (XX, YY or RR, LL) that both hold the Stokes I ``data``.

        ``data`` (R, C) complex; ``sigma`` (R,) or (R, C) the σ_I of each of Re I and Im I;
        ``flag`` (R, C) bool.  Each hand gets σ = √2 σ_I, so reading back gives ``data`` and
        ``sigma`` (to single precision).  With ``weight_spectrum`` (or a per-channel sigma)
        the weights go to WEIGHT_SPECTRUM and WEIGHT is their mean over channels (CASA's
        ``mstransform`` rule).
        """
        data = np.asarray(data)
        if data.ndim != 2:
            raise InputShapeError(f"RowBlock.from_stokes_i: data must be (R, C), got "
                                  f"{data.shape}")
        variance = 2.0 * np.asarray(sigma, dtype=np.float64) ** 2
        if variance.ndim == 1:
            variance = variance[:, None]
        both = np.stack([data, data], axis=-1)
        per_channel = np.broadcast_to(1.0 / variance, data.shape)
        spectrum = np.stack([per_channel, per_channel], axis=-1)
        flags = None if flag is None else np.stack([flag, flag], axis=-1)
        if weight_spectrum or variance.shape[1] > 1:
            return cls(uvw, both, spectral_window, weight=spectrum.mean(axis=1),
                       weight_spectrum=spectrum, flag=flags, **others)
        return cls(uvw, both, spectral_window, weight=spectrum[:, 0], flag=flags, **others)


def _correlation_codes(correlations: str | Sequence[str]) -> tuple[int, ...]:
    named = {"linear": ("XX", "YY"), "circular": ("RR", "LL")}
    names = named.get(correlations, correlations) if isinstance(correlations, str) else \
        tuple(correlations)
    if isinstance(names, str):
        raise InputValueError(f"correlations must be 'linear', 'circular' or a sequence of "
                              f"names such as ('XX', 'XY', 'YX', 'YY'), got {correlations!r}")
    for name in names:
        if name not in _STOKES or name == "Undefined":
            raise InputValueError(f"unknown correlation {name!r}; known: {_STOKES[1:]}")
    if len(set(names)) != len(names) or not names:
        raise InputValueError(f"correlations {names} must be distinct and not empty")
    return tuple(_STOKES.index(n) for n in names)


def _corr_product(name: str) -> list[int]:
    if len(name) != 2:  # I, Q, U, V: no receptor pair
        return [0, 0]
    for receptors in _RECEPTORS:
        if name[0] in receptors and name[1] in receptors:
            return [receptors.index(name[0]), receptors.index(name[1])]
    return [0, 0]


class MeasurementSetWriter:
    """Write a Measurement Set block by block with casacore's table tools.

    Use as a context manager; ``append`` each :class:`RowBlock`, and ``close`` (or leaving the
    ``with``) fills ANTENNA and FEED for the antennas seen.  Columns of data, flags and
    weight spectra are tiled (TiledColumnStMan when every window has as many channels, else
    TiledShapeStMan), so rows append at disk speed and memory holds one block at a time.

    Parameters
    ----------
    path
        The MS directory to create.
    spectral_windows
        Channel frequencies (Hz): one 1-D array for one window, or a sequence of them.
    correlations
        "linear" (XX, YY), "circular" (RR, LL) or a sequence of CORR_TYPE names.
    data_columns
        The complex columns to create; DATA always, CORRECTED_DATA, MODEL_DATA on demand
        (each :class:`RowBlock` then brings them in ``columns``).
    weight_spectrum
        Create WEIGHT_SPECTRUM (4 bytes per data cell on disk).
    phase_centre
        (RA, Dec) of the one field, radians (J2000).
    overwrite
        Replace an existing directory at ``path``.
    """

    def __init__(self, path: str | os.PathLike,
                 spectral_windows: Sequence[float] | np.ndarray | Sequence[Sequence[float]], *,
                 correlations: str | Sequence[str] = "linear",
                 data_columns: Sequence[str] = ("DATA",), weight_spectrum: bool = False,
                 phase_centre: tuple[float, float] = (0.0, -0.5),
                 overwrite: bool = False) -> None:
        tables = _casacore_tables()
        self._tables = tables
        self.path = Path(path)
        self.frequencies = self._windows(spectral_windows)
        self.corr_types = _correlation_codes(correlations)
        self.data_columns = tuple(dict.fromkeys(("DATA", *data_columns)))
        for name in self.data_columns:
            if name.upper() != name or not name.endswith("DATA") or name == "FLOAT_DATA":
                raise InputValueError(f"data column {name!r}: expected upper-case names "
                                      "ending in DATA, e.g. CORRECTED_DATA, MODEL_DATA")
        self.weight_spectrum = bool(weight_spectrum)
        if self.path.exists():
            if not overwrite:
                raise FileExistsError(f"{str(self.path)!r} exists; pass overwrite=True to "
                                      "replace it")
            shutil.rmtree(self.path)
        self._ms = self._create(tables)
        self.rows = 0
        self._antennas = 0
        self._times = [np.inf, -np.inf]
        self._write_setup(phase_centre)

    @staticmethod
    def _windows(spectral_windows: Any) -> list[np.ndarray]:
        if len(spectral_windows) == 0:
            raise InputValueError("spectral_windows is empty: give channel frequencies (Hz)")
        one = np.ndim(spectral_windows[0]) == 0  # one window's frequencies, not a list of them
        nested = [np.asarray(f, dtype=np.float64)
                  for f in ([spectral_windows] if one else spectral_windows)]
        for index, frequencies in enumerate(nested):
            if frequencies.ndim != 1 or len(frequencies) == 0 or \
                    not np.all(np.isfinite(frequencies) & (frequencies > 0)):
                raise InputValueError(f"spectral window {index}: expected a non-empty 1-D "
                                      f"array of positive frequencies in Hz, got {frequencies}")
        return nested

    def _create(self, tables: Any) -> Any:
        ncorr = len(self.corr_types)
        widths = {len(f) for f in self.frequencies}
        fixed = len(widths) == 1
        nchan = max(widths)
        manager = "TiledColumnStMan" if fixed else "TiledShapeStMan"
        tile = [ncorr, nchan, max(1, _TILE_CELLS // (ncorr * nchan))]
        shape = {"shape": [nchan, ncorr], "options": 4} if fixed else {}
        spectra = [(name, 0j, "complex") for name in self.data_columns]
        spectra += [("FLAG", False, "boolean")]
        if self.weight_spectrum:
            spectra += [("WEIGHT_SPECTRUM", 0.0, "float")]
        columns = [tables.makearrcoldesc(name, value, ndim=2, valuetype=kind,
                                         datamanagertype=manager,
                                         datamanagergroup=f"Tiled{name}", **shape)
                   for name, value, kind in spectra]
        columns += [tables.makearrcoldesc(name, 0.0, ndim=1, shape=[ncorr], valuetype="float",
                                          options=4, datamanagergroup="RowWeights")
                    for name in ("WEIGHT", "SIGMA")]
        description = tables.maketabdesc(columns)
        layout = tables.makedminfo(description, {f"Tiled{name}": {
            "DEFAULTTILESHAPE": np.int32(tile)} for name, _, _ in spectra})
        return tables.default_ms(str(self.path), description, layout)

    def _subtable(self, name: str) -> Any:
        return self._tables.table(self._ms.getkeyword(name), readonly=False, ack=False)

    def _write_setup(self, phase_centre: tuple[float, float]) -> None:
        with self._subtable("SPECTRAL_WINDOW") as spw:
            spw.addrows(len(self.frequencies))
            for row, frequencies in enumerate(self.frequencies):
                width = np.gradient(frequencies) if len(frequencies) > 1 else np.ones(1)
                spw.putcell("NUM_CHAN", row, len(frequencies))
                spw.putcell("CHAN_FREQ", row, frequencies)
                for column in ("CHAN_WIDTH", "EFFECTIVE_BW", "RESOLUTION"):
                    spw.putcell(column, row, np.abs(width) if column != "CHAN_WIDTH" else width)
                spw.putcell("REF_FREQUENCY", row, frequencies[0])
                spw.putcell("TOTAL_BANDWIDTH", row, float(np.abs(width).sum()))
                spw.putcell("MEAS_FREQ_REF", row, 5)  # TOPO
                spw.putcell("NET_SIDEBAND", row, 1)
                spw.putcell("NAME", row, f"SPW{row}")
        names = _stokes_names(self.corr_types)
        with self._subtable("POLARIZATION") as pol:
            pol.addrows(1)
            pol.putcell("NUM_CORR", 0, len(names))
            pol.putcell("CORR_TYPE", 0, np.int32(self.corr_types))
            pol.putcell("CORR_PRODUCT", 0, np.int32([_corr_product(n) for n in names]))
        with self._subtable("DATA_DESCRIPTION") as dd:
            dd.addrows(len(self.frequencies))
            dd.putcol("SPECTRAL_WINDOW_ID", np.arange(len(self.frequencies), dtype=np.int32))
            dd.putcol("POLARIZATION_ID", np.zeros(len(self.frequencies), dtype=np.int32))
        with self._subtable("FIELD") as fld:
            fld.addrows(1)
            direction = np.array([[phase_centre[0], phase_centre[1]]])
            for column in ("DELAY_DIR", "PHASE_DIR", "REFERENCE_DIR"):
                fld.putcell(column, 0, direction)
            fld.putcell("NAME", 0, "MOCK")
            fld.putcell("SOURCE_ID", 0, -1)

    def append(self, block: RowBlock) -> None:
        """Append the rows of ``block`` (checked against the windows and correlations)."""
        rows, values = self._checked(block)
        ms = self._ms
        start = self.rows
        ms.addrows(rows)
        for column, value in values.items():
            ms.putcol(column, value, start, rows)
        self.rows += rows
        self._antennas = max(self._antennas, int(values["ANTENNA1"].max()) + 1,
                             int(values["ANTENNA2"].max()) + 1)
        self._times = [min(self._times[0], values["TIME"].min()),
                       max(self._times[1], values["TIME"].max())]

    def _checked(self, block: RowBlock) -> tuple[int, dict[str, np.ndarray]]:
        window = block.spectral_window
        if not isinstance(window, int | np.integer) or not 0 <= window < len(self.frequencies):
            raise InputValueError(f"RowBlock.spectral_window {window!r}: the writer has "
                                  f"{len(self.frequencies)} windows")
        uvw = np.asarray(block.uvw, dtype=np.float64)
        rows = len(uvw)
        cells = (rows, len(self.frequencies[window]), len(self.corr_types))

        def array(name: str, value: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
            out = np.asarray(value)
            if out.shape != shape:
                raise InputShapeError(f"RowBlock.{name}: expected shape {shape} (rows, channels "
                                      f"of window {window}, correlations), got {out.shape}")
            return np.ascontiguousarray(out, dtype=dtype)

        if uvw.shape != (rows, 3) or rows == 0:
            raise InputShapeError(f"RowBlock.uvw: expected (R, 3) with R ≥ 1, got {uvw.shape}")
        values = {"UVW": uvw, "DATA": array("data", block.data, cells, np.complex64)}
        for name in self.data_columns[1:]:
            if name not in block.columns:
                raise InputValueError(f"RowBlock.columns has no {name!r}, which the writer "
                                      f"was asked to create (it has {sorted(block.columns)})")
            values[name] = array(f"columns[{name!r}]", block.columns[name], cells,
                                 np.complex64)
        extra = sorted(set(block.columns) - set(self.data_columns))
        if extra:
            raise InputValueError(f"RowBlock.columns {extra} are not among the writer's data "
                                  f"columns {list(self.data_columns)}")
        row_cells = (rows, cells[2])
        with np.errstate(divide="ignore"):  # w = 0 (no weight) is σ = ∞
            if block.weight is not None:
                weight = array("weight", block.weight, row_cells, np.float64)
                sigma = (1.0 / np.sqrt(weight) if block.sigma is None else
                         array("sigma", block.sigma, row_cells, np.float64))
            elif block.sigma is not None:
                sigma = array("sigma", block.sigma, row_cells, np.float64)
                weight = 1.0 / sigma**2
            else:
                weight = sigma = np.ones(row_cells)
        values["WEIGHT"], values["SIGMA"] = weight.astype(np.float32), sigma.astype(np.float32)
        if self.weight_spectrum:
            spectrum = (np.broadcast_to(weight[:, None, :], cells)
                        if block.weight_spectrum is None else block.weight_spectrum)
            values["WEIGHT_SPECTRUM"] = array("weight_spectrum", spectrum, cells, np.float32)
        elif block.weight_spectrum is not None:
            raise InputValueError("RowBlock.weight_spectrum given, but the writer was made "
                                  "without weight_spectrum=True")
        values["FLAG"] = array("flag", np.zeros(cells, bool) if block.flag is None else
                               block.flag, cells, bool)
        values["FLAG_ROW"] = array("flag_row", np.zeros(rows, bool) if block.flag_row is None
                                   else block.flag_row, (rows,), bool)
        for name, default in (("antenna1", 0), ("antenna2", 1)):
            given = getattr(block, name)
            value = array(name, np.full(rows, default) if given is None else given, (rows,),
                          np.int32)
            if value.min() < 0:
                raise InputValueError(f"RowBlock.{name} holds a negative antenna index")
            values[name.upper()] = value
        time = _DEFAULT_TIME if block.time is None else block.time
        values["TIME"] = array("time", np.broadcast_to(time, (rows,)), (rows,), np.float64)
        values["TIME_CENTROID"] = values["TIME"]
        values["DATA_DESC_ID"] = np.full(rows, window, dtype=np.int32)
        for name in ("INTERVAL", "EXPOSURE"):
            values[name] = np.ones(rows)
        for name, value in (("SCAN_NUMBER", 1), ("PROCESSOR_ID", -1), ("STATE_ID", -1)):
            values[name] = np.full(rows, value, dtype=np.int32)
        return rows, values

    def close(self) -> None:
        """Fill ANTENNA, FEED and OBSERVATION and close the MS (again: nothing happens)."""
        if self._ms is None:
            return
        antennas = max(self._antennas, 1)
        receptors = next((r for r in _RECEPTORS if _stokes_names(self.corr_types)[0][0] in r),
                         "XY")
        with self._subtable("ANTENNA") as ant:
            ant.addrows(antennas)
            ant.putcol("NAME", [f"A{i:02d}" for i in range(antennas)])
            ant.putcol("STATION", [f"S{i:02d}" for i in range(antennas)])
            ant.putcol("TYPE", ["GROUND-BASED"] * antennas)
            ant.putcol("MOUNT", ["ALT-AZ"] * antennas)
            ant.putcol("DISH_DIAMETER", np.full(antennas, 12.0))
        with self._subtable("FEED") as feed:
            feed.addrows(antennas)
            feed.putcol("ANTENNA_ID", np.arange(antennas, dtype=np.int32))
            feed.putcol("SPECTRAL_WINDOW_ID", np.full(antennas, -1, dtype=np.int32))
            feed.putcol("NUM_RECEPTORS", np.full(antennas, 2, dtype=np.int32))
            feed.putcol("POLARIZATION_TYPE", np.array([list(receptors)] * antennas))
            feed.putcol("POL_RESPONSE", np.tile(np.eye(2, dtype=np.complex64),
                                                (antennas, 1, 1)))
            feed.putcol("BEAM_OFFSET", np.zeros((antennas, 2, 2)))
            feed.putcol("RECEPTOR_ANGLE", np.zeros((antennas, 2)))
            feed.putcol("POSITION", np.zeros((antennas, 3)))
            feed.putcol("TIME", np.full(antennas, _DEFAULT_TIME))
            feed.putcol("INTERVAL", np.zeros(antennas))
        with self._subtable("OBSERVATION") as obs:
            obs.addrows(1)
            obs.putcell("TELESCOPE_NAME", 0, "AUTOKERN-MOCK")
            obs.putcell("OBSERVER", 0, "autokern")
            first, last = self._times if self.rows else (_DEFAULT_TIME, _DEFAULT_TIME)
            obs.putcell("TIME_RANGE", 0, np.array([first, last]))
        self._ms.close()
        self._ms = None

    def __enter__(self) -> MeasurementSetWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def write_measurement_set(path: str | os.PathLike, blocks: RowBlock | Iterable[RowBlock], *,
                          spectral_windows: Any, correlations: str | Sequence[str] = "linear",
                          data_columns: Sequence[str] = ("DATA",),
                          weight_spectrum: bool = False,
                          phase_centre: tuple[float, float] = (0.0, -0.5),
                          overwrite: bool = False) -> Path:
    """Write ``blocks`` (one :class:`RowBlock` or an iterable, e.g. a generator) as an MS.

    Only one block is in memory at a time, so a 10⁸-visibility MS is written from a generator
    of blocks.  The keyword arguments are :class:`MeasurementSetWriter`'s.  A K-visibility
    Stokes I dataset (one channel at frequency ``nu``) is written as::

        uvw = np.column_stack([uv_wavelengths * SPEED_OF_LIGHT / nu, np.zeros(K)])
        block = RowBlock.from_stokes_i(uvw, data[:, None], noise_map.real)
        write_measurement_set("mock.ms", block, spectral_windows=[nu])

    Returns
    -------
    Path
        ``path``.
    """
    with MeasurementSetWriter(path, spectral_windows, correlations=correlations,
                              data_columns=data_columns, weight_spectrum=weight_spectrum,
                              phase_centre=phase_centre, overwrite=overwrite) as writer:
        for block in [blocks] if isinstance(blocks, RowBlock) else blocks:
            writer.append(block)
    return Path(path)
