"""Run pipelines: a suite's members in order (:func:`run_suite`), or one stream pipeline over many
recordings, locally (default) or on a Dask cluster (:func:`map_pipeline`).

A suite run prints one line per member and ends with a summary of every file each member wrote.
Each recording of a map is one task that writes its own output exclusively and atomically (see
:mod:`neurosig.core.persist`), so a rerun skips finished recordings and a failed task can be retried
without touching the others.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tqdm.auto import tqdm

from neurosig.core.config import (
    JobConfig,
    PipelineConfig,
    SuiteConfig,
    build_job,
    build_pipeline,
    load_config,
)
from neurosig.core.errors import ConfigError, NeurosigError

__all__ = ["TaskResult", "map_pipeline", "MemberResult", "SuiteResult", "run_suite"]

# Parameters through which stages and jobs name the folder they write into.
_OUTPUT_DIR_PARAMS = ("report_dir", "out_dir", "output_dir", "output")
# What a file is, by suffix (the first matching name pattern wins; see _what).
_KINDS = {
    ".h5": "HDF5 data",
    ".png": "figure",
    ".md": "report (markdown)",
    ".json": "results (JSON)",
    ".jsonl": "metrics per epoch (JSON lines)",
    ".pt": "model weights (PyTorch checkpoint)",
    ".npz": "prepared data, reused by a rerun",
}


_RESULTS = ("results", "metrics", "summary")


def _what(path: Path, output: Path | None = None) -> str:
    if output is not None and path == output:
        return "stream output, with its pipeline and provenance (neurosig info FILE)"
    if "report" in path.stem and path.suffix == ".json":
        return "report (JSON)"
    return _KINDS.get(path.suffix, "file")


@dataclass
class MemberResult:
    """What one member of a suite did.

    Attributes
    ----------
    name, description : str
        From the suite file.
    seconds : float
        Wall-clock time, s.
    headline : str
        One line of results (see :meth:`neurosig.core.stage.Job.headline`).
    files : list of Path
        Every file it wrote or changed, in name order.
    output : Path | None
        A stream pipeline's sink output.
    """

    name: str
    description: str
    seconds: float
    headline: str
    files: list[Path]
    output: Path | None = None


@dataclass
class SuiteResult:
    """What a suite run did: its members in order; ``str()`` gives the closing summary."""

    name: str
    members: list[MemberResult]
    seconds: float

    def reports(self) -> list[Path]:
        """The reports and results files: markdown, and JSON named ``*report*``, ``results``,
        ``metrics`` or ``summary``."""
        return [
            f
            for m in self.members
            for f in m.files
            if f.suffix == ".md" or (f.suffix == ".json" and (f.stem in _RESULTS or "report" in f.stem))
        ]

    def __str__(self) -> str:
        files = [f for m in self.members for f in m.files]
        root = Path(os.path.commonpath([f.parent for f in files])) if files else Path()
        lines = [f"Summary of {self.name}: {len(self.members)} pipelines and jobs, outputs in {root}/"]
        listings = [_listing(m.files, root, m.output) for m in self.members]
        width = max((len(rel) for rows in listings for rel, _ in rows), default=0)
        for m, rows in zip(self.members, listings, strict=True):
            lines.append(f"  {m.name} ({m.seconds:.1f} s): {m.description}")
            lines += [f"      {rel:<{width}}  {what}" for rel, what in rows]
        lines.append("Reports:")
        lines += [f"  {path}" for path in self.reports()]
        lines.append(f"Total time: {self.seconds:.1f} s")
        return "\n".join(lines)


def _listing(
    files: list[Path], root: Path, output: Path | None, max_per_folder: int = 4
) -> list[tuple[str, str]]:
    """(path relative to ``root``, what it is) per file; a sub-sub-folder of many files is one row."""
    groups: dict[Path, list[Path]] = {}
    for f in files:
        parts = f.relative_to(root).parts
        groups.setdefault(Path(*parts[:2]) if len(parts) > 2 else f, []).append(f)
    rows = []
    for key, members in groups.items():
        if len(members) > max_per_folder:
            kinds = "; ".join(sorted({_what(p) for p in members}))
            rows.append((f"{key}/ ({len(members)} files)", kinds))
        else:
            rows += [(str(p.relative_to(root)), _what(p, output)) for p in members]
    return rows


def _output_places(member: PipelineConfig | JobConfig) -> list[tuple[Path, bool]]:
    """(folder, recursive) pairs where a member writes: its sink's folder and any output folder."""
    specs = [member.job] if isinstance(member, JobConfig) else [*member.stages, member.sink]
    places = []
    for spec in filter(None, specs):
        params = spec.params
        if spec is getattr(member, "sink", None) and params.get("path"):
            places.append((Path(params["path"]).parent, False))
        places += [(Path(params[k]), True) for k in _OUTPUT_DIR_PARAMS if isinstance(params.get(k), str)]
    return places


def _snapshot(places: list[tuple[Path, bool]]) -> dict[Path, int]:
    stamps = {}
    for folder, recursive in places:
        if folder.is_dir():
            for f in folder.rglob("*") if recursive else folder.iterdir():
                if f.is_file():
                    stamps[f] = f.stat().st_mtime_ns
    return stamps


