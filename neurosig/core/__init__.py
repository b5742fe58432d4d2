"""The contracts every module speaks: chunks, stages, pipelines, configs, errors."""

from neurosig.core.chunks import (
    EVENTS_DTYPE,
    EpochsChunk,
    EpochsInfo,
    EventChunk,
    EventInfo,
    Marker,
    SignalChunk,
    SignalInfo,
    SpikeChunk,
    SpikeInfo,
    TokenChunk,
    TokenInfo,
    concat_chunks,
)
from neurosig.core.errors import ConfigError, DataError, FormatError, NeurosigError
from neurosig.core.pipeline import Pipeline, RunSummary
from neurosig.core.stage import Sink, Source, Stage

__all__ = [
    "EVENTS_DTYPE",
    "EpochsChunk",
    "EpochsInfo",
    "EventChunk",
    "EventInfo",
    "Marker",
    "SignalChunk",
    "SignalInfo",
    "SpikeChunk",
    "SpikeInfo",
    "TokenChunk",
    "TokenInfo",
    "concat_chunks",
    "ConfigError",
    "DataError",
    "FormatError",
    "NeurosigError",
    "Pipeline",
    "RunSummary",
    "Sink",
    "Source",
    "Stage",
]
