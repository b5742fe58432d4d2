"""Bad input: strict mode raises FormatError with the byte offset; lenient skips, counts and warns."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _event_streams import random_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosig.core.errors import FormatError, NeurosigError
from neurosig.io.events import EventDecodeWarning, info, iter_events, read_events, sniff, write_events

EVT3_HEADER = b"% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n"
EVT2_HEADER = b"% evt 2.0\n% format EVT2;height=480;width=640\n% end\n"


def _raw(tmp_path, header: bytes, words, dtype: str, name: str = "f.raw"):
    path = tmp_path / name
    path.write_bytes(header + np.asarray(words, dtype).tobytes())
    return path


def _evt3(tmp_path, words):
    return _raw(tmp_path, EVT3_HEADER, words, "<u2")


def _lenient(path, **kwargs):
    with pytest.warns(EventDecodeWarning) as record:
        chunk = read_events(path, strict=False, **kwargs)
    assert len(record) == 1, "lenient decoding warns once per read"
    return chunk, str(record[0].message)


# a valid EVT3 prefix: TIME_HIGH 100, TIME_LOW 5, ADDR_Y 10, ADDR_X 20 (p=1)
GOOD3 = [0x8000 | 100, 0x6000 | 5, 0x0000 | 10, 0x2000 | 0x800 | 20]
H3 = len(EVT3_HEADER)


@pytest.mark.parametrize(
    "bad, category",
    [
        (0x8000 | 99, "time_high_backwards"),  # TIME_HIGH steps back by 1: corrupt, not a wrap
        (0x4000 | 0b111, "invalid_vect_base"),  # VECT_12 on a new row without VECT_BASE_X
        (0x1000, "unknown_word_type"),  # type 0x1 is not defined by EVT 3.0
        (0x2000 | 1500, "outside_sensor"),  # ADDR_X beyond the 1280-pixel width
    ],
)
def test_evt3_corrupt_words(tmp_path, bad, category):
    path = _evt3(tmp_path, [*GOOD3, 0x0000 | 11, bad, 0x2000 | 21])
    with pytest.raises(FormatError) as err:
        read_events(path)
    assert err.value.offset == H3 + 2 * 5 and err.value.path == path
    assert "strict=False" in str(err.value)
    chunk, message = _lenient(path)
    assert category in message
    assert [tuple(e) for e in chunk.events.tolist()] == [
        (100 << 12 | 5, 20, 10, 1),
        (100 << 12 | 5, 21, 11, 0),
    ]
    with pytest.warns(EventDecodeWarning):
        assert info(path, strict=False)["skipped"] == {category: 1}


def test_evt3_partial_vector_and_early_events(tmp_path):
    # VECT_BASE_X at 1276 then VECT_12 with bits 0..7: pixels 1280..1283 lie past the row's end
    path = _evt3(tmp_path, [*GOOD3, 0x3000 | 1276, 0x4000 | 0xFF])
    with pytest.raises(FormatError, match="partial vector") as err:
        read_events(path)
    assert err.value.offset == H3 + 2 * 5
    chunk, message = _lenient(path)
    assert "partial_vector" in message and len(chunk) == 1 + 4
    early = _evt3(tmp_path, [0x0000 | 3, 0x2000 | 4, *GOOD3])  # ADDR_X before any TIME_HIGH
    with pytest.raises(FormatError, match="before the first TIME_HIGH") as err:
        read_events(early)
    assert err.value.offset == H3 + 2


def test_evt3_vector_before_any_row_is_rejected_not_put_on_row_65535(tmp_path):
    # TIME_HIGH, TIME_LOW, VECT_BASE_X 5, VECT_12 (pixel 5): no ADDR_Y yet, so the row is unknown
    path = _evt3(tmp_path, [0x8000 | 100, 0x6000 | 5, 0x3000 | 5, 0x4000 | 0b1, 0x0000 | 10, 0x2000 | 20])
    with pytest.raises(FormatError, match="before the first TIME_HIGH") as err:
        read_events(path)
    assert err.value.offset == H3 + 2 * 3
    chunk, message = _lenient(path)
    assert "before_time_base" in message
    assert [tuple(e) for e in chunk.events.tolist()] == [(100 << 12 | 5, 20, 10, 0)]


def test_evt3_vendor_words_are_consumed_not_rejected(tmp_path):
    # OTHERS + CONTINUED_12 + CONTINUED_4, and an EXT_TRIGGER: legitimate words, no error
    path = _evt3(
        tmp_path, [*GOOD3, 0xE000 | 0x123, 0xF000 | 0xABC, 0x7000 | 0x5, 0xA000 | 0x301, 0x2000 | 30]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chunk = read_events(path)
    assert len(chunk) == 2
    d = info(path)
    assert d["vendor_words"] == 3 and d["skipped"] == {}
    assert d["triggers"] == {"count": 1, "per_channel": {3: 1}}


def test_evt2_corrupt_words(tmp_path):
    th, cd = 0x8 << 28, lambda x, y, p=1: (p << 28) | (x << 11) | y
    path = _raw(tmp_path, EVT2_HEADER, [th | 7, cd(1, 2), 0x3 << 28, cd(3, 4), th | 6, cd(5, 6)], "<u4")
    with pytest.raises(FormatError, match="not defined") as err:
        read_events(path)
    assert err.value.offset == len(EVT2_HEADER) + 4 * 2
    chunk, message = _lenient(path)
    assert "1 unknown_word_type" in message and "1 time_high_backwards" in message
    assert chunk.events["x"].tolist() == [1, 3, 5]


def test_truncated_file(tmp_path):
    events = random_events(np.random.default_rng(0), 500, 640, 480, 30)
    for fmt, word in (("evt2", 4), ("evt3", 2), ("dat", 8)):
        path = write_events(tmp_path / f"t.{fmt}", events, fmt, sensor_size=(640, 480, 2))
        data = path.read_bytes()
        path.write_bytes(data[:-1])
        with pytest.raises(FormatError, match="truncated") as err:
            read_events(path)
        assert err.value.offset == len(data) - word
        with pytest.raises(FormatError, match="truncated"):
            list(iter_events(path, block_bytes=64))
        chunk, message = _lenient(path)
        assert f"{word - 1} truncated_bytes" in message
        assert len(chunk) >= 499


def test_header_that_lies_about_the_sensor(tmp_path):
    events = random_events(np.random.default_rng(1), 300, 1280, 720, 10)
    path = write_events(tmp_path / "l.raw", events, "evt3", sensor_size=(1280, 720, 2))
    path.write_bytes(path.read_bytes().replace(b"height=720;width=1280", b"height=480;width=640"))
    with pytest.raises(FormatError, match="sensor_size=") as err:
        read_events(path)
    assert err.value.offset is not None and err.value.offset > 0
    outside = int(np.sum((events["x"] >= 640) | (events["y"] >= 480)))
    chunk, message = _lenient(path)
    assert len(chunk) == 300 - outside and f"{outside} outside_sensor" in message
    fixed = read_events(path, sensor_size=(1280, 720, 2))
    np.testing.assert_array_equal(fixed.events, events)


def test_events_outside_sensor_in_headerless_and_dat_files(tmp_path):
    nmnist = tmp_path / "n.bin"
    nmnist.write_bytes(bytes([3, 4, 0x80, 0, 10, 40, 4, 0, 0, 11]))  # second event: x = 40 > 33
    with pytest.raises(FormatError, match="outside the sensor") as err:
        read_events(nmnist)
    assert err.value.offset == 5
    events = random_events(np.random.default_rng(2), 50, 100, 100, 10)
    dat = write_events(tmp_path / "d.dat", events, sensor_size=(100, 100, 2))
    dat.write_bytes(dat.read_bytes().replace(b"% Width 100", b"% Width 10 "))
    with pytest.raises(FormatError, match="outside the sensor"):
        read_events(dat)


def test_files_of_other_formats(tmp_path, shared_data):
    edf = shared_data / "eeg/format-samples/mne/edf_test.edf"
    if edf.is_file():
        with pytest.raises(FormatError, match="not an event file") as err:
            sniff(edf)
        assert err.value.offset == 0
    text = tmp_path / "notes.raw"
    text.write_text("hello\n")
    with pytest.raises(FormatError, match="not an event file"):
        read_events(text)
    aedat2 = tmp_path / "old.aedat"
    aedat2.write_bytes(b"#!AER-DAT2.0\r\n")
    with pytest.raises(FormatError, match="not supported"):
        read_events(aedat2)
    # EVT 3.0 words under an EVT 2.0 header: the first 32-bit word has an undefined type
    events = random_events(np.random.default_rng(3), 100, 640, 480, 10)
    path = write_events(tmp_path / "m.raw", events, "evt3", sensor_size=(640, 480, 2))
    path.write_bytes(path.read_bytes().replace(b"evt 3.0", b"evt 2.0").replace(b"EVT3;", b"EVT2;"))
    with pytest.raises(FormatError, match="corrupt evt2 word"):
        read_events(path)


def test_truncated_aedat4(tmp_path, shared_file):
    """The header's end of packets lies past a truncated file: lenient keeps the whole packets."""
    src = shared_file("events/tonic_sample.aedat4")
    whole = read_events(src)
    cut = tmp_path / "cut.aedat4"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(FormatError, match="AEDAT4"):
        read_events(cut)
    chunk, message = _lenient(cut)
    assert 0 < len(chunk) < len(whole) and "unreadable_packets" in message
    np.testing.assert_array_equal(chunk.events, whole.events[: len(chunk)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(min_size=0, max_size=400),
    kind=st.sampled_from(["evt2", "evt3", "dat", "nmnist"]),
)
def test_random_bytes_never_crash(tmp_path_factory, body, kind):
    folder = tmp_path_factory.mktemp("fuzz")
    head = {
        "evt2": EVT2_HEADER,
        "evt3": EVT3_HEADER,
        "dat": b"% Width 64\n% Height 64\n\x0c\x08",
        "nmnist": b"",
    }
    path = folder / ("f.bin" if kind == "nmnist" else f"f.{kind}")
    path.write_bytes(head[kind] + body)
    try:
        read_events(path)
    except NeurosigError as err:
        assert isinstance(err, FormatError) and err.offset is not None
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            chunk = read_events(path, strict=False)
        except FormatError as err:  # lenient mode skips words, not an unreadable file header
            assert err.offset == 0
            return
        caught = [w for w in record if issubclass(w.category, EventDecodeWarning)]
        d = info(path, strict=False)
    assert d["n_events"] == len(chunk)
    assert bool(d["skipped"]) == bool(caught)


def _aedat4_variant(tmp_path, src, name: str, offset: int, value: bytes):
    data = bytearray(src.read_bytes())
    data[offset : offset + len(value)] = value
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "offset, value, at, match",
    [
        (14, (289).to_bytes(4, "little"), 62, "runs past its 289 bytes"),  # panicked inside aedat
        (14, (-300_000_000).to_bytes(4, "little", signed=True), 14, "header size field"),  # 3.6 GB
        (2338, (0xF000_0000).to_bytes(4, "little"), 2334, "packet 0 declares 4026531840 bytes"),
    ],
)
def test_aedat4_framing_checked_before_the_decoder(tmp_path, shared_file, offset, value, at, match):
    """A corrupt header or packet size is a FormatError with its byte offset, in a child process
    with a 1 GiB address-space limit (aedat would panic, or allocate up to 4 GiB and abort)."""
    import subprocess
    import sys

    path = _aedat4_variant(tmp_path, shared_file("events/tonic_sample.aedat4"), "bad.aedat4", offset, value)
    code = (
        "import resource, sys, warnings\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "warnings.simplefilter('ignore')\n"
        "from neurosig.core.errors import FormatError\n"
        "from neurosig.io.events import read_events\n"
        "for strict in (True, False):\n"
        "    try:\n"
        "        print('events', len(read_events(sys.argv[1], strict=strict)))\n"
        "    except FormatError as err:\n"
        "        print('FormatError', err.offset, err)\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"FormatError {at} ") and match in lines[0] and str(path) in lines[0]
    if offset > 18:  # a damaged packet: lenient keeps the packets before it (none here)
        assert lines[1] == "events 0"


def test_aedat4_panic_is_a_format_error(tmp_path, shared_file, monkeypatch):
    """A Rust panic that escapes the framing checks (PanicException is a BaseException) is contained."""
    aedat = pytest.importorskip("aedat")
    path = shared_file("events/tonic_sample.aedat4")
    panic = type("PanicException", (BaseException,), {})
    decoder = aedat.Decoder

    class Panicking:
        def __init__(self, path):
            self.inner = decoder(path)

        def id_to_stream(self):
            return self.inner.id_to_stream()

        def __next__(self):
            raise panic("index out of range for slice")

    monkeypatch.setattr(aedat, "Decoder", Panicking)
    with pytest.raises(FormatError, match="PanicException: index out of range") as err:
        read_events(path)
    assert err.value.path == path
    chunk, message = _lenient(path)
    assert len(chunk) == 0 and "unreadable_packets" in message


@pytest.mark.parametrize(
    "line",
    [b"% geometry 4000000000x4000000000\n", b"% geometry 100000x100000\n", b"% geometry 0x480\n"],
)
def test_header_sensor_must_fit_the_events_dtype(tmp_path, line):
    path = tmp_path / "big.raw"
    path.write_bytes(b"% evt 2.0\n" + line + b"% end\n" + np.zeros(4, "<u4").tobytes())
    with pytest.raises(FormatError, match="'% geometry' gives a sensor of .* uint16") as err:
        read_events(path)
    assert err.value.path == path and "sensor_size=" in str(err.value)
    with pytest.warns(EventDecodeWarning):
        assert len(read_events(path, strict=False, sensor_size=(640, 480, 2))) == 0


def test_hdf5_stream_info_sensor_checked(tmp_path):
    import h5py

    from neurosig.core.chunks import EVENTS_DTYPE

    path = write_events(tmp_path / "e.h5", np.zeros(0, EVENTS_DTYPE), "hdf5", sensor_size=(64, 48, 2))
    with h5py.File(path, "r+") as f:
        info_json = f.attrs["stream_info"]
        assert "[64, 48, 2]" in info_json
        f.attrs["stream_info"] = info_json.replace("[64, 48, 2]", "[70000, 48, 2]")
    with pytest.raises(FormatError, match="stream info's sensor_size gives a sensor of 70000x48"):
        read_events(path)


def _npy(tmp_path, events, name="e.npy"):
    path = tmp_path / name
    np.save(path, events)
    return path


def test_npy_damaged_header_is_a_format_error(tmp_path):
    from neurosig.core.chunks import EVENTS_DTYPE

    path = _npy(tmp_path, np.zeros(3, EVENTS_DTYPE))
    data = bytearray(path.read_bytes())
    data[10] = ord("'")  # "{'descr'..." becomes "''descr'...": tokenize.TokenError inside numpy
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="not a readable .npy array") as err:
        read_events(path)
    assert err.value.offset == 0


