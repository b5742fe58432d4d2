"""FASTER as pipeline stages over an :class:`~neurosig.core.chunks.EpochsChunk` stream.

- :class:`Faster` (``faster``): offline. Spills the whole epochs stream to a temporary file, runs the
  four steps of :func:`neurosig.eeg.faster.run_faster` at the end, and emits the kept, cleaned epochs:
  in one chunk when the recording fits in ``block_mib``, else a block at a time
  (:func:`~neurosig.eeg.faster.model.run_faster_blocked`), so that its memory stays bounded.
- :class:`FasterOnline` (``faster_online``): causal. Calibrates channel and epoch statistics on the
  first ``calibration_epochs`` epochs, then judges and repairs every epoch on its own against the
  frozen calibration, so each epoch leaves as soon as it arrives (after the calibration window).

The rejection log is a side output: both stages keep it in their ``report`` / ``log`` attribute after
the stream ends and, with ``report_dir``, write ``STEM_report.json`` (every score, z-score and
decision), ``STEM_report.md`` (a summary table) and, offline, ``STEM_report.png`` there. Dropped epochs
can also be recognised in the output by their missing ``onsets``.

Channel positions for the spherical-spline interpolation come from the stream when it carries them
(``EpochsInfo.ch_pos``: the recording's own positions, or the file source's ``montage``), else from
the stage's ``montage`` or MNE's template 10-05 montage by name, matched case-insensitively and
ignoring trailing dots (EDF labels such as ``"Fc5."``). Both stages check them on the first chunk,
before any work, and name every EEG channel that has none. Channels typed EEG but named like EOG
(``EOG1``, ``VEOG``, ``HEOG``: EEGLAB files often carry them so) are treated as EOG by default, and
the report says so.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pydantic

from neurosig.core.chunks import EpochsChunk, EpochsInfo, concat_chunks
from neurosig.core.errors import DataError
from neurosig.core.persist import ArraySpill
from neurosig.core.stage import Stage
from neurosig.core.validate import check_band, check_finite, check_increasing
from neurosig.eeg.faster.metrics import epoch_metrics
from neurosig.eeg.faster.model import FasterModel, run_faster, run_faster_blocked
from neurosig.eeg.faster.report import FasterReport

__all__ = ["Faster", "FasterOnline", "mne_info"]

logger = logging.getLogger(__name__)
_MNE_TYPES = {"eeg", "eog", "ecg", "emg", "misc", "stim", "resp", "bio"}


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def eog_named(info: EpochsInfo) -> list[str]:
    """Channels typed EEG whose names say EOG (``EOG1``, ``VEOG``, ``HEOG``, ``EOG L``, ...)."""
    return [c for c, t in zip(info.ch_names, info.ch_types, strict=True) if t == "eeg" and "eog" in _norm(c)]


@functools.cache
def _template(montage: str | None = None) -> dict[str, Any]:
    """The head-frame positions of a montage (an MNE built-in name or a file; ``None``: 10-05)."""
    from neurosig.io.eeg import read_montage

    return read_montage("standard_1005" if montage is None else montage).get_positions()


def _template_lookup(montage: str | None = None) -> dict[str, Any]:
    return {_norm(k): v for k, v in _template(montage)["ch_pos"].items()}


def eeg_positions(
    info: EpochsInfo, as_eog: Iterable[str] = (), montage: str | None = None
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Where each EEG channel of a stream is, for interpolation.

    A channel's position comes from the stream (``info.ch_pos``: the recording's own positions or
    the file source's ``montage``) when it has one, else from ``montage`` (or the 10-05 template)
    by name, matched case-insensitively and ignoring trailing dots.

    Returns
    -------
    positions : dict of str to ndarray
        EEG channel → ``(x, y, z)`` in metres, head frame.
    missing : list of str
        EEG channels with no position from either.
    """
    as_eog = set(as_eog)
    eeg = [c for c, t in zip(info.ch_names, info.ch_types, strict=True) if t == "eeg" and c not in as_eog]
    stream = info.positions()
    lookup = None if all(c in stream for c in eeg) else _template_lookup(montage)
    positions: dict[str, np.ndarray] = {}
    for c in eeg:
        p = stream.get(c, lookup.get(_norm(c)) if lookup is not None else None)
        if p is not None:
            positions[c] = p
    return positions, [c for c in eeg if c not in positions]


