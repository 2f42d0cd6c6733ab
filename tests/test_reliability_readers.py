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
