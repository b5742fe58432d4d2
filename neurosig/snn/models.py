"""Networks built from delayed synapses and spiking neurons (the SHD delay-paper architecture).

:class:`DelaySNN`: ``n_layers`` hidden blocks of [synapses → BatchNorm → spiking neuron → dropout]
and a readout whose membrane, summed over time, gives the class scores. With ``delays=True`` the
synapses are :class:`~neurosig.snn.delays.DelayedSynapses`; with ``delays=False`` they are plain
per-step linear maps, the control network of the same architecture.

:class:`ConvSNN`: a convolutional spiking front end ([Conv2d → BatchNorm2d → spiking neuron →
max pool] per entry of ``channels``, SpikingJelly multi-step) whose flattened spikes feed a
:class:`DelaySNN` (the delay layers and the readout). :func:`build_model` rebuilds either from its
``config`` (checkpoints).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from spikingjelly.activation_based import functional
from spikingjelly.activation_based import layer as sj_layer
from torch import nn

from neurosig.core.errors import ConfigError, DataError
from neurosig.snn.delays import DelayedSynapses
from neurosig.snn.neurons import make_neuron

__all__ = ["DelaySNN", "ConvSNN", "build_model", "count_parameters"]


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
        self.n_inputs = n_inputs
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
        _check_input(x, self.config["n_inputs"], "DelaySNN")
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


def _check_input(x: torch.Tensor, n_in: int, name: str) -> None:
    """A :class:`DataError` unless ``x`` is ``(T, batch, n_in)`` binary spikes."""
    if x.dim() != 3 or x.shape[-1] != n_in:
        raise DataError(
            f"{name} expects spikes of shape (T, batch, {n_in}), got {tuple(x.shape)}; "
            "transpose batch-first data with x.transpose(0, 1)."
        )
    if bool(((x != 0) & (x != 1)).any()):
        raise DataError(
            f"{name} takes binary spikes (0 or 1); got other values. Clip counts with "
            "x.clamp(max=1) or read SHD files with SHDReader(binary=True)."
        )


class ConvSNN(nn.Module):
    """A convolutional spiking front end followed by a :class:`DelaySNN` (delay layers and readout).

    Parameters
    ----------
    input_shape : sequence of int
        ``(polarities, height, width)`` of each step's spikes; the input is their C-order flattening,
        as :class:`~neurosig.events.preprocess.EventPreprocessing` makes it.
    n_outputs : int
        Classes.
    channels : sequence of int
        Output channels of each convolutional block.
    conv_kernel : int
        Square convolution kernel, in pixels (odd; "same" zero padding).
    pool : int
        Max-pooling factor after each block (1: none). Max pooling keeps the spikes binary.
    n_hidden, n_layers, kernel_size, delays, tau, dropout
        The :class:`DelaySNN` behind the front end (``kernel_size``: delay taps).
    neuron : {"lif", "plif", "alif"}
        Neuron model of every spiking layer (in the front end, ALIF time constants are per layer).
    seed : int
        Seed of the initialisation.

    Notes
    -----
    Input ``(T, batch, P·H·W)`` time first; output ``(batch, n_outputs)`` scores. Each block is
    ``SeqToANNContainer(Conv2d, BatchNorm2d)``, the neuron on ``(T, batch, C, H, W)``, then
    ``SeqToANNContainer(MaxPool2d)``.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        n_outputs: int,
        channels: Sequence[int] = (8,),
        conv_kernel: int = 3,
        pool: int = 2,
        n_hidden: int = 64,
        n_layers: int = 1,
        kernel_size: int = 7,
        delays: bool = True,
        neuron: str = "lif",
        tau: float = 2.0,
        dropout: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        shape = tuple(int(s) for s in input_shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ConfigError(f"input_shape must be (polarities, height, width), got {tuple(input_shape)!r}.")
        if not channels or min(channels) < 1:
            raise ConfigError(
                f"model.channels must be a non-empty list of positive integers, got {channels!r}."
            )
        if conv_kernel < 1 or conv_kernel % 2 == 0:
            raise ConfigError(
                f"model.conv_kernel must be a positive odd number of pixels, got {conv_kernel!r}."
            )
        if pool < 1:
            raise ConfigError(f"model.pool must be a positive integer (1: no pooling), got {pool!r}.")
        torch.manual_seed(seed)
        blocks = []
        c, h, w = shape
        for i, out in enumerate(channels, start=1):
            blocks.append(
                sj_layer.SeqToANNContainer(
                    nn.Conv2d(c, int(out), conv_kernel, padding=conv_kernel // 2, bias=False),
                    nn.BatchNorm2d(int(out)),
                )
            )
            options = {"tau": tau} if neuron == "lif" else {"tau_m": tau} if neuron == "alif" else {}
            blocks.append(make_neuron(neuron, None, **options))  # ALIF: one pair of time constants
            if pool > 1:
                blocks.append(sj_layer.SeqToANNContainer(nn.MaxPool2d(pool)))
                h, w = h // pool, w // pool
            c = int(out)
            if h < 1 or w < 1:
                raise ConfigError(
                    f"model: {i} poolings by {pool} shrink the {shape[1]}x{shape[2]} input to "
                    "nothing; use fewer channels entries or a smaller pool."
                )
        self.features = nn.ModuleList(blocks)
        self.feature_shape = (c, h, w)
        self.back = DelaySNN(
            c * h * w, n_hidden, n_outputs, n_layers, kernel_size, delays, neuron, tau, dropout, seed
        )
        self.config: dict[str, Any] = {
            "type": "conv",
            "input_shape": list(shape),
            "n_outputs": n_outputs,
            "channels": [int(k) for k in channels],
            "conv_kernel": conv_kernel,
            "pool": pool,
            **{k: self.back.config[k] for k in ("n_hidden", "n_layers", "kernel_size", "delays", "neuron")},
            **{k: self.back.config[k] for k in ("tau", "dropout", "seed")},
        }
        self.n_inputs = int(np.prod(shape))

    def delay_layers(self) -> list[DelayedSynapses]:
        """The delay layers of the network behind the front end, input first."""
        return self.back.delay_layers()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(batch, n_outputs)`` for spikes ``x`` of shape ``(T, batch, P·H·W)``.

        Raises
        ------
        DataError
            If ``x`` is not a time-first 3-D tensor of 0/1 spikes of the input's size.
        """
        _check_input(x, self.n_inputs, "ConvSNN")
        return self.run(x)

    def run(self, x: torch.Tensor, synapses: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = None):
        """The network on ``x`` (unchecked); ``synapses`` replaces the delay layers' ``layer(h)`` (see
        :meth:`DelaySNN.run`). The convolutions always run densely."""
        functional.reset_net(self)
        steps, batch = x.shape[:2]
        h = x.reshape(steps, batch, *self.config["input_shape"])
        for block in self.features:
            h = block(h)
        return self.back.run(h.reshape(steps, batch, -1), synapses)


def build_model(config: dict[str, Any]) -> DelaySNN | ConvSNN:
    """A :class:`DelaySNN` or (``config["type"] == "conv"``) :class:`ConvSNN` from its ``config``."""
    config = dict(config)
    if config.pop("type", "dense") == "conv":
        return ConvSNN(**config)
    return DelaySNN(**config)
