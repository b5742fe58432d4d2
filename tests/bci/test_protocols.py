"""Folds: disjoint, complete, stratified, seeded; bad datasets fail clearly."""

from __future__ import annotations

import numpy as np
import pytest

from neurosig.bci.protocols import PROTOCOLS, make_folds
from neurosig.core.errors import ConfigError, DataError


def test_within_subject_folds_partition_each_subject_and_are_stratified(trials):
    folds = make_folds(trials, "within_subject", n_folds=3, seed=0)
    assert len(folds) == 3 * len(trials.subjects)
    for subject in trials.subjects:
        fs = [f for f in folds if f.subject == subject]
        tests = np.concatenate([f.test for f in fs])
        rows = np.flatnonzero(trials.subject == subject)
        np.testing.assert_array_equal(np.sort(tests), rows)  # every trial tested exactly once
        for f in fs:
            assert not set(f.train) & set(f.test)
            assert set(trials.subject[f.train]) == {subject}
            labels, counts = np.unique(trials.y[f.test], return_counts=True)
            assert counts.max() - counts.min() <= 1 and len(labels) == 2
    assert len({f.seed for f in folds}) == len(folds)


def test_folds_are_reproducible_and_depend_on_the_seed(trials):
    a = make_folds(trials, "within_subject", 3, seed=0)
    b = make_folds(trials, "within_subject", 3, seed=0)
    c = make_folds(trials, "within_subject", 3, seed=1)
    assert all(np.array_equal(x.test, y.test) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x.test, y.test) for x, y in zip(a, c, strict=True))


def test_cross_subject_leaves_one_subject_out(trials):
    for f in make_folds(trials, "cross_subject"):
        assert set(trials.subject[f.test]) == {f.subject}
        assert f.subject not in set(trials.subject[f.train])
        assert len(f.train) + len(f.test) == len(trials.y)


def test_cross_session_leaves_one_session_out(trials):
    folds = make_folds(trials, "cross_session")
    assert len(folds) == 4  # two subjects × two sessions
    for f in folds:
        assert len(set(trials.session[f.test])) == 1
        assert not set(trials.session[f.test]) & set(trials.session[f.train])
        assert set(trials.subject[np.concatenate([f.train, f.test])]) == {f.subject}


def test_transfer_pretrains_on_other_subjects_and_reuses_within_subject_splits(trials):
    within = make_folds(trials, "within_subject", 3, seed=0)
    transfer = make_folds(trials, "transfer", 3, seed=0)
    for w, t in zip(within, transfer, strict=True):
        np.testing.assert_array_equal(w.test, t.test)
        np.testing.assert_array_equal(w.train, t.train)
        assert t.subject not in set(trials.subject[t.pretrain])
        assert w.seed == t.seed


def test_bad_datasets_fail_clearly(trials):
    one_class = trials.subset(trials.y == "left")
    with pytest.raises(DataError, match="one class"):
        make_folds(one_class, "within_subject", 3)
    few = trials.subset(np.flatnonzero(trials.subject == "s0")[:6])
    with pytest.raises(DataError, match="fewer than n_folds"):
        make_folds(few, "within_subject", 5)
    single = trials.subset(trials.subject == "s0")
    with pytest.raises(DataError, match="two subjects"):
        make_folds(single, "cross_subject")
    with pytest.raises(DataError, match="two subjects"):
        make_folds(single, "transfer", 3)
    with pytest.raises(DataError, match="two sessions"):
        make_folds(single.subset(single.session == "a"), "cross_session")
    with pytest.raises(ConfigError, match="choose one of"):
        make_folds(trials, "loso")
    with pytest.raises(ConfigError, match="n_folds"):
        make_folds(trials, "within_subject", 1)
    assert "within_subject" in PROTOCOLS


def test_held_out_blocks_share_training_trials_and_seed(trial_factory):
    data = trial_factory(n_subjects=5, n_trials=8)
    folds = make_folds(data, "cross_subject", seed=3, held_out=2)
    assert sorted(f.subject for f in folds) == sorted(data.subjects)
    by_seed: dict[int, list] = {}
    for f in folds:
        by_seed.setdefault(f.seed, []).append(f)
    assert sorted(len(v) for v in by_seed.values()) == [1, 2, 2]
    for block in by_seed.values():
        held = {f.subject for f in block}
        for f in block:
            np.testing.assert_array_equal(f.train, block[0].train)
            assert not held & set(data.subject[f.train])
    transfer = make_folds(data, "transfer", 2, seed=3, held_out=2)
    for f in transfer:
        block = next(v for v in by_seed.values() if f.subject in {g.subject for g in v})
        np.testing.assert_array_equal(f.pretrain, block[0].train)
    with pytest.raises(DataError, match="leaves no subject"):
        make_folds(data, "cross_subject", held_out=5)
