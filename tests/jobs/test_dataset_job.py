"""Dataset processing: BIDS discovery and sidecars, the chained clean → tokens suite over a simulated
BIDS dataset from the CLI (derivatives layout, reports, resume), and the dataset report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("mne_bids")
pytest.importorskip("pybv")

from neurosig.cli import file_info, main  # noqa: E402
from neurosig.core.chunks import EpochsChunk, TokenChunk  # noqa: E402
from neurosig.core.errors import ConfigError, DataError  # noqa: E402
from neurosig.io.bids import BIDSFileSource, find_recordings  # noqa: E402
from neurosig.io.hdf5 import read_hdf5  # noqa: E402


def test_find_recordings_filters_by_entity_and_says_what_is_missing(bids_root):
    both = find_recordings(bids_root)
    assert [p.name for p in both] == [
        "sub-01_task-imagery_run-1_eeg.vhdr",
        "sub-02_task-imagery_run-1_eeg.vhdr",
    ]
    assert find_recordings(bids_root, subjects=["02"]) == both[1:]
    with pytest.raises(DataError, match="no EEG recording.*subjects=\\['03'\\]"):
        find_recordings(bids_root, subjects=["03"])
    with pytest.raises(DataError, match="not a folder"):
        find_recordings(bids_root / "nothing")


def test_bids_source_reads_channel_types_bads_and_events(bids_root):
    source = BIDSFileSource(str(find_recordings(bids_root)[0]), chunk_duration=5.0, picks=["eeg", "eog"])
    info = source.info
    assert "Pz" not in info.ch_names and info.ch_types[info.ch_names.index("VEOG")] == "eog"
    assert source.describe()["bads"] == ["Pz"] and source.describe()["type"] == "bids"
    markers = [m for chunk in source for m in chunk.markers]
    assert {m.description for m in markers} == {"left", "right"} and len(markers) >= 4
    assert BIDSFileSource(source.path, picks="eeg").info.n_channels == 18


def test_cli_processes_a_bids_dataset_into_derivatives_with_reports_and_resumes(
    bids_root, tokenizer, suite, tmp_path, capsys
):
    pipeline = tmp_path / "dataset.yaml"
    pipeline.write_text(yaml.safe_dump(suite(tokenizer)))
    out = tmp_path / "derivatives" / "neurosig"
    args = ["run", str(pipeline), "--bids-root", str(bids_root), "--out-dir", str(out), "--no-progress"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "2 of 2 recordings done" in text and "report.html" in text

    description = json.loads((out / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    generated = description["GeneratedBy"][0]
    assert generated["Name"] == "neurosig" and "rvq_tokenize" in generated["PipelineYAML"]
    folder = out / "sub-01" / "eeg"
    stem = "sub-01_task-imagery_run-1"
    clean, tokens = folder / f"{stem}_desc-clean_eeg.h5", folder / f"{stem}_desc-tokens_eeg.h5"
    for suffix in ("json", "md", "png"):
        assert (folder / f"{stem}_desc-faster_report.{suffix}").is_file()

    epochs, attrs = read_hdf5(clean)
    assert isinstance(epochs, EpochsChunk) and epochs.info.sfreq == 200.0 and "Pz" not in epochs.info.ch_names
    assert attrs["source"]["type"] == "bids" and attrs["source"]["bads"] == ["Pz"]
    toks, _ = read_hdf5(tokens)
    assert isinstance(toks, TokenChunk) and toks.info.epoch_patches == 2
    assert toks.tokens.shape[:2] == (epochs.info.n_channels, 2 * epochs.n_epochs)
    assert file_info(str(tokens))["stream_info"]["epoch_patches"] == 2

    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["done"] == 2 and not summary["failures"]
    (row,) = [r for r in summary["recordings"] if "sub-01" in r["recording"]]
    assert row["duration_s"] == 30.0 and row["epochs_total"] == 15
    assert row["epochs_total"] - row["epochs_rejected"] == epochs.n_epochs
    assert (
        row["ica_removed"] is not None and row["channels_interpolated"] is not None and row["bads"] == ["Pz"]
    )
    assert 0 < row["atat_mean_gate"] < 1 and 0 <= row["atat_gated_share"] <= 1
    badness = [(r["epochs_rejected"] / r["epochs_total"]) for r in summary["recordings"]]
    assert badness == sorted(badness, reverse=True)  # worst first
    assert 0 < row["codebook_usage"] <= 1 and row["seconds"] > 0
    assert (out / "report.html").stat().st_size > 10_000 and "worst first" in (out / "summary.md").read_text()

    assert main(args) == 0
    assert "2 of 2 recordings done" in capsys.readouterr().out
    again = json.loads((out / "summary.json").read_text())
    assert again["totals"]["skipped"] == 2
    assert {r["recording"]: r["seconds"] for r in again["recordings"]} == {
        r["recording"]: r["seconds"] for r in summary["recordings"]
    }


def test_failures_are_listed_with_their_errors(tokenizer, suite, tmp_path):
    from neurosig.jobs.dataset import process_dataset

    broken = tmp_path / "broken.edf"
    broken.write_bytes(b"0" * 300)
    results, files = process_dataset(suite(tokenizer), tmp_path / "out", inputs=[broken])
    assert [r.status for r in results] == ["failed"]
    summary = json.loads(Path(files["json"]).read_text())
    assert summary["failures"][0]["recording"] == str(broken) and summary["failures"][0]["error"]
    assert "broken.edf" in Path(files["md"]).read_text().split("## Failures")[1]
    with pytest.raises(ConfigError, match="add --bids-root"):
        process_dataset(suite(tokenizer), tmp_path / "o", inputs=[broken], subjects=["01"])


def test_the_chain_does_not_depend_on_the_chunk_size(bids_root, tokenizer, suite, tmp_path):
    from neurosig.jobs.dataset import process_dataset

    outputs = []
    for chunk_duration in (1.5, 7.0):
        results, _ = process_dataset(
            suite(tokenizer, chunk_duration),
            tmp_path / str(chunk_duration),
            bids_root=bids_root,
            subjects=["01"],
        )
        outputs.append([read_hdf5(o)[0] for o in results[0].outputs])
    (a_epochs, a_tokens), (b_epochs, b_tokens) = outputs
    np.testing.assert_array_equal(a_epochs.onsets, b_epochs.onsets)
    np.testing.assert_allclose(a_epochs.data, b_epochs.data, rtol=1e-3, atol=1e-9)
    assert (a_tokens.tokens == b_tokens.tokens).mean() > 0.99


def _simulated_job(config: dict, tmp_path, duration: float, out_dir) -> dict:
    """A dataset job over one simulated subject (``duration`` s) in ``tmp_path/bids``, its first
    pipeline cut to a short chain (resample, epochs, FASTER without ICA) to keep the test fast."""
    config["pipelines"][0]["stages"] = [
        {"type": "resample", "sfreq": 200.0},
        {"type": "epochs", "length": 2.0},
        {"type": "faster", "ica": False, "report_dir": "x"},
    ]
    return {
        "type": "dataset",
        "simulate": {"subjects": ["01"], "duration": duration, "seed": 4},
        "bids_root": str(tmp_path / "bids"),
        "out_dir": str(out_dir),
        "pipeline": config,
    }


def test_dataset_job_simulates_a_bids_dataset_from_yaml(tokenizer, suite, tmp_path):
    from neurosig.core.config import build_job

    job = _simulated_job(suite(tokenizer), tmp_path, 12.0, tmp_path / "bids" / "derivatives" / "neurosig")
    summary = build_job({"job": job}).run()
    assert summary["recordings"] == {"done": 1, "skipped": 0, "failed": 0}
    folder = tmp_path / "bids" / "derivatives" / "neurosig" / "sub-01" / "eeg"
    assert sorted(p.name for p in folder.glob("*.h5")) == [
        "sub-01_task-imagery_run-1_desc-clean_eeg.h5",
        "sub-01_task-imagery_run-1_desc-tokens_eeg.h5",
    ]
    assert build_job({"job": job}).run()["recordings"]["skipped"] == 1
    with pytest.raises(ConfigError, match="set bids_root"):
        build_job({"job": {**job, "bids_root": None}}).run()


def test_committed_chain_tokenizes_with_the_shipped_tokenizer(suite, tmp_path):
    """pipelines/dataset.yaml names no checkpoint: a newcomer needs no training before tokens."""
    from neurosig.core.config import build_job
    from neurosig.eeg.rvq.store import load_tokens
    from neurosig.eeg.rvq.tokenizer import Tokenizer
    from neurosig.io.hdf5 import read_hdf5

    config = suite(None)
    tokens = config["pipelines"][1]
    assert "checkpoint" not in tokens["stages"][0] and "checkpoint" not in tokens["sink"]
    job = _simulated_job(config, tmp_path, 8.0, tmp_path / "out")
    assert build_job({"job": job}).run()["recordings"]["done"] == 1
    folder = tmp_path / "out" / "sub-01" / "eeg"
    epochs, _ = read_hdf5(folder / "sub-01_task-imagery_run-1_desc-clean_eeg.h5")
    chunk, stored, _ = load_tokens(folder / "sub-01_task-imagery_run-1_desc-tokens_eeg.h5")
    shipped = Tokenizer.load()
    assert stored.config == shipped.config and chunk.info.epoch_patches == 2
    first = shipped.encode(epochs.data[0], 200.0)
    np.testing.assert_array_equal(chunk.tokens[:, :2], first)


def test_inputs_of_a_suite_are_named_after_each_member(tokenizer, suite, bids_root, tmp_path):
    from neurosig.executor import map_pipeline

    recording = find_recordings(bids_root)[0]
    config = suite(tokenizer)
    config["pipelines"][0]["stages"] = [
        {"type": "resample", "sfreq": 200.0},
        {"type": "epochs", "length": 2.0},
    ]
    (result,) = map_pipeline(config, [recording], tmp_path)
    stem = recording.stem
    assert result.status == "done"
    assert result.outputs == [
        str(tmp_path / f"{stem}_desc-clean.h5"),
        str(tmp_path / f"{stem}_desc-tokens.h5"),
    ]
    assert read_hdf5(result.output)[1]["source"]["path"] == result.outputs[0]
