"""Evaluation protocols: which trials train and which test, fold by fold.

================== ==================================================================================
protocol           folds
================== ==================================================================================
within_subject     per subject, stratified k-fold over its trials (seeded)
cross_session      per subject with several sessions, leave one session out
cross_subject      leave one subject (or a block of ``held_out`` subjects) out: train on the others,
                   test on every trial of each held-out subject
transfer           per subject and fold: pretrain on the subjects outside its block, fine-tune on the
                   subject's training folds (the within-subject folds), test on its test fold
================== ==================================================================================

Folds are plain index arrays into an :class:`~neurosig.data.dataset.EpochsSet`, so any estimator can be
evaluated on them. Every fold carries its own seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_option
from neurosig.data.dataset import EpochsSet

__all__ = ["Fold", "PROTOCOLS", "make_folds"]

PROTOCOLS = ("within_subject", "cross_session", "cross_subject", "transfer")


@dataclass(frozen=True, eq=False)
class Fold:
    """One train/test split.

    Attributes
    ----------
    protocol : str
        The protocol that made it.
    subject : str
        The evaluated (test) subject.
    index : int
        Fold number within the subject.
    train, test : ndarray of int
        Trial positions in the dataset.
    pretrain : ndarray of int | None
        Trials of the other subjects used for pretraining (``transfer`` only).
    seed : int
        Seed for everything random in this fold.
    """

    protocol: str
    subject: str
    index: int
    train: np.ndarray
    test: np.ndarray
    pretrain: np.ndarray | None
    seed: int

    @property
    def key(self) -> tuple[str, str, int]:
        """``(protocol, subject, index)``."""
        return self.protocol, self.subject, self.index


def _check_trials(data: EpochsSet, rows: np.ndarray, n_folds: int, subject: str) -> None:
    labels, counts = np.unique(data.y[rows], return_counts=True)
    if len(labels) < 2:
        raise DataError(
            f"subject {subject!r} has trials of one class only ({labels.tolist()}); a decoder needs two. "
            "Check the event mapping or drop the subject."
        )
    if counts.min() < n_folds:
        raise DataError(
            f"subject {subject!r} has {counts.min()} trials of class {labels[counts.argmin()]!r}, fewer "
            f"than n_folds={n_folds}; every fold needs a test trial of each class. Lower n_folds or add "
            "runs."
        )


def _blocks(data: EpochsSet, held_out: int, seed: int) -> list[list[str]]:
    """Subjects in held-out blocks: one subject each, or shuffled (seeded) blocks of ``held_out``."""
    subjects = data.subjects
    if held_out < 1:
        raise ConfigError(f"held_out must be >= 1 subject, got {held_out}.")
    if held_out >= len(subjects):
        raise DataError(
            f"held_out={held_out} leaves no subject to train on ({len(subjects)} subjects); lower it."
        )
    if held_out > 1:
        subjects = list(np.random.default_rng(seed).permutation(subjects))
    return [subjects[i : i + held_out] for i in range(0, len(subjects), held_out)]


def _within(data: EpochsSet, n_folds: int, seed: int, protocol: str, held_out: int) -> list[Fold]:
    folds = []
    pretrain_of = {}
    if protocol == "transfer":
        if len(data.subjects) < 2:
            raise DataError("the transfer protocol needs at least two subjects (one to pretrain on).")
        for block in _blocks(data, held_out, seed):
            others = np.flatnonzero(~np.isin(data.subject, block))
            pretrain_of.update(dict.fromkeys(block, others))
    for s, subject in enumerate(data.subjects):
        rows = np.flatnonzero(data.subject == subject)
        _check_trials(data, rows, n_folds, subject)
        cv = StratifiedKFold(n_folds, shuffle=True, random_state=seed + s)
        for k, (tr, te) in enumerate(cv.split(rows, data.y[rows])):
            folds.append(
                Fold(protocol, subject, k, rows[tr], rows[te], pretrain_of.get(subject), seed + 1000 * s + k)
            )
    return folds


def _cross_session(data: EpochsSet, seed: int) -> list[Fold]:
    folds = []
    for s, subject in enumerate(data.subjects):
        rows = np.flatnonzero(data.subject == subject)
        sessions = list(dict.fromkeys(data.session[rows].tolist()))
        if len(sessions) < 2:
            continue
        for k, session in enumerate(sessions):
            test = rows[data.session[rows] == session]
            train = rows[data.session[rows] != session]
            _check_trials(data, train, 1, subject)
            folds.append(Fold("cross_session", subject, k, train, test, None, seed + 1000 * s + k))
    if not folds:
        raise DataError("cross_session needs subjects with at least two sessions; this dataset has none.")
    return folds


def _cross_subject(data: EpochsSet, seed: int, held_out: int) -> list[Fold]:
    if len(data.subjects) < 2:
        raise DataError("cross_subject needs at least two subjects; this dataset has one.")
    folds = []
    for b, block in enumerate(_blocks(data, held_out, seed)):
        train = np.flatnonzero(~np.isin(data.subject, block))
        _check_trials(data, train, 1, f"all but {block}")
        for subject in block:  # one model per block: every subject of the block shares the seed
            test = np.flatnonzero(data.subject == subject)
            folds.append(Fold("cross_subject", subject, 0, train, test, None, seed + 1000 * b))
    return folds


def make_folds(
    data: EpochsSet, protocol: str, n_folds: int = 5, seed: int = 0, held_out: int = 1
) -> list[Fold]:
    """All folds of one protocol over a dataset.

    Parameters
    ----------
    data : EpochsSet
        The trials.
    protocol : str
        One of :data:`PROTOCOLS`.
    n_folds : int
        Folds per subject (``within_subject`` and ``transfer``).
    seed : int
        Base seed; each fold gets its own seed derived from it.
    held_out : int
        Subjects held out together in ``cross_subject`` and ``transfer`` (1: leave one subject out;
        the comparison paper holds out blocks of 10, drawn by ``seed``).

    Raises
    ------
    DataError
        When a subject has one class only or fewer trials per class than folds, or the protocol needs
        more subjects or sessions than the dataset has.
    """
    check_option("protocol", protocol, PROTOCOLS)
    if n_folds < 2:
        raise ConfigError(f"n_folds must be at least 2, got {n_folds}.")
    if protocol in ("within_subject", "transfer"):
        return _within(data, n_folds, seed, protocol, held_out)
    if protocol == "cross_session":
        return _cross_session(data, seed)
    return _cross_subject(data, seed, held_out)
