"""Seeds for the fuzz harness: small files of every target that the harness builds itself, plus the real
samples in ``../shared/data`` when they are there."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

#: Real samples per target, relative to the shared data folder.
SHARED = {
    "evt2": ["events/expelliarmus_evt2_sample.raw"],
    "evt3": ["events/expelliarmus_evt3_sample.raw"],
    "dat": ["events/tonic_sample_ncars.dat"],
    "aedat4": ["events/tonic_sample.aedat4"],
    "nmnist": ["spikes/tonic_sample_nmnist.bin"],
    "npy": ["events/expelliarmus_evt3_sample.npy"],
    "hdf5": [],
    "edf": [
        "eeg/eegmmidb/S001/S001R01.edf",
        "eeg/format-samples/mne/edf_test.bdf",
        "eeg/format-samples/mne/edf_test_edf_stim_channel.edf",
        "eeg/format-samples/eeglab/test.bdf",
    ],
    "yaml": [],
}

#: File suffix of each target.
SUFFIX = {
    "evt2": ".raw",
    "evt3": ".raw",
    "dat": ".dat",
    "aedat4": ".aedat4",
    "nmnist": ".bin",
    "npy": ".npy",
    "hdf5": ".h5",
    "edf": ".edf",
    "yaml": ".yaml",
}

_XML = (
    '<dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/">'
    '<node name="0" path="/mainloop/Recorder/outInfo/0/">'
    '<attr key="typeIdentifier" type="string">EVTS</attr>'
    '<node name="info" path="/mainloop/Recorder/outInfo/0/info/">'
    '<attr key="sizeX" type="int">{w}</attr><attr key="sizeY" type="int">{h}</attr>'
    "</node></node></node></dv>"
)


def _events(rng: np.random.Generator, n: int, width: int, height: int) -> np.ndarray:
    from neurosig.core.chunks import EVENTS_DTYPE

    ev = np.empty(n, EVENTS_DTYPE)
    ev["t"] = np.cumsum(rng.integers(0, 300, n))
    ev["x"] = rng.integers(0, width, n)
    ev["y"] = rng.integers(0, height, n)
    ev["p"] = rng.integers(0, 2, n)
    return ev


def aedat4_bytes(events: np.ndarray, width: int, height: int) -> bytes:
    """A minimal uncompressed AEDAT4 file: the header (IOHeader FlatBuffer) and one event packet.

    The FlatBuffers are laid out by hand: the harness must run where only numpy is at hand.
    """
    text = _XML.format(w=width, h=height).encode()
    # IOHeader: root offset, "IOHE", vtable (10 bytes: 3 fields), table at 20: compression (int32) at
    # +4, description offset at +8, file_data_position (int64) at +12; the string at 40.
    header = bytearray(40)
    struct.pack_into("<I4s", header, 0, 20, b"IOHE")
    struct.pack_into("<HHHHH", header, 8, 10, 20, 4, 12, 8)
    struct.pack_into("<iiIq", header, 20, 12, 0, 40 - 28, -1)
    header += struct.pack("<I", len(text)) + text + b"\0"
    header += bytes(-len(header) % 4)
    # EventPacket, size-prefixed: size, root offset, "EVTS", vtable at 12, table at 20, the vector's
    # length at 28 and its 16-byte structs (t int64, x int16, y int16, on bool, padding) from 32.
    packet = bytearray(32)
    struct.pack_into("<I4sHHHH", packet, 4, 16, b"EVTS", 6, 8, 4, 0)
    struct.pack_into("<iII", packet, 20, 8, 4, len(events))
    for e in events:
        packet += struct.pack("<qhh?3x", int(e["t"]), int(e["x"]), int(e["y"]), bool(e["p"]))
    struct.pack_into("<I", packet, 0, len(packet) - 4)
    return (
        b"#!AER-DAT4.0\r\n"
        + struct.pack("<I", len(header))
        + bytes(header)
        + struct.pack("<iI", 0, len(packet))
        + bytes(packet)
    )


def nmnist_bytes(events: np.ndarray) -> bytes:
    """ATIS 5-byte records (timestamps below 2**23 µs)."""
    t = events["t"].astype(np.int64) & 0x7FFFFF
    rec = np.empty((len(events), 5), np.uint8)
    rec[:, 0] = events["x"]
    rec[:, 1] = events["y"]
    rec[:, 2] = (events["p"].astype(np.int64) << 7) | (t >> 16)
    rec[:, 3] = (t >> 8) & 0xFF
    rec[:, 4] = t & 0xFF
    return rec.tobytes()


def edf_bytes(n_records: int = 4, bdf: bool = False) -> bytes:
    """A small EDF (or BDF) file: two signals of 8 samples per 1-s record, digital range ±2**15."""
    n_signals, per_record = 2, 8

    def field(value, width: int) -> bytes:
        return str(value).ljust(width)[:width].encode("ascii")

    head = (b"\xffBIOSEMI" if bdf else field(0, 8)) + field("X X X X", 80) + field("Startdate X", 80)
    head += field("01.01.20", 8) + field("00.00.00", 8) + field(256 * (n_signals + 1), 8)
    head += field("24BIT" if bdf else "", 44) + field(n_records, 8) + field(1, 8) + field(n_signals, 4)
    columns = [
        ("EEG Fz", "EEG Cz"),
        ("AgAgCl",) * 2,
        ("uV",) * 2,
        (-3200,) * 2,
        (3200,) * 2,
        (-32768,) * 2,
        (32767,) * 2,
        ("HP:0.1Hz",) * 2,
        (per_record,) * 2,
        ("",) * 2,
    ]
    widths = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)
    for values, width in zip(columns, widths, strict=True):
        head += b"".join(field(v, width) for v in values)
    rng = np.random.default_rng(0)
    samples = rng.integers(-1000, 1000, n_records * n_signals * per_record)
    if bdf:
        body = b"".join(int(s).to_bytes(3, "little", signed=True) for s in samples)
    else:
        body = samples.astype("<i2").tobytes()
    return head + body


def generated(folder: Path) -> dict[str, list[Path]]:
    """Write the harness's own small seeds into ``folder``: ``{target: [paths]}``."""
    from neurosig.io.events import write_events

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2024)
    seeds: dict[str, list[Path]] = {t: [] for t in SUFFIX}
    for i, (n, w, h) in enumerate([(40, 64, 48), (300, 640, 480)]):
        ev = _events(rng, n, w, h)
        for fmt in ("evt2", "evt3", "dat", "npy", "hdf5"):
            path = folder / f"gen{i}_{fmt}{SUFFIX[fmt]}"
            write_events(path, ev, fmt, sensor_size=(w, h, 2), overwrite=True)
            seeds[fmt].append(path)
        path = folder / f"gen{i}.aedat4"
        path.write_bytes(aedat4_bytes(ev, w, h))
        seeds["aedat4"].append(path)
        path = folder / f"gen{i}.bin"
        path.write_bytes(nmnist_bytes(_events(rng, n, 34, 34)))
        seeds["nmnist"].append(path)
    for bdf in (False, True):
        path = folder / f"gen{'_bdf' if bdf else ''}.{'bdf' if bdf else 'edf'}"
        path.write_bytes(edf_bytes(bdf=bdf))
        seeds["edf"].append(path)
    return seeds


def shared(data: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """The real samples that exist under ``data``, and a line per missing one (the skip reasons)."""
    found: dict[str, list[Path]] = {t: [] for t in SUFFIX}
    missing = []
    for target, names in SHARED.items():
        for name in names:
            path = data / name
            if path.is_file():
                found[target].append(path)
            else:
                missing.append(f"{target}: {name} not found under {data}; using generated seeds only")
    return found, missing