def mne_info(info: EpochsInfo, as_eog: Iterable[str] = (), montage: str | None = None) -> Any:
    """An :class:`mne.Info` for an epochs stream, with positions for its EEG channels.

    Parameters
    ----------
    info : EpochsInfo
        The stream's description.
    as_eog : iterable of str
        Channels to type as EOG whatever the stream says (see :func:`eog_named`).
    montage : str | None
        Montage (MNE built-in name or file) that places, by name, the EEG channels the stream gives
        no position (``None``: the 10-05 template).

    Returns
    -------
    mne_info : mne.Info
        Channel types as in the stream (unknown ones become ``misc``); EEG channels placed as
        :func:`eeg_positions` says (others get none, and cannot be interpolated).
    """
    import mne

    as_eog = set(as_eog)
    types = [
        "eog" if c in as_eog else t if t in _MNE_TYPES else "misc"
        for c, t in zip(info.ch_names, info.ch_types, strict=True)
    ]
    out = mne.create_info(list(info.ch_names), info.sfreq, types)
    ch_pos, _ = eeg_positions(info, as_eog, montage)
    if ch_pos:
        template = _template()  # fiducials of MNE's head frame, which every position above is in
        dig = mne.channels.make_dig_montage(
            ch_pos=ch_pos,
            nasion=template["nasion"],
            lpa=template["lpa"],
            rpa=template["rpa"],
            coord_frame="head",
        )
        out.set_montage(dig, on_missing="ignore", verbose="error")
    return out


def check_positions(info: EpochsInfo, as_eog: Iterable[str], montage: str | None, stage: str) -> None:
    """Refuse, before any work, EEG channels that interpolation could not place.

    Raises
    ------
    DataError
        Naming the channels with no position (see :func:`eeg_positions`) and how to give them one
        from YAML, or to leave them out.
    """
    _, missing = eeg_positions(info, as_eog, montage)
    if missing:
        raise DataError(
            f"FASTER interpolates bad channels from their scalp positions, but the EEG channels "
            f"{missing} have no position: the recording gives none and their names are not in the "
            f"{montage or '10-05'} montage. If they are not scalp channels, type them in the source "
            f"(YAML: source.ch_types: {{{missing[0]}: eog}}, or misc) or leave them out with "
            "source.picks; if they are, give the source the montage they follow (source.montage: "
            f"biosemi64, or a montage file such as a .elc/.sfp) or the stage (stages.{stage}.montage); "
            f"or set stages.{stage}.interpolate: false."
        )


_BAND_NAMES = ("band[0]", "band[1]")


def _eog_note(as_eog: list[str], ica: bool) -> str:
    """The step-1 report note on channels treated as EOG by their names."""
    uses = "; step 3's EOG metric uses them" if ica else ""
    return (
        f"{', '.join(as_eog)}: typed EEG but named like EOG, so treated as EOG (not scored as EEG{uses}); "
        "eog_by_name: false keeps them as EEG"
    )


def _data_band(band: tuple[float | None, float | None] | None, sfreq: float) -> tuple[float, float]:
    """The pass band (Hz) of the data: the filter's edges, 0 and Nyquist where it left a side open."""
    low, high = band or (None, None)
    check_band(low, high, sfreq, _BAND_NAMES)
    return (0.0 if low is None else low, sfreq / 2.0 if high is None else high)


