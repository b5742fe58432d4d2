"""FASTER from the command line on an ordinary recording: EOG channels typed as EEG (as EEGLAB files
often have them), channels without a scalp position, channel types set from YAML."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from neurosig.cli import main
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
    assert stage._chunks == []  # refused on the first chunk: nothing gathered, nothing computed
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
