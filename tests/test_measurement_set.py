"""autokern.io: Measurement Sets written with casacore into tmp_path and read back as chunks.

The expected visibilities are computed here, visibility by visibility, from the arrays that
were written (as the MS stores them: complex64 data, float32 weights): I = (XX + YY)/2,
σ_I = √(1/w₁ + 1/w₂)/2, u = UVW₀ ν/c, a visibility dropped when its row, either correlation,
a non-positive weight or non-finite data says so.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from autokern import get_kernel
from autokern.data import datasets, testing
from autokern.errors import (
    InputShapeError,
    InputValueError,
    MissingDependencyError,
)
from autokern.terms import visibility_terms_from_chunks
from helpers import relative_error

tables = pytest.importorskip("casacore.tables")
io = pytest.importorskip("autokern.io")

C = 299_792_458.0
REPO = Path(__file__).resolve().parents[1]
#: two windows of different widths (cells of unequal shapes) and one of the first's width
FREQUENCIES = [np.linspace(230e9, 230.05e9, 4), np.linspace(232e9, 232.1e9, 6)]


@dataclass
class Written:
    """An MS in tmp_path and what was written into it."""

    path: Path
    blocks: list
    frequencies: list
    correlations: tuple[str, ...]
    extra: dict = field(default_factory=dict)


def _blocks(rng, windows, rows=(5, 7, 4, 6, 3), ncorr=2, spectrum=False, columns=()):
    """Blocks of rows alternating between ``windows`` (a list of channel counts), with row
    flags, flags on one or both correlations, zero weights and a NaN."""
    blocks = []
    for i, count in enumerate(rows):
        window = i % len(windows)
        shape = (count, windows[window], ncorr)

        def visibilities(shape=shape):
            return (rng.normal(size=shape) + 1j * rng.normal(size=shape)) * 3.0

        data = visibilities()
        weight = rng.uniform(0.5, 2.0, size=(count, ncorr))
        weight[rng.random(weight.shape) < 0.08] = 0.0
        data[0, 0, 0] = np.nan if i == 1 else data[0, 0, 0]
        block = io.RowBlock(uvw=rng.normal(size=(count, 3)) * 300.0, data=data,
                            spectral_window=window, weight=weight,
                            flag=rng.random(shape) < 0.15, flag_row=rng.random(count) < 0.15,
                            columns={name: visibilities() for name in columns})
        if spectrum:
            block.weight_spectrum = rng.uniform(0.5, 2.0, size=shape)
        blocks.append(block)
    return blocks


def _write(tmp_path, name, blocks, frequencies=FREQUENCIES, correlations="linear", **options):
    path = io.write_measurement_set(tmp_path / name, blocks, spectral_windows=frequencies,
                                    correlations=correlations, **options)
    names = {"linear": ("XX", "YY"), "circular": ("RR", "LL")}.get(correlations, correlations)
    return Written(path, blocks, frequencies, tuple(names))


@np.errstate(divide="ignore")  # zero weights
def _expected(written, *, windows=None, channels=None, weights="WEIGHT", column="DATA",
              corr=None):
    """The chunks' visibilities, one at a time from the written arrays."""
    names = list(corr or written.correlations)
    pair = ([names.index("I")] * 2 if "I" in names else
            [names.index("XX"), names.index("YY")] if "XX" in names else
            [names.index("RR"), names.index("LL")])
    out = []
    for block in written.blocks:
        window = block.spectral_window
        if windows is not None and window not in windows:
            continue
        data = np.asarray(block.data if column == "DATA" else block.columns[column],
                          dtype=np.complex64).astype(np.complex128)
        if weights == "WEIGHT_SPECTRUM":
            variance = 1.0 / block.weight_spectrum.astype(np.float32).astype(np.float64)
        elif weights == "WEIGHT":
            variance = 1.0 / block.weight.astype(np.float32).astype(np.float64)[:, None, :]
        else:  # SIGMA, as the writer derives it from WEIGHT
            sigma = (1.0 / np.sqrt(block.weight)).astype(np.float32).astype(np.float64)
            variance = sigma[:, None, :] ** 2
        frequencies = written.frequencies[window]
        chosen = range(len(frequencies)) if channels is None else channels.get(window, range(
            len(frequencies)))
        for row in range(len(block.uvw)):
            if block.flag_row[row]:
                continue
            for chan in chosen:
                v = [variance[row, min(chan, variance.shape[1] - 1), p] for p in pair]
                if block.flag[row, chan, pair].any() or not all(np.isfinite(v)) or \
                        min(v) <= 0:
                    continue
                value = (data[row, chan, pair[0]] + data[row, chan, pair[1]]) / 2
                if not np.isfinite(value):
                    continue
                sigma_i = np.sqrt(v[0]) if pair[0] == pair[1] else np.sqrt(v[0] + v[1]) / 2
                out.append((value, sigma_i * (1 + 1j), block.uvw[row, 0] * frequencies[chan] / C,
                            block.uvw[row, 1] * frequencies[chan] / C))
    values, noise, u, v = (np.array(x) for x in zip(*out, strict=True))
    return values, noise, np.column_stack([u, v])


