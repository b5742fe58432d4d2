"""Small streams of every chunk type, and the files format version 1 wrote for them.

``tests/io/data/format_v1/KIND.h5`` were written by ``python tests/io/_format_v1.py`` with the
``HDF5Sink`` of before the chunk types described their own storage; newer code must read them back
and write the same layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosig.core.chunks import (
    EVENTS_DTYPE,
    EpochsChunk,
    EpochsInfo,
    EventChunk,
    EventInfo,
    Marker,
    SignalChunk,
    SignalInfo,
    SpikeChunk,
    SpikeInfo,
    TokenChunk,
    TokenInfo,
)
from neurosig.core.stage import RunMeta

FOLDER = Path(__file__).parent / "data" / "format_v1"
META = RunMeta(neurosig_version="x", pipeline_yaml="name: golden\n", source={"type": "test"})


def golden_chunks() -> dict[str, object]:
    """One small stream per chunk type (the signal starts at sample 7 and carries two markers)."""
    rng = np.random.default_rng(1)
    events = np.zeros(20, EVENTS_DTYPE)
    events["t"] = np.sort(rng.integers(0, 10**4, 20))
    events["x"], events["y"], events["p"] = (
        rng.integers(0, 8, 20),
        rng.integers(0, 6, 20),
        rng.integers(0, 2, 20),
    )
    return {
        "signal": SignalChunk(
            rng.standard_normal((3, 50)),
            SignalInfo(100.0, ("a", "b", "c")),
            7,
            (Marker(0.1, 0.5, "x"), Marker(0.3, 0.0, "ü")),
        ),
        "epochs": EpochsChunk(
            rng.standard_normal((3, 2, 8)),
            EpochsInfo(100.0, ("a", "b"), ("eeg", "eeg"), -0.1, 8),
            [0.5, 1.5, 2.5],
            ["left", "right", "left"],
        ),
        "events": EventChunk(events, EventInfo((8, 6, 2))),
        "spikes": SpikeChunk((rng.random((10, 4)) < 0.3).astype(np.uint8), SpikeInfo(0.001, 4)),
        "tokens": TokenChunk(rng.integers(0, 16, (2, 5, 2, 3)), TokenInfo(("a", "b"), 1.0, 2, 3, 16)),
    }


def main() -> None:
    from neurosig.io.hdf5 import HDF5Sink
    from neurosig.testing import split_chunk

    FOLDER.mkdir(parents=True, exist_ok=True)
    for kind, chunk in golden_chunks().items():
        path = FOLDER / f"{kind}.h5"
        path.unlink(missing_ok=True)
        sink = HDF5Sink(str(path))
        sink.open(META)
        for piece in split_chunk(chunk, [1, 2]):
            sink.write(piece)
        sink.commit()


if __name__ == "__main__":
    main()
