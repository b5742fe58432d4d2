"""HD-SNN: a layer of heterogeneous delays over polarity × delay × space (Grimaldi & Perrinet 2023).

The layer is a causal 3D convolution: ``B(k, t, x, y) = sum K(k, p, dt, dx, dy) · A(p, t - dt, x - dx,
y - dy)``, where ``A`` is the binned event stream, ``dt`` runs over ``0 .. n_delays - 1`` bins (left
padding keeps it causal) and ``(dx, dy)`` over a centred spatial window. At every position, ``B + b_k``
are the logits of a multinomial logistic regression over the classes (motion directions), read at
every input event (event-driven); the log-probabilities averaged over a sample's events make its
decision.
:func:`pruning_curve` zeroes the smallest weights and measures the accuracy/operations trade-off,
where an operation is one weight added for one input event (the cost of event-driven inference).

Grimaldi, A. & Perrinet, L. U. (2023), "Learning heterogeneous delays in a layer of spiking neurons
for fast motion detection", Biological Cybernetics 117:373–387.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from neurosig.core.chunks import check_events_dtype
from neurosig.core.errors import ConfigError, DataError

__all__ = ["events_to_tensor", "HDSNN", "train_hdsnn", "pruning_curve"]


def events_to_tensor(
    events: np.ndarray, sensor_size: tuple[int, int, int], n_bins: int, bin_us: int
) -> np.ndarray:
    """Bin events into a binary float32 array ``(polarities, n_bins, width, height)``.

    Events at or after ``n_bins * bin_us`` µs are dropped.

    Raises
    ------
    DataError
        On a wrong dtype or events outside the sensor.
    """
    check_events_dtype(events)
    width, height, pols = sensor_size
    if len(events) and (
        events["x"].max() >= width or events["y"].max() >= height or events["p"].max() >= pols
    ):
        raise DataError(
            f"events fall outside sensor_size {tuple(sensor_size)}; check (width, height, polarities)."
        )
    out = np.zeros((pols, n_bins, width, height), dtype=np.float32)
    b = events["t"] // bin_us
    keep = (b >= 0) & (b < n_bins)
    out[events["p"][keep], b[keep], events["x"][keep], events["y"][keep]] = 1.0
    return out


class HDSNN(nn.Module):
    """Heterogeneous-delay layer with a logistic-regression readout.

    Parameters
    ----------
    n_classes : int
        Output channels (e.g. motion directions).
    n_polarities : int
        Input polarities.
    n_delays : int
        Delays ``0 .. n_delays - 1`` in bins.
    kernel_size : int
        Odd spatial window width in pixels.
    """

    def __init__(
        self, n_classes: int, n_polarities: int = 2, n_delays: int = 5, kernel_size: int = 5
    ) -> None:
        super().__init__()
        if kernel_size % 2 == 0 or kernel_size < 1 or n_delays < 1 or n_classes < 2:
            raise ConfigError(
                f"HDSNN needs an odd kernel_size >= 1, n_delays >= 1 and n_classes >= 2; got "
                f"kernel_size={kernel_size}, n_delays={n_delays}, n_classes={n_classes}."
            )
        self.n_delays, self.kernel_size = n_delays, kernel_size
        self.conv = nn.Conv3d(n_polarities, n_classes, (n_delays, kernel_size, kernel_size), bias=True)
        nn.init.zeros_(self.conv.weight)

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        """``B + b`` for input ``(batch, polarities, T, width, height)``, classes as channels."""
        if x.dim() != 5 or x.shape[1] != self.conv.in_channels:
            raise DataError(
                f"HDSNN expects (batch, {self.conv.in_channels}, T, width, height), got {tuple(x.shape)}."
            )
        half = self.kernel_size // 2
        return self.conv(F.pad(x, (half, half, half, half, self.n_delays - 1, 0)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(batch, n_classes)``: log-probabilities averaged over the input events.

        At each event's position ``(t, x, y)`` a multinomial logistic regression ``log softmax_k(B + b)``
        reads the delayed past around it; the mean over a sample's events is both its decision score
        and, at the label, minus the training loss.
        """
        logp = F.log_softmax(self.activation(x), dim=1)
        active = (x.sum(dim=1, keepdim=True) > 0).to(logp.dtype)
        return (logp * active).sum(dim=(2, 3, 4)) / active.sum(dim=(2, 3, 4)).clamp(min=1.0)


def train_hdsnn(
    model: HDSNN,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 30,
    lr: float = 0.05,
    batch_size: int = 64,
    seed: int = 0,
) -> list[float]:
    """Fit the layer as a per-position multinomial logistic regression (Adam); return epoch losses."""
    gen = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=gen)
        total = 0.0
        for start in range(0, len(y), batch_size):
            idx = order[start : start + batch_size]
            loss = F.nll_loss(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / len(y))
    return losses


@torch.no_grad()
def pruning_curve(
    model: HDSNN, x: torch.Tensor, y: torch.Tensor, fractions: Sequence[float] = (0.0, 0.5, 0.9, 0.95, 0.99)
) -> list[dict[str, float]]:
    """Accuracy and event-driven operations after zeroing the smallest ``fraction`` of weights.

    Returns one dict per fraction: ``fraction``, ``accuracy``, ``n_weights`` (non-zero) and
    ``ops_per_sample`` (for every input event, the non-zero weights of its polarity). The model is
    left unchanged.
    """
    weight = model.conv.weight.detach().clone()
    magnitudes = weight.abs().flatten().sort().values
    events_per_pol = x.sum(dim=(0, 2, 3, 4)) / len(x)  # mean input events per sample, per polarity
    curve = []
    try:
        for fraction in fractions:
            if not 0 <= fraction < 1:
                raise ConfigError(f"pruning fractions must lie in [0, 1), got {fraction}.")
            cut = magnitudes[int(fraction * (len(magnitudes) - 1))] if fraction > 0 else -1.0
            pruned = torch.where(weight.abs() > cut, weight, torch.zeros_like(weight))
            model.conv.weight.copy_(pruned)
            accuracy = float((model(x).argmax(1) == y).float().mean())
            nonzero_per_pol = (pruned != 0).sum(dim=(0, 2, 3, 4)).float()
            ops = float((events_per_pol * nonzero_per_pol).sum())
            curve.append(
                {
                    "fraction": float(fraction),
                    "accuracy": accuracy,
                    "n_weights": int((pruned != 0).sum()),
                    "ops_per_sample": ops,
                }
            )
    finally:
        model.conv.weight.copy_(weight)
    return curve
