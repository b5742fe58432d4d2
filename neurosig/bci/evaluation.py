"""Run pipelines over protocol folds: resumable, seeded per fold, with a coverage check.

:func:`evaluate` works on any scikit-learn estimators; :class:`~neurosig.jobs.bci_eval.BCIEvaluation` is the
YAML job on top of it. Each finished fold is written at once to its own JSON file
(``folds/PROTOCOL/PIPELINE/SUBJECT/foldK.json``) through a temporary file and an atomic rename, with a
hash of everything that determines it (data fingerprint, configuration, train and test trials). A
rerun reuses a fold only when its hash matches, so a changed dataset or configuration is recomputed,
never silently reported. :func:`check_coverage` refuses to report unless every subject × fold ×
pipeline of the run is present.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from neurosig.bci.metrics import fold_metrics
from neurosig.bci.protocols import Fold
from neurosig.core.errors import DataError, FormatError
from neurosig.core.persist import write_text
from neurosig.data.dataset import EpochsSet

__all__ = ["ResultStore", "evaluate", "check_coverage", "supports_transfer", "fold_hash"]

#: A pipeline factory: fold seed → a fresh, unfitted scikit-learn estimator.
Factory = Callable[[int], Any]


def supports_transfer(estimator: Any) -> bool:
    """Whether the estimator (or a pipeline's last step) can ``fine_tune`` after pretraining."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    return hasattr(final, "fine_tune")


def fold_hash(config_id: str, fingerprint: str, pipeline: str, fold: Fold) -> str:
    """sha256 identifying one fold's result: configuration, data, pipeline, protocol, trials."""
    h = hashlib.sha256(f"{config_id}|{fingerprint}|{pipeline}|{fold.protocol}|{fold.seed}".encode())
    for part in (fold.train, fold.test, fold.pretrain if fold.pretrain is not None else np.empty(0)):
        h.update(np.asarray(part, dtype=np.int64).tobytes())
    return h.hexdigest()


class ResultStore:
    """One JSON file per finished fold under ``root/folds``.

    Parameters
    ----------
    root : str | Path
        Output folder of the evaluation.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, protocol: str, pipeline: str, subject: str, index: int) -> Path:
        """Where one fold's record lives."""
        return self.root / "folds" / protocol / pipeline / str(subject) / f"fold{index}.json"

    def load(self, protocol: str, pipeline: str, subject: str, index: int, digest: str) -> dict | None:
        """The stored record when it exists and its hash matches, else ``None``."""
        path = self.path(protocol, pipeline, subject, index)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise FormatError(
                f"corrupt fold record ({err}); delete the file to recompute it.", path=path
            ) from None
        return record if record.get("hash") == digest else None

    def save(self, record: dict[str, Any]) -> Path:
        """Write a record exclusively and atomically (see :mod:`neurosig.core.persist`)."""
        path = self.path(record["protocol"], record["pipeline"], record["subject"], record["fold"])
        return write_text(path, json.dumps(record))


def _quiet():
    import mne

    return mne.utils.use_log_level("error")


def _digest(rows: np.ndarray | None) -> str:
    return "" if rows is None else hashlib.sha256(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest()


def _model_key(pipeline: str, fold: Fold) -> tuple[str, int, str]:
    """What a fold's fitted model depends on: pipeline, seed and training (or pretraining) trials."""
    if fold.protocol == "transfer":
        return pipeline, fold.seed - fold.index, _digest(fold.pretrain)
    return pipeline, fold.seed, _digest(fold.train)


def _serial(function: Callable, tasks: Sequence[Any], shared: Any, progress: bool = False) -> list[Any]:
    """Run the fold groups one after another; the bar counts folds and shows their mean accuracy so far."""
    results, accuracies = [], []
    with tqdm(
        total=sum(len(group[2]) for group in tasks), unit="fold", disable=not progress, desc="folds"
    ) as bar:
        for task in tasks:
            results.append(function(task, shared))
            accuracies += [record["metrics"]["accuracy"] for record in results[-1]]
            bar.set_postfix(mean_accuracy=f"{np.mean(accuracies):.3f}", refresh=False)
            bar.update(len(results[-1]))
    return results


def _fit_predict(
    factory: Factory,
    data: EpochsSet,
    fold: Fold,
    cache: dict[tuple, Any],
    pipeline: str,
) -> tuple[np.ndarray, float, float]:
    """Fit (or reuse the model fitted on the very same trials and seed), then predict the test fold.

    Folds that share their training trials (subjects of one held-out block; transfer folds of one
    subject, which share the pretraining) reuse one fitted model; only the latest is kept in memory.
    """
    t0 = time.perf_counter()
    with _quiet():
        key = _model_key(pipeline, fold)
        if fold.protocol == "transfer":
            if key not in cache:
                cache.clear()
                cache[key] = factory(key[1]).fit(data.X[fold.pretrain], data.y[fold.pretrain])
            est = copy.deepcopy(cache[key])
            steps = [step for _, step in est.steps] if hasattr(est, "steps") else [est]
            X_train = data.X[fold.train]
            for step in steps[:-1]:  # preprocessing stays as fitted on the pretraining subjects
                X_train = step.transform(X_train)
            steps[-1].fine_tune(X_train, data.y[fold.train])
        else:
            if key not in cache:
                cache.clear()
                cache[key] = factory(fold.seed).fit(data.X[fold.train], data.y[fold.train])
            est = cache[key]
        t1 = time.perf_counter()
        y_pred = np.asarray(est.predict(data.X[fold.test])).astype(str)
    return y_pred, t1 - t0, time.perf_counter() - t1


def _fold_record(
    factory: Factory, data: EpochsSet, fold: Fold, cache: dict[tuple, Any], name: str, digest: str
) -> dict[str, Any]:
    y_pred, fit_s, pred_s = _fit_predict(factory, data, fold, cache, name)
    y_true = data.y[fold.test]
    return {
        "protocol": fold.protocol,
        "pipeline": name,
        "subject": fold.subject,
        "fold": fold.index,
        "seed": fold.seed,
        "n_train": len(fold.train),
        "n_test": len(fold.test),
        "classes": data.classes,
        "y_true": y_true.tolist(),
        "y_pred": y_pred.tolist(),
        "metrics": fold_metrics(y_true, y_pred, data.classes),
        "fit_seconds": fit_s,
        "predict_seconds": pred_s,
        "hash": digest,
    }


def _run_group(
    group: tuple[str, Factory, list[tuple[Fold, str]], ResultStore | None], data: EpochsSet
) -> list:
    """Fit and score one group of folds that share their fitted model; save each record at once."""
    name, factory, folds, store = group
    cache: dict[tuple, Any] = {}
    records = []
    for fold, digest in folds:
        record = _fold_record(factory, data, fold, cache, name, digest)
        if store is not None:
            store.save(record)
        records.append(record)
    return records


def evaluate(
    data: EpochsSet,
    pipelines: Mapping[str, Factory],
    folds: Sequence[Fold],
    store: ResultStore | None = None,
    config_id: str = "",
    progress: bool = False,
    mapper: Callable[[Callable, Sequence[Any], Any], list[Any]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Evaluate every pipeline on every fold (resuming from ``store``).

    Parameters
    ----------
    data : EpochsSet
        The trials.
    pipelines : mapping of str to callable
        Name → factory that returns a fresh estimator for a fold seed.
    folds : sequence of Fold
        From :func:`~neurosig.bci.protocols.make_folds`. Pipelines that cannot ``fine_tune`` are
        skipped on ``transfer`` folds.
    store : ResultStore | None
        Where finished folds are saved and resumed from; ``None`` keeps them in memory only.
    config_id : str
        Anything that identifies the configuration (part of each fold's hash).
    progress : bool
        Show a progress bar over the folds still to compute (serial runs).
    mapper : callable | None
        ``mapper(function, tasks, shared)`` returns ``[function(t, shared) for t in tasks]``,
        possibly in other processes (e.g. :func:`neurosig.executor.map_tasks` on a Dask cluster,
        which ships ``shared``, the data, once per worker); ``None`` runs here, one task after
        another. A task is the folds of one pipeline that share a fitted model, and each fold's
        record is saved to ``store`` as soon as it is computed, so an interrupted run resumes.

    Returns
    -------
    records : list of dict
        One per (pipeline, fold), in protocol, pipeline, fold order: labels, predictions, metrics,
        timings, hash.
    counts : dict
        ``{"computed": n, "resumed": n}``.
    """
    fingerprint = data.fingerprint()
    slots: list[dict[str, Any] | None] = []
    groups: list[tuple[str, Factory, list[tuple[Fold, str]], ResultStore | None]] = []
    where: list[list[int]] = []
    protocols = list(dict.fromkeys(f.protocol for f in folds))
    for protocol in protocols:
        pfolds = [f for f in folds if f.protocol == protocol]
        for name, factory in pipelines.items():
            if protocol == "transfer" and not supports_transfer(factory(0)):
                continue
            last_key = None
            for fold in pfolds:
                digest = fold_hash(config_id, fingerprint, name, fold)
                record = store.load(protocol, name, fold.subject, fold.index, digest) if store else None
                slots.append(record)
                if record is not None:
                    continue
                key = _model_key(name, fold)
                if key != last_key:  # folds that share a fitted model run in one task
                    groups.append((name, factory, [], store))
                    where.append([])
                    last_key = key
                groups[-1][2].append((fold, digest))
                where[-1].append(len(slots) - 1)
    counts = {"computed": sum(len(g[2]) for g in groups), "resumed": sum(r is not None for r in slots)}
    mapper = mapper or functools.partial(_serial, progress=progress)
    for indices, records in zip(where, mapper(_run_group, groups, data), strict=True):
        for i, record in zip(indices, records, strict=True):
            slots[i] = record
    return slots, counts


def check_coverage(
    records: Sequence[dict[str, Any]],
    folds: Sequence[Fold],
    pipelines: Sequence[str],
    skip: Callable[[str, str], bool] = lambda protocol, pipeline: False,
) -> None:
    """Refuse to report unless every subject × fold × pipeline is present exactly once.

    Parameters
    ----------
    records : sequence of dict
        The fold records.
    folds : sequence of Fold
        The folds that were asked for.
    pipelines : sequence of str
        The pipelines that were asked for.
    skip : callable
        ``skip(protocol, pipeline)`` is true for combinations not evaluated on purpose (baselines on
        ``transfer``).

    Raises
    ------
    DataError
        Listing the missing (and unexpected or duplicated) entries.
    """
    expected = {
        (f.protocol, p, f.subject, f.index) for f in folds for p in pipelines if not skip(f.protocol, p)
    }
    seen = [(r["protocol"], r["pipeline"], str(r["subject"]), int(r["fold"])) for r in records]
    missing = sorted(expected - set(seen))
    extra = sorted(set(seen) - expected)
    dupes = sorted({k for k in seen if seen.count(k) > 1})
    if missing or extra or dupes:
        parts = []
        for label, items in (("missing", missing), ("unexpected", extra), ("duplicated", dupes)):
            if items:
                shown = ", ".join("/".join(map(str, k)) for k in items[:10])
                more = f" and {len(items) - 10} more" if len(items) > 10 else ""
                parts.append(f"{len(items)} {label} (protocol/pipeline/subject/fold): {shown}{more}")
        raise DataError(
            "coverage check failed, no report written: "
            + "; ".join(parts)
            + ". Rerun the evaluation to compute the missing folds."
        )
