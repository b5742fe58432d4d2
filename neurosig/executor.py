"""Run pipelines: a suite's members in order (:func:`run_suite`), or one stream pipeline (or a chained
suite of them) over many recordings, locally (default) or on a Dask cluster (:func:`map_pipeline`);
:func:`map_tasks` maps any module-level function the same way (e.g. BCI folds).

A suite run prints one line per member and ends with a summary of every file each member wrote.
Each recording of a map is one task that writes its own output exclusively and atomically (see
:mod:`neurosig.core.persist`), so a rerun skips finished recordings and a failed task can be retried
without touching the others.
"""

from __future__ import annotations

import glob
import os
import re
import time
import uuid
from collections.abc import Callable, Sequence
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
from neurosig.core.host import usable_cores
from neurosig.core.validate import check_positive

__all__ = [
    "TaskResult",
    "map_pipeline",
    "map_tasks",
    "limit_threads",
    "THREAD_VARIABLES",
    "MemberResult",
    "SuiteResult",
    "run_suite",
]

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
    """The outcome of one recording.

    ``output`` is the last pipeline's output; ``outputs`` lists every pipeline's, in order (one for a
    pipeline, one per member for a suite).
    """

    input: str
    output: str
    status: Literal["done", "skipped", "failed"]
    attempts: int
    seconds: float
    error: str = ""
    outputs: list[str] = field(default_factory=list)


@dataclass
class _Task:
    members: list[str]  # each pipeline's YAML, paths resolved for this recording
    input: str
    outputs: list[str]
    retries: int


def _run_one(task: _Task) -> TaskResult:
    t0 = time.perf_counter()
    last = ""

    def result(status, attempt, error="") -> TaskResult:
        elapsed = time.perf_counter() - t0
        return TaskResult(task.input, task.outputs[-1], status, attempt, elapsed, error, list(task.outputs))

    for attempt in range(1, task.retries + 2):
        try:
            summaries = [build_pipeline(load_config(m)).run() for m in task.members]
            status = "skipped" if all(s.skipped for s in summaries) else "done"
            return result(status, attempt)
        except NeurosigError as err:  # the user's data or config: retrying will not help
            return result("failed", attempt, str(err))
        except Exception as err:  # noqa: BLE001 - a crash of one task must not end the map
            last = f"{type(err).__name__}: {err}"
    return result("failed", task.retries + 1, last)


def _members(config: PipelineConfig | SuiteConfig) -> list[PipelineConfig]:
    members = config.pipelines if isinstance(config, SuiteConfig) else [config]
    for m in members:
        if not isinstance(m, PipelineConfig) or m.sink is None or "path" not in m.sink.params:
            raise ConfigError(
                f"map_pipeline maps stream pipelines whose sink has a 'path' (hdf5, rvq_hdf5); "
                f"{m.name!r} is not one."
            )
    if "path" not in members[0].source.params:
        raise ConfigError("map_pipeline needs a pipeline whose source has a 'path' (e.g. type: file).")
    return members


