"""FASTER from the command line on an ordinary recording: EOG channels typed as EEG (as EEGLAB files
often have them), channels without a scalp position, channel types set from YAML."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from neurosig.cli import main
from neurosig.core.chunks import concat_chunks
from neurosig.core.errors import ConfigError, DataError
from neurosig.eeg.epochs import Epochs
from neurosig.eeg.faster.stages import Faster
from neurosig.io.eeg import EEGFileSource


@pytest.fixture(scope="module")
def eeglab_like(tmp_path_factory):
    """60 s of 19-channel EEG with blinks, whose EOG1/EOG2 are typed EEG and carry no position."""
    import mne

    from neurosig.eeg.simulate import simulate_raw

    raw = simulate_raw(duration=60.0, sfreq=128.0, n_channels=19, seed=4, eog=True)
    veog = raw.get_data(picks=["VEOG"])[0]
    rng = np.random.default_rng(0)
    data = np.vstack([raw.get_data(picks="eeg"), veog, 0.5 * veog + 5e-6 * rng.standard_normal(veog.size)])
    names = [*raw.copy().pick("eeg").ch_names, "EOG1", "EOG2"]
    path = tmp_path_factory.mktemp("eeglab") / "rec_raw.fif"
    mne.io.RawArray(data, mne.create_info(names, 128.0, "eeg"), verbose="error").save(path, verbose="error")
    return path


def _pipeline(tmp_path, path, **source):
    config = {
        "source": {"type": "file", "path": str(path), "chunk_duration": 10.0, "picks": "eeg", **source},
        "stages": [
            {"type": "bandpass", "l_freq": 1.0, "h_freq": 40.0},
            {"type": "epochs", "length": 2.0},
            {"type": "faster", "n_components": 10, "report_dir": str(tmp_path / "report")},
        ],
        "sink": {"type": "hdf5", "path": str(tmp_path / "clean.h5")},
    }
    out = tmp_path / "faster.yaml"
    out.write_text(yaml.safe_dump(config))
    return out


def test_eog_named_channels_typed_eeg_are_used_as_eog_and_the_report_says_so(eeglab_like, tmp_path):
    assert main(["run", str(_pipeline(tmp_path, eeglab_like)), "--no-progress"]) == 0
    report = json.loads((tmp_path / "report" / "faster_report.json").read_text())
    channels = report["steps"]["channels"]
    assert "EOG1" not in channels["items"] and "EOG2" not in channels["items"]
    assert any(note.startswith("EOG1, EOG2: typed EEG but named like EOG") for note in channels["notes"])
    assert {"eog_correlation:EOG1", "eog_correlation:EOG2"} <= set(report["steps"]["components"]["metrics"])


def test_channels_without_a_position_are_named_before_any_work(eeglab_like, tmp_path, capsys):
    stage = Faster(eog_by_name=False)
    first = next(iter(EEGFileSource(str(eeglab_like), picks="eeg", chunk_duration=10.0)))
    epochs = next(c for c in Epochs(length=2.0).process(first) if c.n_epochs)
    with pytest.raises(
        DataError, match=r"\['EOG1', 'EOG2'\] have no position.*source.ch_types: \{EOG1: eog\}"
    ):
        list(stage.process(epochs))
    assert stage._spill.n_rows == 0  # refused on the first chunk: nothing gathered, nothing computed
    # from YAML, the same advice on one line, exit code 2
    pipeline = _pipeline(tmp_path, eeglab_like)
    assert main(["run", str(pipeline), "--set", "stages.faster.eog_by_name=false", "--no-progress"]) == 2
    assert "['EOG1', 'EOG2'] have no position" in capsys.readouterr().err


def test_the_file_source_sets_channel_types_from_yaml(eeglab_like, tmp_path):
    source = EEGFileSource(str(eeglab_like), picks="all", ch_types={"EOG1": "eog", "EOG2": "eog"})
    types = dict(zip(source.info.ch_names, source.info.ch_types, strict=True))
    assert types["EOG1"] == types["EOG2"] == "eog" and types["Fp1"] == "eeg"
    assert "EOG1" not in EEGFileSource(str(eeglab_like), picks="eeg", ch_types={"EOG1": "eog"}).info.ch_names
    pipeline = _pipeline(tmp_path, eeglab_like, ch_types={"EOG1": "eog", "EOG2": "eog"})
    assert main(["run", str(pipeline), "--set", "stages.faster.eog_by_name=false", "--no-progress"]) == 0
    with pytest.raises(ConfigError, match="EOG3.*Did you mean 'EOG[12]'"):
        _ = EEGFileSource(str(eeglab_like), ch_types={"EOG3": "eog"}).info


def test_a_named_montage_places_channels_the_10_05_template_does_not_know():
    from neurosig.core.chunks import EpochsChunk, EpochsInfo

    names = tuple(f"E{i}" for i in range(1, 20))  # EGI names
    info = EpochsInfo(128.0, names, ("eeg",) * 19, 0.0, 256)
    chunk = EpochsChunk(np.zeros((2, 19, 256), np.float32), info, np.array([0.0, 2.0]), ("x", "x"), 0)
    with pytest.raises(DataError, match=r"\['E1', 'E2', .*not in the 10-05 montage"):
        list(Faster().process(chunk))
    assert list(Faster(montage="GSN-HydroCel-32").process(chunk)) == []  # gathered, nothing refused
    with pytest.raises(ConfigError, match="montage"):
        list(Faster(montage="GSN-HydroCel-33").process(chunk))


@pytest.fixture(scope="module")
def renamed(tmp_path_factory):
    """60 s of 19-channel EEG (channel 4 noisy) saved three ways: with 10-05 names and no positions,
    with made-up names (ch00 ...) and the same positions digitised in the file, and with made-up
    names and no positions (plus those positions as a montage file)."""
    import mne

    from neurosig.eeg.simulate import simulate_raw
    from neurosig.io.eeg import read_montage

    raw = simulate_raw(duration=60.0, sfreq=128.0, n_channels=19, seed=5).pick("eeg")
    data = raw.get_data()
    data[4] += 60e-6 * np.random.default_rng(1).standard_normal(data.shape[1])
    standard, made_up = raw.ch_names, [f"ch{i:02d}" for i in range(19)]
    template = read_montage("standard_1005").get_positions()["ch_pos"]  # head frame
    pos = np.array([template[c] for c in standard])
    folder = tmp_path_factory.mktemp("renamed")

    def save(name, names, dig):
        info = mne.create_info(names, 128.0, "eeg")
        if dig:
            info.set_montage(
                mne.channels.make_dig_montage(dict(zip(names, pos, strict=True)), coord_frame="head")
            )
        mne.io.RawArray(data, info, verbose="error").save(folder / name, verbose="error")
        return folder / name

    montage_file = folder / "made_up.sfp"
    montage_file.write_text(
        "".join(f"{n}\t{x:.6f}\t{y:.6f}\t{z:.6f}\n" for n, (x, y, z) in zip(made_up, pos, strict=True))
    )
    return {
        "standard": save("standard_raw.fif", standard, dig=False),
        "dig": save("dig_raw.fif", made_up, dig=True),
        "bare": save("bare_raw.fif", made_up, dig=False),
        "montage_file": montage_file,
        "positions": pos,
    }


def _run_faster(tmp_path, path, tag, **source):
    (tmp_path / tag).mkdir()
    pipeline = _pipeline(tmp_path / tag, path, **source)
    assert main(["run", str(pipeline), "--set", "stages.faster.ica=false", "--no-progress"]) == 0
    from neurosig.io.hdf5 import read_hdf5

    report = json.loads((tmp_path / tag / "report" / "faster_report.json").read_text())
    return read_hdf5(tmp_path / tag / "clean.h5")[0], report


def test_positions_in_the_file_place_channels_with_made_up_names(renamed, tmp_path):
    source = EEGFileSource(str(renamed["dig"]))
    assert np.allclose(np.array(source.info.ch_pos), renamed["positions"], atol=1e-6)
    by_name, report_by_name = _run_faster(tmp_path, renamed["standard"], "standard")
    by_file, report_by_file = _run_faster(tmp_path, renamed["dig"], "dig")
    assert report_by_name["steps"]["channels"]["bad"] == [by_name.info.ch_names[4]]
    assert report_by_file["steps"]["channels"]["bad"] == ["ch04"]
    # the same positions reached the interpolation: the same cleaned epochs, channel 4 repaired
    np.testing.assert_allclose(by_file.data, by_name.data, rtol=1e-4, atol=1e-9)
    assert by_file.data[:, 4].std() < 0.5 * 60e-6
    assert np.allclose(np.array(by_file.info.ch_pos), renamed["positions"], atol=1e-6)  # stored


def test_the_source_montage_from_yaml_places_channels(renamed, tmp_path, capsys):
    pipeline = _pipeline(tmp_path, renamed["bare"])
    assert main(["run", str(pipeline), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "['ch00', 'ch01'," in err and "the recording gives none" in err and "source.montage" in err
    by_file, _ = _run_faster(tmp_path, renamed["dig"], "dig")
    by_montage, _ = _run_faster(tmp_path, renamed["bare"], "montage", montage=str(renamed["montage_file"]))
    np.testing.assert_allclose(by_montage.data, by_file.data, rtol=1e-4, atol=1e-9)
    # a built-in montage by name (MNE >= 1.13 calls standard_1005 colin27_1005), replacing the file's
    info = EEGFileSource(str(renamed["standard"]), montage="standard_1005").info
    assert np.allclose(np.array(info.ch_pos), renamed["positions"], atol=1e-6)
    with pytest.raises(ConfigError, match="names none of the channels"):
        _ = EEGFileSource(str(renamed["dig"]), montage="standard_1005").info
    with pytest.raises(ConfigError, match="montage='biosemi65' is neither.*Did you mean 'biosemi64'"):
        _ = EEGFileSource(str(renamed["standard"]), montage="biosemi65").info


def test_faster_online_treats_eog_names_as_eog_and_checks_positions_first(eeglab_like, renamed):
    from neurosig.eeg.faster.stages import FasterOnline

    first = next(iter(EEGFileSource(str(eeglab_like), picks="eeg", chunk_duration=60.0)))
    epochs = concat_chunks([c for c in Epochs(length=2.0).process(first) if c.n_epochs])
    stage = FasterOnline(calibration_epochs=10)
    out = list(stage.process(epochs))
    assert out and "EOG1" not in stage.calibration["channels"]["items"]
    assert any(
        n.startswith("EOG1, EOG2: typed EEG but named like EOG")
        for n in stage.calibration["channels"]["notes"]
    )
    with pytest.raises(DataError, match=r"\['EOG1', 'EOG2'\] have no position.*stages.faster_online.montage"):
        list(FasterOnline(eog_by_name=False).process(epochs))
    # positions from the file reach faster_online's interpolation too
    dig = next(iter(EEGFileSource(str(renamed["dig"]), chunk_duration=60.0)))
    dig_epochs = concat_chunks([c for c in Epochs(length=2.0).process(dig) if c.n_epochs])
    online = FasterOnline(calibration_epochs=10)
    repaired = concat_chunks(list(online.process(dig_epochs)))
    assert online.calibration["bad_channels"] == ["ch04"]
    assert repaired.data[:, 4].std() < 0.5 * 60e-6
