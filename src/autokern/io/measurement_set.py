"""Reading Measurement Sets (python-casacore) as chunks of Stokes I visibilities (see
:mod:`autokern.io`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autokern.errors import (
    InputTypeError,
    InputValueError,
    optional_module,
)

__all__ = [
    "DEFAULT_CHUNK_CELLS",
    "SPEED_OF_LIGHT",
    "MeasurementSetPart",
    "measurement_set_chunks",
    "measurement_set_parts",
    "read_measurement_set_part",
]

#: The speed of light in vacuum, m/s (exact in SI).
SPEED_OF_LIGHT = 299_792_458.0
#: Data cells (row × channel × correlation) read at once when ``chunk_rows`` is None: 2²²
#: complex64 cells are 32 MiB of one column, ~2·10⁶ Stokes I visibilities from two
#: correlations.  At K = 8·10⁶ on a 280 × 280 extent, chunks of 2²² cells folded into the
#: visibility terms faster than chunks of 2²³ or 2²⁴ (the NUFFT's working set), in less memory.
DEFAULT_CHUNK_CELLS = 1 << 22
#: casacore's Stokes enumeration (``casacore/measures/Measures/Stokes.h``), as CORR_TYPE holds it.
_STOKES = ("Undefined", "I", "Q", "U", "V", "RR", "RL", "LR", "LL", "XX", "XY", "YX", "YY",
           "RX", "RY", "LX", "LY", "XR", "XL", "YR", "YL", "PP", "PQ", "QP", "QQ")
#: The two parallel hands whose mean is Stokes I.
_PARALLEL_HANDS = (("XX", "YY"), ("RR", "LL"))
_WEIGHT_COLUMNS = ("WEIGHT_SPECTRUM", "WEIGHT", "SIGMA_SPECTRUM", "SIGMA")
#: The order in which ``weight_column=None`` looks for weights.
_AUTO_WEIGHTS = ("WEIGHT_SPECTRUM", "WEIGHT", "SIGMA")
_SUBTABLES = ("SPECTRAL_WINDOW", "DATA_DESCRIPTION", "POLARIZATION")
#: Main-table columns the reader needs whatever the data and weight columns.
_REQUIRED_COLUMNS = ("UVW", "FLAG", "FLAG_ROW", "DATA_DESC_ID")
#: casacore's value types of complex cells (single and double precision).
_COMPLEX_TYPES = ("complex", "dcomplex")

Chunk = tuple[np.ndarray, np.ndarray, np.ndarray]
ChannelSelection = range | tuple[int, ...]


def _casacore_tables() -> Any:
    return optional_module("casacore.tables",
                           'Measurement Sets need python-casacore: pip install "autokern[ms]"')


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeasurementSetPart:
    """Rows ``[start_row, stop_row)`` of the MS at ``path`` and the selection to read from them.

    ``spectral_windows`` None reads every spectral window; ``channels`` holds ``(spectral
    window, channels)`` pairs with the channels sorted (a ``range`` or a tuple), and windows not
    named read every channel.  Reading a part that names a window or channel its MS does not
    have is an :class:`~autokern.errors.InputValueError` (it would read as nothing, and its
    rows vanish from a reduction).  Small, hashable and picklable: one per Dask task.
    """

    path: str
    start_row: int
    stop_row: int
    spectral_windows: tuple[int, ...] | None = None
    channels: tuple[tuple[int, ChannelSelection], ...] | None = None

    @property
    def rows(self) -> int:
        return self.stop_row - self.start_row


@dataclass(frozen=True)
class _Layout:
    """What an MS's subtables say: per spectral window its channel frequencies (Hz), per data
    description its window and polarization, per polarization its CORR_TYPE."""

    frequencies: tuple[np.ndarray, ...]
    dd_window: np.ndarray
    dd_polarization: np.ndarray
    corr_types: tuple[tuple[int, ...], ...]
    columns: frozenset[str]
    rows: int


def _open(tables: Any, path: str | os.PathLike, readonly: bool = True) -> Any:
    location = Path(path)
    if not location.exists():
        raise FileNotFoundError(f"no Measurement Set at {str(location)!r}")
    if not (location / "table.dat").is_file():
        raise InputValueError(f"{str(location)!r} is not a casacore table (no table.dat): "
                              "expected a Measurement Set directory")
    ms = tables.table(str(location), ack=False, readonly=readonly)
    missing = [name for name in _SUBTABLES if name not in ms.getkeywords()]
    if missing:
        ms.close()
        raise InputValueError(f"{str(location)!r} is not a Measurement Set: it has no "
                              f"{', '.join(missing)} subtable")
    return ms


def _layout(tables: Any, ms: Any) -> _Layout:
    def subtable(name: str) -> Any:
        return tables.table(ms.getkeyword(name), ack=False)

    with subtable("SPECTRAL_WINDOW") as spw:
        frequencies = tuple(np.asarray(spw.getcell("CHAN_FREQ", r), dtype=np.float64).ravel()
                            for r in range(spw.nrows()))
    with subtable("DATA_DESCRIPTION") as dd:
        dd_window = np.asarray(dd.getcol("SPECTRAL_WINDOW_ID"), dtype=np.int64).reshape(-1)
        dd_polarization = np.asarray(dd.getcol("POLARIZATION_ID"),
                                     dtype=np.int64).reshape(-1)
    with subtable("POLARIZATION") as pol:
        corr_types = tuple(tuple(int(c) for c in np.ravel(pol.getcell("CORR_TYPE", r)))
                           for r in range(pol.nrows()))
    if np.any((dd_window < 0) | (dd_window >= len(frequencies))) or \
            np.any((dd_polarization < 0) | (dd_polarization >= len(corr_types))):
        raise InputValueError(f"{ms.name()!r}: DATA_DESCRIPTION names a spectral window or "
                              "polarization that its subtables do not hold")
    columns = frozenset(ms.colnames())
    for column in _REQUIRED_COLUMNS:  # else casacore's bare "column ... does not exist"
        if column not in columns:
            raise InputValueError(f"Measurement Set {ms.name()!r} has no {column} column, "
                                  f"which the reader needs (its columns: {sorted(columns)})")
    return _Layout(frequencies, dd_window, dd_polarization, corr_types, columns,
                   int(ms.nrows()))


def _stokes_names(corr_types: Sequence[int]) -> list[str]:
    return [_STOKES[c] if 0 <= c < len(_STOKES) else f"#{c}" for c in corr_types]


def _stokes_i_terms(corr_types: Sequence[int], where: str) -> tuple[int, int, float]:
    """(index 1, index 2, scale): I = (d₁ + d₂)/2 and σ_I² = scale·(σ₁² + σ₂²)."""
    names = _stokes_names(corr_types)
    if "I" in names:
        index = names.index("I")
        return index, index, 0.5  # (σ² + σ²)/2 = σ²
    for first, second in _PARALLEL_HANDS:
        if first in names and second in names:
            return names.index(first), names.index(second), 0.25
    raise InputValueError(
        f"{where}: Stokes I cannot be formed from the correlations {names} (CORR_TYPE "
        f"{list(corr_types)}); it needs XX and YY, RR and LL, or I")


def _column_error(path: str, column: str, columns: Iterable[str], what: str) -> InputValueError:
    present = sorted(columns)
    data_like = [c for c in present if c.endswith("DATA") and c != "FLOAT_DATA"]
    return InputValueError(
        f"Measurement Set {path!r} has no {what} column {column!r}; its data columns are "
        f"{data_like} (all columns: {present})")


def _check_columns(path: str, ms: Any, layout: _Layout, data_column: str,
                   weight_column: str | None) -> None:
    if data_column not in layout.columns:
        raise _column_error(path, data_column, layout.columns, "data")
    # Any column would be read as visibilities (FLOAT_DATA as values + 0j, FLAG as zeros):
    # only complex (row, channel, correlation) cells are; ndim ≤ 0 is "any rank", whose
    # cells are checked against the rows' (channels, correlations) when read.
    def visibilities(column: str) -> bool:
        description = ms.getcoldesc(column)
        return (description["valueType"] in _COMPLEX_TYPES and not ms.isscalarcol(column)
                and description.get("ndim", 0) in (2, 0, -1))

    if not visibilities(data_column):
        description = ms.getcoldesc(data_column)
        rank = ("scalars" if ms.isscalarcol(data_column) else
                f"{description['ndim']}-D arrays" if description.get("ndim", 0) > 0 else
                "arrays")
        raise InputValueError(
            f"Measurement Set {path!r}: data_column {data_column!r} holds "
            f"{description['valueType']} cells ({rank}), not complex visibilities of shape "
            f"(channel, correlation); its visibility columns are "
            f"{sorted(c for c in layout.columns if visibilities(c))}")
    if weight_column is not None:
        if weight_column not in _WEIGHT_COLUMNS:
            raise InputValueError(f"weight_column must be None or one of {_WEIGHT_COLUMNS}, "
                                  f"got {weight_column!r}")
        if weight_column not in layout.columns:
            raise _column_error(path, weight_column, layout.columns, "weight")
    elif not any(c in layout.columns for c in _AUTO_WEIGHTS):
        raise InputValueError(f"Measurement Set {path!r} has none of the weight columns "
                              f"{_AUTO_WEIGHTS}")


def _missing_window(window: int, n_windows: int, path: str) -> InputValueError:
    return InputValueError(f"spectral window {window} is not in {path!r}, which has "
                           f"{n_windows} spectral windows (0 … {n_windows - 1})")


def _window_list(spectral_windows: int | Sequence[int] | None,
                 n_windows: int, path: str) -> tuple[int, ...] | None:
    if spectral_windows is None:
        return None
    values = [spectral_windows] if np.ndim(spectral_windows) == 0 else list(spectral_windows)
    if not values:
        raise InputValueError("spectral_windows is empty; pass None for every window")
    for value in values:
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            raise InputTypeError(f"spectral_windows holds {value!r}; expected window indices")
        if not 0 <= value < n_windows:
            raise _missing_window(value, n_windows, path)
    if len(set(values)) != len(values):
        raise InputValueError(f"spectral_windows {values} names a window twice")
    return tuple(sorted(int(v) for v in values))


def _one_channel_selection(selection: Any, nchan: int, window: int) -> ChannelSelection:
    if isinstance(selection, slice):
        chosen: ChannelSelection = range(*selection.indices(nchan))
    elif isinstance(selection, range) and selection.step > 0:
        chosen = selection
    else:
        values = np.asarray(list(selection) if isinstance(selection, range) else selection)
        if values.ndim != 1 or (len(values) and not np.issubdtype(values.dtype, np.integer)):
            raise InputTypeError(f"channels of spectral window {window}: expected a slice, a "
                                 f"range or a sequence of channel indices, got {selection!r}")
        if len(np.unique(values)) != len(values):
            raise InputValueError(f"channels of spectral window {window} name a channel twice")
        chosen = tuple(int(v) for v in np.sort(values))
    if len(chosen) == 0:
        raise InputValueError(f"channels selects no channel of spectral window {window} "
                              f"({nchan} channels)")
    if chosen[0] < 0 or chosen[-1] >= nchan:
        raise InputValueError(f"channels {selection!r} of spectral window {window} are out of "
                              f"range: it has {nchan} channels (0 … {nchan - 1})")
    return chosen


def _channel_pairs(channels: Any, windows: tuple[int, ...] | None,
                   frequencies: Sequence[np.ndarray]
                   ) -> tuple[tuple[int, ChannelSelection], ...] | None:
    if channels is None:
        return None
    every = windows if windows is not None else tuple(range(len(frequencies)))
    if isinstance(channels, Mapping):
        unknown = sorted(set(channels) - set(every))
        if unknown:
            raise InputValueError(f"channels names spectral windows {unknown} that are not "
                                  f"selected (selected: {list(every)})")
        items = sorted(channels.items())
    else:
        items = [(window, channels) for window in every]
    return tuple((int(w), _one_channel_selection(s, len(frequencies[w]), int(w)))
                 for w, s in items)


def _paths(path: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    if isinstance(path, str | os.PathLike):
        return [os.fspath(path)]
    paths = [os.fspath(p) for p in path]
    if not paths:
        raise InputValueError("no Measurement Set path was given")
    return paths


def _default_chunk_rows(layout: _Layout) -> int:
    widest = max((len(f) for f in layout.frequencies), default=1)
    most_corr = max((len(c) for c in layout.corr_types), default=1)
    return max(1, DEFAULT_CHUNK_CELLS // max(1, widest * most_corr))


def measurement_set_parts(path: str | os.PathLike | Sequence[str | os.PathLike], *,
                          chunk_rows: int | None = None,
                          spectral_windows: int | Sequence[int] | None = None,
                          channels: Any = None) -> list[MeasurementSetPart]:
    """Cut one MS or several into row ranges that :func:`read_measurement_set_part` reads.

    Parameters
    ----------
    path
        One MS directory or a sequence of them (read one after the other).
    chunk_rows
        Rows per part; None picks rows × channels × correlations ≈ :data:`DEFAULT_CHUNK_CELLS`.
    spectral_windows
        A window index or indices (the same in every MS); None: all.  Parts with no row of a
        selected window are left out (DATA_DESC_ID is scanned part by part).
    channels
        None (all), a slice, range or sequence of channel indices for every selected window,
        or a mapping {window: channels}; windows it does not name read every channel.

    Returns
    -------
    list of MeasurementSetPart
        In path order, then row order.
    """
    tables = _casacore_tables()
    if chunk_rows is not None and (isinstance(chunk_rows, bool) or
                                   not isinstance(chunk_rows, int | np.integer) or
                                   chunk_rows < 1):
        raise InputValueError(f"chunk_rows must be a positive integer or None, got "
                              f"{chunk_rows!r}")
    parts = []
    for one in _paths(path):
        ms = _open(tables, one)
        try:
            layout = _layout(tables, ms)
            windows = _window_list(spectral_windows, len(layout.frequencies), one)
            pairs = _channel_pairs(channels, windows, layout.frequencies)
            step = int(chunk_rows) if chunk_rows is not None else _default_chunk_rows(layout)
            wanted = None if windows is None else np.isin(layout.dd_window, windows)
            for start in range(0, layout.rows, step):
                stop = min(start + step, layout.rows)
                if wanted is not None:
                    ddid = np.asarray(ms.getcol("DATA_DESC_ID", start, stop - start))
                    if not wanted[ddid].any():
                        continue
                parts.append(MeasurementSetPart(one, start, stop, windows, pairs))
        finally:
            ms.close()
    return parts


def _empty_chunk() -> Chunk:
    return (np.zeros(0, np.complex128), np.zeros(0, np.complex128), np.zeros((0, 2)))


def _channel_masks(layout: _Layout, part: MeasurementSetPart) -> list[np.ndarray]:
    """Per spectral window, which channels the part reads.  A part made by hand (or for
    another MS) may name windows or channels this MS lacks: its rows would read as nothing,
    so it is checked as :func:`measurement_set_parts` checks its arguments."""
    count = len(layout.frequencies)
    windows = _window_list(part.spectral_windows, count, part.path)
    for window, _ in part.channels or ():
        if not 0 <= window < count:
            raise _missing_window(window, count, part.path)
    pairs = None if part.channels is None else _channel_pairs(dict(part.channels), windows,
                                                              layout.frequencies)
    masks = [np.ones(len(f), dtype=bool) for f in layout.frequencies]
    for window, chosen in pairs or ():
        masks[window] = np.zeros(len(masks[window]), dtype=bool)
        masks[window][list(chosen)] = True
    return masks


class _Rows:
    """Rows ``[start, start + nrow)`` of a casacore table, read column by column; ``rows`` are
    their numbers in the MS, for messages."""

    def __init__(self, table: Any, start: int, nrow: int, rows: np.ndarray,
                 owned: bool = False) -> None:
        self.table, self.start, self.nrow, self.rows, self.owned = (table, start, nrow, rows,
                                                                    owned)

    def getcol(self, name: str) -> np.ndarray:
        return self.table.getcol(name, self.start, self.nrow)

    def getcolslice(self, name: str, blc: list[int], trc: list[int]) -> np.ndarray:
        return self.table.getcolslice(name, blc, trc, [], self.start, self.nrow)

    def fixed_shape(self, name: str) -> str | None:
        """The shape of every cell of a fixed-shape column (C order, as python-casacore
        gives shapes), None for cells of any shape."""
        description = self.table.getcoldesc(name)
        return str([int(n) for n in description["shape"]]) if "shape" in description else None

    def shapes(self, name: str) -> list[str]:
        return self.table.getcolshapestring(name, self.start, self.nrow)

    def defined(self, name: str) -> np.ndarray:
        """Whether each row's cell of ``name`` was ever written.  Cells of a fixed shape always
        are; of others, TaQL's ISDEFINED tells in one pass that reads no values (~20 ns a
        row, where a read of the missing cell fails with casacore's bare "no array in row")."""
        if self.fixed_shape(name) is not None:
            return np.ones(self.nrow, dtype=bool)
        found = _casacore_tables().taql(
            f"CALC ISDEFINED({name}) FROM $1 LIMIT {self.nrow} OFFSET {self.start}",
            tables=[self.table])
        return np.broadcast_to(np.asarray(found, dtype=bool).reshape(-1), (self.nrow,))

    def subset(self, index: np.ndarray) -> _Rows:
        """The rows ``index`` of these alone (a reference table unless it is all of them)."""
        if len(index) == self.nrow:
            return _Rows(self.table, self.start, self.nrow, self.rows)
        return _Rows(self.table.selectrows((self.start + index).tolist()), 0, len(index),
                     self.rows[index], owned=True)

    def close(self) -> None:
        if self.owned:
            self.table.close()


