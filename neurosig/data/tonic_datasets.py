"""tonic's event datasets (N-MNIST, DVS Gesture, SHD, ...) with a local root and an offline error.

tonic downloads a dataset whenever its files are missing. Here a dataset is built from a local root
only: when the files are not there, a :class:`~neurosig.core.errors.DataError` names the files tonic
looks for, the folder they belong in, and where to get them (from the manifest in ``datasets/`` when
there is one), instead of a network attempt. Samples are tonic's own; :func:`as_events` converts them
to the suite's events dtype.

Example
-------
>>> ds = tonic_dataset("nmnist", "~/data", train=False)   # doctest: +SKIP
>>> events, label = ds[0]
>>> chunk_events = as_events(events)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import did_you_mean
from neurosig.io.events import as_events

__all__ = ["TONIC_DATASETS", "tonic_dataset", "as_events"]

#: Short names → (tonic class name, manifest name in ``datasets/`` or None).
TONIC_DATASETS: dict[str, tuple[str, str | None]] = {
    "nmnist": ("NMNIST", "nmnist"),
    "dvs_gesture": ("DVSGesture", "dvs_gesture"),
    "shd": ("SHD", "shd"),
    "ssc": ("SSC", None),
    "ncaltech101": ("NCALTECH101", None),
    "pokerdvs": ("POKERDVS", None),
    "cifar10dvs": ("CIFAR10DVS", None),
}


def _missing(ds: Any) -> list[str]:
    """The files and folders that tonic looks for and that are absent."""
    root = Path(ds.location_on_system)
    wanted = [getattr(ds, a, None) for a in ("filename", "train_zip", "test_zip", "folder_name")]
    names = [w for w in dict.fromkeys(wanted) if isinstance(w, str) and w]
    return [str(root / n) for n in names if not (root / n).exists()] or [str(root)]


def _offline_message(ds: Any, manifest: str | None) -> str:
    where = f"{ds.location_on_system}"
    source = getattr(ds, "url", None) or getattr(ds, "base_url", None) or "the dataset's publisher"
    text = (
        f"{type(ds).__name__} is not under {where}: missing {', '.join(_missing(ds))}. neurosig does "
        f"not download at run time: get the archive from {source}, put it (and its unpacked folder) "
        f"there, then pass root={str(Path(where).parent)!r}."
    )
    if manifest is not None:
        from neurosig.data.manifest import load_manifest

        m = load_manifest(manifest)
        text += f" Manifest datasets/{manifest}.yaml: layout {m.layout}; licence {m.licence}."
    return text


def _offline_class(cls: type, manifest: str | None) -> type:
    """A subclass of a tonic dataset whose ``download`` raises instead of fetching."""

    def download(self) -> None:
        raise DataError(_offline_message(self, manifest))

    # tonic names the dataset's folder after the class, so the subclass keeps the name
    return type(cls.__name__, (cls,), {"download": download, "__module__": __name__})


def tonic_dataset(name: str, root: str | Path, **kwargs: Any):
    """Build a tonic dataset from files already under ``root``, never downloading.

    Parameters
    ----------
    name : str
        One of :data:`TONIC_DATASETS` (``"nmnist"``, ``"dvs_gesture"``, ``"shd"``, ...).
    root : str | Path
        The folder that holds tonic's per-dataset folder (e.g. ``ROOT/NMNIST/``).
    **kwargs
        Passed to the tonic class (``train=``, ``transform=``, ...).

    Returns
    -------
    tonic.Dataset
        tonic's dataset; ``ds[i]`` gives ``(events, target)`` in tonic's layout.

    Raises
    ------
    ConfigError
        If ``name`` is unknown.
    DataError
        If the files are not there (naming them and where to get them), or tonic is not installed.
    """
    if name not in TONIC_DATASETS:
        valid = sorted(TONIC_DATASETS)
        hint = did_you_mean(name, valid)
        raise ConfigError(f"unknown tonic dataset {name!r}; choose one of {valid}.{hint}")
    try:
        import tonic.datasets
    except ImportError:
        raise DataError("tonic is not installed: pip install -c constraints.txt tonic") from None
    class_name, manifest = TONIC_DATASETS[name]
    cls = _offline_class(getattr(tonic.datasets, class_name), manifest)
    return cls(save_to=str(Path(root).expanduser()), **kwargs)
