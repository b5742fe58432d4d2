"""Learnable synaptic delays as a Gaussian-interpolated causal 1D convolution (DCLS style).

Every synapse ``(o, i)`` has a weight ``w[o, i]`` and a real-valued position ``P[o, i]``. The layer
builds a dense temporal kernel of ``K = kernel_size`` taps whose tap ``k`` holds
``w * g_k / (sum_k g_k + 1e-7)`` with ``g_k = exp(-0.5 * ((k - P - K // 2) / (|SIG| + 0.27)) ** 2)``
(the parameterisation of ``DCLS.construct.modules.Dcls1d``, version ``"gauss"``), left-pads the input
by ``K - 1`` steps and convolves, so that tap ``k`` acts with a delay of ``K - 1 - k`` steps and the
layer is causal. During training ``SIG`` follows a schedule from wide to ~0.23 (:meth:`set_sigma`);
for inference positions are rounded to integer delays (:meth:`round_delays`), after which the layer
equals a sparse set of delayed weights that :mod:`neurosig.kernels.delays` runs event by event.

Hammouamri, Khalfaoui-Hassani & Masquelier (2023), "Learning delays in spiking neural networks using
dilated convolutions with learnable spacings", ICLR 2024.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from neurosig.core.errors import ConfigError, DataError

__all__ = ["DelayedSynapses", "sigma_schedule"]

_SIG_OFFSET = 0.27  # Dcls1d's floor on the Gaussian width (in steps)
_NORM_EPS = 1e-7  # Dcls1d's guard in the tap normalisation


def sigma_schedule(
    epoch: int, n_epochs: int, start: float, end: float = 0.23, fraction: float = 0.25
) -> float:
    """Width of the delay Gaussians (steps) at ``epoch``: linear decay over the first ``fraction``.

    Parameters
    ----------
    epoch : int
        Current epoch (0-based).
    n_epochs : int
        Total number of epochs.
    start, end : float
        ``SIG`` at the first epoch and after the decay, in steps (the Gaussian's width is
        ``SIG + 0.27``; the delay paper goes from ``K // 2`` to 0.23).
    fraction : float
        Part of training over which the width decays.

    Returns
    -------
    float
        ``SIG`` in steps, for :meth:`DelayedSynapses.set_sigma`.
    """
    n_decay = max(1, round(fraction * n_epochs))
    if epoch >= n_decay:
        return end
    return start + (end - start) * epoch / n_decay


class DelayedSynapses(nn.Module):
    """A fully connected layer of synapses with learnable weights and learnable delays.

    Input and output are time first, as in SpikingJelly's multi-step mode: ``(T, batch, in_features)``
    → ``(T, batch, out_features)``; time steps are the unit of every delay.

    Parameters
    ----------
    in_features, out_features : int
        Number of input and output units.
    kernel_size : int
        Number of delay taps ``K``; delays lie in ``0 .. K - 1`` steps (SHD: 25).
    sigma : float | None
        Initial ``SIG`` in steps (Gaussian width ``SIG + 0.27``; default ``K // 2``, as in the delay paper).
    bias : bool
        Whether to add a learnable bias per output unit.
    seed : int | None
        Seed of the weight and position initialisation (``None``: torch's global generator).

    Attributes
    ----------
    weight : Parameter, shape (out_features, in_features)
        Synaptic weights.
    P : Parameter, shape (out_features, in_features)
        Delay positions relative to the kernel centre, in ``[-K // 2, K - 1 - K // 2]``.
    SIG : Tensor buffer, shape (out_features, in_features)
        Gaussian widths before Dcls1d's 0.27 offset, in steps (scheduled, not learned; :meth:`set_sigma`).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        kernel_size: int = 25,
        sigma: float | None = None,
        bias: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if int(value) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
        if int(kernel_size) < 1:
            raise ConfigError(f"kernel_size must be >= 1 delay tap, got {kernel_size!r}.")
        self.in_features, self.out_features, self.kernel_size = (
            int(in_features),
            int(out_features),
            int(kernel_size),
        )
        gen = None if seed is None else torch.Generator().manual_seed(int(seed))
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = nn.Parameter(
            torch.empty(out_features, in_features).uniform_(-bound, bound, generator=gen)
        )
        half = self.kernel_size // 2
        self.P = nn.Parameter(torch.empty(out_features, in_features).uniform_(-half, half, generator=gen))
        self.register_buffer("SIG", torch.zeros(out_features, in_features))
        self.register_buffer("_taps", torch.arange(self.kernel_size, dtype=torch.float32), persistent=False)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.set_sigma(float(half) if sigma is None else sigma)
        self.rounded = False

    @property
    def sigma(self) -> float:
        """Current ``SIG`` in steps (mean over synapses); the Gaussians' width is ``SIG + 0.27``."""
        return float(self.SIG.abs().mean())

    def set_sigma(self, sigma: float) -> None:
        """Set every synapse's ``SIG`` to ``sigma`` steps (``>= 0``; width ``sigma + 0.27``)."""
        if not sigma >= 0:
            raise ConfigError(f"sigma must be a number of steps >= 0, got {sigma!r}.")
        with torch.no_grad():
            self.SIG.fill_(sigma)

    @torch.no_grad()
    def clamp_positions(self) -> None:
        """Keep positions inside the kernel (call after each optimiser step)."""
        half = self.kernel_size // 2
        self.P.clamp_(-half, self.kernel_size - 1 - half)

    def delays(self) -> torch.Tensor:
        """Integer delays in steps, shape ``(out_features, in_features)``: positions rounded."""
        tap = torch.round(self.P.detach() + self.kernel_size // 2).clamp(0, self.kernel_size - 1)
        return (self.kernel_size - 1 - tap).to(torch.int64)

    def round_delays(self) -> None:
        """Switch to inference with integer delays: each synapse keeps one tap, its full weight."""
        self.rounded = True

    def kernel(self) -> torch.Tensor:
        """The dense temporal kernel, shape ``(out_features, in_features, K)``; tap ``k`` delays ``K-1-k``."""
        if self.rounded:
            tap = self.kernel_size - 1 - self.delays()
            onehot = F.one_hot(tap, self.kernel_size).to(self.weight.dtype)
            return self.weight.unsqueeze(-1) * onehot
        centre = (self.P + self.kernel_size // 2).unsqueeze(-1)
        width = (self.SIG.abs() + _SIG_OFFSET).unsqueeze(-1)
        g = torch.exp(-0.5 * ((self._taps - centre) / width) ** 2)
        g = g / (g.sum(-1, keepdim=True) + _NORM_EPS)
        return self.weight.unsqueeze(-1) * g

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the delayed synapses.

        Parameters
        ----------
        x : Tensor, shape (T, batch, in_features)
            Input spikes (or currents) per time step.

        Returns
        -------
        Tensor, shape (T, batch, out_features)
        """
        if x.dim() != 3 or x.shape[-1] != self.in_features:
            raise DataError(
                f"DelayedSynapses expects (T, batch, {self.in_features}) time-first input, got "
                f"{tuple(x.shape)}; transpose batch-first data with x.transpose(0, 1)."
            )
        seq = F.pad(x.permute(1, 2, 0), (self.kernel_size - 1, 0))
        y = F.conv1d(seq, self.kernel(), self.bias)
        return y.permute(2, 0, 1)

    def rounded_numpy(self) -> tuple[np.ndarray, np.ndarray]:
        """``(weight, delay)`` as float32 and int64 arrays ``(out, in)`` for event-driven inference."""
        return self.weight.detach().cpu().numpy().astype(np.float32), self.delays().cpu().numpy()

    def extra_repr(self) -> str:
        return (
            f"{self.in_features}, {self.out_features}, kernel_size={self.kernel_size}, "
            f"sigma={self.sigma:.3g}, rounded={self.rounded}"
        )