def _read(source, **options):
    chunks = list(io.measurement_set_chunks(source, **options))
    for data, noise, uv in chunks:
        assert data.dtype == noise.dtype == np.complex128 and uv.dtype == np.float64
        assert uv.shape == (len(data), 2) and noise.shape == data.shape
        assert all(a.flags.c_contiguous for a in (data, noise, uv))
    return tuple(np.concatenate(a) for a in zip(*chunks, strict=True))


def _assert_equal(actual, expected, rtol=5e-16):
    # u = UVW ν/c here and UVW (ν/c) in autokern.io: the orders differ by up to two roundings
    assert len(actual[0]) == len(expected[0])
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=0)


@pytest.fixture
def rng():
    return np.random.default_rng(3)


@pytest.fixture
def mixed(tmp_path, rng):
    """XX/YY rows of two windows of 4 and 6 channels, interleaved block by block."""
    return _write(tmp_path, "mixed.ms", _blocks(rng, [4, 6]))


# --- reading -----------------------------------------------------------------------------------

def test_windows_of_different_widths_interleaved_with_flags(mixed):
    read = _read(mixed.path, chunk_rows=6)
    _assert_equal(read, _expected(mixed))
    assert 0 < len(read[0]) < sum(b.data.shape[0] * b.data.shape[1] for b in mixed.blocks)


def test_chunk_boundaries_do_not_change_the_visibilities(mixed):
    whole = _read(mixed.path, chunk_rows=10_000)
    for rows in (1, 4, 9, None):
        for a, b in zip(_read(mixed.path, chunk_rows=rows), whole, strict=True):
            np.testing.assert_array_equal(a, b)
    parts = io.measurement_set_parts(mixed.path, chunk_rows=4)
    assert [p.rows for p in parts] == [4, 4, 4, 4, 4, 4, 1]
    assert pickle.loads(pickle.dumps(parts)) == parts  # one Dask task per part
    one_by_one = [io.read_measurement_set_part(p) for p in parts]
    for a, b in zip((np.concatenate(x) for x in zip(*one_by_one, strict=True)), whole,
                    strict=True):
        np.testing.assert_array_equal(a, b)


def test_circular_feeds_and_weight_spectrum(tmp_path, rng):
    written = _write(tmp_path, "rl.ms", _blocks(rng, [5, 5], spectrum=True),
                     [np.linspace(100e9, 101e9, 5), np.linspace(90e9, 91e9, 5)],
                     correlations="circular", weight_spectrum=True)
    _assert_equal(_read(written.path, chunk_rows=7), _expected(written,
                                                               weights="WEIGHT_SPECTRUM"))
    _assert_equal(_read(written.path, weight_column="WEIGHT"), _expected(written))


def test_an_unfilled_weight_spectrum_column_falls_back_to_weight(mixed):
    with tables.table(str(mixed.path), readonly=False, ack=False) as ms:  # as CASA adds it
        column = tables.makearrcoldesc("WEIGHT_SPECTRUM", 0.0, ndim=2, valuetype="float")
        ms.addcols(tables.maketabdesc([column]),
                   {"TYPE": "TiledShapeStMan", "NAME": "EmptySpectrum", "SPEC": {}})
        assert not ms.iscelldefined("WEIGHT_SPECTRUM", 0)
    _assert_equal(_read(mixed.path), _expected(mixed))


