"""Spiking neurons: ALIF (adaptive threshold) as a SpikingJelly node, and a factory for LIF/PLIF/ALIF.

ALIF follows Bellec et al. (2018, LSNN) and Yin et al. (2021): per time step, with
``alpha = exp(-1 / tau_m)`` and ``rho = exp(-1 / tau_adp)`` (time constants in steps),

- threshold ``theta = b0 + beta * a`` (``a``: the low-passed trace of the neuron's own spikes),
- membrane ``v <- alpha * v + (1 - alpha) * x``,
- spike ``s = H(v - theta)`` (surrogate gradient in the backward pass),
- soft reset ``v <- v - theta * s``, then ``a <- rho * a + (1 - rho) * s``.

Both time constants are learnable (stored as their logarithms so they stay positive), per neuron
when ``n_neurons`` is given. LIF and ParametricLIF come from SpikingJelly itself.
"""

from __future__ import annotations

import logging
import math

import torch
from spikingjelly.activation_based import neuron, surrogate
from torch import nn

from neurosig.core.errors import ConfigError
from neurosig.core.validate import check_option, check_positive

__all__ = ["ALIFNode", "make_neuron"]

# SpikingJelly registers Triton versions of its neuron ops on first use; on CPU builds of torch that
# logs "Triton not available" each time, which says nothing about the run.
logging.getLogger("torch._library.triton").setLevel(logging.ERROR)


class ALIFNode(neuron.SimpleBaseNode):
    """Adaptive leaky integrate-and-fire neuron with learnable membrane and adaptation time constants.

    Parameters
    ----------
    tau_m : float
        Initial membrane time constant, in time steps (> 0).
    tau_adp : float
        Initial adaptation time constant, in time steps (> 0).
    b0 : float
        Baseline threshold (same unit as the membrane potential).
    beta : float
        Threshold increase per unit of adaptation trace (``>= 0``; 0 gives a LIF neuron).
    n_neurons : int | None
        Number of neurons for per-neuron time constants; ``None`` shares one pair.
    learn_tau : bool
        Whether the time constants are trained.
    surrogate_function : SurrogateFunctionBase
        SpikingJelly surrogate of the Heaviside step (default ``ATan()``).
    detach_reset : bool
        Detach the reset from the graph.
    step_mode : {"s", "m"}
        Single-step ``[N, *]`` or multi-step ``[T, N, *]`` input.
    """

    def __init__(
        self,
        tau_m: float = 20.0,
        tau_adp: float = 150.0,
        b0: float = 1.0,
        beta: float = 1.8,
        n_neurons: int | None = None,
        learn_tau: bool = True,
        surrogate_function: surrogate.SurrogateFunctionBase | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
    ) -> None:
        check_positive("tau_m", tau_m)
        check_positive("tau_adp", tau_adp)
        check_positive("beta", beta, strict=False)
        check_option("step_mode", step_mode, ["s", "m"])
        if n_neurons is not None and n_neurons < 1:
            raise ConfigError(f"n_neurons must be a positive integer or None, got {n_neurons!r}.")
        super().__init__(
            v_threshold=b0,
            v_reset=None,
            surrogate_function=surrogate_function or surrogate.ATan(),
            detach_reset=detach_reset,
            step_mode=step_mode,
        )
        shape = () if n_neurons is None else (n_neurons,)
        log_m = torch.full(shape, math.log(tau_m))
        log_a = torch.full(shape, math.log(tau_adp))
        self.log_tau_m = nn.Parameter(log_m, requires_grad=learn_tau)
        self.log_tau_adp = nn.Parameter(log_a, requires_grad=learn_tau)
        self.b0, self.beta = float(b0), float(beta)
        self.register_memory("a", 0.0)

    @property
    def tau_m(self) -> torch.Tensor:
        """Membrane time constant(s) in steps."""
        return self.log_tau_m.exp()

    @property
    def tau_adp(self) -> torch.Tensor:
        """Adaptation time constant(s) in steps."""
        return self.log_tau_adp.exp()

    @property
    def threshold(self) -> torch.Tensor | float:
        """The current threshold ``b0 + beta * a`` (for the next step)."""
        return self.b0 + self.beta * self.a

    def single_step_forward(self, x: torch.Tensor) -> torch.Tensor:
        """One time step: charge, fire against the adaptive threshold, soft reset, adapt."""
        alpha = torch.exp(-1.0 / self.tau_m)
        rho = torch.exp(-1.0 / self.tau_adp)
        theta = self.b0 + self.beta * self.a
        self.v = alpha * self.v + (1.0 - alpha) * x
        spike = self.surrogate_function(self.v - theta)
        spike_r = spike.detach() if self.detach_reset else spike
        self.v = self.v - theta * spike_r
        self.a = rho * self.a + (1.0 - rho) * spike
        return spike

    def extra_repr(self) -> str:
        return f"b0={self.b0}, beta={self.beta}, step_mode={self.step_mode}"


def make_neuron(kind: str, n_neurons: int | None, **options) -> nn.Module:
    """A multi-step spiking neuron layer by name.

    Parameters
    ----------
    kind : {"lif", "plif", "alif"}
        SpikingJelly ``LIFNode``, ``ParametricLIFNode``, or :class:`ALIFNode`.
    n_neurons : int | None
        Layer width (used by ALIF for per-neuron time constants; ``None``: one pair for the layer).
    **options
        Passed to the neuron's constructor (``tau``, ``v_threshold``, ``tau_m``, ...).

    Returns
    -------
    nn.Module
        The neuron in multi-step mode with an ATan surrogate and detached reset by default.
    """
    check_option("neuron", kind, ["lif", "plif", "alif"])
    opts = {"surrogate_function": surrogate.ATan(alpha=5.0), "detach_reset": True, "step_mode": "m"}
    opts.update(options)
    if kind == "alif":
        return ALIFNode(n_neurons=n_neurons, **opts)
    opts.setdefault("decay_input", False)
    if kind == "lif":
        return neuron.LIFNode(**opts)
    opts["init_tau"] = opts.pop("tau", 2.0)
    return neuron.ParametricLIFNode(**opts)
