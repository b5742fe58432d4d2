"""`neurosig replay`, `neurosig stream` and `neurosig fit-decoder` as a user runs them: separate
processes on loopback, uniquely named streams, and no process left behind."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from neurosig.cli import REPO_ROOT, main
from neurosig.core.chunks import SignalChunk
from neurosig.io.hdf5 import read_hdf5
from neurosig.testing import stop_process

SFREQ = 160.0
CHANNELS = ["C3", "C4", "Cz", "FC3", "FC4", "CP3", "CP4", "Pz"]


def _recording(path: Path, duration: float, onsets: list[float], labels: list[str]) -> Path:
    """A FIF recording of eight EEG channels whose T1 (T2) trials carry 12 Hz on C3 (C4) for 2.5 s."""
    import mne

    rng = np.random.default_rng(0)
    n = int(duration * SFREQ)
    x = rng.standard_normal((len(CHANNELS), n)) * 5e-6
    t = np.arange(n) / SFREQ
    for onset, label in zip(onsets, labels, strict=True):
        trial = (t >= onset) & (t < onset + 2.5)
        x[CHANNELS.index("C3" if label == "T1" else "C4"), trial] += 2e-5 * np.sin(2 * np.pi * 12 * t[trial])
    raw = mne.io.RawArray(x, mne.create_info(CHANNELS, SFREQ, "eeg"), verbose="error")
    raw.set_annotations(mne.Annotations(onsets, [0.0] * len(onsets), labels))
    raw.save(path, verbose="error")
    return path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-u", "-m", "neurosig.cli", *args]


#: Seconds a replay gets to end after Ctrl-C. It ends in well under one alone, but twice in CI
#: (fresh clones, two test workers, the Dask executor tests alongside) it was still running after 10 s
#: and was killed; it ended at once in the 13 runs outside CI, so the cause is unknown: this is slack,
#: and a replay that still does not end prints its threads' stacks (SIGUSR1) into the failure.
STOP_SECONDS = 30


def _stop_replay(proc: subprocess.Popen) -> None:
    """Ctrl-C, else the stacks and a kill (:func:`stop_process`); the process is gone after."""
    stop_process(proc, timeout=STOP_SECONDS, dump=signal.SIGUSR1)


@pytest.fixture
def replay():
    """Start `neurosig replay` processes; every one is stopped (Ctrl-C, else killed) at teardown."""
    started: list[subprocess.Popen] = []

    def start(path: Path, name: str, *extra: str) -> subprocess.Popen:
        """Start `neurosig replay` and wait (up to 60 s) until it says it is publishing."""
        proc = subprocess.Popen(
            _cli("replay", str(path), "--name", name, *extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        started.append(proc)
        lines: queue.Queue[str | None] = queue.Queue()

        proc.output = []  # every line it prints, for failure messages

        def read() -> None:  # liblsl's log lines come first; None when the process ends
            for line in proc.stdout:
                proc.output.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        seen, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if line.startswith(f"publishing {name}"):
                return proc
        raise AssertionError("`neurosig replay` did not start publishing:\n" + "".join(seen))

    yield start
    for proc in started:
        _stop_replay(proc)


def test_stream_records_a_replay_to_complete_hdf5_and_leaves_no_process(tmp_path, replay):
    pytest.importorskip("mne_lsl")
    # long enough for the whole run, so the replay needs no loop
    onsets = list(np.arange(0.25, 30.0, 0.25))
    path = _recording(tmp_path / "rec_raw.fif", 30.0, onsets, ["T1", "T2"] * 59 + ["T1"])
    name = uuid.uuid4().hex
    out = tmp_path / "live.h5"
    pipeline = tmp_path / "live.yaml"
    pipeline.write_text(
        f"""
name: live_test
source: {{type: lsl, name: {name}, markers: {name}-annotations, sfreq: {SFREQ}}}
stages:
  - {{type: notch, freqs: [50.0]}}
  - {{type: bandpass, l_freq: 1.0, h_freq: 40.0}}
