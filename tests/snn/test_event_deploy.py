"""A trained event model deployed: event-driven inference, the snn_classify stage, NIR export and import."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosig.core import persist
from neurosig.core.chunks import EventChunk, EventInfo
from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.data.event_dataset import simulated_motion
from neurosig.events.preprocess import EventPreprocessing
from neurosig.snn.classify import SNNClassify
from neurosig.snn.event_inference import EventDrivenSNN, load_event_model, save_event_model, window_events
from neurosig.snn.models import ConvSNN, DelaySNN
from neurosig.testing import run_stage

nir = pytest.importorskip("nir")

from neurosig.snn.nir_graph import NIRNetwork, export_nir, load_nir, to_nir  # noqa: E402

PRE = EventPreprocessing.from_config(
    (32, 32, 2), [{"type": "downsample", "spatial_factor": 2}], {"type": "spikes", "dt": 5000}, 10
)


def _inputs(n_per_class: int = 1) -> np.ndarray:
    return np.stack([PRE(r.load()[0]) for r in simulated_motion(n_per_class, seed=2)]).astype(np.float32)


def _model(neuron: str = "lif", delays: bool = True, seed: int = 1) -> DelaySNN:
    """An untrained network made to spike: weights scaled up, batch norm statistics from real inputs."""
    model = DelaySNN(
        PRE.n_units, 24, 8, n_layers=2, kernel_size=5, delays=delays, neuron=neuron, tau=2.0, seed=seed
    )
    x = torch.from_numpy(_inputs().transpose(1, 0, 2))
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.mul_(8.0)
        model.train()(x)
    for layer in model.delay_layers():
        layer.round_delays()
    return model.eval()


def _offline(model: DelaySNN, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x.transpose(1, 0, 2)))).numpy()


def _hidden_rate(model: DelaySNN, x: np.ndarray) -> float:
    rates = []
    hook = model.hidden[2].register_forward_hook(lambda m, i, o: rates.append(float(o.mean())))
    _offline(model, x)
    hook.remove()
    return rates[0]


@pytest.mark.parametrize("neuron", ["lif", "plif", "alif"])
@pytest.mark.parametrize("delays", [True, False])
def test_event_driven_inference_equals_the_rounded_network(neuron, delays):
    model, x = _model(neuron, delays), _inputs()
    assert _hidden_rate(model, x) > 0.002  # the hidden layers spike: the comparison is not of zeros
    want = _offline(model, x)
    got = EventDrivenSNN(model)(x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(got.argmax(1), want.argmax(1))
    np.testing.assert_allclose(EventDrivenSNN(model)(x[0]), want[0], rtol=1e-5, atol=1e-4)


def test_event_driven_inference_rejects_non_binary_input():
    with pytest.raises(DataError, match="binary"):
        EventDrivenSNN(_model())(2 * _inputs())


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.pt"
    return save_event_model(path, _model(), PRE, [str(k) for k in range(8)])


def test_checkpoint_round_trip(checkpoint, tmp_path):
    model, pre, classes = load_event_model(checkpoint)
    assert pre == PRE and classes == [str(k) for k in range(8)]
    np.testing.assert_array_equal(_offline(model, _inputs()), _offline(_model(), _inputs()))
    torch.save({"config": {}, "state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(FormatError, match="other.pt"):
        load_event_model(tmp_path / "other.pt")
    persist.save_checkpoint(tmp_path / "delays.pt", "snn-delay", {}, {})
    with pytest.raises(FormatError, match="not of a 'snn-event-model' model"):
        load_event_model(tmp_path / "delays.pt")


def _stream() -> np.ndarray:
    """Several recordings one after another: a 0.4 s stream of changing motion."""
    parts = []
    for k, rec in enumerate(simulated_motion(1, seed=5)[:4]):
        ev = rec.load()[0]
        ev["t"] += k * 100_000
        parts.append(ev)
    return np.concatenate(parts)


@pytest.mark.parametrize("cuts", [[], [1], [17, 400, 401, 1200], list(range(0, 3000, 250))])
def test_snn_classify_equals_offline_evaluation_of_the_same_windows(checkpoint, cuts):
    events = _stream()
    model, pre, _ = load_event_model(checkpoint)
    window = pre.n_steps * 5000
    offline = _offline(model, np.stack([pre(w) for w in window_events(events, window)]).astype(np.float32))
    chunks = [EventChunk(part, EventInfo((32, 32, 2))) for part in np.split(events, cuts)]
    out = run_stage(SNNClassify(str(checkpoint)), chunks)
    scores = np.concatenate([c.data for c in out])
    assert [c.start for c in out] == sorted(c.start for c in out) and out[0].info.dt == pytest.approx(0.05)
    assert scores.shape == offline.shape == (8, 8)
    np.testing.assert_array_equal(scores.argmax(1), offline.argmax(1))
    np.testing.assert_allclose(scores, offline, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("cuts", [[], [1], [17, 400, 401, 1200], list(range(0, 3000, 250))])
@pytest.mark.parametrize("hop", [0.02, 0.07])
def test_sliding_snn_classify_equals_offline_evaluation_and_holds_one_window(checkpoint, cuts, hop):
    events = _stream()
    model, pre, _ = load_event_model(checkpoint)
    window, hop_us = 50_000, int(hop * 1e6)
    windows = window_events(events, window, hop=hop_us)
    assert len(windows) == (int(events["t"][-1] - events["t"][0])) // hop_us + 1
    offline = _offline(model, np.stack([pre(w) for w in windows]).astype(np.float32))
    stage = SNNClassify(str(checkpoint), hop=hop)
    stage.reset()
    out, held = [], []
    for part in np.split(events, cuts):
        out += stage.process(EventChunk(part, EventInfo((32, 32, 2))))
        held.append(len(stage._held))
    out += stage.flush()
    scores = np.concatenate([c.data for c in out])
    assert [c.start for c in out] == sorted(c.start for c in out) and out[0].info.dt == pytest.approx(hop)
    assert scores.shape == offline.shape
    np.testing.assert_allclose(scores, offline, rtol=1e-5, atol=1e-4)
    most = max(
        np.searchsorted(events["t"], t + window) - np.searchsorted(events["t"], t) for t in events["t"]
    )
    assert max(held) <= most  # only the open window's events are held, whatever the chunks


def test_window_events_slides_by_hop():
    ev = np.zeros(4, dtype=_stream().dtype)
    ev["t"] = [0, 150, 250, 900]
    assert [list(w["t"]) for w in window_events(ev, 300, hop=200)] == [
        [0, 150, 250],
        [250],
        [],
        [],
        [900],
    ]


def test_snn_classify_rejects_another_sensor(checkpoint):
    ev = simulated_motion(1)[0].load()[0]
    with pytest.raises(DataError, match="sensor size"):
        list(SNNClassify(str(checkpoint)).process(EventChunk(ev, EventInfo((40, 32, 2)))))


def test_window_events_keeps_empty_windows():
    ev = _stream()[:0]
    assert window_events(ev, 1000) == []
    ev = np.zeros(3, dtype=_stream().dtype)
    ev["t"] = [100, 150, 3200]
    assert [len(w) for w in window_events(ev, 1000)] == [2, 0, 0, 1]


@pytest.mark.parametrize("delays", [True, False])
def test_nir_round_trip_equals_rounded_delay_inference(checkpoint, tmp_path, delays):
    model = _model(delays=delays)
    path = save_event_model(tmp_path / "m.pt", model, PRE, list("abcdefgh"))
    out = export_nir(path, tmp_path / "m.nir")
    graph = nir.read(out)
    kinds = {type(n).__name__ for n in graph.nodes.values()}
    assert {"Input", "Affine", "LIF", "LI", "Output"} <= kinds and ("Delay" in kinds) == delays
    if delays:  # every synapse sits in exactly one delay branch, with its delay in seconds
        d = model.delay_layers()[0].delays().numpy()
        for k in np.unique(d)[1:]:
            node = graph.nodes[f"syn1_d{k}_delay"]
            np.testing.assert_allclose(node.delay, k * PRE.dt)
        assert sum(int((graph.nodes[f"syn1_d{k}"].weight != 0).sum()) for k in np.unique(d)) == d.size
    x = _inputs(2)
    got = NIRNetwork(graph)(x.transpose(1, 0, 2)).sum(0)
    want = _offline(model, x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(got.argmax(1), want.argmax(1))


def test_alif_has_no_nir_form():
    with pytest.raises(ConfigError, match="ALIF"):
        to_nir(_model("alif"), 0.005)


def test_delay_free_graph_from_another_framework_runs(tmp_path):
    """LIF + Affine as snnTorch writes them (Leaky: mem = beta mem + W x + b; tau = dt / (1 - beta))."""
    rng = np.random.default_rng(0)
    dt, beta, n_in, n_hid, n_out = 1e-4, 0.8, 12, 10, 3
    w1, b1 = (
        rng.normal(0, 1.0, (n_hid, n_in)).astype(np.float32),
        rng.normal(0, 0.1, n_hid).astype(np.float32),
    )
    w2, b2 = rng.normal(0, 1.0, (n_out, n_hid)).astype(np.float32), np.zeros(n_out, np.float32)

    def lif(n):
        tau = np.full(n, dt / (1 - beta))
        return nir.LIF(tau=tau, r=tau / dt, v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n))

    graph = nir.NIRGraph.from_list(
        nir.Affine(weight=w1, bias=b1), lif(n_hid), nir.Affine(weight=w2, bias=b2), lif(n_out)
    )
    nir.write(tmp_path / "snntorch.nir", graph)
    net = load_nir(tmp_path / "snntorch.nir", dt=dt)
    x = (rng.random((30, 4, n_in)) < 0.3).astype(np.float32)

    def reference(x):  # snnTorch's Leaky with reset to zero, in torch
        def layer(inp, w, b):
            mem, out = torch.zeros(inp.shape[1], w.shape[0]), []
            for step in inp:
                mem = beta * mem + step @ torch.from_numpy(w).T + torch.from_numpy(b)
                spike = (mem > 1.0).float()
                mem = mem * (1 - spike)
                out.append(spike)
            return torch.stack(out)

        return layer(layer(torch.from_numpy(x), w1, b1), w2, b2).numpy()

    got, want = net(x), reference(x)
    assert want.sum() > 0
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ConfigError, match="dt"):
        NIRNetwork(nir.read(tmp_path / "snntorch.nir"))


def _conv_model(neuron: str = "lif") -> ConvSNN:
    """An untrained convolutional network made to spike (as :func:`_model`), one training step taken."""
    w, h, p = PRE.output_size
    model = ConvSNN(
        (p, h, w), 8, channels=[4], conv_kernel=3, pool=2, n_hidden=16, kernel_size=5, neuron=neuron
    )
    x = torch.from_numpy(_inputs().transpose(1, 0, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss = torch.nn.functional.cross_entropy(model.train()(x), torch.arange(8))
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() in (2, 4) and not name.endswith(".P"):
                param.mul_(6.0)
        model(x)
    for layer in model.delay_layers():
        layer.round_delays()
    return model.eval()


@pytest.mark.parametrize("neuron", ["lif", "alif"])
def test_conv_model_streams_like_its_offline_evaluation(tmp_path, neuron):
    model = _conv_model(neuron)
    rates = []
    hook = model.features[1].register_forward_hook(lambda m, i, o: rates.append(float(o.mean())))
    x = _inputs()
    _offline(model, x)
    hook.remove()
    assert rates[0] > 0.002  # the convolutional layer spikes
    np.testing.assert_allclose(EventDrivenSNN(model)(x), _offline(model, x), rtol=1e-5, atol=1e-4)
    path = save_event_model(tmp_path / "conv.pt", model, PRE, [str(k) for k in range(8)])
    loaded, _, _ = load_event_model(path)
    assert isinstance(loaded, ConvSNN) and loaded.config == model.config
    events = _stream()
    offline = _offline(loaded, np.stack([PRE(w) for w in window_events(events, 50_000)]).astype(np.float32))
    chunks = [EventChunk(part, EventInfo((32, 32, 2))) for part in np.split(events, [17, 400, 1200])]
    scores = np.concatenate([c.data for c in run_stage(SNNClassify(str(path)), chunks)])
    assert scores.shape == offline.shape == (8, 8)
    np.testing.assert_allclose(scores, offline, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(scores.argmax(1), offline.argmax(1))
    with pytest.raises(ConfigError, match="convolutional model"):
        export_nir(path, tmp_path / "conv.nir")


def test_conv_model_rejects_bad_shapes():
    with pytest.raises(ConfigError, match="conv_kernel"):
        ConvSNN((2, 16, 16), 8, conv_kernel=4)
    with pytest.raises(ConfigError, match="shrink"):
        ConvSNN((2, 16, 16), 8, channels=[4, 4, 4, 4, 4], pool=2)
    with pytest.raises(DataError, match="binary"):
        ConvSNN((2, 4, 4), 3)(torch.full((5, 1, 32), 2.0))
