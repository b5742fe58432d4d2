"""The ``bci_eval`` job: the whole decoding comparison from one YAML file.

::

    name: bci_eval
    job:
      type: bci_eval
      dataset: {type: eegbci, subjects: [1], runs: [4, 8, 12], path: ~/mne_data}
      pipelines: [csp_lda, ts_lr, eegnet, shallow]
      protocols: [within_subject]
      preprocessing: [{type: average_reference}]
      output: out/bci_eval

``neurosig run pipelines/bci_eval.yaml`` loads the dataset, makes the folds, evaluates every pipeline
on every fold (resuming finished folds), checks coverage and writes the report.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic

from neurosig._version import __version__
from neurosig.bci.evaluation import ResultStore, check_coverage, evaluate
from neurosig.bci.pipelines import BASELINES, PIPELINE_NAMES, make_pipeline
from neurosig.bci.protocols import PROTOCOLS, make_folds
from neurosig.bci.report import write_report
from neurosig.core.errors import ConfigError
from neurosig.core.registry import load
from neurosig.core.stage import Job
from neurosig.core.validate import check_option
from neurosig.data.dataset import EpochsSet, balance_classes
from neurosig.executor import map_tasks

__all__ = ["BCIEvaluation", "DATASETS", "load_dataset"]

#: Dataset ``type`` → ``"module:function"`` returning an EpochsSet (imported when used).
DATASETS: dict[str, str] = {
    "simulated": "neurosig.data.simulated:load_simulated",
    "eegbci": "neurosig.data.eegbci:load_eegbci",
    "local": "neurosig.data.local:load_local",
    "moabb": "neurosig.data.moabb_data:load_moabb",
}


def load_dataset(spec: dict[str, Any]) -> EpochsSet:
    """Load the dataset a job names: ``{"type": NAME, **params}`` with NAME in :data:`DATASETS`."""
    params = dict(spec)
    kind = params.pop("type", None)
    if kind is None:
        raise ConfigError(f"dataset needs a 'type'; choose one of {sorted(DATASETS)}.")
    check_option("dataset.type", kind, DATASETS)
    loader = load(DATASETS[kind], f"dataset {kind!r}")
    try:
        return loader(**params)
    except TypeError as err:
        raise ConfigError(f"dataset ({kind}): {err}; see the docstring of {DATASETS[kind]}.") from None


def _map_folds(function, tasks, shared, scheduler: str | None, n_workers: int, progress: bool) -> list:
    return map_tasks(function, tasks, "dask", scheduler, n_workers, progress, unit="task", shared=shared)


class BCIEvaluation(Job):
    """Compare decoders on motor-imagery data across protocols; write JSON, markdown and figures.

    Parameters
    ----------
    dataset : dict
        ``{"type": "simulated" | "eegbci" | "local" | "moabb", **loader parameters}``; the loader
        cuts the trials (window, continuous band-pass, resampling).
    pipelines : list of str
        Decoders to compare: ``csp_lda``, ``ts_lr``, ``shallow``, ``deep``, ``eegnet``,
        ``eegnet_fusion``, ``mi_eegnet``.
    protocols : list of str
        ``within_subject``, ``cross_session``, ``cross_subject``, ``transfer``.
    n_folds : int
        Folds per subject (within-subject and transfer).
    held_out : int
        Subjects held out together in cross-subject and transfer (1: leave one subject out; the
        paper holds out blocks of 10).
    seed : int
        Base seed of the folds, the class balancing and the networks.
    preprocessing : list of dict
        Steps fitted on each fold's training trials only (``average_reference``, ``standardize``,
        ``faster``), applied before every pipeline.
    training : dict
        Network training settings (``epochs``, ``batch_size``, ``lr``, ``validation``, ``patience``,
        ``model_options``, ``device``).
    balance : bool
        Randomly undersample each subject's classes to equal counts (seeded), as the paper does.
    output : str
        Output folder (fold records, report, figures).
    deterministic : bool
        Deterministic torch algorithms (on by default).
    figures : bool
        Draw the PNG figures.
    executor : {"local", "dask"}
        Where folds run: here, one after another, or on Dask (``scheduler``, or a LocalCluster of
        ``workers``). The results do not depend on it.
    scheduler : str | None
        Address of a running Dask scheduler (implies ``executor: dask``).
    workers : int
        LocalCluster workers when ``executor`` is ``dask`` without a scheduler.
    """

    name = "bci_eval"

    def __init__(
        self,
        dataset: dict[str, Any],
        pipelines: list[str] = list(PIPELINE_NAMES),  # noqa: B006 - pydantic copies defaults
        protocols: list[str] = ["within_subject"],  # noqa: B006
        n_folds: Annotated[int, pydantic.Field(ge=2)] = 5,
        held_out: Annotated[int, pydantic.Field(ge=1)] = 1,
        seed: int = 0,
        preprocessing: list[dict[str, Any]] = [],  # noqa: B006
        training: dict[str, Any] = {},  # noqa: B006
        balance: bool = True,
        output: str = "out/bci_eval",
        deterministic: bool = True,
        figures: bool = True,
        executor: Literal["local", "dask"] = "local",
        scheduler: str | None = None,
        workers: Annotated[int, pydantic.Field(ge=1)] = 2,
    ):
        self.dataset = dataset
        self.pipelines = pipelines
        self.protocols = protocols
        self.n_folds = n_folds
        self.held_out = held_out
        self.seed = seed
        self.preprocessing = preprocessing
        self.training = training
        self.balance = balance
        self.output = output
        self.deterministic = deterministic
        self.figures = figures
        self.executor = executor
        self.scheduler = scheduler
        self.workers = workers

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """Known pipelines and protocols, at least one of each."""
        for p in params["pipelines"]:
            check_option("pipelines", p, PIPELINE_NAMES)
        for p in params["protocols"]:
            check_option("protocols", p, PROTOCOLS)
        if not params["pipelines"] or not params["protocols"]:
            raise ConfigError("pipelines and protocols must each name at least one entry.")

    def config_id(self) -> str:
        """sha256 of the parameters that change results (not the output folder or figures)."""
        params = {
            k: v
            for k, v in self.get_params().items()
            if k not in ("output", "figures", "pipelines", "protocols", "executor", "scheduler", "workers")
        }
        return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()

    def run(self, progress: bool = False) -> dict[str, Any]:
        """Load, split, evaluate (resuming), check coverage, report.

        Returns
        -------
        dict
            Output paths (``results_json``, ``table_md``, ``figures``), the summary rows and
            ``{"computed": n, "resumed": n}`` fold counts.
        """
        data = load_dataset(self.dataset)
        if self.balance:
            data = balance_classes(data, self.seed)
        folds = [
            f for p in self.protocols for f in make_folds(data, p, self.n_folds, self.seed, self.held_out)
        ]

        def factory(name: str):
            return lambda seed: make_pipeline(
                name, data.sfreq, data.ch_names, self.preprocessing, self.training, seed, self.deterministic
            )

        pipes = {name: factory(name) for name in self.pipelines}
        mapper = None
        if self.executor == "dask" or self.scheduler:
            mapper = functools.partial(
                _map_folds, scheduler=self.scheduler, n_workers=self.workers, progress=progress
            )
        store = ResultStore(self.output)
        records, counts = evaluate(data, pipes, folds, store, self.config_id(), progress, mapper)
        check_coverage(
            records,
            folds,
            self.pipelines,
            skip=lambda protocol, pipeline: protocol == "transfer" and pipeline in BASELINES,
        )
        meta = {
            "neurosig_version": __version__,
            "job": {"type": self.name, **self.get_params()},
            "data": data.describe(),
            "data_sha256": data.fingerprint(),
            "channels": list(data.ch_names),
        }
        out = write_report(records, Path(self.output), meta, self.figures)
        return {**out, "folds": counts, "data": data.describe()}

    def headline(self, result: dict[str, Any]) -> str:
        """Mean accuracy of each pipeline per protocol (n subjects), and where the table is."""
        rows = [
            f"{r['pipeline']} {100 * r['accuracy']:.1f} %"
            + ("" if len(self.protocols) == 1 else f" ({r['protocol']})")
            + (" (at chance)" if r["accuracy"] <= r["chance_upper"] else "")
            for r in result["summary"]
        ]
        n = "/".join(map(str, sorted({r["n_subjects"] for r in result["summary"]})))
        return f"accuracy over {n} subjects: {', '.join(rows)}; table in {result['table_md']}"