def test_sigma_when_there_is_no_weight(mixed):
    _assert_equal(_read(mixed.path, weight_column="SIGMA"), _expected(mixed, weights="SIGMA"),
                  rtol=4e-16)
    with tables.table(str(mixed.path), readonly=False, ack=False) as ms:
        ms.removecols("WEIGHT")
    _assert_equal(_read(mixed.path), _expected(mixed, weights="SIGMA"))


def test_the_data_column_is_chosen_and_a_missing_one_named(tmp_path, rng):
    blocks = _blocks(rng, [4, 6], columns=("CORRECTED_DATA", "MODEL_DATA"))
    written = _write(tmp_path, "columns.ms", blocks,
                     data_columns=("CORRECTED_DATA", "MODEL_DATA"))
    for column in ("DATA", "CORRECTED_DATA", "MODEL_DATA"):
        _assert_equal(_read(written.path, data_column=column),
                      _expected(written, column=column))
    mixed = _write(tmp_path, "data_only.ms", _blocks(rng, [4]))
    with pytest.raises(InputValueError, match=r"no data column 'CORRECTED_DATA'; its data "
                                              r"columns are \['DATA'\]"):
        io.measurement_set_chunks(mixed.path, data_column="CORRECTED_DATA")


@pytest.mark.parametrize(("windows", "channels"), [
    ([1], None),
    (None, slice(1, 3)),
    (1, {1: [5, 0]}),
    (None, {0: range(0, 4, 2)}),
    ([0, 1], [3]),
])
def test_spectral_window_and_channel_selection(mixed, windows, channels):
    read = _read(mixed.path, chunk_rows=5, spectral_windows=windows, channels=channels)
    selected = None if windows is None else np.atleast_1d(windows).tolist()
    every = selected or [0, 1]
    if channels is None:
        per_window = None
    elif isinstance(channels, dict):
        per_window = {w: sorted(range(6)[s] if isinstance(s, slice) else s)
                      for w, s in channels.items()}
    else:
        per_window = {w: list(range(len(FREQUENCIES[w]))[channels]) if
                      isinstance(channels, slice) else channels for w in every}
    _assert_equal(read, _expected(mixed, windows=selected, channels=per_window))


def test_parts_without_a_selected_window_are_left_out(tmp_path, rng):
    blocks = _blocks(rng, [4, 6], rows=(6, 6))
    blocks[1].spectral_window = 0
    blocks[1].data = blocks[1].data[:, :4]
    blocks[1].flag = blocks[1].flag[:, :4]
    tail = _blocks(rng, [6], rows=(6,))
    tail[0].spectral_window = 1
    written = _write(tmp_path, "sorted.ms", blocks + tail)
    assert len(io.measurement_set_parts(written.path, chunk_rows=6)) == 3
    parts = io.measurement_set_parts(written.path, chunk_rows=6, spectral_windows=[1])
    assert [(p.start_row, p.stop_row) for p in parts] == [(12, 18)]


def test_several_measurement_sets_are_read_in_turn(tmp_path, rng):
    first = _write(tmp_path, "first.ms", _blocks(rng, [4, 6]))
    second = _write(tmp_path, "second.ms", _blocks(rng, [4, 6], rows=(2, 9)))
    expected = [np.concatenate(x) for x in zip(_expected(first), _expected(second),
                                               strict=True)]
    _assert_equal(_read([first.path, str(second.path)], chunk_rows=5), expected)


def test_rows_of_two_polarization_setups(mixed):
    """Rows pointing at a second data description (LL, RR in that order) of window 0."""
    with tables.table(str(mixed.path), readonly=False, ack=False) as ms:
        with tables.table(ms.getkeyword("POLARIZATION"), readonly=False, ack=False) as pol:
            pol.addrows(1)
            pol.putcell("NUM_CORR", 1, 2)
            pol.putcell("CORR_TYPE", 1, np.int32([8, 5]))
            pol.putcell("CORR_PRODUCT", 1, np.int32([[1, 1], [0, 0]]))
        with tables.table(ms.getkeyword("DATA_DESCRIPTION"), readonly=False, ack=False) as dd:
            dd.addrows(1)
            dd.putcell("SPECTRAL_WINDOW_ID", 2, 0)
            dd.putcell("POLARIZATION_ID", 2, 1)
        ddid = ms.getcol("DATA_DESC_ID")
        moved = np.flatnonzero(ddid == 0)[::2]
        ddid[moved] = 2
        ms.putcol("DATA_DESC_ID", ddid)
    # the Stokes I of a swapped pair is the same mean: only the index lookup differs
    _assert_equal(_read(mixed.path, chunk_rows=8), _expected(mixed))


