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
        if fold.protocol == "transfer":
            base_seed = fold.seed - fold.index
            key = (pipeline, base_seed, _digest(fold.pretrain))
            if key not in cache:
                cache.clear()
                cache[key] = factory(base_seed).fit(data.X[fold.pretrain], data.y[fold.pretrain])
            est = copy.deepcopy(cache[key])
            steps = [step for _, step in est.steps] if hasattr(est, "steps") else [est]
            X_train = data.X[fold.train]
            for step in steps[:-1]:  # preprocessing stays as fitted on the pretraining subjects
                X_train = step.transform(X_train)
            steps[-1].fine_tune(X_train, data.y[fold.train])
        else:
            key = (pipeline, fold.seed, _digest(fold.train))
            if key not in cache:
                cache.clear()
                cache[key] = factory(fold.seed).fit(data.X[fold.train], data.y[fold.train])
            est = cache[key]
        t1 = time.perf_counter()
        y_pred = np.asarray(est.predict(data.X[fold.test])).astype(str)
    return y_pred, t1 - t0, time.perf_counter() - t1


def evaluate(
    data: EpochsSet,
    pipelines: Mapping[str, Factory],
    folds: Sequence[Fold],
    store: ResultStore | None = None,
    config_id: str = "",
    progress: bool = False,
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
        Show a progress bar per protocol and pipeline.

    Returns
    -------
    records : list of dict
        One per (pipeline, fold): labels, predictions, metrics, timings, hash.
    counts : dict
        ``{"computed": n, "resumed": n}``.
    """
    fingerprint = data.fingerprint()
    records, counts = [], {"computed": 0, "resumed": 0}
    protocols = list(dict.fromkeys(f.protocol for f in folds))
    for protocol in protocols:
        pfolds = [f for f in folds if f.protocol == protocol]
        for name, factory in pipelines.items():
            if protocol == "transfer" and not supports_transfer(factory(0)):
                continue
            cache: dict[tuple, Any] = {}
            bar = tqdm(pfolds, desc=f"{protocol}/{name}", unit="fold", disable=not progress)
            accuracies = []
            for fold in bar:
                digest = fold_hash(config_id, fingerprint, name, fold)
                record = store.load(protocol, name, fold.subject, fold.index, digest) if store else None
                if record is None:
                    record = _new_record(factory, data, fold, cache, name, digest)
                    if store is not None:
                        store.save(record)
                    counts["computed"] += 1
                else:
                    counts["resumed"] += 1
                records.append(record)
                accuracies.append(record["metrics"]["accuracy"])
                bar.set_postfix(mean_accuracy=f"{np.mean(accuracies):.3f}")
    return records, counts


def _new_record(factory, data, fold, cache, name, digest) -> dict[str, Any]:
    """Fit and predict one fold; its record with labels, predictions, metrics and timings."""
    y_pred, fit_s, pred_s = _fit_predict(factory, data, fold, cache, name)
    y_true, classes = data.y[fold.test], data.classes
    return {
        "protocol": fold.protocol, "pipeline": name, "subject": fold.subject, "fold": fold.index,
        "seed": fold.seed, "n_train": len(fold.train), "n_test": len(fold.test),
        "classes": classes, "y_true": y_true.tolist(), "y_pred": y_pred.tolist(),
        "metrics": fold_metrics(y_true, y_pred, classes),
        "fit_seconds": fit_s, "predict_seconds": pred_s, "hash": digest,
    }  # fmt: skip


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
