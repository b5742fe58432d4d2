"""Parameter rules are declared once and give the same ConfigError from Python and from YAML."""

from typing import Annotated, ClassVar

import pydantic
import pytest

from neurosig.core.config import build_job, build_pipeline
from neurosig.core.errors import ConfigError
from neurosig.core.registry import resolve
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


class Window(Stage):
    name = "window_test"

    def __init__(self, start: float = 0.0, stop: Annotated[float, pydantic.Field(gt=0)] = 1.0):
        self.start = start
        self.stop = stop
        Window.built += 1

    built = 0
    seen: ClassVar[list[dict]] = []

    @classmethod
    def check_params(cls, params: dict) -> None:
        cls.seen.append(params)
        if params["start"] >= params["stop"]:
            raise ConfigError(f"start={params['start']} must be below stop={params['stop']}.")


class Shifted(Window):
    def __init__(self, shift: float = 0.0):
        super().__init__(start=shift, stop=shift + 1.0)
        self.shift = shift


def test_cross_parameter_rule_sees_validated_arguments_with_defaults_before_init():
    Window.seen.clear()
    Window("0.5")
    assert Window.seen == [{"start": 0.5, "stop": 1.0}]
    built = Window.built
    with pytest.raises(ConfigError, match="start=2.0 must be below stop=1.0"):
        Window(2.0)
    assert Window.built == built  # __init__ never ran


def test_a_rule_belongs_to_the_init_beside_it():
    Window.seen.clear()
    Shifted(5.0)  # its own __init__ has no rule; the parent's checks the parent's arguments
    assert Window.seen == [{"start": 5.0, "stop": 6.0}]


# Every rule between parameters of a registered component fails at construction, from Python and
# from YAML alike (never on the first chunk).
RULES = [
    ("stage", "bandpass", {"l_freq": 40.0, "h_freq": 1.0}, "l_freq=40.0 Hz must be below h_freq"),
    ("stage", "pick", {}, "exactly one of \\['channels', 'types'\\]"),
    ("stage", "pick", {"channels": ["Cz"], "types": ["eeg"]}, "exactly one"),
    ("stage", "epochs", {"events": ["T1"], "length": 2.0}, "exactly one of \\['events', 'length'\\]"),
    ("stage", "epochs", {"events": ["T1"], "tmin": 1.0, "tmax": 0.5}, "tmin=1.0 s must be below tmax"),
    ("stage", "epochs", {"events": ["T1"], "step": 1.0}, "step applies to fixed-length"),
    ("stage", "to_frames", {}, "exactly one of \\['time_window'"),
    ("stage", "to_frames", {"time_window": 10, "event_count": 5}, "got \\['time_window', 'event_count'\\]"),
    ("stage", "time_slice", {"t_start": 10, "t_stop": 10}, "t_start=10 µs must be below t_stop"),
    ("source", "events", {"path": "x.raw", "n_events": 5, "duration": 1.0}, "at most one of"),
    ("source", "simulate", {"sfreq": 100.0, "line_freq": 50.0}, "below Nyquist"),
    ("source", "simulate", {"flat_channels": ["XYZ"]}, "not among the channels"),
    ("job", "bci_eval", {"dataset": {}, "protocols": ["within_subjct"]}, "Did you mean 'within_subject'"),
    ("job", "bci_eval", {"dataset": {}, "pipelines": []}, "at least one entry"),
]


@pytest.mark.parametrize(("kind", "name", "params", "match"), RULES)
def test_rules_between_parameters_fail_at_construction(kind, name, params, match):
    with pytest.raises(ConfigError, match=match):
        resolve(kind, name)(**params)
    component = {"type": name, **params}
    if kind == "job":
        build = lambda: build_job({"job": component})  # noqa: E731
    elif kind == "source":
        build = lambda: build_pipeline({"source": component})  # noqa: E731
    else:
        build = lambda: build_pipeline({"source": {"type": "simulate"}, "stages": [component]})  # noqa: E731
    with pytest.raises(ConfigError, match=match):
        build()


def test_missing_parameter_is_named_without_the_call_repr():
    with pytest.raises(ConfigError) as err:
        BandPass(l_freq=-1)
    message = str(err.value)
    assert "parameter 'l_freq': Input should be greater than 0 (got -1)" in message
    assert "parameter 'h_freq' is required" in message
    assert "ArgsKwargs" not in message and "unprintable" not in message
