"""autokern.io: the readers refuse what they cannot read, naming the file, column and row.

Issue 24, items 3, 4, 6 and 7: real Measurement Sets written with python-casacore (as
tests/test_measurement_set.py writes them) and then altered the way other tools leave them —
columns of other types, cells never written, WEIGHT with one value per row — and files that
are not FITS.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from autokern.errors import InputValueError

tables = pytest.importorskip("casacore.tables")
io = pytest.importorskip("autokern.io")

from test_measurement_set import (  # noqa: E402
    _assert_equal,
    _blocks,
    _expected,
    _read,
    _write,
    _write_fits,
)

ROWS = 25  # _blocks' default rows (5, 7, 4, 6, 3)
CHUNK_ROWS = (1, 4, 9, None)


@pytest.fixture
def rng():
    return np.random.default_rng(11)


@pytest.fixture
def spectrum(tmp_path, rng):
    """XX/YY rows of windows of 4 and 6 channels with WEIGHT_SPECTRUM (cells of two shapes)."""
    return _write(tmp_path, "spectrum.ms", _blocks(rng, [4, 6], spectrum=True),
                  weight_spectrum=True)


def _rewrite(path: Path, column: str, written: list[int], desc: dict | None = None,
             cells: dict[int, np.ndarray] | None = None) -> None:
    """Replace ``column`` by one of variable shape (as CASA adds columns) holding the old cells
    (or ``cells``) in the rows ``written`` only: the other rows' cells are never written."""
    with tables.table(str(path), readonly=False, ack=False) as ms:
        old = {row: ms.getcell(column, row) for row in written}
        described = desc or ms.getcoldesc(column)
        kind = {"valuetype": described["valueType"]}
        ms.removecols(column)
        ndim = int(described.get("ndim", 2))
        shape = {"shape": list(described["shape"])} if len(described.get("shape", [])) else {}
        ms.addcols(tables.maketabdesc([tables.makearrcoldesc(column, 0, ndim=ndim, **kind,
                                                             **shape)]),
                   {"TYPE": "StandardStMan" if shape else "TiledShapeStMan",
                    "NAME": f"Rewritten{column}", "SPEC": {}})
        for row in written:
            ms.putcell(column, row, old[row] if cells is None else cells[row])


def _named(path: Path) -> str:
    """The start of a reader's error about the MS at ``path``, as a pattern."""
    return re.escape(f"Measurement Set {str(path)!r}")


def _reading(path: Path, chunk_rows: int | None = None, **options: object) -> list:
    return list(io.measurement_set_chunks(path, chunk_rows=chunk_rows, **options))


# --- item 3: only complex visibility columns are data ------------------------------------------

@pytest.mark.parametrize(("column", "kind"), [
    ("FLOAT_DATA", "float"), ("FLAG", "boolean"), ("WEIGHT_SPECTRUM", "float")])
def test_a_data_column_that_is_not_complex_visibilities_is_refused(spectrum, column, kind):
    if column == "FLOAT_DATA":  # a single-dish column: real (row, channel, correlation) cells
        with tables.table(str(spectrum.path), readonly=False, ack=False) as ms:
            ms.addcols(tables.maketabdesc([tables.makearrcoldesc(column, 0.0, ndim=2,
                                                                 valuetype="float")]),
                       {"TYPE": "TiledShapeStMan", "NAME": "FloatData", "SPEC": {}})
            for row in range(ms.nrows()):
                ms.putcell(column, row, np.real(ms.getcell("DATA", row)).astype(np.float32))
    match = (_named(spectrum.path) + rf": data_column '{column}' holds {kind} "
             r"cells \(2-D arrays\), not complex visibilities")
    with pytest.raises(InputValueError, match=match):
        io.measurement_set_chunks(spectrum.path, data_column=column)
    with pytest.raises(InputValueError, match=match):
        io.read_measurement_set_part(io.MeasurementSetPart(str(spectrum.path), 0, ROWS),
                                     data_column=column)


def test_any_complex_visibility_column_is_data(tmp_path, rng):
    blocks = _blocks(rng, [4, 6], columns=("SELFCAL_DATA",))
    written = _write(tmp_path, "selfcal.ms", blocks, data_columns=("SELFCAL_DATA",))
    _assert_equal(_read(written.path, data_column="SELFCAL_DATA"),
                  _expected(written, column="SELFCAL_DATA"))


# --- item 4: a part's windows and channels must be in its MS ------------------------------------

@pytest.mark.parametrize(("windows", "channels", "match"), [
    ((5,), None, r"spectral window 5 is not in '.*', which has 2 spectral windows \(0 … 1\)"),
    ((0, 2), None, r"spectral window 2 is not in '.*', which has 2 spectral windows"),
    ((), None, "spectral_windows is empty"),
    ((5,), ((5, (0,)),), r"spectral window 5 is not in '.*', which has 2 spectral windows"),
    (None, ((3, range(2)),), r"spectral window 3 is not in '.*', which has 2 spectral windows"),
    ((0,), ((1, (0,)),), r"channels names spectral windows \[1\] that are not selected"),
    (None, ((0, (-1,)),), r"channels \(-1,\) of spectral window 0 are out of range: it has 4"),
    (None, ((1, (2, 6)),), r"channels \(2, 6\) of spectral window 1 are out of range: it has 6"),
    (None, ((0, ()),), "channels selects no channel of spectral window 0"),
])
def test_a_part_naming_a_window_or_channels_the_ms_lacks_is_refused(spectrum, windows,
                                                                   channels, match):
    part = io.MeasurementSetPart(str(spectrum.path), 0, ROWS, windows, channels)
    with pytest.raises(InputValueError, match=match):
        io.read_measurement_set_part(part)