def test_an_i_correlation_and_full_polarization(tmp_path, rng):
    single = _write(tmp_path, "i.ms", _blocks(rng, [4, 6], ncorr=1), correlations=("I",))
    _assert_equal(_read(single.path), _expected(single))
    full = _write(tmp_path, "full.ms", _blocks(rng, [4, 6], ncorr=4),
                  correlations=("XX", "XY", "YX", "YY"))
    _assert_equal(_read(full.path), _expected(full))


@pytest.mark.parametrize("correlations", [("XX",), ("XY", "YX"), ("RR", "YY")])
def test_stokes_i_cannot_be_formed(tmp_path, rng, correlations):
    written = _write(tmp_path, "bad.ms", _blocks(rng, [4], ncorr=len(correlations)),
                     correlations=correlations)
    with pytest.raises(InputValueError, match="Stokes I cannot be formed from the "
                                              rf"correlations \[{correlations[0]!r}"):
        _read(written.path)


def test_visibility_terms_from_chunks_equal_the_kernel_on_all_visibilities(mixed):
    dataset = testing.mock_case("tiny", seed=2).dataset
    geometry = (dataset.grid_radians_slim, dataset.native_index_for_slim_index,
                dataset.pixel_scale)
    whole = _read(mixed.path)
    kernel = get_kernel("visibility_terms_from", "numba")
    for method in ("direct", "nufft"):
        expected = kernel(*whole, *geometry, method=method)
        terms = visibility_terms_from_chunks(io.measurement_set_chunks(mixed.path, chunk_rows=4),
                                             *geometry, backend="numba", progress=False,
                                             method=method)
        assert terms.n_visibilities == len(whole[0])
        for name in ("w_compact", "dirty_image", "data_chi_squared", "noise_normalization"):
            assert relative_error(getattr(terms, name), getattr(expected, name)) <= 1e-12, name


def test_a_stokes_i_dataset_round_trips(tmp_path):
    data, noise, uv = (testing.mock_case("tiny", seed=4).dataset.data,
                       testing.mock_case("tiny", seed=4).dataset.noise_map,
                       testing.mock_case("tiny", seed=4).dataset.uv_wavelengths)
    nu = 230e9
    uvw = np.column_stack([uv * io.SPEED_OF_LIGHT / nu, np.zeros(len(uv))])
    block = io.RowBlock.from_stokes_i(uvw, data[:, None], noise.real)
    path = io.write_measurement_set(tmp_path / "round.ms", block, spectral_windows=[nu])
    read = _read(path)
    np.testing.assert_array_equal(read[0], data.astype(np.complex64))  # stored in single
    np.testing.assert_allclose(read[1], noise, rtol=1e-7)
    np.testing.assert_allclose(read[2], uv, rtol=4e-16, atol=0)


def test_a_per_channel_sigma_goes_to_weight_spectrum(tmp_path, rng):
    data = rng.normal(size=(5, 3)) + 1j * rng.normal(size=(5, 3))
    sigma = rng.uniform(0.5, 2.0, size=(5, 3))
    block = io.RowBlock.from_stokes_i(rng.normal(size=(5, 3)), data, sigma)
    path = io.write_measurement_set(tmp_path / "spectrum.ms", block,
                                    spectral_windows=[[1e9, 2e9, 3e9]], weight_spectrum=True)
    read = _read(path)
    np.testing.assert_allclose(read[0], data.astype(np.complex64).ravel(), rtol=0)
    np.testing.assert_allclose(read[1].real, sigma.ravel(), rtol=1e-7)


# --- writing -----------------------------------------------------------------------------------

