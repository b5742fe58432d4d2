"""Networks built from delayed synapses and spiking neurons (the SHD delay-paper architecture).

:class:`DelaySNN`: ``n_layers`` hidden blocks of [synapses → BatchNorm → spiking neuron → dropout]
and a readout whose membrane, summed over time, gives the class scores. With ``delays=True`` the
synapses are :class:`~neurosig.snn.delays.DelayedSynapses`; with ``delays=False`` they are plain
per-step linear maps, the control network of the same architecture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from spikingjelly.activation_based import functional
from torch import nn

from neurosig.core.errors import ConfigError, DataError
from neurosig.snn.delays import DelayedSynapses
from neurosig.snn.neurons import make_neuron

__all__ = ["DelaySNN", "count_parameters"]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class _TimeLinear(nn.Linear):
    """``nn.Linear`` on ``(T, batch, features)`` (no delay: the control network's synapses)."""


class DelaySNN(nn.Module):
    """A feed-forward spiking network with (optionally) learnable synaptic delays.

    Parameters
    ----------
    n_inputs, n_hidden, n_outputs : int
        Input channels, hidden neurons per layer, classes.
    n_layers : int
        Number of hidden spiking layers.
    kernel_size : int
        Delay taps per synapse (delays ``0 .. kernel_size - 1`` steps); ignored without delays.
    delays : bool
        Learnable delays (``True``) or plain weights (``False``).
    neuron : {"lif", "plif", "alif"}
        Hidden neuron model.
    tau : float
        Membrane time constant of the hidden neurons and the readout, in steps (the delay paper uses
        1.005: almost no integration, so timing must come from the delays).
    dropout : float
        Dropout probability after each hidden layer.
    seed : int
        Seed of the initialisation.

    Notes
    -----
    Input ``(T, batch, n_inputs)`` time first; output ``(batch, n_outputs)`` scores. The network is
    stateful (SpikingJelly memories); :meth:`forward` resets it before each sequence.
    """

    def __init__(
        self,
        n_inputs: int,
        n_hidden: int,
        n_outputs: int,
        n_layers: int = 2,
        kernel_size: int = 25,
        delays: bool = True,
        neuron: str = "lif",
        tau: float = 1.005,
        dropout: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ConfigError(f"n_layers must be >= 1, got {n_layers}.")
        self.config: dict[str, Any] = {
            "n_inputs": n_inputs,
            "n_hidden": n_hidden,
            "n_outputs": n_outputs,
            "n_layers": n_layers,
            "kernel_size": kernel_size,
            "delays": delays,
            "neuron": neuron,
            "tau": tau,
            "dropout": dropout,
            "seed": seed,
        }
        torch.manual_seed(seed)
        blocks = []
        width = n_inputs
        for layer in range(n_layers):
            blocks.append(self._synapses(width, n_hidden, kernel_size, delays, seed + layer))
            blocks.append(nn.BatchNorm1d(n_hidden))
            options = {"tau": tau} if neuron == "lif" else {"tau_m": tau} if neuron == "alif" else {}
            blocks.append(make_neuron(neuron, n_hidden, **options))
            blocks.append(nn.Dropout(dropout))
            width = n_hidden
        self.hidden = nn.ModuleList(blocks)
        self.readout = self._synapses(width, n_outputs, kernel_size, delays, seed + n_layers)
        self.decay = float(torch.exp(torch.tensor(-1.0 / tau)))

    @staticmethod
    def _synapses(n_in: int, n_out: int, kernel_size: int, delays: bool, seed: int) -> nn.Module:
        if delays:
            return DelayedSynapses(n_in, n_out, kernel_size=kernel_size, seed=seed)
        return _TimeLinear(n_in, n_out, bias=False)

    def delay_layers(self) -> list[DelayedSynapses]:
        """The network's delay layers, input first."""
        return [m for m in self.modules() if isinstance(m, DelayedSynapses)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(batch, n_outputs)`` for spikes ``x`` of shape ``(T, batch, n_inputs)``.

        Raises
        ------
        DataError
            If ``x`` is not a time-first 3-D tensor of 0/1 spikes with ``n_inputs`` channels.
        """
        n_in = self.config["n_inputs"]
        if x.dim() != 3 or x.shape[-1] != n_in:
            raise DataError(
                f"DelaySNN expects spikes of shape (T, batch, {n_in}), got {tuple(x.shape)}; "
                "transpose batch-first data with x.transpose(0, 1)."
            )
        if bool(((x != 0) & (x != 1)).any()):
            raise DataError(
                "DelaySNN takes binary spikes (0 or 1); got other values. Clip counts with "
                "x.clamp(max=1) or read SHD files with SHDReader(binary=True)."
            )
        return self.run(x)

    def run(self, x: torch.Tensor, synapses: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = None):
        """The network on ``x`` (unchecked), with ``synapses(layer, h)`` in place of ``layer(h)`` if given.

        Event-driven inference (:class:`neurosig.snn.event_inference.EventDrivenSNN`) passes its own
        synapses; everything else (batch norm, neurons, the readout's integration) is this code.
        """
        apply = synapses or (lambda layer, h: layer(h))
        functional.reset_net(self)
        h = x
        for block in self.hidden:
            if isinstance(block, nn.BatchNorm1d):
                steps, batch = h.shape[:2]
                h = block(h.reshape(steps * batch, -1)).reshape(steps, batch, -1)
            elif isinstance(block, DelayedSynapses | _TimeLinear):
                h = apply(block, h)
            else:
                h = block(h)
        current = apply(self.readout, h)
        v = torch.zeros_like(current[0])
        total = torch.zeros_like(current[0])
        for step in current:  # a non-spiking leaky readout; its membrane summed over time
            v = self.decay * v + step
            total = total + v
        return total
