"""Map one stream pipeline over many recordings: locally (default) or on a Dask cluster.

Each recording is one task that writes its own output exclusively and atomically (see
:mod:`neurosig.core.persist`), so a rerun skips finished recordings and a failed task can be retried
without touching the others.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tqdm.auto import tqdm

from neurosig.core.config import PipelineConfig, build_pipeline, load_config
from neurosig.core.errors import ConfigError, NeurosigError

__all__ = ["TaskResult", "map_pipeline"]


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
