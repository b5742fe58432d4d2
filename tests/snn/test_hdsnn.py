"""HD-SNN: motion direction from moving dots, causality, pruning trade-off, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosig.core.errors import ConfigError, DataError
from neurosig.snn.hdsnn import HDSNN, events_to_tensor, pruning_curve, train_hdsnn
from neurosig.snn.report import plot_pruning
from neurosig.snn.synthetic import DIRECTIONS, moving_dots

SIZE, STEPS = 12, 8


@pytest.fixture(scope="module")
def dots():
    samples, labels = moving_dots(600, size=SIZE, n_steps=STEPS, seed=0)
    x = np.stack([events_to_tensor(s, (SIZE, SIZE, 2), STEPS, 1000) for s in samples])
    return torch.from_numpy(x), torch.from_numpy(labels)


@pytest.fixture(scope="module")
def trained(dots):
    torch.set_num_threads(1)
    x, y = dots
    model = HDSNN(len(DIRECTIONS), n_polarities=2, n_delays=3, kernel_size=5)
    losses = train_hdsnn(model, x[:400], y[:400], epochs=8, lr=0.01, seed=0)
    return model, losses


def test_classifies_motion_direction(dots, trained):
    x, y = dots
    model, losses = trained
    assert losses[-1] < losses[0]
    with torch.no_grad():
        accuracy = float((model(x[400:]).argmax(1) == y[400:]).float().mean())
    assert accuracy >= 0.90


def test_pruning_trades_accuracy_for_operations(dots, trained, tmp_path):
    x, y = dots
    model, _ = trained
    before = model.conv.weight.clone()
    curve = pruning_curve(model, x[400:], y[400:], fractions=(0.0, 0.5, 0.9, 0.99))
    torch.testing.assert_close(model.conv.weight, before)  # the model is left unchanged
    ops = [row["ops_per_sample"] for row in curve]
    assert all(b < a for a, b in zip(ops, ops[1:], strict=False))
    assert curve[0]["accuracy"] >= 0.9 and curve[-1]["accuracy"] < curve[0]["accuracy"]
    assert curve[1]["n_weights"] == pytest.approx(curve[0]["n_weights"] / 2, abs=2)
    figure = plot_pruning(curve, tmp_path / "pruning.png", chance=1 / 8)
    assert figure.read_bytes()[:4] == b"\x89PNG" and figure.stat().st_size > 10_000


def test_layer_is_causal():
    torch.manual_seed(0)
    model = HDSNN(3, n_delays=4, kernel_size=3)
    torch.nn.init.normal_(model.conv.weight)
    x = (torch.rand(1, 2, 10, 6, 6) < 0.2).float()
    later = x.clone()
    later[:, :, 6:] = 1.0 - later[:, :, 6:]
    with torch.no_grad():
        torch.testing.assert_close(model.activation(x)[:, :, :6], model.activation(later)[:, :, :6])
        assert not torch.allclose(model.activation(x)[:, :, 6:], model.activation(later)[:, :, 6:])


def test_events_to_tensor_and_bad_input():
    samples, _ = moving_dots(1, size=SIZE, n_steps=STEPS, noise=0.0, seed=1)
    dense = events_to_tensor(samples[0], (SIZE, SIZE, 2), STEPS, 1000)
    assert dense.shape == (2, STEPS, SIZE, SIZE) and dense[1, 0].sum() == 4  # the 2x2 dot appears
    with pytest.raises(DataError, match="outside"):
        events_to_tensor(samples[0], (4, 4, 2), STEPS, 1000)
    with pytest.raises(DataError, match="EVENTS_DTYPE"):
        events_to_tensor(np.zeros(3), (4, 4, 2), STEPS, 1000)
    with pytest.raises(DataError, match="expects"):
        HDSNN(3)(torch.zeros(2, 5, 4, 4))
    with pytest.raises(ConfigError, match="odd"):
        HDSNN(3, kernel_size=4)
    with pytest.raises(ConfigError, match="size"):
        moving_dots(2, size=5, n_steps=8)