def test_the_written_measurement_set_is_complete(mixed):
    with tables.table(str(mixed.path), ack=False) as ms:
        assert ms.getkeyword("MS_VERSION") == 2.0
        assert ms.nrows() == sum(len(b.uvw) for b in mixed.blocks)
        assert ms.getdminfo("DATA")["TYPE"] == "TiledShapeStMan"  # windows of 4 and 6

        def subtable(name):
            return tables.table(ms.getkeyword(name), ack=False)

        with subtable("SPECTRAL_WINDOW") as spw:
            assert list(spw.getcol("NUM_CHAN")) == [4, 6]
            for row, frequencies in enumerate(FREQUENCIES):
                np.testing.assert_array_equal(spw.getcell("CHAN_FREQ", row), frequencies)
        with subtable("POLARIZATION") as pol:
            assert list(pol.getcell("CORR_TYPE", 0)) == [9, 12]
            assert pol.getcell("CORR_PRODUCT", 0).tolist() == [[0, 0], [1, 1]]
        with subtable("DATA_DESCRIPTION") as dd:
            assert list(dd.getcol("SPECTRAL_WINDOW_ID")) == [0, 1]
        with subtable("ANTENNA") as antenna, subtable("FEED") as feed:
            assert antenna.nrows() == feed.nrows() == 2
        with subtable("FIELD") as fld:
            assert fld.nrows() == 1
        np.testing.assert_array_equal(ms.getcol("UVW", 0, 5), mixed.blocks[0].uvw)
        np.testing.assert_array_equal(ms.getcol("DATA", 0, 5),
                                      mixed.blocks[0].data.astype(np.complex64))


def test_writer_errors(tmp_path, rng):
    block = _blocks(rng, [4])[0]
    path = io.write_measurement_set(tmp_path / "w.ms", block, spectral_windows=FREQUENCIES[0])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        io.write_measurement_set(path, block, spectral_windows=FREQUENCIES[0])
    io.write_measurement_set(path, block, spectral_windows=FREQUENCIES[0], overwrite=True)
    with pytest.raises(InputShapeError, match=r"RowBlock.data: expected shape \(5, 6, 2\)"):
        io.write_measurement_set(tmp_path / "a.ms", io.RowBlock(block.uvw, block.data, 1),
                                 spectral_windows=FREQUENCIES)
    with pytest.raises(InputValueError, match="spectral_window 3"):
        io.write_measurement_set(tmp_path / "b.ms", io.RowBlock(block.uvw, block.data, 3),
                                 spectral_windows=FREQUENCIES)
    with pytest.raises(InputValueError, match="has no 'MODEL_DATA'"):
        io.write_measurement_set(tmp_path / "c.ms", block, spectral_windows=FREQUENCIES[0],
                                 data_columns=("MODEL_DATA",))
    with pytest.raises(InputValueError, match="unknown correlation 'ZZ'"):
        io.write_measurement_set(tmp_path / "d.ms", block, spectral_windows=FREQUENCIES[0],
                                 correlations=("XX", "ZZ"))
    with pytest.raises(InputValueError, match="positive frequencies"):
        io.MeasurementSetWriter(tmp_path / "e.ms", [[1e9, -1.0]])


# --- reading errors ----------------------------------------------------------------------------

def test_reader_errors(tmp_path, mixed):
    with pytest.raises(FileNotFoundError, match="no Measurement Set"):
        io.measurement_set_parts(tmp_path / "absent.ms")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputValueError, match="not a casacore table"):
        io.measurement_set_parts(tmp_path / "plain")
    with tables.table(str(tmp_path / "table"), tables.maketabdesc(
            [tables.makescacoldesc("X", 0)]), ack=False):
        pass
    with pytest.raises(InputValueError, match="not a Measurement Set: it has no"):
        io.measurement_set_parts(tmp_path / "table")
    for bad, match in (({"spectral_windows": 2}, r"spectral window 2 is not in .* has 2"),
                       ({"spectral_windows": []}, "spectral_windows is empty"),
                       ({"channels": [2, 7]}, r"out of range: it has 4 channels"),
                       ({"channels": slice(5, 9)}, "selects no channel of spectral window 0"),
                       ({"channels": [1, 1]}, "name a channel twice"),
                       ({"channels": {3: [0]}}, r"names spectral windows \[3\]"),
                       ({"chunk_rows": 0}, "chunk_rows must be a positive integer")):
        with pytest.raises(InputValueError, match=match):
            io.measurement_set_chunks(mixed.path, **bad)
    with pytest.raises(InputValueError, match="weight_column must be None or one of"):
        io.measurement_set_chunks(mixed.path, weight_column="IMAGING_WEIGHT")
    with pytest.raises(InputValueError, match="no weight column 'WEIGHT_SPECTRUM'"):
        io.measurement_set_chunks(mixed.path, weight_column="WEIGHT_SPECTRUM")
    with pytest.raises(InputValueError, match="out of range, the MS has 25 rows"):
        io.read_measurement_set_part(io.MeasurementSetPart(str(mixed.path), 20, 30))
    with tables.table(str(mixed.path), readonly=False, ack=False) as ms:  # as CASA adds it
        ms.addcols(tables.maketabdesc([tables.makearrcoldesc("MODEL_DATA", 0j, ndim=2)]),
                   {"TYPE": "TiledShapeStMan", "NAME": "EmptyModel", "SPEC": {}})
    with pytest.raises(InputValueError, match="column MODEL_DATA has no values"):
        _read(mixed.path, data_column="MODEL_DATA")