def _require_values(source: _Rows, column: str, where: str) -> None:
    missing = np.flatnonzero(~source.defined(column))
    if len(missing):
        raise InputValueError(
            f"{where}: column {column} has no values in row {source.rows[missing[0]]} (its "
            f"cell was never written; {len(missing)} of the {source.nrow} rows read lack one)")


def _check_shapes(source: _Rows, columns: Sequence[str], shape: tuple[int, ...],
                  where: str) -> None:
    """Each column's cells must have ``shape``, (channels, correlations) or (correlations,)
    of the rows' window and polarization: else the Stokes I indices fail, or casacore's getcol
    over cells of unequal shapes corrupts memory."""
    expected = str([int(n) for n in shape])
    for column in columns:
        fixed = source.fixed_shape(column)
        found = [fixed] if fixed is not None else source.shapes(column)
        if set(found) != {expected}:
            row = next(i for i, one in enumerate(found) if one != expected)
            raise InputValueError(
                f"{where}: column {column} has cells of shape {found[row]} in row "
                f"{source.rows[row]} where the rows' spectral window and polarization give "
                f"{expected}")


def _column_variances(source: _Rows, column: str, blc: list[int], trc: list[int],
                      shape: tuple[int, int], where: str) -> np.ndarray:
    """σ² per correlation from one column: (R, C, P) from a spectrum, (R, 1, P) from a row
    column."""
    if column.endswith("_SPECTRUM"):
        _check_shapes(source, [column], shape, where)
        values = np.asarray(source.getcolslice(column, blc, trc), dtype=np.float64)
    else:
        _check_shapes(source, [column], shape[1:], where)
        values = np.asarray(source.getcol(column), dtype=np.float64)[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        return values**2 if column.startswith("SIGMA") else 1.0 / values


def _variances(source: _Rows, layout: _Layout, weight_column: str | None, blc: list[int],
               trc: list[int], shape: tuple[int, int], where: str) -> np.ndarray:
    """σ² per correlation of every row: (R, C, P) when a spectrum gives any row's, else
    (R, 1, P).  ``weight_column`` None takes each row's from the first of
    :data:`_AUTO_WEIGHTS` whose cell in that row was written: CASA adds WEIGHT_SPECTRUM with
    no cell written, and a task may fill only some rows, so the choice is row by row."""
    if weight_column is not None:
        _require_values(source, weight_column, where)
        return _column_variances(source, weight_column, blc, trc, shape, where)
    pending = np.arange(source.nrow)  # rows with no weights yet
    found = []
    for column in (c for c in _AUTO_WEIGHTS if c in layout.columns):
        defined = source.defined(column)[pending]
        if defined.any():
            rows = source.subset(pending[defined])
            try:
                found.append((pending[defined],
                              _column_variances(rows, column, blc, trc, shape, where)))
            finally:
                rows.close()
            pending = pending[~defined]
        if not len(pending):
            break
    if len(pending):
        raise InputValueError(f"{where}: none of the weight columns {_AUTO_WEIGHTS} has values "
                              f"in row {source.rows[pending[0]]}")
    if len(found) == 1:
        return found[0][1]
    out = np.empty((source.nrow, max(v.shape[1] for _, v in found), shape[1]))
    for rows_of, values in found:
        out[rows_of] = values
    return out


def _by_window(per_window: Sequence[np.ndarray], windows: np.ndarray, lo: int, hi: int,
               nchan: int, dtype: Any) -> np.ndarray:
    """Channels lo … hi of each row's window: (1, C) for one window, else (R, C)."""
    distinct = np.unique(windows)
    if len(distinct) == 1:
        return np.asarray(per_window[distinct[0]][None, lo:hi + 1], dtype=dtype)
    table = np.zeros((len(per_window), hi + 1 - lo), dtype=dtype)
    for window in distinct:  # windows of this group all have nchan channels
        table[window] = per_window[window][lo:hi + 1]
    return table[windows]


def _group_visibilities(source: _Rows, layout: _Layout, ddid: np.ndarray,
                        use: np.ndarray, masks: list[np.ndarray], data_column: str,
                        weight_column: str | None, where: str) -> tuple[Chunk, np.ndarray]:
    """Stokes I of rows that share one cell shape: the chunk and each kept value's row."""
    windows = layout.dd_window[ddid]
    polarizations = layout.dd_polarization[ddid]
    nchan = len(layout.frequencies[windows[0]])
    ncorr = len(layout.corr_types[polarizations[0]])
    for column in (data_column, "FLAG", "UVW"):
        _require_values(source, column, where)
    _check_shapes(source, [data_column, "FLAG"], (nchan, ncorr), where)
    _check_shapes(source, ["UVW"], (3,), where)
    distinct = np.unique(windows)
    union = np.zeros(nchan, dtype=bool)
    for window in distinct:
        union |= masks[window]
    chosen = np.flatnonzero(union)
    lo, hi = int(chosen[0]), int(chosen[-1])
    blc, trc = [lo, 0], [hi, ncorr - 1]
    data = source.getcolslice(data_column, blc, trc)
    flag = np.asarray(source.getcolslice("FLAG", blc, trc), dtype=bool)
    variance = _variances(source, layout, weight_column, blc, trc, (nchan, ncorr), where)
    uvw = np.asarray(source.getcol("UVW"), dtype=np.float64)

    terms = {p: _stokes_i_terms(layout.corr_types[p], where) for p in np.unique(polarizations)}
    if len(terms) == 1:
        first, second, scale = next(iter(terms.values()))
    else:  # rows of several polarization setups with the same number of correlations
        table = np.array([terms.get(p, (0, 0, 0.0)) for p in range(len(layout.corr_types))])
        first, second, scale = (table[polarizations, 0].astype(np.int64),
                                table[polarizations, 1].astype(np.int64),
                                table[polarizations, 2])

    def hand(values: np.ndarray, index: Any) -> np.ndarray:
        """(R, C, P) or (R, 1, P) → the correlation ``index`` (one, or one per row)."""
        if np.ndim(index) == 0:
            return values[..., index]
        return np.take_along_axis(values, index[:, None, None], axis=2)[..., 0]

    # Decide what to keep on the (R, C) cells, then gather only the K kept values.
    v1, v2 = hand(variance, first), hand(variance, second)
    keep = ~(hand(flag, first) | hand(flag, second))
    keep &= use[:, None]
    keep &= _by_window(masks, windows, lo, hi, nchan, bool)
    keep &= np.isfinite(v1) & (v1 > 0) & np.isfinite(v2) & (v2 > 0)
    width = hi + 1 - lo
    flat = np.flatnonzero(keep)
    row, channel = np.divmod(flat, width)
    cells = data.reshape(-1, data.shape[-1])
    rows_first = first if np.ndim(first) == 0 else first[row]
    rows_second = second if np.ndim(second) == 0 else second[row]
    stokes_i = cells[flat, rows_first].astype(np.complex128)
    stokes_i += cells[flat, rows_second]
    stokes_i *= 0.5

    def at_kept(values: np.ndarray) -> np.ndarray:  # (R, C) or (R, 1) → (K,)
        return values.reshape(-1)[flat] if values.shape[1] == width else values[row, 0]

    variance_i = at_kept(v1) + at_kept(v2)
    variance_i *= scale if np.ndim(scale) == 0 else scale[row]
    finite = np.isfinite(stokes_i)
    if not finite.all():  # unflagged NaN or ∞ data carry nothing: drop them too
        stokes_i, variance_i, row, channel = (a[finite] for a in (stokes_i, variance_i, row,
                                                                  channel))
        flat = flat[finite]
    per_channel = _by_window(layout.frequencies, windows, lo, hi, nchan,
                             np.float64) / SPEED_OF_LIGHT
    wavelengths = per_channel[0, channel] if len(per_channel) == 1 else \
        per_channel.reshape(-1)[flat]
    uv = np.empty((len(row), 2))
    np.multiply(uvw[row, 0], wavelengths, out=uv[:, 0])
    np.multiply(uvw[row, 1], wavelengths, out=uv[:, 1])
    sigma = np.sqrt(variance_i)
    noise = np.empty(len(row), dtype=np.complex128)
    noise.real, noise.imag = sigma, sigma
    return (stokes_i, noise, uv), row


def _read_open(ms: Any, layout: _Layout, part: MeasurementSetPart, data_column: str,
               weight_column: str | None) -> Chunk:
    where = f"Measurement Set {part.path!r} rows {part.start_row}:{part.stop_row}"
    if not 0 <= part.start_row < part.stop_row <= layout.rows:
        raise InputValueError(f"{where}: out of range, the MS has {layout.rows} rows")
    start, nrow = part.start_row, part.rows
    ddid = np.asarray(ms.getcol("DATA_DESC_ID", start, nrow), dtype=np.int64)
    if ddid.min() < 0 or ddid.max() >= len(layout.dd_window):
        raise InputValueError(f"{where}: DATA_DESC_ID outside DATA_DESCRIPTION's "
                              f"{len(layout.dd_window)} rows")
    masks = _channel_masks(layout, part)  # checks the selection: even of rows all flagged
    use = ~np.asarray(ms.getcol("FLAG_ROW", start, nrow), dtype=bool)
    if part.spectral_windows is not None:
        use &= np.isin(layout.dd_window[ddid], part.spectral_windows)
    if not use.any():
        return _empty_chunk()
    shapes = np.array([(len(layout.frequencies[w]), len(layout.corr_types[p]))
                       for w, p in zip(layout.dd_window, layout.dd_polarization, strict=True)])
    shape_of_row = shapes[ddid]
    kinds = np.unique(shape_of_row[use], axis=0)
    pieces, rows = [], []
    for kind in kinds:
        in_kind = np.all(shape_of_row == kind, axis=1)
        if in_kind.all():
            source, index = _Rows(ms, start, nrow, start + np.arange(nrow)), np.arange(nrow)
        else:  # rows of other shapes in between: read only these (a reference table)
            index = np.flatnonzero(in_kind & use)
            source = _Rows(ms.selectrows((start + index).tolist()), 0, len(index),
                           start + index, owned=True)
        try:
            piece, row = _group_visibilities(source, layout, ddid[index], use[index],
                                             masks, data_column, weight_column, where)
        finally:
            source.close()
        pieces.append(piece)
        rows.append(index[row])
    if len(pieces) == 1:
        return pieces[0]
    order = np.argsort(np.concatenate(rows), kind="stable")  # back to row order
    return tuple(np.ascontiguousarray(np.concatenate(p)[order])  # type: ignore[return-value]
                 for p in zip(*pieces, strict=True))


def read_measurement_set_part(part: MeasurementSetPart, *, data_column: str = "DATA",
                              weight_column: str | None = None) -> Chunk:
    """Stokes I visibilities of one :class:`MeasurementSetPart` (conventions: module docs).

    Parameters
    ----------
    part
        From :func:`measurement_set_parts`.
    data_column
        DATA, CORRECTED_DATA, MODEL_DATA or any other column of complex (channel,
        correlation) cells; other columns (FLOAT_DATA, FLAG, …) are refused.
    weight_column
        None (per row: WEIGHT_SPECTRUM where its cell was written, else WEIGHT, else SIGMA)
        or one of WEIGHT_SPECTRUM, WEIGHT, SIGMA_SPECTRUM, SIGMA, which every row must fill.

    Returns
    -------
    data : (K,) complex128
        Stokes I, in the data column's units (Jy for calibrated data).
    noise_map : (K,) complex128
        σ_I + iσ_I.
    uv_wavelengths : (K, 2) float64
        (u, v) in wavelengths.
    """
    tables = _casacore_tables()
    ms = _open(tables, part.path)
    try:
        layout = _layout(tables, ms)
        _check_columns(part.path, ms, layout, data_column, weight_column)
        return _read_open(ms, layout, part, data_column, weight_column)
    finally:
        ms.close()


def _chunks_of(tables: Any, parts: list[MeasurementSetPart], data_column: str,
               weight_column: str | None) -> Iterator[Chunk]:
    opened: tuple[str, Any, _Layout] | None = None
    try:
        for part in parts:
            if opened is None or opened[0] != part.path:
                if opened is not None:
                    opened[1].close()
                ms = _open(tables, part.path)
                opened = (part.path, ms, _layout(tables, ms))
            chunk = _read_open(opened[1], opened[2], part, data_column, weight_column)
            if len(chunk[0]):
                yield chunk
    finally:
        if opened is not None:
            opened[1].close()


def measurement_set_chunks(path: str | os.PathLike | Sequence[str | os.PathLike], *,
                           data_column: str = "DATA", chunk_rows: int | None = None,
                           spectral_windows: int | Sequence[int] | None = None,
                           channels: Any = None,
                           weight_column: str | None = None) -> Iterator[Chunk]:
    """Stream Stokes I ``(data, noise_map, uv_wavelengths)`` chunks out of one MS or several.

    One chunk per part of :func:`measurement_set_parts` (empty ones skipped), read as
    :func:`read_measurement_set_part` reads it; the arguments are theirs.  Paths, selections
    and columns are checked now, before the first chunk is read::

        chunks = measurement_set_chunks("target.ms", data_column="CORRECTED_DATA")
        terms = visibility_terms_from_chunks(chunks, grid_radians_slim,
                                             native_index_for_slim_index, pixel_scale)

    Yields
    ------
    (data (K,) complex128, noise_map (K,) complex128, uv_wavelengths (K, 2) float64)
        C-contiguous, K ≤ rows × channels of the part.
    """
    tables = _casacore_tables()
    parts = measurement_set_parts(path, chunk_rows=chunk_rows,
                                  spectral_windows=spectral_windows, channels=channels)
    for one in _paths(path):
        ms = _open(tables, one)
        try:
            _check_columns(one, ms, _layout(tables, ms), data_column, weight_column)
        finally:
            ms.close()
    return _chunks_of(tables, parts, data_column, weight_column)
