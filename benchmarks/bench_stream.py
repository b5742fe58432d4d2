"""Streaming cost: a chunked filter pipeline vs one-shot ``scipy.signal.sosfilt``, and per-chunk overhead.

Targets (issues 2 and 19): chunked throughput ≥ 0.9× one-shot at 0.1-s chunks (1/32-s chunks, the
real-time size, reported); a stage costs ≤ 20 µs per chunk beyond its own work.
Run: ``.venv/bin/python benchmarks/bench_stream.py``.
"""

from __future__ import annotations

import numpy as np
from _common import median_seconds, save
from scipy import signal

from neurosig.core.chunks import SignalChunk, SignalInfo
from neurosig.core.pipeline import Pipeline
from neurosig.core.stage import ChunkSource, Stage
from neurosig.eeg.filters import BandPass, design_sos
from neurosig.testing import split_chunk

SFREQ, N_CHANNELS, SECONDS = 256.0, 64, 600


class Identity(Stage):
    name = "identity_bench"

    def _process(self, chunk):
        yield chunk


def main() -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((N_CHANNELS, int(SFREQ * SECONDS))) * 1e-5).astype(np.float32)
    info = SignalInfo(SFREQ, tuple(f"ch{i}" for i in range(N_CHANNELS)))
    whole = SignalChunk(x, info)
    sos = design_sos(SFREQ, 1.0, 40.0)
    rows = []
    one_shot = median_seconds(lambda: signal.sosfilt(sos, x.astype(np.float64), axis=1))
    for chunk_seconds in (1 / 32, 0.1, 1.0, 10.0):
        step = int(round(chunk_seconds * SFREQ))
        chunks = split_chunk(whole, range(step, x.shape[1], step))
        pipeline = Pipeline(ChunkSource(chunks), [BandPass(1.0, 40.0)])
        chunked = median_seconds(lambda p=pipeline: p.run())
        rows.append(
            {
                "case": f"bandpass 1–40 Hz, {N_CHANNELS} ch × {SECONDS} s, {step}-sample "
                f"({chunk_seconds:g}-s) chunks",
                "neurosig_s": chunked,
                "one_shot_sosfilt_s": one_shot,
                "throughput_ratio": one_shot / chunked,
                "target": "≥ 0.9" if chunk_seconds == 0.1 else "",
            }
        )
    tiny = split_chunk(SignalChunk(x[:, :20000], info), range(1, 20000))  # 20000 one-sample chunks
    for stages, label in (([], "empty pipeline"), ([Identity()], "one pass-through stage")):
        pipeline = Pipeline(ChunkSource(tiny), stages)
        seconds = median_seconds(lambda p=pipeline: p.run(), repeats=5)
        rows.append(
            {
                "case": f"{label}: per-chunk overhead",
                "neurosig_s": seconds / len(tiny) * 1e6,
                "one_shot_sosfilt_s": "",
                "throughput_ratio": "",
                "target": "≤ 20 µs/chunk (value in µs)",
            }
        )
    save("stream", rows, note="neurosig_s is seconds, except per-chunk overhead rows, which are µs per chunk")


if __name__ == "__main__":
    main()