class _FasterStage(Stage):
    """What both FASTER stages do with the channels: EOG by name, and positions checked up front."""

    accepts = (EpochsChunk,)
    eog_by_name: bool
    interpolate: bool
    montage: str | None

    def _as_eog(self, info: EpochsInfo) -> list[str]:
        return eog_named(info) if self.eog_by_name else []

    def _check_positions(self, info: EpochsInfo) -> None:
        if self.interpolate:
            check_positions(info, self._as_eog(info), self.montage, self.name)


class Faster(_FasterStage):
    """Offline FASTER over a whole epochs stream (the four steps, then interpolation).

    Writes every epoch to a temporary file as it arrives (``$TMPDIR``; float32, the size of the
    stream's epochs; deleted at the end), so that it holds only their onsets and labels until the
    stream ends. Then, when the epochs fit in ``block_mib`` as float64, it cleans them in one piece and
    emits one chunk, as :func:`~neurosig.eeg.faster.run_faster`; otherwise it reads them back a block
    of ``block_mib`` at a time (:meth:`~neurosig.eeg.faster.FasterModel.learn_blocked`: the same
    steps, the ICA fitted on ``block_mib`` of the kept epochs spread over the recording) and emits one
    chunk per block. :class:`FasterOnline` suits unbounded streams.

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
    band : [float | None, float | None] | None
        Pass band in Hz of the filter applied before FASTER, for the spectral slope of step 3: each
        edge strictly between 0 Hz and Nyquist, or ``None`` for a side left open (0 Hz, Nyquist);
        ``None`` for unfiltered data.
    reference : str | None
        Reference electrode for the distance correction (``None``: average/linked reference).
    interpolate : bool
        Interpolate bad channels (step 1 everywhere, step 4 per epoch). Every EEG channel then needs
        a position: from the stream, or by name from ``montage``; the first chunk is checked before
        any work.
    montage : str | None
        Montage that places by name the EEG channels the stream gives no position: an MNE built-in
        (``mne.channels.get_builtin_montages()``, e.g. ``biosemi64``) or a montage file; ``None``:
        the 10-05 template. Positions the stream carries (the recording's own, or the file
        source's ``montage``) come first.
    eog_by_name : bool
        Treat channels typed EEG but named like EOG (``EOG1``, ``VEOG``, ``HEOG``) as EOG channels:
        not scored as EEG, and used by step 3's EOG metric. The report's step-1 notes say so.
    report_dir : str | None
        Folder for ``STEM_report.json/.md/.png``; ``None`` keeps the report only in :attr:`report`.
    report_stem : str
        File-name stem of the report files.
    block_mib : float
        Signal held at once, in MiB of float64 epochs (the stage's peak is a few times this,
        plus the metrics); recordings up to this size are cleaned in one piece. The ICA of a longer
        recording is fitted on this much of its kept epochs.
    """

    name = "faster"

    def __init__(
        self,
        metrics: Literal["paper", "mne-faster"] = "paper",
        threshold: Annotated[float, pydantic.Field(gt=0)] = 3.0,
        max_iter: Annotated[int, pydantic.Field(ge=1)] | None = None,
        ica: bool = True,
        n_components: Annotated[int, pydantic.Field(ge=3)] | None = None,
        ica_method: Literal["infomax", "fastica", "picard"] = "infomax",
        random_state: int = 0,
        band: tuple[float | None, float | None] | None = None,
        reference: str | None = None,
        interpolate: bool = True,
        montage: str | None = None,
        eog_by_name: bool = True,
        report_dir: str | None = None,
        report_stem: str = "faster",
        block_mib: Annotated[float, pydantic.Field(gt=0)] = 64.0,
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
        self.block_mib = block_mib
        self._spill: ArraySpill | None = None
        self.reset()

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """The band's edges in increasing order (their place below Nyquist waits for the data)."""
        if params["band"] is not None:
            check_increasing(_BAND_NAMES, *params["band"], "Hz")

    def reset(self) -> None:
        """Forget the gathered epochs and the last report."""
        if self._spill is not None:
            self._spill.close()
        self._spill = ArraySpill()
        self._info: EpochsInfo | None = None
        self._onsets: list[np.ndarray] = []
        self._labels: list[str] = []
        self.report: FasterReport | None = None

    def side_output(self) -> dict[str, Any] | None:
        """The rejection log (every score, z-score and decision), stored with the output."""
        return None if self.report is None else self.report.to_dict()

    def _process(self, chunk: EpochsChunk) -> Iterable[EpochsChunk]:
        if self._info is None:
            self._check_positions(chunk.info)
            self._info = chunk.info
        elif chunk.info != self._info:
            raise DataError("Faster got epochs of two different streams; run one stream per pipeline.")
        if chunk.n_epochs:
            self._spill.append(chunk.data)
            self._onsets.append(chunk.onsets)
            self._labels.extend(chunk.labels)
        return ()

    def _flush(self) -> Iterable[EpochsChunk]:
        if not self._spill.n_rows:
            return
        import mne

        data = self._spill
        info = self._info
        onsets = np.concatenate(self._onsets)
        labels = np.array(self._labels, dtype=object)
        band = _data_band(self.band, info.sfreq)
        as_eog = self._as_eog(info)
        params = {
            "metrics": self.metrics,
            "threshold": self.threshold,
            "max_iter": self.max_iter,
            "ica": self.ica,
            "n_components": self.n_components,
            "ica_method": self.ica_method,
            "random_state": self.random_state,
            "band": band,
            "reference": self.reference,
            "interpolate": self.interpolate,
        }
        block = int(self.block_mib * 2**20)
        if np.prod(data.shape) * 8 <= block:
            epochs = mne.EpochsArray(
                data[:].astype(np.float64), mne_info(info, as_eog, self.montage), tmin=info.tmin,
                baseline=None, verbose="error",
            )  # fmt: skip
            clean, report = run_faster(epochs, **params)
            kept = np.array(report.kept_epochs, dtype=int)
            yield EpochsChunk(clean.get_data().astype(np.float32), info, onsets[kept], labels[kept], 0)
        else:
            blocks = run_faster_blocked(data, mne_info(info, as_eog, self.montage), block, **params)
            start = 0
            while True:
                try:
                    rows, clean = next(blocks)
                except StopIteration as done:
                    report = done.value
                    break
                yield EpochsChunk(clean.astype(np.float32), info, onsets[rows], labels[rows], start)
                start += len(rows)
        self._spill.close()
        self._info, self._onsets, self._labels = None, [], []
        if as_eog and "channels" in report.steps:
            report.steps["channels"].notes.append(_eog_note(as_eog, self.ica))
        self.report = report
        if self.report_dir is not None:
            report.save(self.report_dir, self.report_stem)


class FasterOnline(_FasterStage):
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
        Interpolate bad channels. Every EEG channel then needs a position, as in :class:`Faster`;
        the first chunk is checked before any work.
    montage : str | None
        As in :class:`Faster`.
    eog_by_name : bool
        Treat channels typed EEG but named like EOG as EOG channels (not scored as EEG); the
        calibration's step-1 notes say so.
    report_dir : str | None
        Folder for ``STEM_report.json`` (calibration and per-epoch log) and ``STEM_report.md``.
    report_stem : str
        File-name stem of the report files.
    """

    name = "faster_online"

    def __init__(
        self,
        calibration_epochs: Annotated[int, pydantic.Field(ge=5)] = 30,
        metrics: Literal["paper", "mne-faster"] = "paper",
        threshold: Annotated[float, pydantic.Field(gt=0)] = 3.0,
        max_iter: Annotated[int, pydantic.Field(ge=1)] | None = None,
        drop: bool = True,
        interpolate: bool = True,
        montage: str | None = None,
        eog_by_name: bool = True,
        report_dir: str | None = None,
        report_stem: str = "faster_online",
    ):
        self.calibration_epochs = calibration_epochs
        self.metrics = metrics
        self.threshold = threshold
        self.max_iter = max_iter
        self.drop = drop
        self.interpolate = interpolate
        self.montage = montage
        self.eog_by_name = eog_by_name
        self.report_dir = report_dir
        self.report_stem = report_stem
        self.reset()

    def reset(self) -> None:
        """Forget the calibration, the buffered epochs and the log."""
        self._buffer: list[EpochsChunk] = []
        self._calib: dict[str, Any] | None = None
        self._model: FasterModel | None = None
        self._n_seen = 0
        self._checked = False
        self.log: list[dict[str, Any]] = []
        self.calibration: dict[str, Any] = {}

    # -- calibration ---------------------------------------------------------------------------
    def _calibrate(self, whole: EpochsChunk) -> None:
        import mne

        info = whole.info
        data = whole.data.astype(np.float64)
        as_eog = self._as_eog(info)
        eeg = [
            i
            for i, (c, t) in enumerate(zip(info.ch_names, info.ch_types, strict=True))
            if t == "eeg" and c not in as_eog
        ]
        live = np.ptp(data[:, eeg], axis=2).max(axis=1) > 0
        if live.sum() < 3:
            raise DataError(
                f"FasterOnline needs at least 3 non-constant epochs to calibrate, got {int(live.sum())}; "
                "raise calibration_epochs or check the recording."
            )
        model = FasterModel(self.metrics, self.threshold, max_iter=self.max_iter, ica=False)
        model.learn(mne.EpochsArray(data[live], mne_info(info, as_eog, self.montage), verbose="error"))
        if as_eog:
            model.steps_["channels"].notes.append(_eog_note(as_eog, ica=False))
        good = [info.ch_names.index(c) for c in model.good_]
        kept = data[live][model.kept_][:, good]
        scores = epoch_metrics(kept, model.profile)
        center, spread = {}, {}
        for m, s in scores.items():
            center[m] = float(np.median(s) if model.profile.center == "median" else np.mean(s))
            spread[m] = float(np.std(s, ddof=model.profile.ddof)) if len(s) > model.profile.ddof else 0.0
        self._model = model
        self._calib = {"good": good, "center": center, "spread": spread}
        self.calibration = {
            "n_epochs": int(len(whole.data)),
            "bad_channels": list(model.bad_channels_),
            "center": center,
            "spread": spread,
            "channels": model.steps_["channels"].to_dict(),
        }

    # -- judging -------------------------------------------------------------------------------
    def _judge(self, chunk: EpochsChunk) -> EpochsChunk | None:
        info = chunk.info
        model = self._model
        c = self._calib
        data = chunk.data.astype(np.float64)
        x = data[:, c["good"]]
        constant = np.ptp(x, axis=2).max(axis=1) == 0
        bad_epoch = constant.copy()
        z_epoch = {m: np.zeros(len(x)) for m in c["center"]}
        cells = np.zeros((len(x), len(c["good"])), dtype=bool)
        live = np.flatnonzero(~constant)
        if len(live):
            scores = epoch_metrics(x[live], model.profile, channel_means=model.channel_means_)
            for m, s in scores.items():
                sd = c["spread"][m]
                z = (s - c["center"][m]) / sd if sd > 0 else np.zeros_like(s)
                z_epoch[m][live] = z
                bad_epoch[live] |= np.abs(z) > self.threshold
            cells[live] = model.find_bad_channels_in_epochs(data[live]).bad
        keep = ~bad_epoch if self.drop else np.ones(len(x), dtype=bool)
        out = data
        if self.interpolate:
            repair = model.bad_cells(cells)
            repair[~keep | constant] = False
            out, _ = model.interpolate(data, repair)
        for k in range(len(x)):
            fixed = [model.good_[j] for j in np.flatnonzero(cells[k])]
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

    # -- stream --------------------------------------------------------------------------------
    def _process(self, chunk: EpochsChunk) -> Iterable[EpochsChunk]:
        if not self._checked:
            self._check_positions(chunk.info)
            self._checked = True
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
