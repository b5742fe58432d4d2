"""The registry of component names used by YAML pipelines.

Built-in components are listed here as ``"module:Class"`` strings, so that listing names (for errors
and ``neurosig info``) imports nothing heavy; a class is imported only when a pipeline uses it. Users
add their own with :func:`register`.
"""

from __future__ import annotations

import importlib
from typing import Literal

from neurosig.core.errors import ConfigError
from neurosig.core.validate import did_you_mean

__all__ = ["register", "resolve", "names", "Kind"]

Kind = Literal["source", "stage", "sink", "job"]

_REGISTRY: dict[str, dict[str, str | type]] = {
    "source": {
        "file": "neurosig.io.eeg:EEGFileSource",
        "simulate": "neurosig.eeg.simulate:SimulatedEEGSource",
        "simulate_events": "neurosig.events.simulate:SimulatedEventSource",
        "hdf5": "neurosig.io.hdf5:HDF5Source",
        "events": "neurosig.io.events.source:EventFileSource",
        "lsl": "neurosig.io.lsl:LSLSource",
    },
    "stage": {
        "bandpass": "neurosig.eeg.filters:BandPass",
        "highpass": "neurosig.eeg.filters:HighPass",
        "lowpass": "neurosig.eeg.filters:LowPass",
        "notch": "neurosig.eeg.filters:Notch",
        "rereference": "neurosig.eeg.filters:Rereference",
        "resample": "neurosig.eeg.filters:Resample",
        "pick": "neurosig.eeg.filters:Pick",
        "epochs": "neurosig.eeg.epochs:Epochs",
        "faster": "neurosig.eeg.faster_stages:Faster",
        "faster_online": "neurosig.eeg.faster_stages:FasterOnline",
        "atat": "neurosig.eeg.atat.stage:ATATDenoise",
        "denoise": "neurosig.events.filters:DenoiseStage",
        "refractory": "neurosig.events.filters:RefractoryStage",
        "hot_pixels": "neurosig.events.filters:HotPixelStage",
        "crop": "neurosig.events.filters:CropStage",
        "downsample": "neurosig.events.filters:DownsampleStage",
        "merge_polarity": "neurosig.events.filters:MergePolarityStage",
        "time_slice": "neurosig.events.filters:TimeSliceStage",
        "to_frames": "neurosig.events.representations:ToFramesStage",
        "to_spikes": "neurosig.events.representations:ToSpikesStage",
        "to_voxel_grid": "neurosig.events.representations:ToVoxelGridStage",
        "to_time_surface": "neurosig.events.representations:ToTimeSurfaceStage",
        "to_local_time_surface": "neurosig.events.representations:ToLocalTimeSurfaceStage",
        "spike_delay": "neurosig.snn.stream:SpikeDelay",
        "feast": "neurosig.snn.feast:FeastStage",
        "rvq_tokenize": "neurosig.eeg.rvq.stage:RVQTokenize",
        "classify": "neurosig.bci.online:Classify",
    },
    "sink": {
        "hdf5": "neurosig.io.hdf5:HDF5Sink",
        "rvq_hdf5": "neurosig.eeg.rvq.store:RVQTokenSink",
        "lsl": "neurosig.io.lsl:LSLSink",
        "tee": "neurosig.core.tee:TeeSink",
    },
    "job": {
        "atat_train": "neurosig.eeg.atat.job:ATATTrainJob",
        "bci_eval": "neurosig.bci.job:BCIEvaluation",
        "snn_delays": "neurosig.snn.train:DelayTrainingJob",
        "rvq_train": "neurosig.eeg.rvq.job:RVQTrainJob",
    },
}


def _check_kind(kind: str) -> None:
    if kind not in _REGISTRY:
        raise ConfigError(f"kind={kind!r} is not valid; choose one of {sorted(_REGISTRY)}.")


def register(kind: Kind, name: str, obj: str | type) -> None:
    """Make a component available to YAML pipelines under ``name``.

    Parameters
    ----------
    kind : {"source", "stage", "sink", "job"}
        The component's role.
    name : str
        The name used in YAML (``type: NAME``).
    obj : type | str
        The class, or ``"module:Class"`` to import lazily.
    """
    _check_kind(kind)
    _REGISTRY[kind][name] = obj


def names(kind: Kind) -> list[str]:
    """Sorted names of the registered components of one kind."""
    _check_kind(kind)
    return sorted(_REGISTRY[kind])


def resolve(kind: Kind, name: str) -> type:
    """Return the class registered as ``name``.

    Raises
    ------
    ConfigError
        If no such name exists, listing the valid names and the closest match.
    """
    _check_kind(kind)
    entry = _REGISTRY[kind].get(name)
    if entry is None:
        valid = names(kind)
        raise ConfigError(
            f"unknown {kind} type {name!r}; valid {kind} types are {valid}.{did_you_mean(name, valid)}"
        )
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(importlib.import_module(module), attr)
        _REGISTRY[kind][name] = entry
    return entry
