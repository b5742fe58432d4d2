"""ALIF: analytic threshold dynamics, multi-step = looped single-step, gradients, factory, bad input."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
from spikingjelly.activation_based import functional

from neurosig.core.errors import ConfigError
from neurosig.snn.neurons import ALIFNode, make_neuron


@torch.no_grad()
def test_threshold_rises_with_firing_and_decays_with_tau_adp():
    tau_m, tau_adp, b0, beta = 2.0, 8.0, 0.5, 1.5
    node = ALIFNode(tau_m=tau_m, tau_adp=tau_adp, b0=b0, beta=beta)
    rho = math.exp(-1.0 / tau_adp)
    node(torch.tensor([0.0]))
    assert float(node.threshold) == pytest.approx(b0)
    spike = node(torch.tensor([1.5]))  # v = (1 - alpha) * 1.5 = 0.59 > b0: one spike, then v decays
    assert float(spike) == 1.0
    thresholds = []
    for _ in range(12):
        assert float(node(torch.tensor([0.0]))) == 0.0
        thresholds.append(float(node.threshold))
    expected = [b0 + beta * (1 - rho) * rho ** (k + 1) for k in range(12)]
    assert thresholds == pytest.approx(expected, rel=1e-5)
    assert thresholds[0] > b0 and thresholds[-1] < thresholds[0]


@torch.no_grad()
def test_threshold_grows_with_repeated_firing():
    node = ALIFNode(tau_m=1.0, tau_adp=50.0, b0=0.2, beta=0.5)
    seen = []
    for _ in range(5):
        node(torch.tensor([100.0]))
        seen.append(float(node.threshold))
    assert all(b > a for a, b in zip(seen, seen[1:], strict=False))


def test_multi_step_equals_looped_single_step():
    x = torch.rand(15, 4, 3) * 2
    multi = ALIFNode(tau_m=3.0, tau_adp=20.0, b0=0.6, beta=1.0, n_neurons=3, step_mode="m")
    single = ALIFNode(tau_m=3.0, tau_adp=20.0, b0=0.6, beta=1.0, n_neurons=3, step_mode="s")
    out_m = multi(x)
    out_s = torch.stack([single(x[t]) for t in range(15)])
    torch.testing.assert_close(out_m, out_s)
    assert out_m.sum() > 0
    functional.reset_net(multi)
    torch.testing.assert_close(multi(x), out_m)


def test_gradients_reach_both_time_constants():
    node = ALIFNode(tau_m=4.0, tau_adp=30.0, b0=0.4, beta=1.0, n_neurons=5, step_mode="m")
    x = torch.rand(30, 8, 5) * 2
    node(x).sum().backward()
    assert torch.all(node.log_tau_m.grad != 0)
    assert torch.all(node.log_tau_adp.grad != 0)


def test_instances_do_not_share_state():
    a, b = ALIFNode(step_mode="m"), ALIFNode(step_mode="m")
    a(torch.full((3, 1, 2), 50.0))
    functional.reset_net(b)
    assert torch.is_tensor(a.a) and float(a.a.detach().sum()) > 0


@pytest.mark.parametrize("kind", ["lif", "plif", "alif"])
def test_factory_builds_multistep_neurons(kind):
    layer = make_neuron(kind, 6)
    assert layer(torch.rand(7, 2, 6) * 3).shape == (7, 2, 6)


def test_bad_parameters():
    with pytest.raises(ConfigError, match="tau_m"):
        ALIFNode(tau_m=0.0)
    with pytest.raises(ConfigError, match="step_mode"):
        ALIFNode(step_mode="x")
    with pytest.raises(ConfigError, match="Did you mean"):
        make_neuron("alfi", 3)


def test_lif_on_a_cpu_torch_logs_no_triton_warning():
    code = (
        "import torch; from neurosig.snn.neurons import make_neuron; "
        "make_neuron('lif', 4)(torch.ones(3, 2, 4))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Triton" not in out.stderr
