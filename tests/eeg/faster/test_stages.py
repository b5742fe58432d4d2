"""The FASTER stages: streaming invariance, reset, causality, YAML, report files, HDF5 output."""

from __future__ import annotations

import json

import mne
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosig.core.chunks import EpochsChunk, concat_chunks
from neurosig.core.config import build_pipeline
from neurosig.core.errors import ConfigError, DataError
from neurosig.eeg import faster as F
from neurosig.eeg.epochs import Epochs
from neurosig.eeg.faster.stages import Faster, FasterOnline, mne_info
from neurosig.eeg.simulate import SimulatedEEGSource
from neurosig.testing import check_streaming_invariance, run_stage, split_chunk


def _stream(seed=1, duration=60.0, **kw):
    params = (
        dict(duration=duration, sfreq=128.0, n_channels=19, seed=seed, noisy_channels=["P3"], eog=True) | kw
    )
    chunks = run_stage(Epochs(length=2.0), list(SimulatedEEGSource(**params)))
    return concat_chunks([c for c in chunks if c.n_epochs])


@pytest.fixture(scope="module")
def stream() -> EpochsChunk:
    return _stream()


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(0, 30), max_size=5))
def test_online_streaming_invariance(stream, cuts):
    check_streaming_invariance(lambda: FasterOnline(calibration_epochs=10), stream, cuts)


def test_offline_streaming_invariance_and_reset(stream):
    check_streaming_invariance(lambda: Faster(ica=False), stream, [1, 9, 9, 20])


def test_offline_stage_equals_run_faster(stream):
    stage = Faster(n_components=8)
    (out,) = run_stage(stage, split_chunk(stream, [7, 15]))
    epochs = mne.EpochsArray(stream.data.astype(np.float64), mne_info(stream.info), verbose="error")
    clean, report = F.run_faster(epochs, n_components=8, band=(0.0, 64.0))
    np.testing.assert_allclose(out.data, clean.get_data().astype(np.float32), rtol=1e-5, atol=1e-12)
    assert stage.report.to_dict() == report.to_dict()
    assert report.bad_channels == ["P3"]  # the simulator's noisy channel
    assert report.ica["random_state"] == 0 and "eog_correlation:VEOG" in report.steps["components"].flags
    np.testing.assert_array_equal(out.onsets, stream.onsets[report.kept_epochs])


def test_online_is_causal(stream):
    full = run_stage(FasterOnline(calibration_epochs=10), [stream])
    prefix = EpochsChunk(stream.data[:20], stream.info, stream.onsets[:20], stream.labels[:20])
    part = run_stage(FasterOnline(calibration_epochs=10), [prefix])
    a, b = concat_chunks(full), concat_chunks(part)
    n = b.n_epochs
    np.testing.assert_array_equal(a.onsets[:n], b.onsets)
    np.testing.assert_allclose(a.data[:n], b.data)


def test_online_flags_and_repairs(stream):
    dirty = stream.data.copy()
    rng = np.random.default_rng(0)
    dirty[25] += 50e-6 * rng.standard_normal(dirty.shape[1:])  # a burst of noise on every channel
    dirty[27, 4, 128:] += 60e-6  # a step on one channel
    chunk = EpochsChunk(dirty, stream.info, stream.onsets, stream.labels)
    stage = FasterOnline(calibration_epochs=15)
    run_stage(stage, split_chunk(chunk, [15, 26]))
    log = {e["epoch"]: e for e in stage.log}
    assert log[25]["bad"] and not log[24]["bad"]
    assert stream.info.ch_names[4] in log[27]["interpolated"]
    assert stage.calibration["bad_channels"] == ["P3"]
    assert all("P3" not in e["interpolated"] for e in stage.log)  # step-1 channels are repaired silently
    kept = concat_chunks([c for c in run_stage(stage, [chunk]) if c.n_epochs])
    assert stream.onsets[25] not in kept.onsets and kept.n_epochs == stream.n_epochs - sum(
        e["bad"] for e in stage.log
    )


def test_online_drop_outs_and_short_streams(stream):
    dead = stream.data.copy()
    dead[20] = 0.0
    stage = FasterOnline(calibration_epochs=10)
    run_stage(stage, [EpochsChunk(dead, stream.info, stream.onsets, stream.labels)])
    assert stage.log[20]["constant"] and stage.log[20]["bad"]
    short = EpochsChunk(dead[:2], stream.info, stream.onsets[:2], stream.labels[:2])
    with pytest.raises(DataError, match="calibrate"):
        run_stage(FasterOnline(calibration_epochs=10), [short])


def test_parameters_are_validated():
    with pytest.raises(ConfigError, match="metrics"):
        Faster(metrics="papr")
    with pytest.raises(ConfigError, match="calibration_epochs"):
        FasterOnline(calibration_epochs=2)