def _desc(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", name) or "neurosig"


def _plan(
    config: PipelineConfig | SuiteConfig, inputs: list[Path], stems: list[Path], bids: bool, retries: int
) -> list[_Task]:
    """One task per recording: each member's YAML with its source, sink and report paths set.

    The first member reads the recording, each later member reads the output of the one before;
    every stage with a ``report_dir`` writes its report beside the outputs, named after them.
    """
    members = _members(config)
    single = isinstance(config, PipelineConfig) and not bids
    tasks = []
    for path, stem in zip(inputs, stems, strict=True):
        previous, yamls, outputs = str(path), [], []
        for m in members:
            raw = m.model_dump(exclude_none=True)
            if single:
                out = stem.with_name(stem.name + ".h5")
            else:
                out = stem.with_name(f"{stem.name}_desc-{_desc(m.name)}" + ("_eeg.h5" if bids else ".h5"))
            raw["source"]["path"] = previous
            if bids and previous == str(path) and raw["source"]["type"] == "file":
                raw["source"]["type"] = "bids"
            raw["sink"]["path"] = str(out)
            for stage in raw.get("stages", []):
                if "report_dir" in stage:
                    stage["report_dir"] = str(stem.parent)
                    stage["report_stem"] = f"{stem.name}_desc-{_desc(stage['type'])}"
            yamls.append(PipelineConfig.model_validate(raw).to_yaml())
            outputs.append(str(out))
            previous = str(out)
        tasks.append(_Task(yamls, str(path), outputs, retries))
    return tasks


def map_pipeline(
    config: PipelineConfig | SuiteConfig | str | Path,
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    executor: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    n_workers: int = 2,
    retries: int = 1,
    progress: bool = False,
    bids_root: str | Path | None = None,
    threads: int | None = None,
) -> list[TaskResult]:
    """Run a file-to-HDF5 pipeline (or a suite of them) on every input, one output each.

    Parameters
    ----------
    config : PipelineConfig | SuiteConfig | str | Path
        A stream pipeline whose source has a ``path`` and whose sink writes to a ``path`` (``hdf5``,
        ``rvq_hdf5``); or a suite of such pipelines, chained: the first reads the recording, each
        later one reads the output of the one before (e.g. cleaned epochs, then their tokens).
    inputs : sequence of path
        Recordings. A pipeline's output is ``out_dir / (input stem + ".h5")``; a suite member's is
        ``out_dir / (input stem + "_desc-MEMBER.h5")``. Stages with a ``report_dir`` write their
        reports beside the outputs, named ``STEM_desc-STAGE_report.*``.
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
        Extra attempts for a task that crashed (errors a user can fix are not retried). A task on a
        worker that dies is run again by Dask on another worker.
    progress : bool
        Show a progress bar over recordings.
    bids_root : path | None
        The inputs are recordings of this BIDS dataset (see :func:`neurosig.io.bids.find_recordings`):
        a ``file`` source becomes the ``bids`` source (sidecars read), and outputs go to their BIDS
        paths under ``out_dir`` with a ``desc-`` entity (``desc-MEMBER`` for a suite, the pipeline's
        name otherwise): ``OUT/sub-01/eeg/sub-01_task-rest_run-1_desc-clean_eeg.h5``.
    threads : int | None
        On Dask, compute threads per task (see :func:`map_tasks`); ``None``: the worker's cores
        shared between the worker threads on its host. The largest recordings (in bytes on disk) are
        started first, so that a short one, not a long one, ends the run.

    Returns
    -------
    list of TaskResult
        One per input, in input order. Failed tasks are reported, not raised.
    """
    if not isinstance(config, PipelineConfig | SuiteConfig):
        config = load_config(config)
    if not isinstance(config, PipelineConfig | SuiteConfig):
        raise ConfigError(f"{config.name!r} is a job; map_pipeline maps stream pipelines over recordings.")
    paths = [Path(p).resolve() for p in inputs]
    out_dir = Path(out_dir)
    if bids_root is not None:
        from neurosig.io.bids import derivative_stem

        stems = [derivative_stem(p, Path(bids_root).resolve(), out_dir) for p in paths]
    else:
        stems = [out_dir / p.stem for p in paths]
    if len(set(stems)) != len(stems):
        raise ConfigError("two inputs share a file name, so their outputs would collide; rename one.")
    tasks = _plan(config, paths, stems, bids_root is not None, retries)
    out_dir.mkdir(parents=True, exist_ok=True)
    cost = [_recording_bytes(p) for p in paths]
    return map_tasks(_run_one, tasks, executor, scheduler, n_workers, progress, cost=cost, threads=threads)


def _recording_bytes(path: Path) -> int:
    """Bytes on disk of a recording: its file and those beside it sharing its stem (BrainVision's
    ``.eeg`` and ``.vmrk`` beside the ``.vhdr``), a stand-in for how long it takes to process."""
    return sum(f.stat().st_size for f in path.parent.glob(f"{glob.escape(path.stem)}.*") if f.is_file())


#: The environment variables that size the thread pools of OpenMP, BLAS and numba at start-up.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """Hold this process's compute libraries to ``threads`` threads: torch's intra-op pool and every
    OpenMP and BLAS pool loaded so far (threadpoolctl).

    Libraries size their pools from the machine's cores, so two worker processes on two cores can run
    four compute threads that take turns; and a setting made once does not hold (torch's intra-op
    count of a Dask worker's task thread was seen back at 2 from its second recording on).
    """
    import threadpoolctl
    import torch

    threadpoolctl.threadpool_limits(threads)
    torch.set_num_threads(threads)


def _host_threads(nthreads: dict[str, int]) -> dict[str, int]:
    """Worker threads per host, from Dask's ``{worker address: threads}``."""
    from distributed.comm import get_address_host

    per_host: dict[str, int] = {}
    for address, n in nthreads.items():
        host = get_address_host(address)
        per_host[host] = per_host.get(host, 0) + n
    return per_host


def _on_worker(function: Callable[..., Any], threads: int | dict[str, int], task: Any, *extra: Any) -> Any:
    """Run one task on a Dask worker with its compute threads held to ``threads``, or, given worker
    threads per host, to this host's cores shared between them."""
    if isinstance(threads, dict):
        from distributed import get_worker
        from distributed.comm import get_address_host

        worker = get_worker()
        sharing = threads.get(get_address_host(worker.address), worker.state.nthreads)
        threads = max(1, usable_cores() // sharing)
    limit_threads(threads)
    return function(task, *extra)


def map_tasks(
    function: Callable[[Any], Any],
    tasks: Sequence[Any],
    executor: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    n_workers: int = 2,
    progress: bool = False,
    unit: str = "recording",
    shared: Any = None,
    cost: Sequence[float] | None = None,
    threads: int | None = None,
) -> list[Any]:
    """Apply ``function`` to every task, locally or on a Dask cluster; results in task order.

    ``function`` must be importable by the workers (a module-level function) and should report its
    own failures in its result: an exception it raises ends the map. With ``shared`` (e.g. a
    dataset every task reads), ``function(task, shared)`` is called, and Dask sends ``shared`` to
    each worker once. On Dask, a task whose worker dies is rerun on another worker; the dashboard's
    address is printed when the cluster has one.

    On Dask, tasks of higher ``cost`` (any measure of their size, one per task) start first; and
    every task runs with its compute libraries held to ``threads`` threads (:func:`limit_threads`),
    by default the worker's cores shared between the worker threads on its host: one each for two
    workers of one thread on two cores. A LocalCluster's workers also start with
    :data:`THREAD_VARIABLES` set to it. The local executor runs the tasks in order, as they are.
    """
    extra = () if shared is None else (shared,)
    if threads is not None:
        check_positive("threads", threads)
    if cost is not None and len(cost) != len(tasks):
        raise ValueError(f"map_tasks: {len(cost)} costs for {len(tasks)} tasks; give one per task.")
    if executor == "local":
        return [function(t, *extra) for t in tqdm(tasks, disable=not progress, unit=unit)]
    if executor != "dask":
        raise ConfigError(f"executor={executor!r} is not valid; choose 'local' or 'dask'.")
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError(
            "executor='dask' needs dask.distributed: pip install -c constraints.txt -e .[dask]"
        ) from None
    cluster: Any = None
    if scheduler is None:
        per_worker = threads or max(1, usable_cores() // n_workers)
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            dashboard_address=None,
            env=dict.fromkeys(THREAD_VARIABLES, str(per_worker)),
        )
    client = Client(scheduler or cluster)
    try:
        if "dashboard" in client.scheduler_info().get("services", {}):
            print(f"dask dashboard: {client.dashboard_link}")
        run = uuid.uuid4().hex[:8]
        if extra:
            extra = (client.scatter(shared, broadcast=True),)
        limit = threads or _host_threads(client.nthreads())
        # Costliest first, in submission as in priority (higher first), so that the first to arrive
        # at an idle worker is the costliest too; the sort is stable, so ties keep their order.
        order = sorted(range(len(tasks)), key=lambda i: -cost[i]) if cost is not None else range(len(tasks))
        submitted = {
            i: client.submit(
                _on_worker,
                function,
                limit,
                tasks[i],
                *extra,
                pure=False,
                key=f"neurosig-{run}-{i}",
                priority=len(tasks) - rank,
            )
            for rank, i in enumerate(order)
        }
        futures = [submitted[i] for i in range(len(tasks))]
        bar = tqdm(total=len(futures), disable=not progress, unit=unit)
        for _ in as_completed(futures):
            bar.update()
        bar.close()
        return [f.result() for f in futures]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
