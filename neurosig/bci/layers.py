"""Small building blocks shared by the EEGNet-family models.

The comparison code (Köllőd et al. 2023) is Keras; these blocks give its PyTorch equivalents: Keras
``'same'`` padding (an even kernel pads one more sample on the right), max-norm constraints applied
after every optimiser step, and Glorot-uniform weights with zero biases.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "MaxNormConv2d",
    "MaxNormLinear",
    "SeparableConv2d",
    "same_conv",
    "apply_max_norm",
    "glorot_init",
    "keras_bn",
]


class _MaxNormMixin:
    """Marks a layer whose weight is renormalised (per output unit) to ``max_norm`` after each step."""

    max_norm: float | None

    @torch.no_grad()
    def renorm_(self) -> None:
        """Scale each output unit's weight vector down to an L2 norm of at most ``max_norm``."""
        if self.max_norm is not None:
            self.weight.data = torch.renorm(self.weight.data, p=2, dim=0, maxnorm=self.max_norm)


class MaxNormConv2d(_MaxNormMixin, nn.Conv2d):
    """``nn.Conv2d`` with an optional max-norm constraint on each output filter."""

    def __init__(self, *args, max_norm: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_norm = max_norm


class MaxNormLinear(_MaxNormMixin, nn.Linear):
    """``nn.Linear`` with an optional max-norm constraint on each output unit."""

    def __init__(self, *args, max_norm: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_norm = max_norm


def same_conv(
    in_ch: int,
    out_ch: int,
    kernel: tuple[int, int],
    *,
    groups: int = 1,
    bias: bool = False,
    max_norm: float | None = None,
) -> nn.Module:
    """A stride-1 convolution with Keras ``'same'`` padding (output size = input size).

    An even kernel pads one more sample on the right (bottom), as Keras does; the padding is explicit
    so that PyTorch never needs its slower asymmetric ``'same'`` path.
    """
    conv = MaxNormConv2d(in_ch, out_ch, kernel, groups=groups, bias=bias, max_norm=max_norm)
    kh, kw = kernel
    pad = ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2)
    return nn.Sequential(nn.ZeroPad2d(pad), conv) if any(pad) else conv


class SeparableConv2d(nn.Module):
    """Keras ``SeparableConv2D``: a depthwise convolution then a 1×1 pointwise one, ``'same'`` padding.

    Parameters
    ----------
    in_ch, out_ch : int
        Input and output feature maps.
    kernel : tuple of int
        Depthwise kernel ``(height, width)``.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: tuple[int, int]):
        super().__init__()
        self.depthwise = same_conv(in_ch, in_ch, kernel, groups=in_ch)
        self.pointwise = MaxNormConv2d(in_ch, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def keras_bn(n: int, keras_momentum: float = 0.99, eps: float = 1e-3) -> nn.BatchNorm2d:
    """``BatchNorm2d`` matching a Keras ``BatchNormalization(momentum, epsilon)``."""
    return nn.BatchNorm2d(n, momentum=1.0 - keras_momentum, eps=eps)


def apply_max_norm(model: nn.Module) -> None:
    """Apply every max-norm constraint in ``model`` (call after each optimiser step)."""
    for module in model.modules():
        if isinstance(module, _MaxNormMixin):
            module.renorm_()


@torch.no_grad()
def glorot_init(model: nn.Module) -> None:
    """Glorot-uniform weights and zero biases for every convolution and dense layer (Keras defaults)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
