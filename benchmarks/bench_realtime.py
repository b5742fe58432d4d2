"""Real-time latency over LSL on loopback: filters → AT-AT → epochs → classify, chunks of 1/32 s.

Two set-ups are replayed from a simulated recording (``neurosig.eeg.simulate``): 64 ch at 160 Hz and
32 ch at 512 Hz. The outlet here stamps each chunk with its last sample's acquisition time on the
LSL clock and pushes it once that time has come, never before (mne-lsl's PlayerLSL stamps one chunk
ahead, which would hide a chunk of latency); a push the busy machine delays counts in the latency,
as an amplifier's would.

Per set-up and pipeline it reports:

- end-to-end latency p50/p95/p99: LSL time of the output's push minus the LSL timestamp of the
  newest sample of the chunk that produced it (transport, waiting for the pull, compute);
- each stage's compute per chunk p50/p95/p99;
- compute headroom: seconds of signal per second of compute (× real time);
- dropped samples (must be 0);
- for the filter-only pipeline, MNE-LSL's own ``StreamLSL.filter`` path (the same notch and band-pass
  applied in its acquisition thread; latency = time the filtered sample is readable minus its stamp).

Both paths leave out the latencies of outputs in the first second after the first chunk (``WARMUP``:
the connection settling, and neurosig's first chunk, which loads the compiled kernels from Numba's
cache once per process, a few hundred ms).

AT-AT holds back one 2-s window (hop 1 s): an output sample's latency is its algorithmic latency
(2 s, stated, not measured) plus the compute measured here. Targets (issue 19): p99 compute ≤ 10 ms
for the filter-only pipeline at 64 ch. Takes about 2 minutes.
Run: ``.venv/bin/python benchmarks/bench_realtime.py``.
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
from _common import save

from neurosig.bci.online import fit_decoder
from neurosig.core.config import build_pipeline
from neurosig.eeg.simulate import simulate_raw
from neurosig.io.lsl import LiveMonitor, local_clock

SETUPS = ((64, 160.0), (32, 512.0))
CHUNK_SECONDS = 1 / 32
FILTERS = [{"type": "notch", "freqs": [50.0]}, {"type": "bandpass", "l_freq": 8.0, "h_freq": 30.0}]
EPOCHS = {"type": "epochs", "events": ["left", "right"], "tmin": 0.5, "tmax": 2.5}
SECONDS = {"filters": 10.0, "full": 22.0, "mne_lsl": 10.0}
WARMUP = 1.0  # seconds of outputs not counted at the start of each path (connection, kernel loading)


class Outlet(threading.Thread):
    """Push a recording in chunks at its pace, stamped at push time, its annotations as markers."""

    def __init__(self, raw, name: str, chunk: int):
        super().__init__(daemon=True)
        from mne_lsl.lsl import StreamInfo, StreamOutlet

        sfreq, n = raw.info["sfreq"], len(raw.ch_names)
        info = StreamInfo(name, "EEG", n, sfreq, "float32", name)
        info.set_channel_names(raw.ch_names)
        self.outlet = StreamOutlet(info, chunk_size=chunk)
        self.markers = StreamOutlet(StreamInfo(f"{name}-markers", "Markers", 1, 0.0, "string", name + "m"))
        self.data = raw.get_data().T.astype(np.float32)
        onsets = np.round(raw.annotations.onset * sfreq).astype(int)
        self.events = sorted(zip(onsets, raw.annotations.description, strict=True))
        self.sfreq, self.chunk, self.halt = sfreq, chunk, threading.Event()

    def run(self) -> None:
        t0, start, events = local_clock(), 0, list(self.events)
        while not self.halt.is_set() and start + self.chunk <= len(self.data):
            stop = start + self.chunk
            now = t0 + (stop - 1) / self.sfreq  # the last sample's acquisition time
            wait = now - local_clock()
            if wait > 0:
                time.sleep(wait)
            self.outlet.push_chunk(self.data[start:stop], timestamp=now)
            while events and events[0][0] < stop:
                onset, label = events.pop(0)
                self.markers.push_sample([label], timestamp=now - (stop - 1 - onset) / self.sfreq)
            start = stop


def _pct(values) -> dict[str, float]:
    p = np.percentile(np.asarray(values, dtype=np.float64) * 1e3, [50, 95, 99])
    return {"p50_ms": round(float(p[0]), 3), "p95_ms": round(float(p[1]), 3), "p99_ms": round(float(p[2]), 3)}


def _neurosig(raw, stages: list[dict], seconds: float) -> dict:
    name = uuid.uuid4().hex
    chunk = int(round(raw.info["sfreq"] * CHUNK_SECONDS))
    spec = {
        "source": {"type": "lsl", "name": name, "markers": f"{name}-markers", "duration": seconds},
        "stages": stages,
        "sink": {"type": "lsl", "name": f"{name}-out"},
    }
    pipeline = build_pipeline(spec)
    pipeline.monitor = monitor = LiveMonitor(pipeline.source, warmup=WARMUP)
    outlet = Outlet(raw, name, chunk)
    outlet.start()
    try:
        summary = pipeline.run()
    finally:
        outlet.halt.set()
        outlet.join()
    compute = sum(v for k, v in summary.stage_seconds.items() if k != "source")
    result = monitor.summary()
    return {
        "latency_ms": result["latency"],
        "stage_compute_ms": result["stages"],
        "outputs": len(monitor.latency),
        "headroom_x_realtime": round(summary.stream_seconds / compute, 1),
        "samples": result["samples"],
        "dropped_samples": result["dropped_samples"],
    }


def _mne_lsl(raw, seconds: float) -> dict:
    """The same filters in MNE-LSL's StreamLSL: latency until a filtered sample can be read."""
    from mne_lsl.stream import StreamLSL

    name = uuid.uuid4().hex
    outlet = Outlet(raw, name, int(round(raw.info["sfreq"] * CHUNK_SECONDS)))
    outlet.start()
    stream = StreamLSL(2.0, name=name).connect(acquisition_delay=0.001)
    stream.notch_filter(50.0, picks="all")
    stream.filter(8.0, 30.0, picks="all")
    latencies, n, first = [], 0, None
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            new = stream.n_new_samples
            if not new:
                time.sleep(0.0005)
                continue
            _, stamps = stream.get_data(winsize=new / raw.info["sfreq"])
            latency, first = local_clock() - stamps[-1], first or time.monotonic()
            if time.monotonic() - first >= WARMUP:
                latencies.append(latency)
            n += new
    finally:
        stream.disconnect()
        outlet.halt.set()
        outlet.join()
    return {"latency_ms": _pct(latencies), "outputs": len(latencies), "samples": n}


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n_channels, sfreq in SETUPS:
            raw = simulate_raw(duration=40.0, sfreq=sfreq, n_channels=n_channels, seed=1)
            train = Path(tmp) / f"train_{n_channels}_{sfreq:g}_raw.fif"
            simulate_raw(duration=60.0, sfreq=sfreq, n_channels=n_channels, seed=2).save(
                train, verbose="error"
            )
            stages = [*FILTERS, {"type": "atat"}, EPOCHS]
            decoder = fit_decoder(
                {"source": {"type": "file", "path": str(train)}, "stages": stages},
                [train],
                Path(tmp) / f"csp_lda_{n_channels}.pt",
            )
            setup = (
                f"{n_channels} ch at {sfreq:g} Hz, {int(round(sfreq * CHUNK_SECONDS))}-sample (1/32-s) chunks"
            )
            rows.append(
                {
                    "setup": setup,
                    "pipeline": "notch 50 Hz → band-pass 8–30 Hz (neurosig)",
                    **_neurosig(raw, FILTERS, SECONDS["filters"]),
                }
            )
            rows.append(
                {
                    "setup": setup,
                    "pipeline": "the same filters in MNE-LSL StreamLSL.filter",
                    **_mne_lsl(raw, SECONDS["mne_lsl"]),
                }
            )
            full = [*stages, {"type": "classify", "model": str(decoder)}]
            rows.append(
                {
                    "setup": setup,
                    "pipeline": "filters → atat → epochs 0.5–2.5 s → classify (CSP+LDA)",
                    "atat_algorithmic_latency_s": 2.0,
                    **_neurosig(raw, full, SECONDS["full"]),
                }
            )
    save(
        "realtime",
        rows,
        note=(
            "latency_ms: output push minus the newest input sample's LSL stamp (its acquisition time). "
            "stage_compute_ms: per chunk. AT-AT adds its 2-s window to an output sample's latency; "
            "epochs emit when their last sample arrives; the classify row's latency is per decision."
        ),
    )


if __name__ == "__main__":
    main()
