"""MOABB datasets (BCI Competition IV 2a, PhysioNet MI, ...) as an :class:`EpochsSet`, when installed.

MOABB downloads into MNE's data folders (``MNE_DATASETS_<SIGN>_PATH``, default ``~/mne_data``) and
caches there; offline, a dataset whose files are absent fails with an error that says so. Trials come
from a MOABB paradigm, so its band-pass (``fmin``–``fmax``) and window apply; each MOABB session is kept
as a session of its subject.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.data.dataset import EpochsSet

__all__ = ["load_moabb"]


def _moabb():
    try:
        import moabb.datasets
        import moabb.paradigms
    except ImportError:
        raise ConfigError(
            "MOABB datasets need moabb; install it with `pip install -c constraints.txt moabb` "
            "(or the [anchors] extra)."
        ) from None
    return moabb.datasets, moabb.paradigms


def load_moabb(
    dataset: str = "BNCI2014_001",
    paradigm: str = "LeftRightImagery",
    subjects: Sequence[int] | None = None,
    fmin: float = 1.0,
    fmax: float = 45.0,
    tmin: float = 0.0,
    tmax: float | None = None,
    resample: float | None = None,
    dataset_options: dict | None = None,
) -> EpochsSet:
    """Load a MOABB dataset through a MOABB paradigm.

    Parameters
    ----------
    dataset : str
        A class name in ``moabb.datasets`` (``"BNCI2014_001"`` is BCI Competition IV 2a,
        ``"PhysionetMI"`` the PhysioNet motor-imagery set).
    paradigm : str
        A class name in ``moabb.paradigms`` (``"LeftRightImagery"``, ``"MotorImagery"``).
    subjects : list of int | None
        Subjects to load; ``None`` for all of the dataset's subjects.
    fmin, fmax : float
        The paradigm's band-pass in Hz.
    tmin, tmax : float | None
        Window relative to the cue, in seconds (``tmax=None``: the dataset's trial length).
    resample : float | None
        New sampling rate in Hz.
    dataset_options : dict | None
        Keyword arguments for the dataset class (e.g. ``{"imagined": True}``).
    """
    datasets, paradigms = _moabb()
    ds_cls = getattr(datasets, dataset, None)
    pa_cls = getattr(paradigms, paradigm, None)
    if ds_cls is None or pa_cls is None:
        which = dataset if ds_cls is None else paradigm
        raise ConfigError(
            f"moabb has no dataset or paradigm named {which!r}; see moabb.datasets / "
            "moabb.paradigms for the names."
        )
    ds = ds_cls(**(dataset_options or {}))
    pa = pa_cls(fmin=fmin, fmax=fmax, tmin=tmin, tmax=tmax, resample=resample)
    try:
        epochs, labels, meta = pa.get_data(
            ds, subjects=list(subjects) if subjects else None, return_epochs=True
        )
    except Exception as err:  # noqa: BLE001 - download and file errors come in many types
        raise DataError(
            f"MOABB could not load {dataset} subjects {subjects} ({type(err).__name__}: {err}); offline, "
            f"place its files under MNE_DATASETS_{getattr(ds, 'code', dataset).upper()}_PATH (or "
            "~/mne_data) as MOABB lays them out, or run once with the network."
        ) from None
    X = epochs.get_data(copy=False)
    n = min(len(X), len(labels))
    subject = np.array([f"{dataset}-{s}" for s in meta["subject"]])[:n]
    return EpochsSet(
        X[:n],
        np.asarray(labels)[:n],
        subject,
        np.asarray(meta["session"]).astype(str)[:n],
        float(epochs.info["sfreq"]),
        tuple(epochs.ch_names),
        tmin,
    )