def test_missing_casacore_is_named_on_first_use(monkeypatch, mixed):
    monkeypatch.setitem(sys.modules, "casacore", None)
    monkeypatch.setitem(sys.modules, "casacore.tables", None)
    for call in (lambda: io.measurement_set_chunks(mixed.path),
                 lambda: io.read_measurement_set_part(io.MeasurementSetPart(mixed.path, 0, 1)),
                 lambda: io.MeasurementSetWriter(mixed.path, [1e9])):
        with pytest.raises(MissingDependencyError, match=r'pip install "autokern\[ms\]"'):
            call()


# --- FITS --------------------------------------------------------------------------------------

def _write_fits(folder: Path, names, k=7, rows=(None, None, None)):
    fits = pytest.importorskip("astropy.io.fits")
    rng = np.random.default_rng(5)
    tables_ = [rng.normal(size=(rows[i] or k, 2)) for i in range(3)]
    tables_[1] = np.abs(tables_[1]) + 0.1
    for name, values in zip(names, tables_, strict=True):
        fits.PrimaryHDU(values.astype(">f8")).writeto(folder / name, overwrite=True)
    return tables_


def test_visibilities_from_fits_reads_any_file_names(tmp_path):
    names = ("vis.fits", "sigma.fits", "uv.fits")
    data, noise, uv = _write_fits(tmp_path, names)
    read = io.visibilities_from_fits(*(tmp_path / n for n in names))
    np.testing.assert_array_equal(read[0], data[:, 0] + 1j * data[:, 1])
    np.testing.assert_array_equal(read[1], noise[:, 0] + 1j * noise[:, 1])
    np.testing.assert_array_equal(read[2], uv)
    assert read[2].dtype.isnative and read[2].flags.c_contiguous
    _write_fits(tmp_path, ("data.fits", "noise_map.fits", "uv_wavelengths.fits"))
    for a, b in zip(datasets.read_visibilities_fits(tmp_path), read, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fits_errors(tmp_path, monkeypatch):
    names = ("a.fits", "b.fits", "c.fits")
    _write_fits(tmp_path, names, rows=(7, 7, 6))
    with pytest.raises(InputShapeError, match="have 7, 7 and 6 rows"):
        io.visibilities_from_fits(*(tmp_path / n for n in names))
    monkeypatch.setitem(sys.modules, "astropy", None)
    monkeypatch.setitem(sys.modules, "astropy.io", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "autokern\[fits\]"'):
        io.visibilities_from_fits(*(tmp_path / n for n in names))


# --- the survey-scale benchmark, at a size that cannot rot --------------------------------------

def test_the_survey_scale_benchmark_runs(tmp_path):
    command = [sys.executable, str(REPO / "benchmarks" / "survey_scale.py"), "--k", "10000",
               "--channels", "5", "--antennas", "8", "--extent", "16", "--dir", str(tmp_path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["k_written"] == 10_000
    assert 0 < result["read_only"]["k_read"] == result["read_and_terms"]["k_read"] < 10_000
    assert result["read_and_terms"]["extent"] == [16, 16]
    assert not list(tmp_path.iterdir())  # the MS was removed
