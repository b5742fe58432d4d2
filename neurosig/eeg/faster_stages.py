"""FASTER as pipeline stages over an :class:`~neurosig.core.chunks.EpochsChunk` stream.

- :class:`Faster` (``faster``): offline. Gathers the whole epochs stream, runs the four steps of
  :func:`neurosig.eeg.faster.run_faster` at the end, and emits the kept, cleaned epochs as one chunk.
- :class:`FasterOnline` (``faster_online``): causal. Calibrates channel and epoch statistics on the
  first ``calibration_epochs`` epochs, then judges and repairs every epoch on its own against the
  frozen calibration, so each epoch leaves as soon as it arrives (after the calibration window).

The rejection log is a side output: both stages keep it in their ``report`` / ``log`` attribute after
the stream ends and, with ``report_dir``, write ``STEM_report.json`` (every score, z-score and
decision), ``STEM_report.md`` (a summary table) and, offline, ``STEM_report.png`` there. Dropped epochs
can also be recognised in the output by their missing ``onsets``.

Channel positions for the spherical-spline interpolation come from MNE's template 10-05 montage,
matched case-insensitively and ignoring trailing dots (EDF labels such as ``"Fc5."``). The offline
stage checks them on the first chunk, before any work, and names every EEG channel that has none.
Channels typed EEG but named like EOG (``EOG1``, ``VEOG``, ``HEOG``: EEGLAB files often carry them
so) are treated as EOG by default, and the report says so.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pydantic

from neurosig.core.chunks import EpochsChunk, EpochsInfo, concat_chunks
from neurosig.core.errors import DataError
from neurosig.core.stage import Stage
from neurosig.core.validate import check_finite
from neurosig.eeg import faster as F
from neurosig.eeg.faster_metrics import PROFILES, channel_in_epoch_metrics, epoch_metrics
from neurosig.eeg.faster_report import FasterReport

__all__ = ["Faster", "FasterOnline", "mne_info"]

logger = logging.getLogger(__name__)
_MNE_TYPES = {"eeg", "eog", "ecg", "emg", "misc", "stim", "resp", "bio"}


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def eog_named(info: EpochsInfo) -> list[str]:
    """Channels typed EEG whose names say EOG (``EOG1``, ``VEOG``, ``HEOG``, ``EOG L``, ...)."""
    return [c for c, t in zip(info.ch_names, info.ch_types, strict=True) if t == "eeg" and "eog" in _norm(c)]


def _template(montage: str | None = None) -> dict[str, Any]:
    """The positions of a named MNE built-in montage (``None``: the 10-05 template)."""
    import mne

    from neurosig.core.validate import check_option
    from neurosig.eeg.montage import standard_montage

    if montage is None:
        return standard_montage().get_positions()
    check_option("montage", montage, mne.channels.get_builtin_montages())
    return mne.channels.make_standard_montage(montage).get_positions()


def _template_lookup(montage: str | None = None) -> dict[str, Any]:
    return {_norm(k): v for k, v in _template(montage)["ch_pos"].items()}


def mne_info(info: EpochsInfo, as_eog: Iterable[str] = (), montage: str | None = None) -> Any:
    """An :class:`mne.Info` for an epochs stream, with template positions for its EEG channels.

    Parameters
    ----------
    info : EpochsInfo
        The stream's description.
    as_eog : iterable of str
        Channels to type as EOG whatever the stream says (see :func:`eog_named`).
    montage : str | None
        MNE built-in montage whose positions the EEG channels get by name (``None``: the 10-05
        template).

    Returns
    -------
    mne_info : mne.Info
        Channel types as in the stream (unknown ones become ``misc``); EEG channels whose names are
        in the 10-05 template get its positions (others get none, and cannot be interpolated).
    """
    import mne

    as_eog = set(as_eog)
    types = [
        "eog" if c in as_eog else t if t in _MNE_TYPES else "misc"
        for c, t in zip(info.ch_names, info.ch_types, strict=True)
    ]
    out = mne.create_info(list(info.ch_names), info.sfreq, types)
    template = _template(montage)
    lookup = _template_lookup(montage)
    ch_pos = {
        c: lookup[_norm(c)]
        for c, t in zip(info.ch_names, types, strict=True)
        if t == "eeg" and _norm(c) in lookup
    }
    if ch_pos:
        montage = mne.channels.make_dig_montage(
            ch_pos=ch_pos,
            nasion=template["nasion"],
            lpa=template["lpa"],
            rpa=template["rpa"],
            coord_frame="head",
        )
        out.set_montage(montage, on_missing="ignore", verbose="error")
    return out


def _check_band(band: tuple[float, float] | None, sfreq: float) -> tuple[float, float]:
    if band is None:
        return (0.0, sfreq / 2.0)
    if not 0 <= band[0] < band[1] <= sfreq / 2.0:
        raise DataError(
            f"band={list(band)} Hz must satisfy 0 <= low < high <= Nyquist ({sfreq / 2:g} Hz); "
            "give the pass band of the filter before FASTER."
        )
    return tuple(band)


class Faster(Stage):
    """Offline FASTER over a whole epochs stream (the four steps, then interpolation).

    Holds every epoch until the end of the stream (its memory grows with the stream; use
    :class:`FasterOnline` for unbounded streams), then emits one chunk of the kept, cleaned epochs.

    Parameters
    ----------
    metrics : {"paper", "mne-faster"}
        Metric profile (see :mod:`neurosig.eeg.faster`).
    threshold : float
        ``|z|`` threshold of every step (standard deviations).
    max_iter : int | None
        Passes of the outlier rule (default: the profile's, 1).
    ica : bool
        Run step 3 (ICA; seeded by ``random_state``).
    n_components : int | None
        ICA components (default: as many as good channels).
    ica_method : {"infomax", "fastica", "picard"}
        ICA algorithm.
    random_state : int
        ICA seed, written in the report.
    band : [float, float] | None
        Pass band in Hz of the data, for the spectral slope of step 3 (default: 0 to Nyquist).
    reference : str | None
        Reference electrode for the distance correction (``None``: average/linked reference).
    interpolate : bool
        Interpolate bad channels (step 1 everywhere, step 4 per epoch). Every EEG channel then needs
        a 10-05 name; the first chunk is checked before any work.
    montage : str | None
        MNE built-in montage (``mne.channels.get_builtin_montages()``, e.g. ``biosemi64``) that
        places the EEG channels by name for interpolation; ``None``: the 10-05 template.
    eog_by_name : bool
        Treat channels typed EEG but named like EOG (``EOG1``, ``VEOG``, ``HEOG``) as EOG channels:
        not scored as EEG, and used by step 3's EOG metric. The report's step-1 notes say so.
    report_dir : str | None
        Folder for ``STEM_report.json/.md/.png``; ``None`` keeps the report only in :attr:`report`.
    report_stem : str
        File-name stem of the report files.
    """

    name = "faster"
    accepts = (EpochsChunk,)

    def __init__(
        self,
        metrics: Literal["paper", "mne-faster"] = "paper",
        threshold: Annotated[float, pydantic.Field(gt=0)] = 3.0,
        max_iter: Annotated[int, pydantic.Field(ge=1)] | None = None,
        ica: bool = True,
        n_components: Annotated[int, pydantic.Field(ge=3)] | None = None,
        ica_method: Literal["infomax", "fastica", "picard"] = "infomax",
        random_state: int = 0,
        band: tuple[float, float] | None = None,
        reference: str | None = None,
        interpolate: bool = True,
        montage: str | None = None,
        eog_by_name: bool = True,
        report_dir: str | None = None,
        report_stem: str = "faster",
    ):
        self.metrics = metrics
        self.threshold = threshold
        self.max_iter = max_iter
        self.ica = ica
        self.n_components = n_components
        self.ica_method = ica_method
        self.random_state = random_state
        self.band = band
        self.reference = reference
        self.interpolate = interpolate
        self.montage = montage
        self.eog_by_name = eog_by_name
        self.report_dir = report_dir
        self.report_stem = report_stem
        self.reset()

    def reset(self) -> None:
        """Forget the gathered epochs and the last report."""
        self._chunks: list[EpochsChunk] = []
        self.report: FasterReport | None = None

    def side_output(self) -> dict[str, Any] | None:
        """The rejection log (every score, z-score and decision), stored with the output."""
        return None if self.report is None else self.report.to_dict()

    def _as_eog(self, info: EpochsInfo) -> list[str]:
        return eog_named(info) if self.eog_by_name else []

    def _check_positions(self, info: EpochsInfo) -> None:
        """Refuse, before any work, EEG channels that interpolation could not place."""
        if not self.interpolate:
            return
        as_eog, lookup = set(self._as_eog(info)), _template_lookup(self.montage)
        missing = [
            c
            for c, t in zip(info.ch_names, info.ch_types, strict=True)
            if t == "eeg" and c not in as_eog and _norm(c) not in lookup
        ]
        if missing:
            raise DataError(
                f"FASTER interpolates bad channels from their scalp positions, but the EEG channels "
                f"{missing} have no position: their names are not in the {self.montage or '10-05'} "
                "montage. If they are "
                f"not scalp channels, type them in the source (YAML: source.ch_types: {{{missing[0]}: "
                "eog}, or misc) or leave them out with source.picks; if they are, name the montage "
                "they follow (stages.faster.montage, e.g. biosemi64); or set interpolate: false."
            )

    def _process(self, chunk: EpochsChunk) -> Iterable[EpochsChunk]:
        if self._chunks and chunk.info != self._chunks[0].info:
            raise DataError("Faster got epochs of two different streams; run one stream per pipeline.")
        if not self._chunks:
            self._check_positions(chunk.info)
        if chunk.n_epochs:
            self._chunks.append(chunk)
        return ()

    def _flush(self) -> Iterable[EpochsChunk]:
        if not self._chunks:
            return
        import mne

        whole = concat_chunks(self._chunks)
        self._chunks = []
        info = whole.info
        band = _check_band(self.band, info.sfreq)
        as_eog = self._as_eog(info)
        epochs = mne.EpochsArray(
            whole.data.astype(np.float64),
            mne_info(info, as_eog, self.montage),
            tmin=info.tmin,
            baseline=None,
            verbose="error",
        )
        clean, report = F.run_faster(
            epochs,
            metrics=self.metrics,
            threshold=self.threshold,
            max_iter=self.max_iter,
            ica=self.ica,
            n_components=self.n_components,
            ica_method=self.ica_method,
            random_state=self.random_state,
            band=band,
            reference=self.reference,
            interpolate=self.interpolate,
        )
        if as_eog and "channels" in report.steps:
            report.steps["channels"].notes.append(
                f"{', '.join(as_eog)}: typed EEG but named like EOG, so treated as EOG (not scored as EEG; "
                "step 3's EOG metric uses them); eog_by_name: false keeps them as EEG"
            )
        self.report = report
        if self.report_dir is not None:
            report.save(self.report_dir, self.report_stem)
        kept = np.array(report.kept_epochs, dtype=int)
        yield EpochsChunk(
            clean.get_data().astype(np.float32),
            info,
            whole.onsets[kept],
            tuple(whole.labels[i] for i in kept),
            0,
        )


class FasterOnline(Stage):
    """Causal FASTER: calibrate on the first epochs, then flag and repair each epoch as it arrives.

    Calibration (the first ``calibration_epochs`` epochs of the stream, or all of a shorter stream at
    its end) runs steps 1 and 2 offline: it fixes the bad channels, the channel means and, from the
    epochs it keeps, the centre and spread of every epoch metric. Every epoch, calibration epochs
    included, is then judged alone: its epoch metrics are z-scored against the calibration, and its
    channels against each other (step 4); bad epochs are dropped (or kept, with ``drop=False``) and
    the step-1 and step-4 channels of kept epochs are interpolated. No ICA (step 3) runs online.

    Epochs that are constant on every channel (amplifier drop-outs) are dropped without scoring and
    logged as ``"constant"``.

    Parameters
    ----------
    calibration_epochs : int
        Epochs in the calibration window (at least 5; 30+ recommended).
    metrics : {"paper", "mne-faster"}
        Metric profile.
    threshold : float
        ``|z|`` threshold (standard deviations).
    max_iter : int | None
        Passes of the outlier rule in calibration and step 4 (default: the profile's, 1).
    drop : bool
        Drop bad epochs (``True``) or pass them on repaired.
    interpolate : bool
        Interpolate bad channels.
    report_dir : str | None
        Folder for ``STEM_report.json`` (calibration and per-epoch log) and ``STEM_report.md``.
    report_stem : str
        File-name stem of the report files.
    """

    name = "faster_online"
    accepts = (EpochsChunk,)

    def __init__(
        self,
        calibration_epochs: Annotated[int, pydantic.Field(ge=5)] = 30,
        metrics: Literal["paper", "mne-faster"] = "paper",
        threshold: Annotated[float, pydantic.Field(gt=0)] = 3.0,
        max_iter: Annotated[int, pydantic.Field(ge=1)] | None = None,
        drop: bool = True,
        interpolate: bool = True,
        report_dir: str | None = None,
        report_stem: str = "faster_online",
    ):
        self.calibration_epochs = calibration_epochs
        self.metrics = metrics
        self.threshold = threshold
        self.max_iter = max_iter
        self.drop = drop
        self.interpolate = interpolate
        self.report_dir = report_dir
        self.report_stem = report_stem
        self.reset()

    def reset(self) -> None:
        """Forget the calibration, the buffered epochs and the log."""
        self._buffer: list[EpochsChunk] = []
        self._calib: dict[str, Any] | None = None
        self._cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._n_seen = 0
        self.log: list[dict[str, Any]] = []
        self.calibration: dict[str, Any] = {}

    # -- calibration ---------------------------------------------------------------------------
    def _calibrate(self, whole: EpochsChunk) -> None:
        info = whole.info
        profile = PROFILES[self.metrics]
        self._mne_info = mne_info(info)
        eeg = [i for i, t in enumerate(info.ch_types) if t == "eeg"]
        names = [info.ch_names[i] for i in eeg]
        data = whole.data[:, eeg].astype(np.float64)
        live = np.ptp(data, axis=2).max(axis=1) > 0
        if live.sum() < 3:
            raise DataError(
                f"FasterOnline needs at least 3 non-constant epochs to calibrate, got {int(live.sum())}; "
                "raise calibration_epochs or check the recording."
            )
        data = data[live]
        channels = F.find_bad_channels(data, info.sfreq, names, profile, self.threshold, self.max_iter)
        good = [eeg[j] for j in np.flatnonzero(~channels.bad)]
        good_data = whole.data[live][:, good].astype(np.float64)
        epochs = F.find_bad_epochs(good_data, None, profile, self.threshold, self.max_iter)
        keep = ~epochs.bad
        scores = epoch_metrics(good_data[keep], profile)
        center, spread = {}, {}
        for m, s in scores.items():
            center[m] = float(np.median(s) if profile.center == "median" else np.mean(s))
            spread[m] = float(np.std(s, ddof=profile.ddof)) if len(s) > profile.ddof else 0.0
        self._calib = {
            "good": good,
            "bad_channels": [info.ch_names[eeg[j]] for j in np.flatnonzero(channels.bad)],
            "channel_means": good_data[keep].mean(axis=(0, 2)),
            "center": center,
            "spread": spread,
        }
        self.calibration = {
            "n_epochs": int(len(whole.data)),
            "bad_channels": self._calib["bad_channels"],
            "center": center,
            "spread": spread,
            "channels": channels.to_dict(),
        }

    # -- judging -------------------------------------------------------------------------------
    def _judge(self, chunk: EpochsChunk) -> EpochsChunk | None:
        info = chunk.info
        profile = PROFILES[self.metrics]
        c = self._calib
        good = c["good"]
        data = chunk.data.astype(np.float64)
        x = data[:, good]
        constant = np.ptp(x, axis=2).max(axis=1) == 0
        bad_epoch = constant.copy()
        z_epoch = {m: np.zeros(len(x)) for m in c["center"]}
        cells = np.zeros((len(x), len(good)), dtype=bool)
        live = np.flatnonzero(~constant)
        if len(live):
            scores = epoch_metrics(x[live], profile, channel_means=c["channel_means"])
            for m, s in scores.items():
                sd = c["spread"][m]
                z = (s - c["center"][m]) / sd if sd > 0 else np.zeros_like(s)
                z_epoch[m][live] = z
                bad_epoch[live] |= np.abs(z) > self.threshold
            per_cell = channel_in_epoch_metrics(
                x[live], info.sfreq, profile, channel_means=c["channel_means"]
            )
            for s in per_cell.values():
                flags, _ = F.find_outliers(
                    s, self.threshold, self.max_iter or 1, profile.center, profile.ddof
                )
                cells[live] |= flags
        bad_names = c["bad_channels"]
        out = data.copy()
        keep = ~bad_epoch if self.drop else np.ones(len(x), dtype=bool)
        for k in range(len(x)):
            fixed = [info.ch_names[good[j]] for j in np.flatnonzero(cells[k])]
            if self.interpolate and keep[k] and not constant[k] and (bad_names or fixed):
                out[k] = self._repair(out[k], [*bad_names, *fixed])
            self.log.append(
                {
                    "epoch": self._n_seen + k,
                    "onset": float(chunk.onsets[k]),
                    "bad": bool(bad_epoch[k]),
                    "constant": bool(constant[k]),
                    "z": {m: float(z_epoch[m][k]) for m in z_epoch},
                    "interpolated": fixed if keep[k] else [],
                }
            )
        self._n_seen += len(x)
        idx = np.flatnonzero(keep)
        if not len(idx):
            return None
        return EpochsChunk(
            out[idx].astype(np.float32), info, chunk.onsets[idx], tuple(chunk.labels[i] for i in idx), 0
        )

    def _repair(self, epoch: np.ndarray, bads: list[str]) -> np.ndarray:
        names = list(self._mne_info.ch_names)
        key = tuple(sorted(names.index(b) for b in bads))
        if key not in self._cache:
            self._cache[key] = F.interpolation_matrix(self._mne_info, [names[i] for i in key])
        good_idx, bad_idx, matrix = self._cache[key]
        epoch[bad_idx] = matrix @ epoch[good_idx]
        return epoch

    # -- stream --------------------------------------------------------------------------------
    def _process(self, chunk: EpochsChunk) -> Iterable[EpochsChunk]:
        if not chunk.n_epochs:
            return
        check_finite("FasterOnline epochs", chunk.data)
        if self._calib is None:
            self._buffer.append(chunk)
            if sum(c.n_epochs for c in self._buffer) < self.calibration_epochs:
                return
            whole = concat_chunks(self._buffer)
            self._buffer = []
            n = self.calibration_epochs
            first = EpochsChunk(whole.data[:n], whole.info, whole.onsets[:n], whole.labels[:n], whole.start)
            self._calibrate(first)
            chunk = whole
        out = self._judge(chunk)
        if out is not None:
            yield out

    def _flush(self) -> Iterable[EpochsChunk]:
        if self._calib is None and self._buffer:
            whole = concat_chunks(self._buffer)
            self._buffer = []
            self._calibrate(whole)
            out = self._judge(whole)
            if out is not None:
                yield out
        if self.report_dir is not None and self._calib is not None:
            self._save()

    def side_output(self) -> dict[str, Any] | None:
        """The calibration and the per-epoch log (flags, scores, repairs), stored with the output."""
        if self._calib is None:
            return None
        return {"metrics": self.metrics, "calibration": self.calibration, "epochs": self.log}

    def _save(self) -> None:
        folder = Path(self.report_dir)
        folder.mkdir(parents=True, exist_ok=True)
        payload = self.side_output()
        (folder / f"{self.report_stem}_report.json").write_text(json.dumps(payload))
        n_bad = sum(e["bad"] for e in self.log)
        n_fix = sum(bool(e["interpolated"]) for e in self.log)
        lines = [
            "| calibration epochs | bad channels | epochs | bad epochs | epochs repaired |",
            "|---|---|---|---|---|",
            f"| {self.calibration['n_epochs']} | {', '.join(self.calibration['bad_channels']) or '-'} | "
            f"{len(self.log)} | {n_bad} | {n_fix} |",
        ]
        (folder / f"{self.report_stem}_report.md").write_text("\n".join(lines) + "\n")
