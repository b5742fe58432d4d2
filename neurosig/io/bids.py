"""BIDS in and out, with mne-bids: find a dataset's EEG recordings, stream one with its sidecars,
and lay outputs out as a BIDS-derivatives dataset.

- :func:`find_recordings` lists the EEG recordings of a BIDS root (``mne_bids.find_matching_paths``),
  filtered by subjects, sessions, tasks and runs.
- :class:`BIDSFileSource` (``bids``) is the ``file`` source over one recording of a BIDS dataset,
  read by ``mne_bids.read_raw_bids``: channel types and bad channels come from ``channels.tsv``
  (bad channels are left out of the stream, and named in the provenance), markers from
  ``events.tsv``. Reading stays lazy.
- :func:`derivative_stem` places an output at its recording's BIDS path under a derivatives root;
  :func:`write_derivative_description` writes that root's ``dataset_description.json``
  (``DatasetType: derivative``, ``GeneratedBy`` neurosig with its version and the pipeline YAML).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from neurosig._version import __version__
from neurosig.core import persist
from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.io.eeg import EEGFileSource, check_edf_header

__all__ = [
    "BIDS_EXTENSIONS",
    "BIDSFileSource",
    "find_recordings",
    "derivative_stem",
    "write_derivative_description",
]

#: The raw EEG formats BIDS allows.
BIDS_EXTENSIONS = (".edf", ".bdf", ".vhdr", ".set")


def _mne_bids():
    try:
        import mne_bids
    except ImportError:
        raise ConfigError("BIDS input needs mne-bids: pip install -c constraints.txt -e '.[bids]'") from None
    return mne_bids


def _as_list(values: Sequence[str] | str | None) -> list[str] | None:
    if values is None:
        return None
    return [values] if isinstance(values, str) else [str(v) for v in values]


def find_recordings(
    root: str | Path,
    subjects: Sequence[str] | None = None,
    sessions: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    runs: Sequence[str] | None = None,
) -> list[Path]:
    """The EEG recordings of a BIDS dataset, sorted by path.

    Parameters
    ----------
    root : str | Path
        The BIDS root (the folder with ``dataset_description.json``).
    subjects, sessions, tasks, runs : sequence of str | None
        Entity values to keep (without the ``sub-`` prefix); ``None`` keeps all.

    Returns
    -------
    list of Path
        The recordings' data files (``.edf``, ``.bdf``, ``.vhdr`` or ``.set``); files under
        ``derivatives/`` or ``sourcedata/`` are not recordings.

    Raises
    ------
    DataError
        If ``root`` is not a folder, or no recording matches.
    """
    mne_bids = _mne_bids()
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"BIDS root {root} is not a folder; pass the folder with dataset_description.json.")
    found = mne_bids.find_matching_paths(
        root,
        subjects=_as_list(subjects),
        sessions=_as_list(sessions),
        tasks=_as_list(tasks),
        runs=_as_list(runs),
        datatypes="eeg",
        suffixes="eeg",
        extensions=list(BIDS_EXTENSIONS),
    )
    paths = sorted(
        Path(p.fpath)
        for p in found
        if Path(p.fpath).relative_to(root).parts[0] not in ("derivatives", "sourcedata")
    )
    if not paths:
        wanted = {"subjects": subjects, "sessions": sessions, "tasks": tasks, "runs": runs}
        chosen = ", ".join(f"{k}={list(v)}" for k, v in wanted.items() if v) or "no filter"
        raise DataError(
            f"no EEG recording (sub-*/[ses-*/]eeg/*_eeg{{{','.join(BIDS_EXTENSIONS)}}}) in BIDS root "
            f"{root} with {chosen}; check the root and the entity values (without 'sub-' etc.)."
        )
    return paths


def derivative_stem(recording: str | Path, bids_root: str | Path, out_root: str | Path) -> Path:
    """Where a recording's outputs go under a derivatives root, without the ``_desc-…`` part.

    ``ROOT/sub-01/ses-1/eeg/sub-01_ses-1_task-rest_run-1_eeg.vhdr`` gives
    ``OUT/sub-01/ses-1/eeg/sub-01_ses-1_task-rest_run-1``; append ``_desc-NAME_eeg.h5``.
    """
    recording = Path(recording)
    rel = recording.parent.relative_to(Path(bids_root))
    entities = recording.name.rsplit("_", 1)[0]  # drop the "_eeg.EXT" suffix
    return Path(out_root) / rel / entities


def write_derivative_description(out_root: str | Path, pipeline_yaml: str, bids_root: str | Path) -> Path:
    """Write ``OUT/dataset_description.json`` of a BIDS-derivatives dataset made by neurosig.

    Parameters
    ----------
    out_root : str | Path
        The derivatives folder (created).
    pipeline_yaml : str
        The pipeline that made the outputs, recorded in ``GeneratedBy``.
    bids_root : str | Path
        The raw dataset, recorded in ``SourceDatasets``.

    Returns
    -------
    Path
        The description file.
    """
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    description = {
        "Name": f"neurosig derivatives of {Path(bids_root).resolve().name}",
        "BIDSVersion": "1.9.0",
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "neurosig",
                "Version": __version__,
                "Description": "neurosig stream pipeline; its YAML is in PipelineYAML",
                "PipelineYAML": pipeline_yaml,
            }
        ],
        "SourceDatasets": [{"URL": Path(bids_root).resolve().as_uri()}],
    }
    return persist.write_text(out_root / "dataset_description.json", json.dumps(description, indent=2) + "\n")


class BIDSFileSource(EEGFileSource):
    """Stream one recording of a BIDS dataset with its sidecars (the ``file`` source, BIDS-aware).

    Parameters
    ----------
    path : str
        The recording's data file inside a BIDS dataset (``sub-*/[ses-*/]eeg/*_eeg.EXT``).
    chunk_duration : float
        Seconds per chunk (the last chunk may be shorter).
    picks : str | list of str
        MNE picks among the good channels: ``"data"`` (the default), ``"eeg"``, or names.

    Notes
    -----
    Channel types and bad channels come from ``channels.tsv``; bad channels are left out of the
    stream and listed under ``bads`` in :meth:`describe` (so in every output's provenance). Events
    from ``events.tsv`` become markers (their ``trial_type`` is the description). mne-bids' warnings
    about channels without positions are silenced: positions come from the template montage later.
    """

    name: ClassVar[str] = "bids"
    _exclude: ClassVar[str] = "bads"

    def _read_raw(self):
        mne_bids = _mne_bids()
        path = Path(self.path)
        if path.suffix.lower() in (".edf", ".bdf") and path.is_file():
            check_edf_header(path)
        try:
            bids_path = mne_bids.get_bids_path_from_fname(path)
        except Exception as err:  # noqa: BLE001 - mne-bids raises several types for a bad name
            raise FormatError(
                f"not a BIDS file name ({err}); give sub-*/[ses-*/]eeg/sub-*_..._eeg.EXT", path=path
            ) from None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                return mne_bids.read_raw_bids(bids_path, verbose="error")
            except FileNotFoundError as err:
                raise DataError(f"{path}: {err}; is this file inside a BIDS dataset?") from None
            except Exception as err:  # noqa: BLE001 - MNE and mne-bids raise many types
                raise FormatError(f"mne-bids cannot read this recording: {err}", path=path) from None

    def describe(self) -> dict[str, Any]:
        """Provenance: the path, its sha256, the picks and the bad channels from ``channels.tsv``."""
        raw = self._read_raw()
        return {**super().describe(), "bads": list(raw.info["bads"])}
