"""Sensitivity and specificity >= 90 % per artifact type on the simulator, at the default threshold.

The simulator's clean EEG (1/f background, alpha, mu/beta; band-passed 1–40 Hz as in
``pipelines/faster.yaml``) carries injected artifacts with known positions (see ``inject.py``). Each
test pools fixed seeds and asserts both rates for one artifact type; ``test_table`` prints the table
shown in ``docs/faster.md``.
"""

from __future__ import annotations

import faster_inject as inject
import mne
import numpy as np
import pytest

from neurosig.eeg import faster as F
from neurosig.eeg.simulate import SimulatedEEGSource, _blink_shape, simulate_raw

CHANNEL_SEEDS = range(10)
EPOCH_SEEDS = range(8)


def _channel_case(kind: str, seed: int):
    rng = np.random.default_rng(seed)
    data, names, sfreq, _ = inject.simulated_epochs(seed)
    chans = [int(c) for c in rng.choice(len(names), 1, replace=False)]
    if kind == "drifting":
        data = inject.drifting_channels(data, chans, rng)
    else:
        data, *_ = inject.simulated_epochs(seed, **{f"{kind}_channels": [names[c] for c in chans]})
    truth = np.zeros(len(names), bool)
    truth[chans] = True
    return F.find_bad_channels(data, sfreq, names).bad, truth


def _epoch_case(kind: str, seed: int):
    rng = np.random.default_rng(100 + seed)
    data, names, _, _ = inject.simulated_epochs(seed)
    eps = [int(e) for e in rng.choice(len(data), 4, replace=False)]
    if kind == "blink":
        data = inject.blink_epochs(data, names, eps, rng)
    elif kind == "emg":
        data = inject.emg_epochs(data, names, eps, rng, rms_uv=50.0, n_channels=6)
    elif kind == "linear_trend":
        data = inject.trend_epochs(data, eps, rng)
    else:
        data = inject.white_noise_epochs(data, eps, rng)
    truth = np.zeros(len(data), bool)
    truth[eps] = True
    return F.find_bad_epochs(data).bad, truth


def _pooled(cases):
    flagged = np.concatenate([f.ravel() for f, _ in cases])
    truth = np.concatenate([t.ravel() for _, t in cases])
    return inject.sens_spec(flagged, truth)


@pytest.mark.parametrize("kind", ["flat", "noisy", "drifting"])
def test_bad_channels(kind):
    sens, spec = _pooled([_channel_case(kind, s) for s in CHANNEL_SEEDS])
    assert sens >= 0.9 and spec >= 0.9, (kind, sens, spec)


@pytest.mark.parametrize("kind", ["blink", "emg", "linear_trend", "white_noise"])
def test_bad_epochs(kind):
    sens, spec = _pooled([_epoch_case(kind, s) for s in EPOCH_SEEDS])
    assert sens >= 0.9 and spec >= 0.9, (kind, sens, spec)


def test_bad_channels_in_epochs_and_their_interpolation():
    cases = []
    for seed in range(4):
        rng = np.random.default_rng(200 + seed)
        data, names, sfreq, raw = inject.simulated_epochs(seed)
        cells = list(
            zip(rng.choice(len(data), 8, replace=False), rng.integers(0, len(names), 8), strict=True)
        )
        dirty = inject.channel_pops(data, [(int(e), int(c)) for e, c in cells], rng)
        result = F.find_bad_channels_in_epochs(dirty, sfreq, names)
        truth = np.zeros(result.bad.shape, bool)
        for e, c in cells:
            truth[e, c] = True
        cases.append((result.bad, truth))
        if seed == 0:
            epochs = mne.EpochsArray(dirty, raw.copy().pick("eeg").info, verbose="error")
            clean, done = F.interpolate_channels_in_epochs(dirty, epochs.info, result.bad)
            for e, c in cells:
                if result.bad[e, c]:  # the pop is gone: back within 3x the clean channel's range
                    assert np.ptp(clean[e, c]) < 3 * np.ptp(data[e, c])
                    assert names[c] in done[int(e)]
    sens, spec = _pooled(cases)
    assert sens >= 0.9 and spec >= 0.9, (sens, spec)


def _blink_case(seed: int, eog: bool):
    params = dict(
        duration=120.0,
        sfreq=128.0,
        n_channels=19,
        seed=seed,
        blink_rate=20.0,
        emg_rate=0.0,
        trials=False,
        eog=eog,
    )
    raw = simulate_raw(**params)
    raw.filter(1.0, 40.0, verbose="error")
    epochs = mne.make_fixed_length_epochs(raw, 2.0, preload=True, verbose="error")
    eeg = raw.copy().pick("eeg").ch_names
    ica = F.fit_ica(epochs, eeg, random_state=0)
    result = F.find_bad_components_ica(ica, epochs)
    source = SimulatedEEGSource(**params)
    blinks = source._blink_trace(0, source.n_samples, _blink_shape(int(0.4 * params["sfreq"])))
    sources = ica.get_sources(raw).get_data()
    r = np.abs([np.corrcoef(s, blinks)[0, 1] for s in sources])
    truth = r > 0.5  # the component(s) carrying the blinks
    assert truth.sum() >= 1
    return result.bad, truth


@pytest.mark.parametrize("eog", [True, False])
def test_blink_components(eog):
    sens, spec = _pooled([_blink_case(0, eog)])
    assert sens >= 0.9 and spec >= 0.9, (eog, sens, spec)


@pytest.mark.slow
@pytest.mark.parametrize("eog", [True, False])
def test_blink_components_many_seeds(eog):
    sens, spec = _pooled([_blink_case(seed, eog) for seed in range(1, 6)])
    assert sens >= 0.9 and spec >= 0.9, (eog, sens, spec)
