"""The classify stage: online decisions over an LSL replay equal offline decisions on the same epochs."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from neurosig.bci.online import fit_decoder
from neurosig.core.config import build_pipeline, load_config
from neurosig.io.hdf5 import read_hdf5

SFREQ = 160.0


@pytest.mark.shared_data
def test_online_decisions_equal_offline_decisions(shared_file, tmp_path):
    pytest.importorskip("mne_lsl")
    import mne

    from neurosig.io.lsl import replay, stop_player

    train = [shared_file(f"eeg/eegmmidb/S001/S001R{r:02d}.edf") for r in (8, 12)]
    raw = mne.io.read_raw_edf(shared_file("eeg/eegmmidb/S001/S001R04.edf"), verbose="error")
    short = tmp_path / "S001R04_20s_raw.fif"
    raw.crop(tmax=20.0).save(short, verbose="error")  # four or five trials, replayed in real time
    config = load_config("pipelines/realtime.yaml").model_dump(exclude_none=True)
    model = fit_decoder(config, train, tmp_path / "csp_lda.pt")
    config["stages"][-1]["model"] = str(model)

    name = uuid.uuid4().hex
    online = dict(config, sink={"type": "hdf5", "path": str(tmp_path / "online.h5")})
    online["source"] = dict(config["source"], name=name, markers=f"{name}-annotations", timeout=3.0)
    player = replay(short, name=name, chunk_size=5)
    try:
        build_pipeline(online).run()
    finally:
        stop_player(player)
    live, _ = read_hdf5(tmp_path / "online.h5")

    def offline(path, out):
        spec = dict(
            config, source={"type": "file", "path": str(path)}, sink={"type": "hdf5", "path": str(out)}
        )
        build_pipeline(spec).run()
        return read_hdf5(out)[0]

    # the live run joined the replay late: find the shift that puts its trials on the file's
    whole = offline(short, tmp_path / "whole.h5")
    shift = next(
        o - live.onsets[0]
        for o in whole.onsets
        if np.all(
            np.isin(np.round((live.onsets + o - live.onsets[0]) * SFREQ), np.round(whole.onsets * SFREQ))
        )
    )
    first = int(round(shift * SFREQ))
    cropped = tmp_path / "aligned_raw.fif"
    mne.io.read_raw_fif(short, verbose="error").crop(tmin=first / SFREQ).save(cropped, verbose="error")
    same = offline(cropped, tmp_path / "offline.h5")
    assert len(live.labels) >= 2
    np.testing.assert_allclose(live.onsets, same.onsets, atol=1e-9)
    assert live.labels == same.labels
    np.testing.assert_allclose(live.data, same.data, rtol=1e-6, atol=1e-9)
