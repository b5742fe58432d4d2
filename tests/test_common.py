"""The contract every registered stage passes (scikit-learn's check_estimator, for streams).

Each registered stage needs an entry in EXAMPLES: parameters and the kind of input it takes. Then it
is checked for streaming invariance over random chunk boundaries, reset, bad input, untouched input,
parameter round trip (Python and YAML) and pickling.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosig.core.chunks import (
    EVENTS_DTYPE,
    EpochsChunk,
    EpochsInfo,
    EventChunk,
    EventInfo,
    SignalChunk,
    SpikeChunk,
    SpikeInfo,
)
from neurosig.core.config import build_pipeline
from neurosig.core.errors import DataError
from neurosig.core.registry import names, resolve
from neurosig.testing import check_streaming_invariance, chunk_length


def _signal() -> SignalChunk:
    from neurosig.core.chunks import concat_chunks
    from neurosig.eeg.simulate import SimulatedEEGSource

    return concat_chunks(
        list(SimulatedEEGSource(duration=12.0, sfreq=128.0, n_channels=19, seed=3, eog=True))
    )


def _epochs() -> EpochsChunk:
    rng = np.random.default_rng(0)
    info = EpochsInfo(128.0, tuple(f"c{i}" for i in range(8)), ("eeg",) * 8, 0.0, 128)
    n = 40
    return EpochsChunk(rng.normal(0, 1e-5, (n, 8, 128)), info, np.arange(n) * 2.0, ["a", "b"] * (n // 2))


def _events() -> EventChunk:
    rng = np.random.default_rng(0)
    n = 400
    ev = np.zeros(n, dtype=EVENTS_DTYPE)
    ev["t"] = np.sort(rng.integers(0, 50_000, n))
    ev["x"] = rng.integers(0, 12, n)
    ev["y"] = rng.integers(0, 9, n)
    ev["p"] = rng.integers(0, 2, n)
    return EventChunk(ev, EventInfo((12, 9, 2)))


def _spikes() -> SpikeChunk:
    rng = np.random.default_rng(0)
    return SpikeChunk((rng.random((300, 20)) < 0.05).astype(np.float32), SpikeInfo(0.001, 20))


def _eeg_epochs() -> EpochsChunk:
    """Simulated EEG with standard channel names (FASTER interpolates by position): 15 x 19 x 256."""
    from neurosig.core.chunks import concat_chunks
    from neurosig.eeg.epochs import Epochs
    from neurosig.eeg.simulate import SimulatedEEGSource
    from neurosig.testing import run_stage

    source = SimulatedEEGSource(duration=30.0, sfreq=128.0, n_channels=19, seed=0)
    return concat_chunks([c for c in run_stage(Epochs(length=2.0), list(source)) if c.n_epochs])


def _eeg200() -> SignalChunk:
    from neurosig.core.chunks import concat_chunks
    from neurosig.eeg.simulate import SimulatedEEGSource

    return concat_chunks(list(SimulatedEEGSource(duration=12.0, sfreq=200.0, n_channels=19, seed=3)))


def _tiny_tokenizer() -> str:
    import tempfile
    from pathlib import Path

    from neurosig.eeg.rvq.tokenizer import Tokenizer

    folder = Path(tempfile.mkdtemp(prefix="neurosig-test-"))
    return str(Tokenizer.from_preset("tiny", seed=0, kmeans_init=False).save(folder / "rvq_tiny.pt"))


def _tiny_event_model() -> str:
    """An untrained event model for the 12 x 9 test events: 2 ms spikes, 5 steps (10 ms windows)."""
    import tempfile
    from pathlib import Path

    from neurosig.events.preprocess import EventPreprocessing
    from neurosig.snn.event_inference import save_event_model
    from neurosig.snn.models import DelaySNN

    pre = EventPreprocessing.from_config((12, 9, 2), [], {"type": "spikes", "dt": 2000}, 5)
    model = DelaySNN(pre.n_units, 8, 3, n_layers=1, kernel_size=3, tau=2.0, seed=0).eval()
    folder = Path(tempfile.mkdtemp(prefix="neurosig-test-"))
    return str(save_event_model(folder / "model.pt", model, pre, ["a", "b", "c"]))


def _tiny_decoder() -> str:
    import tempfile
    from pathlib import Path

    from mne.decoding import Vectorizer
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline

    from neurosig.bci.online import save_decoder

    epochs = _epochs()
    model = make_pipeline(Vectorizer(), LinearDiscriminantAnalysis()).fit(epochs.data, epochs.labels)
    return str(save_decoder(model, Path(tempfile.mkdtemp(prefix="neurosig-test-")) / "lda.pt"))


INPUTS = {
    "signal": _signal,
    "eeg200": _eeg200,
    "epochs": _epochs,
    "eeg_epochs": _eeg_epochs,
    "events": _events,
    "spikes": _spikes,
}

# name -> (parameters, input kind, rtol, atol)
EXAMPLES: dict[str, tuple[dict, str, float, float]] = {
    "bandpass": ({"l_freq": 1.0, "h_freq": 30.0}, "signal", 1e-5, 1e-9),
    "highpass": ({"l_freq": 0.5}, "signal", 1e-5, 1e-9),
    "lowpass": ({"h_freq": 40.0, "order": 6}, "signal", 1e-5, 1e-9),
    "notch": ({"freqs": [50.0, 60.0]}, "signal", 1e-5, 1e-9),
    "rereference": ({"ref": "average"}, "signal", 1e-5, 1e-9),
    "pick": ({"types": ["eeg"]}, "signal", 0, 0),
    "resample": ({"sfreq": 100.0}, "signal", 1e-5, 1e-9),
    "epochs": ({"events": ["left", "right"], "tmin": -0.5, "tmax": 2.0}, "signal", 0, 0),
    # FASTER (neurosig.eeg.faster.stages)
    "faster": ({"ica": False}, "eeg_epochs", 1e-5, 1e-9),
    "faster_online": ({"calibration_epochs": 5}, "eeg_epochs", 1e-5, 1e-9),
    # AT-AT EMG removal (neurosig.eeg.atat), with the shipped weights; float32 model rounding
    "atat": ({}, "signal", 1e-4, 1e-10),
    # RVQ tokens (neurosig.eeg.rvq); the checkpoint is an untrained tiny tokenizer
    "rvq_tokenize": ({"checkpoint": "<tiny>"}, "eeg200", 0, 0),
    # online decoding (neurosig.bci.online); the model is an LDA fitted on the example epochs
    "classify": ({"model": "<lda>"}, "epochs", 1e-9, 1e-12),
    # event transforms (neurosig.events)
    "denoise": ({"filter_time": 3000}, "events", 0, 0),
    "refractory": ({"period": 2000}, "events", 0, 0),
    "hot_pixels": ({"calibration": 20000, "max_rate": 150.0}, "events", 0, 0),
    "crop": ({"x0": 2, "y0": 1, "width": 7, "height": 6}, "events", 0, 0),
    "downsample": ({"spatial_factor": 3, "time_resolution": 500}, "events", 0, 0),
    "merge_polarity": ({}, "events", 0, 0),
    "time_slice": ({"t_start": 10000, "t_stop": 40000}, "events", 0, 0),
    "to_frames": ({"time_window": 4000}, "events", 1e-6, 1e-9),
    "to_spikes": ({"dt": 3000}, "events", 1e-6, 1e-9),
    "to_voxel_grid": ({"n_time_bins": 5}, "events", 1e-5, 1e-9),
    "to_time_surface": ({"dt": 4000, "tau": 3000.0}, "events", 1e-5, 1e-9),
    "to_local_time_surface": ({"radius": 2, "tau": 3000.0}, "events", 0, 0),
    # spiking networks (neurosig.snn)
    "spike_delay": (
        {
            "weight": [[((o * 20 + i) % 7 - 3) / 3 for i in range(20)] for o in range(3)],
            "delay": [[(o + i) % 6 for i in range(20)] for o in range(3)],
        },
        "spikes",
        1e-6,
        1e-6,  # float sums of delayed weights may be added in another order across chunks
    ),
    "feast": ({"n_neurons": 6, "radius": 2, "tau": 0.005, "eta": 0.01}, "events", 0, 0),
    # a trained event model as a stage (neurosig.snn.classify); an untrained tiny one here
    "snn_classify": ({"checkpoint": "<event_model>"}, "events", 1e-5, 1e-5),
}

_cache: dict[str, object] = {}


def _params(name: str) -> dict:
    params = dict(EXAMPLES[name][0])
    if params.get("checkpoint") == "<tiny>":
        if "tiny" not in _cache:
            _cache["tiny"] = _tiny_tokenizer()
        params["checkpoint"] = _cache["tiny"]
    if params.get("checkpoint") == "<event_model>":
        if "event_model" not in _cache:
            _cache["event_model"] = _tiny_event_model()
        params["checkpoint"] = _cache["event_model"]
    if params.get("model") == "<lda>":
        if "lda" not in _cache:
            _cache["lda"] = _tiny_decoder()
        params["model"] = _cache["lda"]
    return params


def _input(kind: str):
    if kind not in _cache:
        _cache[kind] = INPUTS[kind]()
    return _cache[kind]


def test_every_registered_stage_has_an_example():
    missing = sorted(set(names("stage")) - set(EXAMPLES))
    assert not missing, f"add example parameters for {missing} to tests/test_common.py EXAMPLES"


STAGES = sorted(EXAMPLES)


@pytest.mark.parametrize("name", STAGES)
def test_registered_class_carries_its_name(name):
    assert resolve("stage", name).name == name


@pytest.mark.parametrize("name", STAGES)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_streaming_invariance_and_reset(name, data):
    _, kind, rtol, atol = EXAMPLES[name]
    params = _params(name)
    chunk = _input(kind)
    n = chunk_length(chunk)
    cuts = data.draw(st.lists(st.integers(0, n), min_size=0, max_size=8), label="boundaries")
    cls = resolve("stage", name)
    check_streaming_invariance(lambda: cls(**params), chunk, cuts, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", STAGES)
def test_input_is_not_modified(name):
    _, kind, *_ = EXAMPLES[name]
    params = _params(name)
    chunk = _input(kind)
    payload = chunk.payload.copy()
    stage = resolve("stage", name)(**params)
    list(stage.process(chunk))
    list(stage.flush())
    assert np.array_equal(payload, chunk.payload)


@pytest.mark.parametrize("name", STAGES)
def test_wrong_chunk_type_is_a_data_error(name):
    _, kind, *_ = EXAMPLES[name]
    params = _params(name)
    other = "spikes" if kind != "spikes" else "events"
    stage = resolve("stage", name)(**params)
    stage.reset()
    if isinstance(_input(other), stage.accepts):
        pytest.skip(f"{name} accepts {other} chunks too")
    with pytest.raises(DataError, match="takes"):
        list(stage.process(_input(other)))


@pytest.mark.parametrize("name", STAGES)
def test_params_round_trip_through_python_yaml_and_pickle(name):
    params = _params(name)
    cls = resolve("stage", name)
    stage = cls(**params)
    assert cls(**stage.get_params()).get_params() == stage.get_params()
    config = {"source": {"type": "simulate"}, "stages": [{"type": name, **params}]}
    assert build_pipeline(config).stages[0].get_params() == stage.get_params()
    clone = pickle.loads(pickle.dumps(stage))
    assert clone.get_params() == stage.get_params()
