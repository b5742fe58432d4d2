"""Map one stream pipeline (or a chained suite of them) over many recordings: locally (default) or
on a Dask cluster; :func:`map_tasks` maps any module-level function the same way (e.g. BCI folds).

Each recording is one task that writes its own output atomically (``NAME.h5.partial`` then rename),
so a rerun skips finished recordings and a failed task can be retried without touching the others.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tqdm.auto import tqdm

from neurosig.core.config import PipelineConfig, SuiteConfig, build_pipeline, load_config
from neurosig.core.errors import ConfigError, NeurosigError

__all__ = ["TaskResult", "map_pipeline", "map_tasks"]


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
    return map_tasks(_run_one, tasks, executor, scheduler, n_workers, progress)


def map_tasks(
    function: Callable[[Any], Any],
    tasks: Sequence[Any],
    executor: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    n_workers: int = 2,
    progress: bool = False,
    unit: str = "recording",
    shared: Any = None,
) -> list[Any]:
    """Apply ``function`` to every task, locally or on a Dask cluster; results in task order.

    ``function`` must be importable by the workers (a module-level function) and should report its
    own failures in its result: an exception it raises ends the map. With ``shared`` (e.g. a
    dataset every task reads), ``function(task, shared)`` is called, and Dask sends ``shared`` to
    each worker once. On Dask, a task whose worker dies is rerun on another worker; the dashboard's
    address is printed when the cluster has one.
    """
    extra = () if shared is None else (shared,)
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
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, dashboard_address=None)
    client = Client(scheduler or cluster)
    try:
        if "dashboard" in client.scheduler_info().get("services", {}):
            print(f"dask dashboard: {client.dashboard_link}")
        run = uuid.uuid4().hex[:8]
        if extra:
            extra = (client.scatter(shared, broadcast=True),)
        futures = [
            client.submit(function, t, *extra, pure=False, key=f"neurosig-{run}-{i}")
            for i, t in enumerate(tasks)
        ]
        bar = tqdm(total=len(futures), disable=not progress, unit=unit)
        for _ in as_completed(futures):
            bar.update()
        bar.close()
        return [f.result() for f in futures]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
