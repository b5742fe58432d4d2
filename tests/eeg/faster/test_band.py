"""FASTER's band: the filter's edges, ordered at construction and below Nyquist once the rate is known."""

import pytest

from neurosig.core.config import build_pipeline
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.registry import resolve
from neurosig.eeg.faster.stages import _data_band


def test_inverted_band_fails_at_construction_from_python_and_yaml():
    with pytest.raises(ConfigError, match="band\\[0\\]=40.0 Hz must be below band\\[1\\]=1.0 Hz"):
        resolve("stage", "faster")(band=[40.0, 1.0])
    config = {"source": {"type": "simulate"}, "stages": [{"type": "faster", "band": [40.0, 1.0]}]}
    with pytest.raises(ConfigError, match="stages\\[0\\] \\(faster\\).*must be below band\\[1\\]"):
        build_pipeline(config)


def test_open_sides_are_zero_and_nyquist_and_an_edge_at_nyquist_is_refused():
    assert _data_band(None, 128.0) == (0.0, 64.0)
    assert _data_band((1.0, None), 128.0) == (1.0, 64.0)
    assert _data_band((None, 40.0), 128.0) == (0.0, 40.0)
    with pytest.raises(DataError, match="band\\[1\\]=64.0 Hz must be below Nyquist.*None for no low-pass"):
        _data_band((1.0, 64.0), 128.0)
    with pytest.raises(DataError, match="band\\[0\\]=0.0 Hz must be above 0 Hz; give None"):
        _data_band((0.0, 40.0), 128.0)
