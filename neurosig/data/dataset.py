"""Labelled trials of many subjects in one container, and how to cut them from recordings.

Every dataset adapter in :mod:`neurosig.data` returns an :class:`EpochsSet`: trials
``(n_trials, n_channels, n_times)`` in volts with a label, a subject and a session per trial. The
protocols in :mod:`neurosig.bci.protocols` split it by those columns.

Cutting trials from a continuous recording (:func:`epochs_from_raw`) filters and resamples each
recording on its own and uses no labels, so it cannot leak information between folds; everything
fitted on data (FASTER, standardisation, the classifier) runs inside the evaluated pipeline on the
training folds only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_option

__all__ = ["EpochsSet", "epochs_from_raw", "concat_sets", "balance_classes"]


@dataclass(frozen=True, eq=False)
class EpochsSet:
    """Trials of one or more subjects.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Trials in volts, float32.
    y : ndarray of str, shape (n_trials,)
        Class label of each trial.
    subject : ndarray of str, shape (n_trials,)
        Subject of each trial.
    session : ndarray of str, shape (n_trials,)
        Session of each trial (within its subject).
    sfreq : float
        Sampling rate in Hz.
    ch_names : tuple of str
        Channel names.
    tmin : float
        Time of each trial's first sample relative to its cue, in seconds.
    """

    X: np.ndarray
    y: np.ndarray
    subject: np.ndarray
    session: np.ndarray
    sfreq: float
    ch_names: tuple[str, ...]
    tmin: float = 0.0

    def __post_init__(self):
        X = np.asarray(self.X, dtype=np.float32)
        if X.ndim != 3:
            raise DataError(f"EpochsSet.X must be (n_trials, n_channels, n_times), got shape {X.shape}.")
        object.__setattr__(self, "X", X)
        for name in ("y", "subject", "session"):
            col = np.asarray(getattr(self, name)).astype(str)
            if col.shape != (len(X),):
                raise DataError(f"EpochsSet.{name} has shape {col.shape}; expected ({len(X)},).")
            object.__setattr__(self, name, col)
        object.__setattr__(self, "ch_names", tuple(self.ch_names))
        if len(self.ch_names) != X.shape[1]:
            raise DataError(f"{X.shape[1]} channels in X but {len(self.ch_names)} channel names.")

    @property
    def subjects(self) -> list[str]:
        """Subjects in order of first appearance."""
        return list(dict.fromkeys(self.subject.tolist()))

    @property
    def classes(self) -> list[str]:
        """Sorted class labels."""
        return sorted(set(self.y.tolist()))

    @property
    def n_times(self) -> int:
        """Samples per trial."""
        return self.X.shape[2]

    def subset(self, index: np.ndarray) -> EpochsSet:
        """The trials at ``index`` (integer positions or a boolean mask)."""
        return EpochsSet(
            self.X[index],
            self.y[index],
            self.subject[index],
            self.session[index],
            self.sfreq,
            self.ch_names,
            self.tmin,
        )

    def fingerprint(self) -> str:
        """sha256 of the trials, labels, subjects, sessions and sampling rate (to detect stale results)."""
        h = hashlib.sha256()
        for part in (self.X, self.y, self.subject, self.session):
            h.update(np.ascontiguousarray(part).tobytes())
        h.update(f"{self.sfreq}|{','.join(self.ch_names)}".encode())
        return h.hexdigest()

    def describe(self) -> str:
        """One line: trials, channels, samples, classes and counts, subjects."""
        counts = {c: int(np.sum(self.y == c)) for c in self.classes}
        return (
            f"{len(self.X)} trials × {len(self.ch_names)} channels × {self.n_times} samples at "
            f"{self.sfreq:g} Hz; classes {counts}; {len(self.subjects)} subject(s)"
        )


def epochs_from_raw(
    raw,
    event_map: Mapping[str, str],
    tmin: float = 0.0,
    tmax: float = 4.0,
    l_freq: float | None = None,
    h_freq: float | None = None,
    resample: float | None = None,
    picks: str | Sequence[str] = "eeg",
) -> tuple[np.ndarray, np.ndarray, float, list[str]]:
    """Cut labelled trials from one annotated recording.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        A continuous recording (volts) with annotations at the cues.
    event_map : mapping of str to str
        Annotation description → class label (e.g. ``{"T1": "left", "T2": "right"}``); other
        annotations are ignored.
    tmin, tmax : float
        Window of each trial relative to its cue, in seconds; ``tmax`` is excluded, so a trial holds
        ``round((tmax - tmin) * sfreq)`` samples.
    l_freq, h_freq : float | None
        Zero-phase Butterworth (order 5) band in Hz applied to the continuous recording, or ``None``.
    resample : float | None
        New sampling rate in Hz, or ``None``.
    picks : str | list of str
        Channels to keep (an MNE channel type or names).

    Returns
    -------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Trials in volts.
    y : ndarray of str
        Labels.
    sfreq : float
        Sampling rate in Hz.
    ch_names : list of str
        Channel names.

    Raises
    ------
    DataError
        When no annotation matches ``event_map``, or the window is longer than the trials or runs
        past the end of the recording.
    """
    import mne

    if not tmax > tmin:
        raise ConfigError(f"tmax={tmax} s must be after tmin={tmin} s.")
    found = {a["description"]: a["duration"] for a in raw.annotations}
    present = [d for d in event_map if d in found]
    if not present:
        raise DataError(
            f"the recording has annotations {sorted(found)} but the event map expects "
            f"{sorted(event_map)}; pass an event_map that names its cues."
        )
    trial_len = min(float(a["duration"]) for a in raw.annotations if a["description"] in event_map)
    if trial_len > 0 and tmax > trial_len + 1e-9:
        raise DataError(
            f"the window ends {tmax:g} s after the cue but the trials last {trial_len:g} s; lower tmax "
            f"to at most {trial_len:g} s."
        )
    raw = raw.copy().load_data(verbose="error").pick(picks)
    if l_freq is not None or h_freq is not None:
        raw.filter(
            l_freq,
            h_freq,
            method="iir",
            iir_params={"order": 5, "ftype": "butter"},
            phase="zero",
            verbose="error",
        )
    if resample is not None:
        raw.resample(resample, verbose="error")
    sfreq = float(raw.info["sfreq"])
    n_times = int(round((tmax - tmin) * sfreq))
    events, ids = mne.events_from_annotations(
        raw, event_id={d: i + 1 for i, d in enumerate(present)}, verbose="error"
    )
    epochs = mne.Epochs(
        raw,
        events,
        ids,
        tmin=tmin,
        tmax=tmin + (n_times - 1) / sfreq,
        baseline=None,
        preload=True,
        reject_by_annotation=False,
        verbose="error",
    )
    if len(epochs) < len(events):
        raise DataError(
            f"{len(events) - len(epochs)} of {len(events)} trials run past the recording's edges for the "
            f"window [{tmin:g}, {tmax:g}) s; shorten the window."
        )
    inverse = {v: k for k, v in epochs.event_id.items()}
    y = np.array([event_map[inverse[code]] for code in epochs.events[:, 2]])
    return epochs.get_data(copy=False).astype(np.float32), y, sfreq, list(epochs.ch_names)


def concat_sets(sets: Sequence[EpochsSet], on_mismatch: str = "common") -> EpochsSet:
    """Join trials of several subjects or sessions into one set.

    Parameters
    ----------
    sets : sequence of EpochsSet
        The parts; they must share sampling rate and window length.
    on_mismatch : {"common", "raise"}
        When channel sets differ: keep the channels all parts share (in the first part's order), or
        raise.
    """
    check_option("on_mismatch", on_mismatch, ["common", "raise"])
    if not sets:
        raise DataError("no trials to join; the dataset selection is empty.")
    first = sets[0]
    for s in sets[1:]:
        if s.sfreq != first.sfreq or s.n_times != first.n_times:
            raise DataError(
                f"parts differ in sampling rate or window ({s.sfreq:g} Hz × {s.n_times} vs "
                f"{first.sfreq:g} Hz × {first.n_times}); resample and use one window for all."
            )
    common = [c for c in first.ch_names if all(c in s.ch_names for s in sets)]
    if any(s.ch_names != first.ch_names for s in sets):
        if on_mismatch == "raise":
            differ = sorted({c for s in sets for c in s.ch_names} - set(common))
            raise DataError(
                f"channel sets differ between subjects (not shared: {differ}); pass "
                "on_mismatch='common' to keep the shared channels."
            )
        if not common:
            raise DataError("the subjects share no channel; check the channel names of each dataset.")
    parts = [s.X[:, [s.ch_names.index(c) for c in common]] for s in sets]
    return EpochsSet(
        np.concatenate(parts),
        np.concatenate([s.y for s in sets]),
        np.concatenate([s.subject for s in sets]),
        np.concatenate([s.session for s in sets]),
        first.sfreq,
        tuple(common),
        first.tmin,
    )


def balance_classes(data: EpochsSet, seed: int = 0) -> EpochsSet:
    """Randomly undersample each subject's classes to its rarest class's count (seeded)."""
    rng = np.random.default_rng(seed)
    keep = []
    for subject in data.subjects:
        rows = np.flatnonzero(data.subject == subject)
        labels = data.y[rows]
        n = min(int(np.sum(labels == c)) for c in np.unique(labels))
        for c in np.unique(labels):
            keep.append(np.sort(rng.choice(rows[labels == c], n, replace=False)))
    return data.subset(np.sort(np.concatenate(keep)))