def run_suite(config: SuiteConfig, progress: bool = False) -> SuiteResult:
    """Run a suite's pipelines and jobs in order, one line of results each.

    Parameters
    ----------
    config : SuiteConfig
        The suite (e.g. ``pipelines/demo.yaml``).
    progress : bool
        Show progress bars.

    Returns
    -------
    SuiteResult
        Per member: time, headline and the files it wrote or changed (found in its sink's folder
        and in the folders its stages and job name as ``report_dir``, ``out_dir``, ``output_dir``
        or ``output``).
    """
    places = [p for m in config.pipelines for p in _output_places(m)]
    members = []
    t_suite = time.perf_counter()
    for member in config.pipelines:
        print(f"== {member.name}: {member.description}", flush=True)
        before = _snapshot(places)
        t0 = time.perf_counter()
        output = None
        if isinstance(member, JobConfig):
            job = build_job(member)
            headline = job.headline(job.run(progress=progress))
        else:
            summary = build_pipeline(member).run(progress=progress)
            output = Path(summary.output) if summary.output else None
            headline = (
                str(summary)
                if summary.skipped
                else f"{summary.stream_seconds:.1f} s of data in {summary.wall_seconds:.1f} s "
                f"({summary.realtime_factor:.0f}x real time) -> {summary.output}"
            )
        seconds = time.perf_counter() - t0
        print(f"   {headline}", flush=True)
        files = sorted(f for f, stamp in _snapshot(places).items() if before.get(f) != stamp)
        members.append(MemberResult(member.name, member.description, seconds, headline, files, output))
    return SuiteResult(config.name, members, time.perf_counter() - t_suite)


@dataclass
class TaskResult:
    """The outcome of one recording."""

    input: str
    output: str
    status: Literal["done", "skipped", "failed"]
    attempts: int
    seconds: float
    error: str = ""


@dataclass
class _Task:
    config_yaml: str
    input: str
    output: str
    retries: int
    attempts: int = field(default=0)


def _run_one(task: _Task) -> TaskResult:
    t0 = time.perf_counter()
    last = ""
    for attempt in range(1, task.retries + 2):
        try:
            config = load_config(task.config_yaml, [f"source.path={task.input}", f"sink.path={task.output}"])
            summary = build_pipeline(config).run()
            status = "skipped" if summary.skipped else "done"
            return TaskResult(task.input, task.output, status, attempt, time.perf_counter() - t0)
        except NeurosigError as err:  # the user's data or config: retrying will not help
            return TaskResult(task.input, task.output, "failed", attempt, time.perf_counter() - t0, str(err))
        except Exception as err:  # noqa: BLE001 - a crash of one task must not end the map
            last = f"{type(err).__name__}: {err}"
    return TaskResult(task.input, task.output, "failed", task.retries + 1, time.perf_counter() - t0, last)


def map_pipeline(
    config: PipelineConfig | str | Path,
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    executor: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    n_workers: int = 2,
    retries: int = 1,
    progress: bool = False,
) -> list[TaskResult]:
    """Run a file-to-HDF5 pipeline on every input, one output per input.

    Parameters
    ----------
    config : PipelineConfig | str | Path
        A stream pipeline whose source has a ``path`` and whose sink is ``hdf5``.
    inputs : sequence of path
        Recordings; each output is ``out_dir / (input stem + ".h5")``.
    out_dir : path
        Output folder (created).
    executor : {"local", "dask"}
        ``local`` runs the tasks one after another in this process; ``dask`` submits them to a
        dask.distributed cluster (``scheduler`` address, or a LocalCluster of ``n_workers``).
    scheduler : str | None
        Address of a running Dask scheduler (``tcp://host:8786``).
    n_workers : int
        Workers of the LocalCluster started when no scheduler is given.
    retries : int
        Extra attempts for a task that crashed (errors a user can fix are not retried).
    progress : bool
        Show a progress bar over recordings.

    Returns
    -------
    list of TaskResult
        One per input, in input order. Failed tasks are reported, not raised.
    """
    if not isinstance(config, PipelineConfig):
        config = load_config(config)
    if config.sink is None or config.sink.type != "hdf5" or "path" not in config.source.params:
        raise ConfigError("map_pipeline needs a pipeline whose source has a 'path' and whose sink is 'hdf5'.")
    names = [Path(p).stem for p in inputs]
    if len(set(names)) != len(names):
        raise ConfigError("two inputs share a file name, so their outputs would collide; rename one.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    yaml_text = config.to_yaml()
    tasks = [
        _Task(yaml_text, str(Path(p).resolve()), str(out_dir / f"{n}.h5"), retries)
        for p, n in zip(inputs, names, strict=True)
    ]
    if executor == "local":
        return [_run_one(t) for t in tqdm(tasks, disable=not progress, unit="recording")]
    if executor != "dask":
        raise ConfigError(f"executor={executor!r} is not valid; choose 'local' or 'dask'.")
    return _run_dask(tasks, scheduler, n_workers, progress)


def _run_dask(tasks: list[_Task], scheduler: str | None, n_workers: int, progress: bool) -> list[TaskResult]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError(
            "executor='dask' needs dask.distributed: pip install -c constraints.txt -e .[dask]"
        ) from None
    cluster: Any = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, dashboard_address=None)
    client = Client(scheduler or cluster)
    try:
        futures = [client.submit(_run_one, t, pure=False, key=f"neurosig-{i}") for i, t in enumerate(tasks)]
        bar = tqdm(total=len(futures), disable=not progress, unit="recording")
        for _ in as_completed(futures):
            bar.update()
        bar.close()
        return [f.result() for f in futures]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