sink: {{type: hdf5, path: {out}}}
"""
    )
    player = replay(path, name, "--chunk-size", "10")
    try:
        started = time.monotonic()
        stream = subprocess.run(
            _cli("stream", str(pipeline), "--duration", "2", "--no-progress"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
        assert stream.returncode == 0, stream.stdout + stream.stderr
        assert player.poll() is None, "the replay stopped while the stream ran"
    finally:
        _stop_replay(player)
    assert player.returncode == 0, "".join(player.output[-80:])  # Ctrl-C ends the replay cleanly
    assert elapsed < 30  # --duration stopped the run

    live, attrs = read_hdf5(out)
    assert attrs["complete"]
    assert isinstance(live, SignalChunk)
    assert live.info.ch_names == tuple(CHANNELS) and live.info.sfreq == SFREQ
    assert 1.0 * SFREQ < live.n_samples < 10 * SFREQ  # about 2 s of samples
    assert np.all(np.isfinite(live.data))
    # a marker every 0.25 s of the file: about eight in 2 s (fewer if the marker inlet, opened 0.5 s
    # after the signal's, misses the first ones), on samples inside the recording
    descriptions = [m.description for m in live.markers]
    assert len(descriptions) >= 3 and set(descriptions) <= {"T1", "T2"}
    assert all(0 <= m.onset * SFREQ < live.n_samples for m in live.markers)


def test_fit_decoder_writes_a_checkpoint_that_loads_and_predicts(tmp_path, capsys):
    from neurosig.bci.online import load_decoder
    from neurosig.core.config import build_pipeline

    onsets = list(np.arange(2.0, 80.0, 4.0))
    labels = ["T1", "T2"] * (len(onsets) // 2)
    files = [
        _recording(tmp_path / f"train{i}_raw.fif", 84.0, onsets, labels if i else labels[::-1])
        for i in (0, 1)
    ]
    pipeline = tmp_path / "decode.yaml"
    pipeline.write_text(
        f"""
name: decode_test
source: {{type: lsl, name: unused, sfreq: {SFREQ}}}
stages:
  - {{type: bandpass, l_freq: 8.0, h_freq: 30.0}}
  - {{type: epochs, events: [T1, T2], tmin: 0.5, tmax: 2.5}}
  - {{type: classify, model: unused.pt}}
sink: {{type: lsl, name: unused-decisions}}
"""
    )
    out = tmp_path / "decoder.pt"
    assert main(["fit-decoder", str(pipeline), *map(str, files), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out

    decoder = load_decoder(out)
    assert sorted(decoder.classes_) == ["T1", "T2"]
    held_out = _recording(tmp_path / "test_raw.fif", 44.0, onsets[:10], labels[:10][::-1])
    spec = {
        "source": {"type": "file", "path": str(held_out)},
        "stages": [
            {"type": "bandpass", "l_freq": 8.0, "h_freq": 30.0},
            {"type": "epochs", "events": ["T1", "T2"], "tmin": 0.5, "tmax": 2.5},
        ],
    }
    epochs = [c for c in build_pipeline(spec).iter_chunks() if c.n_epochs]
    X = np.concatenate([c.data for c in epochs])
    y = [label for c in epochs for label in c.labels]
    assert len(y) == 10
    assert list(decoder.predict(X)) == y  # 12 Hz on C3 against C4: every trial right


@pytest.mark.slow
@pytest.mark.shared_data
def test_closed_loop_demo_decodes_s001r04_trials_online(shared_file, tmp_path, replay):
    """docs/realtime.md's closed loop: fit-decoder, replay S001R04, stream pipelines/realtime.yaml."""
    pytest.importorskip("mne_lsl")
    train = [str(shared_file(f"eeg/eegmmidb/S001/S001R{r:02d}.edf")) for r in (8, 12)]
    run = shared_file("eeg/eegmmidb/S001/S001R04.edf")
    model = tmp_path / "csp_lda.pt"
    assert main(["fit-decoder", str(REPO_ROOT / "pipelines/realtime.yaml"), *train, "--out", str(model)]) == 0

    name = uuid.uuid4().hex
    decisions = tmp_path / "decisions.h5"
    overrides = [
        f"source.name={name}",
        f"source.markers={name}-annotations",
        f"stages.classify.model={model}",
        f"sink.sinks.0.name={name}-decisions",
        f"sink.sinks.1.path={decisions}",
    ]
    player = replay(run, name, "--chunk-size", "5")
    try:
        stream = subprocess.run(
            _cli("stream", str(REPO_ROOT / "pipelines/realtime.yaml"), "--duration", "22", "--no-progress")
            + [arg for o in overrides for arg in ("--set", o)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert stream.returncode == 0, stream.stdout + stream.stderr
    finally:
        _stop_replay(player)

    live, attrs = read_hdf5(decisions)
    assert attrs["complete"]
    assert live.info.ch_names == ("T1", "T2")  # one probability per class
    assert len(live.labels) >= 2 and set(live.labels) <= {"T1", "T2"}
    np.testing.assert_allclose(live.data.sum(axis=1), 1.0, rtol=1e-6)


def test_stop_process_shows_the_stacks_of_a_child_that_will_not_stop():
    """A child that ignores Ctrl-C is killed after the timeout, having printed its stacks first."""
    code = (
        "import faulthandler, signal, sys, time\n"
        "faulthandler.register(signal.SIGUSR1, all_threads=True)\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "def stuck():\n"
        "    time.sleep(60)\n"
        "stuck()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout.readline() == "ready\n"
    stop_process(proc, timeout=0.5, dump=signal.SIGUSR1)
    assert proc.returncode == -signal.SIGKILL
    assert "in stuck" in proc.stdout.read()
