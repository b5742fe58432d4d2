"""The shared input checks: band edges, exclusive parameters, epochs arrays, the events dtype."""

import numpy as np
import pytest

from neurosig.core.chunks import EVENTS_DTYPE, check_events_dtype
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_band, check_epochs_array, check_increasing, check_one_of


@pytest.mark.parametrize(("l_freq", "h_freq"), [(None, 49.999), (1e-3, None), (0.5, 49.0), (None, None)])
def test_band_edges_strictly_between_zero_and_nyquist_pass(l_freq, h_freq):
    check_band(l_freq, h_freq, 100.0)


@pytest.mark.parametrize(
    ("l_freq", "h_freq", "match"),
    [
        (None, 50.0, "h_freq=50.0 Hz must be below Nyquist \\(50 Hz"),  # the edge itself
        (50.0, None, "l_freq=50.0 Hz must be below Nyquist"),
        (None, 80.0, "resample to more than 160 Hz"),
        (0.0, 40.0, "l_freq=0.0 Hz must be above 0 Hz; give None for no high-pass"),
        (-1.0, None, "above 0 Hz"),
    ],
)
def test_band_edges_at_zero_or_nyquist_are_refused(l_freq, h_freq, match):
    with pytest.raises(DataError, match=match):
        check_band(l_freq, h_freq, 100.0)


def test_band_names_the_callers_parameters_and_checks_the_order():
    with pytest.raises(DataError, match="band\\[1\\]=64.0 Hz must be below Nyquist"):
        check_band(1.0, 64.0, 128.0, ("band[0]", "band[1]"))
    with pytest.raises(ConfigError, match="l_freq=40.0 Hz must be below h_freq=40.0 Hz"):
        check_band(40.0, 40.0, 128.0)
    check_increasing(("a", "b"), None, 3.0, "s")


def test_one_of():
    assert check_one_of("f", {"a": 1, "b": None}) == "a"
    assert check_one_of("f", {"a": None, "b": None}, required=False) is None
    with pytest.raises(ConfigError, match="f takes exactly one of \\['a', 'b'\\], got none"):
        check_one_of("f", {"a": None, "b": None})
    with pytest.raises(ConfigError, match="at most one of \\['a', 'b'\\], got \\['a', 'b'\\]"):
        check_one_of("f", {"a": 1, "b": 2}, required=False)


def test_epochs_array_shape_and_minimum_sizes():
    assert check_epochs_array([[[1.0]]]).shape == (1, 1, 1)
    with pytest.raises(DataError, match="X must be a 3-D array .* got shape \\(4, 100\\); do this"):
        check_epochs_array(np.zeros((4, 100)), "X", hint="do this")
    with pytest.raises(DataError, match="at least 3 channels"):
        check_epochs_array(np.zeros((5, 2, 10)), min_channels=3)
    with pytest.raises(DataError, match="at least 1 epochs"):
        check_epochs_array(np.zeros((0, 2, 10)))


def test_events_dtype():
    events = np.zeros(2, EVENTS_DTYPE)
    assert check_events_dtype(events) is events
    with pytest.raises(DataError, match="spikes must be a numpy array of neurosig.EVENTS_DTYPE.*as_events"):
        check_events_dtype(np.zeros(2), "spikes")