def test_a_part_of_existing_windows_and_channels_reads_as_before(spectrum):
    part = io.MeasurementSetPart(str(spectrum.path), 0, ROWS, (1,), ((1, (0, 5)),))
    read = io.read_measurement_set_part(part)
    _assert_equal(read, _expected(spectrum, windows=[1], channels={1: [0, 5]},
                                  weights="WEIGHT_SPECTRUM"))


# --- item 6: missing columns, cells never written, WEIGHT of the wrong shape ---------------------

def test_a_missing_uvw_column_is_named(spectrum):
    with tables.table(str(spectrum.path), readonly=False, ack=False) as ms:
        ms.removecols("UVW")
    match = _named(spectrum.path) + " has no UVW column, which the reader needs"
    with pytest.raises(InputValueError, match=match):
        io.measurement_set_chunks(spectrum.path)
    with pytest.raises(InputValueError, match=match):
        io.read_measurement_set_part(io.MeasurementSetPart(str(spectrum.path), 0, ROWS))


@pytest.mark.parametrize(("column", "written", "row"), [
    ("DATA", [r for r in range(ROWS) if r != 3], 3),  # one cell in the middle of a part
    ("FLAG", [], 0),  # never written at all
    ("DATA", [0, 1, 2], 3),  # a part's first row is written, the rest not
])
@pytest.mark.parametrize("chunk_rows", [2, 9, None])
def test_a_cell_never_written_is_named_whatever_chunk_rows(spectrum, column, written, row,
                                                           chunk_rows):
    _rewrite(spectrum.path, column, written)
    match = (_named(spectrum.path) + rf" rows \d+:\d+: column {column} has no values "
             rf"in row {row} \(its cell was never written")
    with pytest.raises(InputValueError, match=match):
        _reading(spectrum.path, chunk_rows)


@pytest.mark.parametrize("chunk_rows", CHUNK_ROWS)
def test_unwritten_weight_spectrum_rows_fall_back_to_weight_row_by_row(spectrum, chunk_rows):
    unwritten = [*range(1, ROWS, 2), ROWS - 3]
    _rewrite(spectrum.path, "WEIGHT_SPECTRUM", [r for r in range(ROWS) if r not in unwritten])
    start = 0
    for block in spectrum.blocks:  # the expected weights: WEIGHT in the unwritten rows
        for row in range(len(block.uvw)):
            if start + row in unwritten:
                block.weight_spectrum[row] = block.weight[row]
        start += len(block.uvw)
    _assert_equal(_read(spectrum.path, chunk_rows=chunk_rows),
                  _expected(spectrum, weights="WEIGHT_SPECTRUM"))
    match = "column WEIGHT_SPECTRUM has no values in row 1 \\(its cell was never written"
    with pytest.raises(InputValueError, match=match):
        _reading(spectrum.path, chunk_rows, weight_column="WEIGHT_SPECTRUM")


@pytest.mark.parametrize("fixed", [True, False])
def test_weight_with_one_value_for_two_correlations_is_named(tmp_path, rng, fixed):
    written = _write(tmp_path, "weight.ms", _blocks(rng, [4, 6]))
    ones = {row: np.ones(1, np.float32) for row in range(ROWS)}
    desc = {"valueType": "float", "ndim": 1, "shape": [1] if fixed else []}
    _rewrite(written.path, "WEIGHT", list(ones), desc, ones)
    match = (_named(written.path) + r" rows 0:\d+: column WEIGHT has cells of shape "
             r"\[1\] in row 0 where the rows' spectral window and polarization give \[2\]")
    for weight_column in (None, "WEIGHT"):
        with pytest.raises(InputValueError, match=match):
            _reading(written.path, 9, weight_column=weight_column)


# --- item 7: which FITS file is not FITS ---------------------------------------------------------

@pytest.mark.filterwarnings("ignore:File may have been truncated")
@pytest.mark.parametrize("broken", [0, 1, 2])
@pytest.mark.parametrize("damage", ["empty", "text", "truncated"])
def test_a_file_that_is_not_fits_is_named(tmp_path, broken, damage):
    names = ("vis.fits", "sigma.fits", "uv.fits")
    _write_fits(tmp_path, names, k=1000)
    path = tmp_path / names[broken]
    path.write_bytes({"empty": b"", "text": b"not FITS at all\n" * 200,
                      "truncated": path.read_bytes()[:2880 + 100]}[damage])
    role = ("data", "noise_map", "uv_wavelengths")[broken]
    match = rf"{role} file {re.escape(repr(str(path)))} is not a readable FITS file"
    with pytest.raises(InputValueError, match=match):
        io.visibilities_from_fits(*(tmp_path / n for n in names))
