import json
import subprocess
import sys

import h5py
import mne
import numpy as np
import pytest
import yaml
from scipy import signal

from neurosig.cli import main
from neurosig.eeg.filters import design_sos
from neurosig.io.digest import sha256_file

S001R04 = "eeg/eegmmidb/S001/S001R04.edf"


def test_version_and_help_need_no_heavy_imports():
    code = (
        "import sys; from neurosig.cli import build_parser; build_parser(); "
        "print([m for m in ('torch', 'mne', 'h5py', 'numba', 'spikingjelly', 'tonic') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    version = subprocess.run(
        [sys.executable, "-m", "neurosig.cli", "--version"], capture_output=True, text=True
    )
    assert version.stdout.startswith("neurosig ")


def test_info_reports_channels_rate_duration_annotations(shared_file, capsys):
    assert main(["info", str(shared_file(S001R04)), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["n_channels"], info["sfreq"], info["duration"]) == (64, 160.0, 125.0)
    assert set(info["annotations"]) == {"T0", "T1", "T2"}


def test_info_text_gives_units_and_standard_channel_names(shared_file, capsys):
    assert main(["info", str(shared_file(S001R04))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "sfreq: 160.0 Hz" in lines and "duration: 125.0 s" in lines
    assert "channels: FC5, FC3, FC1, FCz, FC2, FC4, FC6, C5, C3, C1, Cz, C2, ... (64 in all)" in lines


def test_info_of_an_output_shows_its_pipeline_yaml_and_reports(tmp_path, capsys):
    out = tmp_path / "clean.h5"
    pipeline = tmp_path / "faster.yaml"
    pipeline.write_text(
        f"""
name: small_faster
source: {{type: simulate, duration: 40.0, sfreq: 128.0, n_channels: 19, seed: 3, noisy_channels: [T8]}}
stages:
  - {{type: bandpass, l_freq: 1.0, h_freq: 40.0}}
  - {{type: epochs, length: 2.0}}
  - {{type: faster, ica: false}}
sink: {{type: hdf5, path: {out}}}
"""
    )
    assert main(["run", str(pipeline), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    start = lines.index("pipeline: |")
    shown = yaml.safe_load("\n".join(line[2:] for line in lines[start + 1 : lines.index("reports:")]))
    assert shown == {"description": "", **yaml.safe_load(pipeline.read_text())}
    report = lines[lines.index("reports:") + 1 :]
    assert report[0] == "  reports/2:faster:"
    assert "    bad_channels: T8" in report and "    steps: (3 entries)" in report
    assert "  sfreq: 128.0 Hz" in lines and "  tmin: 0.0 s" in lines
    assert "  type: simulate" in lines and "  params:" not in lines  # the pipeline YAML holds them
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["stream_info"]["sfreq"] == 128.0 and "type: faster" in info["pipeline"]
    assert info["source"]["params"]["seed"] == 3
    assert info["reports"]["reports/2:faster"]["bad_channels"] == ["T8"]


def test_run_filter_pipeline_equals_offline_sosfilt(shared_file, tmp_path, capsys):
    edf = shared_file(S001R04)
    pipeline = tmp_path / "filter.yaml"
    pipeline.write_text(
        yaml.safe_dump(
            {
                "name": "filter",
                "source": {"type": "file", "path": str(edf), "chunk_duration": 0.9},
                "stages": [{"type": "bandpass", "l_freq": 1.0, "h_freq": 40.0}],
                "sink": {"type": "hdf5", "path": str(tmp_path / "unused.h5")},
            }
        )
    )
    out = tmp_path / "filtered.h5"
    assert main(["run", str(pipeline), "--set", f"sink.path={out}", "--no-progress"]) == 0
    assert "output:" in capsys.readouterr().out
    raw = mne.io.read_raw_edf(edf, preload=True, verbose="error")
    expected = signal.sosfilt(design_sos(160.0, 1.0, 40.0), raw.get_data(), axis=1)
    with h5py.File(out) as f:
        data = f["data"][:]
        attrs = dict(f.attrs)
    np.testing.assert_allclose(data, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    assert json.loads(attrs["source"])["sha256"] == sha256_file(edf)
    config = yaml.safe_load(attrs["pipeline_yaml"])
    assert config["stages"][0] == {"type": "bandpass", "l_freq": 1.0, "h_freq": 40.0}
    assert config["sink"]["path"] == str(out)
    # a rerun of the identical run is skipped
    assert main(["run", str(pipeline), "--set", f"sink.path={out}", "--no-progress"]) == 0
    assert "skipped" in capsys.readouterr().out


def test_user_errors_exit_2_with_a_message(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("source: {type: simulate}\nstages: [{type: bandpas, l_freq: 1}]\n")
    assert main(["run", str(bad)]) == 2
    assert "Did you mean 'bandpass'" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "missing.edf")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_readme_example_with_a_missing_recording_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    pipeline = Path(__file__).resolve().parents[1] / "pipelines" / "filter.yaml"
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(pipeline), "--set", "source.path=S001R04.edf", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neurosig: error: ") and err.count("\n") == 1
    assert "S001R04.edf" in err and "Traceback" not in err


def test_an_os_error_without_a_file_name_is_one_line_too(monkeypatch, capsys):
    import neurosig.cli as cli

    def unwritable(args):
        raise PermissionError(13, "Unable to synchronously create file (errno = 13, 'Permission denied')")

    monkeypatch.setattr(cli, "cmd_info", unwritable)
    assert main(["info", "anything.h5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neurosig: error: [Errno 13] Unable to synchronously create")
    assert err.count("\n") == 1


def test_demo_writes_every_output_and_its_figure(tmp_path, capsys, monkeypatch):
    from neurosig.io.hdf5 import read_attrs

    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--no-progress"]) == 0
    text = capsys.readouterr().out
    outputs = sorted((tmp_path / "out" / "demo").glob("*.h5"))
    assert {p.name for p in outputs} >= {
        "eeg.h5",
        "eeg_heldout.h5",
        "eeg_tokens.h5",
        "eeg_faster.h5",
        "event_frames.h5",
        "event_features.h5",
    }
    assert (tmp_path / "out" / "demo" / "faster" / "faster_report.png").exists()
    assert (tmp_path / "out" / "demo" / "bci" / "results.md").exists()
    assert (tmp_path / "out" / "demo" / "snn" / "training.png").exists()
    assert (tmp_path / "out" / "demo" / "feast" / "feast_report.png").exists()
    bids = tmp_path / "out" / "demo" / "bids" / "derivatives" / "neurosig"
    assert (bids / "report.html").exists() and (bids / "dataset_description.json").exists()
    assert len(list(bids.rglob("*_desc-tokens_eeg.h5"))) == 2  # two simulated subjects, tokenized
    assert (tmp_path / "out" / "demo" / "event_train" / "model.nir").exists()
    for path in outputs:
        assert read_attrs(path)["complete"] and str(path.relative_to(tmp_path)) in text
    summary = text[text.index("Summary of demo: ") :]
    for report in ("faster/faster_report.md", "feast/feast_report.json", "bci/results.md"):
        assert f"  out/demo/{report}\n" in summary
    for figure in ("eeg.png", "event_frames.png", "snn/training.png", "rvq/reconstruction.png"):
        assert f"      {figure} " in summary
    assert summary.splitlines()[-1].startswith("Total time: ")
    assert not any(line.lstrip().startswith(("{", '"')) for line in text.splitlines())  # JSON goes to files
    assert (tmp_path / "out" / "demo" / "eeg.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "demo" / "event_frames.png").stat().st_size > 5_000
    assert main(["demo", "--no-progress"]) == 0  # reruns afresh, not "skipped"
    assert "skipped" not in capsys.readouterr().out


def test_every_pipeline_file_validates():
    """Each YAML in pipelines/ loads, and names only registered components."""
    from pathlib import Path

    from neurosig.core.config import (
        JobConfig,
        SuiteConfig,
        build_job,
        build_pipeline,
        build_suite,
        load_config,
    )

    folder = Path(__file__).resolve().parents[1] / "pipelines"
    files = sorted(folder.glob("*.yaml"))
    assert files
    for path in files:
        config = load_config(path)
        if isinstance(config, SuiteConfig):
            build_suite(config)
        elif isinstance(config, JobConfig):
            build_job(config)
        else:
            build_pipeline(config)


def test_info_and_convert_event_files(shared_file, tmp_path, capsys):
    from neurosig.io.events import read_events

    src = shared_file("events/expelliarmus_evt3_sample.raw")
    assert main(["info", str(src), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["format"], info["n_events"], info["sensor_size"]) == ("evt3", 219596, [1280, 720, 2])
    dst = tmp_path / "as_evt2.raw"
    assert main(["convert", str(src), str(dst), "--format", "evt2"]) == 0
    capsys.readouterr()
    assert main(["info", str(dst), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "evt2"
    np.testing.assert_array_equal(read_events(dst).events, read_events(src).events)
    assert main(["convert", str(src), str(dst), "--format", "evt2"]) == 2  # exists: needs --overwrite


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "neurosig.cli", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("kind", ["missing", "directory", "dangling", "loop", "fifo"])
def test_run_with_a_bad_input_path_is_one_line(tmp_path, kind):
    """Each ended in a traceback (the source hashed the file before checking it) or, a FIFO, a hang."""
    import os

    path = tmp_path / "rec.edf"
    if kind == "directory":
        path.mkdir()
    elif kind == "dangling":
        path.symlink_to(tmp_path / "gone.edf")
    elif kind == "loop":
        path.symlink_to(tmp_path / "other.edf")
        (tmp_path / "other.edf").symlink_to(path)
    elif kind == "fifo":
        os.mkfifo(path)
    run = _cli(
        "run",
        "pipelines/filter.yaml",
        "--no-progress",
        "--set",
        f"source.path={path}",
        "--set",
        f"sink.path={tmp_path / 'out.h5'}",
        timeout=180,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurosig: error:") and str(path) in lines[0], lines
    assert {
        "missing": "does not exist",
        "directory": "a directory",
        "dangling": "does not exist",
        "loop": "symlink loop",
        "fifo": "a FIFO",
    }[kind] in lines[0]


@pytest.mark.parametrize("out", ["/proc/neurosig-out.h5", "/sys/neurosig/out.h5"])
def test_run_into_an_unwritable_place_is_one_line(shared_file, out):
    rec = shared_file("eeg/eegmmidb/S001/S001R01.edf")
    run = _cli(
        "run",
        "pipelines/filter.yaml",
        "--no-progress",
        "--set",
        f"source.path={rec}",
        "--set",
        f"sink.path={out}",
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurosig: error:") and "Traceback" not in run.stderr
