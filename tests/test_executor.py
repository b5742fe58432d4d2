import shutil

import pytest

from neurosig.cli import main
from neurosig.core.errors import ConfigError
from neurosig.executor import map_pipeline
from neurosig.io.hdf5 import read_attrs

PIPELINE = {
    "source": {"type": "file", "path": "x", "chunk_duration": 5.0},
    "stages": [{"type": "bandpass", "l_freq": 1.0, "h_freq": 30.0}],
    "sink": {"type": "hdf5", "path": "x"},
}


@pytest.fixture()
def recordings(shared_file, tmp_path):
    paths = []
    for run in ("01", "02"):
        dst = tmp_path / "in" / f"S001R{run}.edf"
        dst.parent.mkdir(exist_ok=True)
        shutil.copy(shared_file(f"eeg/eegmmidb/S001/S001R{run}.edf"), dst)
        paths.append(dst)
    broken = tmp_path / "in" / "broken.edf"
    broken.write_bytes(paths[0].read_bytes()[:100_000])
    return [*paths, broken]


def test_local_map_writes_one_output_each_reports_failures_and_resumes(recordings, tmp_path):
    from neurosig.core.config import load_config

    config = load_config(PIPELINE)
    results = map_pipeline(config, recordings, tmp_path / "out")
    assert [r.status for r in results] == ["done", "done", "failed"]
    assert "truncated" in results[2].error and results[2].attempts == 1
    assert read_attrs(results[0].output)["source"]["path"] == str(recordings[0])
    again = map_pipeline(config, recordings[:2], tmp_path / "out")
    assert [r.status for r in again] == ["skipped", "skipped"]


def test_dask_map_gives_the_same_outputs(recordings, tmp_path):
    pytest.importorskip("dask.distributed")
    from neurosig.core.config import load_config

    results = map_pipeline(
        load_config(PIPELINE), recordings[:2], tmp_path / "dask", executor="dask", n_workers=1
    )
    assert [r.status for r in results] == ["done", "done"]


def test_cli_map_exit_code_counts_failures(recordings, tmp_path, capsys):
    import yaml

    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(yaml.safe_dump(PIPELINE))
    code = main(
        [
            "run",
            str(pipeline),
            "--inputs",
            *map(str, recordings),
            "--out-dir",
            str(tmp_path / "o"),
            "--no-progress",
        ]
    )
    assert code == 1
    assert "2 of 3 recordings done" in capsys.readouterr().out


def test_map_needs_a_file_source_and_hdf5_sink(tmp_path):
    with pytest.raises(ConfigError, match="'path'"):
        map_pipeline(
            {"source": {"type": "simulate"}, "sink": {"type": "hdf5", "path": "x"}}, ["a.edf"], tmp_path
        )