def test_yaml_pipeline_to_hdf5_with_report(tmp_path):
    from neurosig.io.hdf5 import read_hdf5

    config = {
        "source": {"type": "simulate", "duration": 60.0, "sfreq": 128.0, "n_channels": 19, "seed": 2},
        "stages": [
            {"type": "bandpass", "l_freq": 1.0, "h_freq": 40.0},
            {"type": "epochs", "length": 2.0},
            {"type": "faster", "ica": False, "band": [1.0, 40.0], "report_dir": str(tmp_path)},
        ],
        "sink": {"type": "hdf5", "path": str(tmp_path / "clean.h5")},
    }
    pipeline = build_pipeline(config)
    pipeline.run()
    chunk, attrs = read_hdf5(tmp_path / "clean.h5")
    report = json.loads((tmp_path / "faster_report.json").read_text())
    assert chunk.n_epochs == len(report["kept_epochs"]) == 30 - len(report["bad_epochs"])
    assert (tmp_path / "faster_report.png").stat().st_size > 10_000
    assert "| channels |" in (tmp_path / "faster_report.md").read_text()
    assert "faster" in attrs["pipeline_yaml"]


def test_interpolation_matrix_equals_mne(stream):
    info = mne_info(stream.info)
    epochs = mne.EpochsArray(stream.data[:1].astype(np.float64), info, verbose="error")
    epochs.info["bads"] = ["C3", "O1"]
    expected = epochs.copy().interpolate_bads(reset_bads=True, verbose="error").get_data()[0]
    bad = np.zeros((1, len(info.ch_names)), bool)
    bad[0, [info.ch_names.index("C3"), info.ch_names.index("O1")]] = True
    got, done = F.interpolate_channels_in_epochs(stream.data[:1], info, bad)
    np.testing.assert_allclose(got[0], expected, rtol=1e-6, atol=1e-12)
    assert done == {0: ["C3", "O1"]}


def _mne_matrix(info, bads):
    """The twin: MNE's interpolate_bads on an identity signal gives its matrix."""
    info = info.copy()
    eeg = mne.pick_types(info, meg=False, eeg=True, exclude=[])
    good = [i for i in eeg if info.ch_names[i] not in bads]
    probe = np.zeros((len(info.ch_names), len(good)))
    probe[good, np.arange(len(good))] = 1.0
    info["bads"] = list(bads)
    evoked = mne.EvokedArray(probe, info, verbose="error").interpolate_bads(reset_bads=True, verbose="error")
    return np.array(good), evoked.data[[info.ch_names.index(c) for c in bads]]


@pytest.mark.parametrize("bads", [["Cz"], ["C3", "O1"], ["O1", "C3"], ["Fp1", "Fp2", "T7", "P8", "O2"]])
def test_spline_matrix_equals_mne_interpolate_bads(stream, bads):
    info = mne_info(stream.info, ["VEOG"])
    good, expected = _mne_matrix(info, bads)
    got_good, got_bad, got = F.interpolation_matrix(info, bads)
    np.testing.assert_array_equal(got_good, good)
    np.testing.assert_array_equal(got_bad, [info.ch_names.index(c) for c in bads])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_edf_labels_get_positions():
    from neurosig.core.chunks import EpochsInfo

    info = mne_info(EpochsInfo(160.0, ("Fc5.", "Cz..", "Iz.."), ("eeg",) * 3, 0.0, 10))
    assert np.all(np.abs(np.array([ch["loc"][:3] for ch in info["chs"]])).sum(axis=1) > 0)


@pytest.mark.parametrize(
    "epochs_override",
    [
        pytest.param([], marks=pytest.mark.slow),
        ["stages.epochs.length=null", "stages.epochs.events=[T1, T2]", "stages.epochs.tmax=4.0"],
    ],
    ids=["fixed-length", "event-locked"],
)
def test_shipped_pipeline_on_a_real_recording(shared_file, tmp_path, epochs_override):
    from neurosig.io.hdf5 import read_hdf5

    path = shared_file("eeg/eegmmidb/S001/S001R04.edf")
    overrides = [
        f"source.path={path}",
        f"sink.path={tmp_path / 'out.h5'}",
        f"stages.faster.report_dir={tmp_path}",
        "stages.faster.ica=false",  # ICA is covered elsewhere; keep this test fast
        *epochs_override,
    ]
    build_pipeline("pipelines/faster.yaml", overrides).run()
    chunk, _ = read_hdf5(tmp_path / "out.h5")
    report = json.loads((tmp_path / "faster_report.json").read_text())
    assert chunk.n_epochs == len(report["kept_epochs"]) > 0
    assert report["interpolated"]  # some channels were repaired
    if epochs_override:
        assert set(chunk.labels) <= {"T1", "T2"} and chunk.info.n_times == 641
