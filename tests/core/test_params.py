"""Parameter rules are declared once and give the same ConfigError from Python and from YAML."""

from typing import Annotated

import pydantic
import pytest

from neurosig.core.config import build_pipeline
from neurosig.core.errors import ConfigError
from neurosig.core.stage import Stage
from neurosig.eeg.filters import BandPass


class Scale(Stage):
    name = "scale_test"

    def __init__(self, factor: Annotated[float, pydantic.Field(gt=0)], mode: str = "linear"):
        self.factor = factor
        self.mode = mode


def test_values_are_coerced_and_stored():
    stage = Scale("2.5")
    assert stage.factor == 2.5
    assert stage.get_params() == {"factor": 2.5, "mode": "linear"}
    assert repr(stage) == "Scale(factor=2.5, mode='linear')"


def test_out_of_range_value_names_the_parameter():
    with pytest.raises(ConfigError, match="parameter 'factor'.*greater than 0"):
        Scale(-1)


def test_unknown_parameter_suggests_the_closest():
    with pytest.raises(ConfigError, match="no parameter 'factr'.*Did you mean 'factor'"):
        Scale(factr=2)


def test_python_call_and_yaml_give_the_same_error():
    with pytest.raises(ConfigError) as from_python:
        BandPass(l_freq=-1, h_freq=40)
    config = {"source": {"type": "simulate"}, "stages": [{"type": "bandpass", "l_freq": -1, "h_freq": 40}]}
    with pytest.raises(ConfigError) as from_yaml:
        build_pipeline(config)
    assert str(from_python.value) in str(from_yaml.value)
    assert "stages[0] (bandpass)" in str(from_yaml.value)


def test_missing_parameter_is_named_without_the_call_repr():
    with pytest.raises(ConfigError) as err:
        BandPass(l_freq=-1)
    message = str(err.value)
    assert "parameter 'l_freq': Input should be greater than 0 (got -1)" in message
    assert "parameter 'h_freq' is required" in message
    assert "ArgsKwargs" not in message and "unprintable" not in message
