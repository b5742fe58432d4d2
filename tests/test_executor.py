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


def test_suite_prints_one_line_per_member_and_a_summary_of_every_output(tmp_path, capsys):
    out = tmp_path / "out"
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"""
name: small
pipelines:
  - name: eeg
    description: four seconds of EEG
    source: {{type: simulate, duration: 4.0, sfreq: 128.0, n_channels: 19, seed: 1}}
    stages: [{{type: bandpass, l_freq: 1.0, h_freq: 30.0}}]
    sink: {{type: hdf5, path: {out}/eeg.h5}}
  - name: features
    description: FEAST features of a simulated camera
    source: {{type: simulate_events, duration: 0.2, width: 32, height: 24, seed: 1}}
    stages: [{{type: feast, n_neurons: 2, radius: 2, report_dir: {out}/feast}}]
    sink: {{type: hdf5, path: {out}/features.h5}}
"""
    )
    assert main(["run", str(suite), "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["== eeg: four seconds of EEG", f"   4.0 s of data in {lines[1].split(' in ')[1]}"]
    assert lines[1].endswith(f"-> {out}/eeg.h5")
    summary = lines[lines.index(f"Summary of small: 2 pipelines and jobs, outputs in {out}/") :]
    assert summary[1].startswith("  eeg (") and summary[1].endswith("s): four seconds of EEG")
    assert summary[2].split() == ["eeg.h5", "stream", "output,", "with", "its", "pipeline", "and",
                                  "provenance", "(neurosig", "info", "FILE)"]  # fmt: skip
    listed = {line.split()[0] for line in summary if line.startswith("      ")}
    assert listed == {"eeg.h5", "features.h5", "feast/feast_report.json", "feast/feast_report.png"}
    assert summary[-3:-1] == ["Reports:", f"  {out}/feast/feast_report.json"]
    assert summary[-1].startswith("Total time: ") and summary[-1].endswith(" s")
    assert not any(line.lstrip().startswith(("{", '"')) for line in lines)  # no JSON on the screen


def _threads_seen(leave: int) -> tuple[int, int, str]:
    """Compute threads at a task's start; then leaves them at ``leave``, as a careless stage would."""
    import os

    import threadpoolctl
    import torch

    seen = (torch.get_num_threads(), max(p["num_threads"] for p in threadpoolctl.threadpool_info()))
    torch.set_num_threads(leave)
    threadpoolctl.threadpool_limits(leave)
    return (*seen, os.environ.get("NUMBA_NUM_THREADS", ""))


def test_dask_tasks_start_with_their_share_of_the_cores_each_time():
    pytest.importorskip("dask.distributed")
    from neurosig.executor import map_tasks, usable_cores

    share = max(1, usable_cores() // 2)  # two one-thread workers on this host
    seen = map_tasks(_threads_seen, [share + 2] * 4, "dask", n_workers=2, unit="task")
    assert seen == [(share, share, str(share))] * 4  # 4 tasks on 2 workers: one ran after another
    assert map_tasks(_threads_seen, [5, 5], "dask", n_workers=1, threads=3, unit="task") == [(3, 3, "3")] * 2


def _started(_task: int) -> int:
    import time

    return time.monotonic_ns()


def test_dask_starts_the_costliest_tasks_first_and_returns_results_in_task_order():
    pytest.importorskip("dask.distributed")
    from neurosig.executor import map_tasks

    cost = [1.0, 5.0, 3.0, 5.0, 2.0]
    started = map_tasks(_started, list(range(5)), "dask", n_workers=1, cost=cost, unit="task")
    assert sorted(range(5), key=started.__getitem__) == [1, 3, 2, 4, 0]  # ties in task order


def test_a_recording_weighs_its_files_sharing_its_stem(tmp_path):
    from neurosig.executor import _recording_bytes

    for name, size in (
        ("a.vhdr", 10),
        ("a.vmrk", 20),
        ("a.eeg", 300),
        ("a_channels.tsv", 4000),
        ("b.eeg", 5),
    ):
        (tmp_path / name).write_bytes(b"x" * size)
    assert _recording_bytes(tmp_path / "a.vhdr") == 330
