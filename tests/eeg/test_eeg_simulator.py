import numpy as np
import pytest
from scipy import signal

from neurosig.core.errors import ConfigError
from neurosig.eeg.simulate import SimulatedEEGSource, simulate_raw


def _data(source):
    return np.concatenate([c.data for c in source], axis=1).astype(float)


def test_signal_does_not_depend_on_chunk_length_and_is_seeded():
    a = _data(SimulatedEEGSource(duration=6.0, n_channels=19, chunk_duration=1.0))
    b = _data(SimulatedEEGSource(duration=6.0, n_channels=19, chunk_duration=0.37))
    c = _data(SimulatedEEGSource(duration=6.0, n_channels=19, seed=1))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_amplitudes_and_alpha_peak_look_like_eeg():
    source = SimulatedEEGSource(duration=60.0, n_channels=32, blink_rate=0, emg_rate=0, line_freq=0)
    x = _data(source)
    rms_uv = x.std(axis=1) * 1e6
    assert np.all((rms_uv > 5) & (rms_uv < 50))
    oz = source.info.ch_names.index("Oz")
    f, p = signal.welch(x[oz], 256.0, nperseg=1024)
    band = (f > 4) & (f < 30)
    assert 8 <= f[band][np.argmax(p[band])] <= 12


def _mu_power(x, sfreq, trials, channel):
    sos = signal.butter(4, [9, 13], "bandpass", fs=sfreq, output="sos")
    filt = signal.sosfiltfilt(sos, x[channel])
    return {
        label: np.mean(
            [
                np.var(filt[int((on + 0.5) * sfreq) : int((on + dur - 0.5) * sfreq)])
                for on, dur, lab in trials
                if lab == label
            ]
        )
        for label in ("left", "right")
    }


@pytest.mark.parametrize("effect, lateralised", [(0.6, True), (0.0, False)])
def test_motor_imagery_desynchronises_the_contralateral_hemisphere(effect, lateralised):
    source = SimulatedEEGSource(duration=120.0, n_channels=32, mi_effect=effect, blink_rate=0, emg_rate=0)
    x, names = _data(source), source.info.ch_names
    c3 = _mu_power(x, 256.0, source.truth.trials, names.index("C3"))
    c4 = _mu_power(x, 256.0, source.truth.trials, names.index("C4"))
    ratio_c4 = c4["left"] / c4["right"]  # left-hand imagery lowers C4
    ratio_c3 = c3["right"] / c3["left"]
    if lateralised:
        assert ratio_c4 < 0.6 and ratio_c3 < 0.6
    else:
        assert 0.6 < ratio_c4 < 1.6 and 0.6 < ratio_c3 < 1.6


def test_artifacts_are_where_the_truth_says():
    source = SimulatedEEGSource(
        duration=60.0, n_channels=32, flat_channels=["Pz"], noisy_channels=["T7"], eog=True, seed=4
    )
    x, names = _data(source), source.info.ch_names
    assert x[names.index("Pz")].std() < 1e-6
    assert x[names.index("T7")].std() > 3 * np.median(x.std(axis=1))
    veog = x[names.index("VEOG")]
    onset, _ = source.truth.blinks[0]
    peak = veog[int(onset * 256) : int((onset + 0.4) * 256)].max()
    assert peak > 5 * np.median(np.abs(veog))
    start, dur, chans = next(b for b in source.truth.emg_bursts if "T8" in b[2])
    ch = names.index("T8")
    hp = signal.sosfilt(signal.butter(4, 30, "highpass", fs=256, output="sos"), x[ch])
    burst = hp[int((start + dur * 0.3) * 256) : int((start + dur * 0.7) * 256)].std()
    quiet = np.ones(len(hp), bool)
    for on, du, _ in source.truth.emg_bursts:
        quiet[int(on * 256) : int((on + du) * 256) + 1] = False
    assert burst > 3 * hp[quiet].std()


def test_simulate_raw_has_montage_and_trial_annotations():
    raw = simulate_raw(duration=30.0, n_channels=19, seed=2)
    assert raw.get_montage() is not None
    assert set(raw.annotations.description) == {"left", "right"}
    assert raw.info["sfreq"] == 256.0


def test_unknown_channels_are_config_errors():
    with pytest.raises(ConfigError, match="not among"):
        SimulatedEEGSource(flat_channels=["XX"])
    with pytest.raises(ConfigError, match="19, 32, 64"):
        SimulatedEEGSource(n_channels=7)
