"""Bounded memory: a 1-hour, 64-channel, 256 Hz stream through filter → HDF5."""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from neurosig.core.config import build_pipeline
    import h5py, scipy.signal, mne  # import everything first: the baseline includes libraries
    pipeline = build_pipeline({
        "source": {"type": "simulate", "duration": 3600.0, "sfreq": 256.0, "n_channels": 64,
                   "chunk_duration": 2.0, "seed": 0},
        "stages": [{"type": "bandpass", "l_freq": 1.0, "h_freq": 40.0},
                   {"type": "notch", "freqs": [50.0]}],
        "sink": {"type": "hdf5", "path": sys.argv[1], "compression_level": 1},
    })
    first = next(iter(pipeline.source))  # warm every code path once
    kib = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    before = kib()
    summary = pipeline.run()
    print(json.dumps({"before_kib": before, "after_kib": kib(), "seconds": summary.stream_seconds}))
    """
)


def test_one_hour_64_channels_stays_under_200_mb_growth(tmp_path):
    out = tmp_path / "hour.h5"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["seconds"] == 3600.0
    growth_mb = (result["after_kib"] - result["before_kib"]) / 1024
    assert growth_mb < 200, f"peak memory grew by {growth_mb:.0f} MB"
    whole_signal_mb = 64 * 256 * 3600 * 4 / 2**20  # 225 MB as float32: the stream was never held whole
    assert growth_mb < whole_signal_mb / 2
