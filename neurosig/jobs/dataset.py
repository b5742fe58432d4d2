"""Offline dataset processing: map a pipeline over recordings (a BIDS dataset or files), then report.

:func:`process_dataset` is what ``neurosig run PIPELINE --bids-root ROOT`` (or ``--inputs FILES``)
does: it finds the recordings (:func:`neurosig.io.bids.find_recordings`), maps the pipeline over them
with :func:`neurosig.executor.map_pipeline` (locally or on Dask; finished recordings are skipped),
writes the derivatives' ``dataset_description.json`` for a BIDS input, and writes the dataset
report: ``report.html`` (an :class:`mne.Report`), ``summary.json`` and ``summary.md`` in the output
folder. :func:`summarize_recording` reads what one recording's outputs say about it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pydantic

from neurosig._version import __version__
from neurosig.core import persist
from neurosig.core.config import PipelineConfig, SuiteConfig, load_config
from neurosig.core.errors import ConfigError, NeurosigError
from neurosig.core.stage import Job
from neurosig.executor import TaskResult, map_pipeline

__all__ = ["DatasetJob", "process_dataset", "simulate_bids", "summarize_recording", "write_report", "COLUMNS"]

#: The per-recording columns of the report, in order, with their headers.
COLUMNS = {
    "recording": "recording",
    "status": "status",
    "duration_s": "duration (s)",
    "bads": "bad in channels.tsv",
    "channels_interpolated": "channels interpolated",
    "epochs_rejected": "epochs rejected",
    "epochs_total": "epochs",
    "ica_removed": "ICA removed",
    "atat_gated_share": "AT-AT gated",
    "atat_mean_gate": "AT-AT mean gate",
    "codebook_usage": "codebook usage",
    "seconds": "time (s)",
}


def _faster_summary(report: dict[str, Any]) -> dict[str, Any]:
    steps = report.get("steps", {})
    why: dict[str, str] = {}
    channels = steps.get("channels")
    if channels:
        for metric, values in channels["metrics"].items():
            for name, bad, z in zip(channels["items"], values["bad"], values["z"], strict=True):
                if bad:
                    reason = f"{metric} (z={z:.1f})" if z is not None else metric
                    why[name] = f"{why[name]}, {reason}" if name in why else f"step 1: {reason}"
    per_epoch: dict[str, int] = {}
    for names in report.get("interpolated", {}).values():
        for name in names:
            if name not in why:
                per_epoch[name] = per_epoch.get(name, 0) + 1
    for name, count in per_epoch.items():
        why[name] = f"step 4: in {count} epoch{'s' if count > 1 else ''}"
    n_epochs = len(steps["epochs"]["items"]) if "epochs" in steps else len(report.get("kept_epochs", []))
    return {
        "channels_interpolated": why,
        "epochs_rejected": len(report.get("bad_epochs", [])),
        "epochs_total": n_epochs,
        "ica_removed": list(report.get("ica", {}).get("excluded", [])),
    }


def _codebook_usage(path: str) -> dict[str, Any]:
    import h5py

    with h5py.File(path, "r") as f:
        info = json.loads(f.attrs["stream_info"])
        tokens = f["tokens"][()]
    size = int(info["codebook_size"])
    flat = tokens.reshape(-1, tokens.shape[2] * tokens.shape[3]).T  # (codebooks, tokens)
    used = np.array([np.unique(row).size / size for row in flat])
    return {"codebook_usage": float(used.mean()), "codebook_usage_min": float(used.min())}


def summarize_recording(result: TaskResult) -> dict[str, Any]:
    """What a recording's outputs say: duration, FASTER's decisions, AT-AT gating, codebook usage.

    Parameters
    ----------
    result : TaskResult
        The recording's outcome from :func:`~neurosig.executor.map_pipeline`.

    Returns
    -------
    dict
        The :data:`COLUMNS` (``None`` where a pipeline has no such stage), ``error``, ``outputs``.
    """
    from neurosig.io.hdf5 import read_attrs, read_reports

    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        recording=result.input,
        status=result.status,
        seconds=round(result.seconds, 3),
        error=result.error,
        outputs=list(result.outputs),
    )
    if result.status == "failed":
        return row
    for output in result.outputs:
        for label, report in read_reports(output).items():
            stage = label.split(":", 1)[-1]
            if stage == "faster":
                row.update(_faster_summary(report))
            elif stage == "atat" and "gated_share" in report:
                row["atat_gated_share"] = report["gated_share"]
                row["atat_mean_gate"] = round(report["mean_gate"], 4)
        attrs = read_attrs(output)
        if output == result.outputs[0] and "bads" in attrs.get("source", {}):
            row["bads"] = attrs["source"]["bads"]
        if attrs.get("chunk_type") == "TokenChunk":
            row.update(_codebook_usage(output))
    try:
        from neurosig.io.eeg import open_raw

        raw = open_raw(result.input)
        row["duration_s"] = round(raw.n_times / raw.info["sfreq"], 3)
    except NeurosigError:
        pass
    return row


def _badness(row: dict[str, Any]) -> tuple:
    """Sort key, worst first: failures, then the share of epochs rejected, then channels interpolated."""
    failed = row["status"] == "failed"
    total = row.get("epochs_total") or 0
    rejected = (row.get("epochs_rejected") or 0) / total if total else 0.0
    return (not failed, -rejected, -len(row.get("channels_interpolated") or {}), row["recording"])


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "channels_interpolated":
        return "; ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    if key in ("ica_removed", "bads"):
        return ", ".join(map(str, value)) or "none"
    if key == "recording":
        return Path(value).name
    if key in ("atat_gated_share", "codebook_usage"):
        return f"{100 * value:.1f} %"
    return str(value)


def _markdown(rows: list[dict[str, Any]], totals: dict[str, Any], failures: list[dict[str, Any]]) -> str:
    lines = [
        f"# Dataset report ({totals['recordings']} recordings)",
        "",
        f"neurosig {__version__}; {totals['done']} processed, {totals['skipped']} already complete, "
        f"{totals['failed']} failed; {totals['hours']:.2f} h of recordings.",
        "",
        "## Recordings, worst first",
        "",
        "| " + " | ".join(COLUMNS.values()) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(k, row.get(k)).replace("|", "/") for k in COLUMNS) + " |")
    lines += ["", "## Failures", ""]
    lines += [f"- {f['recording']}: {f['error']}" for f in failures] or ["none"]
    return "\n".join(lines) + "\n"


def _html_table(rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in COLUMNS.values())
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(k, r.get(k)))}</td>" for k in COLUMNS) + "</tr>"
        for r in rows
    )
    return f"<table class='table table-sm'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _distributions(rows: list[dict[str, Any]]):
    from matplotlib.figure import Figure

    series = {
        "epochs rejected (%)": [
            100 * r["epochs_rejected"] / r["epochs_total"] for r in rows if r.get("epochs_total")
        ],
        "channels interpolated": [
            len(r["channels_interpolated"]) for r in rows if r.get("channels_interpolated") is not None
        ],
        "ICA components removed": [len(r["ica_removed"]) for r in rows if r.get("ica_removed") is not None],
        "codebook usage (%)": [
            100 * r["codebook_usage"] for r in rows if r.get("codebook_usage") is not None
        ],
        "time per recording (s)": [r["seconds"] for r in rows if r["status"] != "failed"],
    }
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    fig = Figure(figsize=(3.2 * len(series), 2.8), layout="constrained")
    for ax, (title, values) in zip(np.atleast_1d(fig.subplots(1, len(series))), series.items(), strict=True):
        ax.hist(values, bins=min(20, max(3, len(values))), color="tab:blue")
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("recordings")
    return fig


def write_report(results: Sequence[TaskResult], out_dir: str | Path, title: str = "") -> dict[str, str]:
    """Write ``report.html`` (mne.Report), ``summary.json`` and ``summary.md`` for a mapped dataset.

    Recordings skipped because their outputs were complete keep the time taken recorded in an
    earlier ``summary.json`` of the same folder.

    Returns
    -------
    dict
        Paths of the three files.
    """
    import mne

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    previous: dict[str, float] = {}
    if (out_dir / "summary.json").is_file():
        old = json.loads((out_dir / "summary.json").read_text())
        previous = {
            r["recording"]: r["seconds"] for r in old.get("recordings", []) if r["status"] != "failed"
        }
    rows = []
    for result in results:
        row = summarize_recording(result)
        if row["status"] == "skipped" and row["recording"] in previous:
            row["seconds"] = previous[row["recording"]]  # the run that made the outputs
        rows.append(row)
    rows.sort(key=_badness)
    failures = [{"recording": r["recording"], "error": r["error"]} for r in rows if r["status"] == "failed"]
    totals = {
        "recordings": len(rows),
        "done": sum(r["status"] == "done" for r in rows),
        "skipped": sum(r["status"] == "skipped" for r in rows),
        "failed": len(failures),
        "hours": sum(r["duration_s"] or 0 for r in rows) / 3600,
    }
    paths = {
        k: out_dir / f for k, f in (("html", "report.html"), ("json", "summary.json"), ("md", "summary.md"))
    }
    summary = {"neurosig_version": __version__, "title": title, "totals": totals, "recordings": rows}
    summary["failures"] = failures
    persist.write_text(paths["json"], json.dumps(summary, indent=2, default=str) + "\n")
    persist.write_text(paths["md"], _markdown(rows, totals, failures))
    report = mne.Report(title=title or "neurosig dataset report", verbose="error")
    report.add_html(
        f"<p>{paths['md'].read_text().splitlines()[2]}</p>" + _html_table(rows),
        title="Recordings, worst first",
        section="Dataset",
    )
    figure = _distributions(rows)
    if figure is not None:
        report.add_figure(figure, title="Distributions across recordings", section="Dataset")
    failed = "".join(f"<li>{html.escape(f['recording'])}: {html.escape(f['error'])}</li>" for f in failures)
    report.add_html(f"<ul>{failed or '<li>none</li>'}</ul>", title="Failures", section="Dataset")
    for row in rows:
        for png in sorted({Path(o).parent for o in row["outputs"]}):
            stem = Path(row["outputs"][0]).name.split("_desc-")[0]
            for image in sorted(png.glob(f"{stem}_desc-*_report.png")):
                report.add_image(image, title=image.stem, section="Recordings")
    report.save(paths["html"], open_browser=False, overwrite=True, verbose="error")
    return {k: str(v) for k, v in paths.items()}


def process_dataset(
    config: PipelineConfig | SuiteConfig | str | Path,
    out_dir: str | Path,
    inputs: Sequence[str | Path] = (),
    bids_root: str | Path | None = None,
    subjects: Sequence[str] | None = None,
    sessions: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    runs: Sequence[str] | None = None,
    executor: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    n_workers: int = 2,
    progress: bool = False,
    report: bool = True,
    threads: int | None = None,
) -> tuple[list[TaskResult], dict[str, str]]:
    """Process a dataset: every recording through the pipeline, then the dataset report.

    Parameters
    ----------
    config : PipelineConfig | SuiteConfig | str | Path
        A stream pipeline, or a suite of chained ones (see :func:`~neurosig.executor.map_pipeline`),
        e.g. ``pipelines/dataset.yaml``.
    out_dir : path
        Output folder; for a BIDS input, a BIDS-derivatives dataset.
    inputs : sequence of path
        Recordings, when not given by ``bids_root``.
    bids_root : path | None
        A BIDS dataset; its recordings are found with mne-bids, filtered by ``subjects``,
        ``sessions``, ``tasks`` and ``runs`` (entity values without their prefix).
    executor, scheduler, n_workers, progress, threads
        As in :func:`~neurosig.executor.map_pipeline` (on Dask, the largest recordings start first and
        each task's compute threads are held to its share of the host's cores).
    report : bool
        Write ``report.html``, ``summary.json`` and ``summary.md`` into ``out_dir``.

    Returns
    -------
    results : list of TaskResult
        One per recording, in recording order.
    files : dict
        The report's paths (and ``dataset_description`` for a BIDS input).
    """
    if not isinstance(config, PipelineConfig | SuiteConfig):
        config = load_config(config)
    if not isinstance(config, PipelineConfig | SuiteConfig):
        raise ConfigError(
            f"{config.name!r} is a job; a dataset is processed by a stream pipeline or a suite."
        )
    files: dict[str, str] = {}
    if bids_root is not None:
        from neurosig.io.bids import find_recordings, write_derivative_description

        if inputs:
            raise ConfigError("give either --inputs or --bids-root, not both.")
        inputs = find_recordings(bids_root, subjects, sessions, tasks, runs)
        files["dataset_description"] = str(write_derivative_description(out_dir, config.to_yaml(), bids_root))
    elif any(v for v in (subjects, sessions, tasks, runs)):
        raise ConfigError(
            "--subjects, --sessions, --tasks and --runs select BIDS recordings; add --bids-root."
        )
    results = map_pipeline(
        config,
        inputs,
        out_dir,
        executor,
        scheduler,
        n_workers,
        progress=progress,
        bids_root=bids_root,
        threads=threads,
    )
    if report:
        files.update(write_report(results, out_dir, title=f"{config.name}: {len(results)} recordings"))
    return results, files


def simulate_bids(
    root: str | Path,
    subjects: Sequence[str] = ("01", "02"),
    duration: float = 40.0,
    sfreq: float = 128.0,
    n_channels: int = 19,
    seed: int = 0,
    bad_channels: Sequence[str] = (),
    task: str = "imagery",
) -> list[Path]:
    """Write a simulated EEG dataset in BIDS with mne-bids (BrainVision files, one run per subject).

    Each subject's recording is :func:`neurosig.eeg.simulate.simulate_raw` (seed ``seed + i``) with a
    vertical EOG channel, motor-imagery trials as events, and ``bad_channels`` marked bad in
    ``channels.tsv``.

    Returns
    -------
    list of Path
        The recordings' ``.vhdr`` files.
    """
    import warnings

    from neurosig.eeg.simulate import simulate_raw
    from neurosig.io.bids import _mne_bids

    mne_bids = _mne_bids()
    paths = []
    for i, subject in enumerate(subjects):
        raw = simulate_raw(duration=duration, sfreq=sfreq, n_channels=n_channels, seed=seed + i, eog=True)
        raw.info["bads"] = [c for c in bad_channels if c in raw.ch_names]
        bids_path = mne_bids.BIDSPath(subject=subject, task=task, run=1, datatype="eeg", root=root)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "converting data to BrainVision" notices
            mne_bids.write_raw_bids(
                raw, bids_path, format="BrainVision", allow_preload=True, overwrite=True, verbose="error"
            )
        paths.append(Path(bids_path.fpath))
    return paths


class DatasetJob(Job):
    """The ``dataset`` job: :func:`process_dataset` from YAML (e.g. a step of a suite such as the demo).

    Parameters
    ----------
    pipeline : str | dict
        The pipeline or chained suite to map (a YAML path, or the configuration inline).
    out_dir : str
        Output folder (BIDS derivatives for a BIDS input) with the report.
    bids_root : str | None
        A BIDS dataset to process (or ``inputs``).
    inputs : list of str
        Recordings, when there is no ``bids_root``.
    subjects, sessions, tasks, runs : list of str | None
        BIDS entity values to keep.
    simulate : dict | None
        First write a simulated BIDS dataset into ``bids_root`` (the keyword arguments of
        :func:`simulate_bids`), e.g. ``{subjects: ["01", "02"], duration: 40}``.
    executor : {"local", "dask"}
        Where recordings run.
    scheduler : str | None
        A running Dask scheduler's address.
    workers : int
        LocalCluster workers when ``executor`` is ``dask`` without a scheduler.
    threads : int | None
        On Dask, compute threads per recording; by default the host's cores shared between its worker
        threads.
    """

    name = "dataset"

    def __init__(
        self,
        pipeline: str | dict[str, Any],
        out_dir: str,
        bids_root: str | None = None,
        inputs: list[str] = [],  # noqa: B006 - pydantic copies defaults
        subjects: list[str] | None = None,
        sessions: list[str] | None = None,
        tasks: list[str] | None = None,
        runs: list[str] | None = None,
        simulate: dict[str, Any] | None = None,
        executor: Literal["local", "dask"] = "local",
        scheduler: str | None = None,
        workers: Annotated[int, pydantic.Field(ge=1)] = 2,
        threads: Annotated[int, pydantic.Field(ge=1)] | None = None,
    ):
        self.pipeline = pipeline
        self.out_dir = out_dir
        self.bids_root = bids_root
        self.inputs = inputs
        self.subjects = subjects
        self.sessions = sessions
        self.tasks = tasks
        self.runs = runs
        self.simulate = simulate
        self.executor = executor
        self.scheduler = scheduler
        self.workers = workers
        self.threads = threads

    def run(self, progress: bool = False) -> dict[str, Any]:
        """Simulate (if asked), process every recording, report; return counts and the report's paths."""
        if self.simulate is not None:
            if self.bids_root is None:
                raise ConfigError(
                    "dataset job: 'simulate' writes a BIDS dataset into bids_root; set bids_root."
                )
            try:
                simulate_bids(self.bids_root, **self.simulate)
            except TypeError as err:
                raise ConfigError(
                    f"dataset job: simulate: {err}; see neurosig.jobs.dataset.simulate_bids."
                ) from None
        results, files = process_dataset(
            self.pipeline if isinstance(self.pipeline, dict) else Path(self.pipeline),
            self.out_dir,
            self.inputs,
            self.bids_root,
            self.subjects,
            self.sessions,
            self.tasks,
            self.runs,
            executor="dask" if self.scheduler else self.executor,
            scheduler=self.scheduler,
            n_workers=self.workers,
            progress=progress,
            threads=self.threads,
        )
        counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed")}
        return {"recordings": counts, "failures": {r.input: r.error for r in results if r.error}, **files}