def test_npy_lenient_skips_bad_rows_with_real_row_numbers(tmp_path):
    dtype = np.dtype([("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "i1")])
    rows = np.zeros(10, dtype)
    rows["t"] = np.arange(10)
    rows["x"] = 5
    rows["x"][7] = 70_000  # does not fit uint16
    rows["p"][3] = 2  # not a polarity
    path = _npy(tmp_path, rows)
    with pytest.raises(FormatError, match=r"row 3 \(t=3, x=5, y=0, p=2\) holds a value") as err:
        read_events(path)
    assert "288230376151711744" not in str(err.value)
    chunk, message = _lenient(path)
    assert chunk.events["t"].tolist() == [0, 1, 2, 4, 5, 6, 8, 9] and "2 bad_values" in message
    assert chunk.info.sensor_size == (6, 1, 2)
    with pytest.warns(EventDecodeWarning, match="2 bad_values"):
        parts = list(iter_events(path, strict=False, block_bytes=3 * dtype.itemsize))
    np.testing.assert_array_equal(np.concatenate([c.events for c in parts]), chunk.events)
    rows["p"][3] = 0
    path = _npy(tmp_path, rows, "one_bad.npy")
    with pytest.raises(FormatError, match="row 7 "):  # in the second block of five rows
        list(iter_events(path, sensor_size=(6, 1, 2), block_bytes=5 * dtype.itemsize))
