"""The EEGNet family as the comparison paper's code defines it (Köllőd et al. 2023).

Five networks for ``(n_channels, n_times)`` windows at any sampling rate and class count:

============== =============================== ====================================================
name           class                           reference
============== =============================== ====================================================
shallow        :class:`ShallowConvNet`         Schirrmeister et al. 2017
deep           :class:`DeepConvNet`            Schirrmeister et al. 2017
eegnet         :class:`EEGNet`                 Lawhern et al. 2018 (EEGNet-8,2)
eegnet_fusion  :class:`EEGNetFusion`           Roots et al. 2020
mi_eegnet      :class:`MIEEGNet`               Riyad et al. 2021
============== =============================== ====================================================

Every model takes a float tensor ``(batch, n_channels, n_times)`` (or ``(batch, 1, n_channels,
n_times)``) in microvolts and returns class logits ``(batch, n_classes)``. Its constructor arguments
are kept in ``model.config`` so that weights can be saved beside the config that rebuilds them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from neurosig.bci.layers import (
    MaxNormConv2d,
    MaxNormLinear,
    SeparableConv2d,
    glorot_init,
    keras_bn,
    same_conv,
)
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_option

__all__ = [
    "EEGModel",
    "ShallowConvNet",
    "DeepConvNet",
    "EEGNet",
    "EEGNetFusion",
    "MIEEGNet",
    "MODELS",
    "build_model",
    "count_parameters",
]


class _Log(nn.Module):
    """``log(clip(x, 1e-7, 1e4))``, the Shallow ConvNet's safe logarithm."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(torch.clamp(x, 1e-7, 1e4))


class _Square(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


class EEGModel(nn.Module):
    """Base of the family: input checks, the feature probe, ``config``.

    Parameters
    ----------
    n_channels : int
        EEG channels (rows of the input window).
    n_times : int
        Samples per window.
    n_classes : int
        Output classes (at least 2).
    sfreq : float
        Sampling rate in Hz; sets the temporal kernel lengths of the EEGNets.
    """

    def __init__(self, n_channels: int, n_times: int, n_classes: int, sfreq: float):
        super().__init__()
        if n_channels < 1 or n_times < 1:
            raise ConfigError(f"n_channels and n_times must be >= 1, got {n_channels}, {n_times}.")
        if n_classes < 2:
            raise ConfigError(f"n_classes must be >= 2, got {n_classes}; a decoder needs two classes.")
        if not sfreq > 0:
            raise ConfigError(f"sfreq must be a positive number of Hz, got {sfreq!r}.")
        self.config: dict[str, Any] = {
            "name": self.name,
            "n_channels": int(n_channels),
            "n_times": int(n_times),
            "n_classes": int(n_classes),
            "sfreq": float(sfreq),
        }

    name = ""

    def _n_features(self, features: nn.Module) -> int:
        """Size of the flattened output of ``features`` for one window; fails clearly if empty."""
        c, t = self.config["n_channels"], self.config["n_times"]
        was_training = features.training
        features.eval()
        try:
            with torch.no_grad():
                n = features(torch.zeros(1, 1, c, t)).numel()
        except RuntimeError as err:
            n = 0
            reason = f" ({err})"
        else:
            reason = ""
        features.train(was_training)
        if n == 0:
            raise DataError(
                f"{type(self).__name__}: a window of {t} samples is too short for its kernels and "
                f"pools{reason}; use a longer window or another model."
            )
        return n

    @staticmethod
    def _as_4d(x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(1) if x.dim() == 3 else x


class ShallowConvNet(EEGModel):
    """Shallow ConvNet: temporal and spatial convolutions, squaring, mean power, log (Schirrmeister 2017).

    Keeps the comparison code's 128-Hz kernel sizes (temporal 13, pool 35, stride 7) at every rate.
    """

    name = "shallow"

    def __init__(self, n_channels: int, n_times: int, n_classes: int, sfreq: float, dropout: float = 0.5):
        super().__init__(n_channels, n_times, n_classes, sfreq)
        self.config["dropout"] = dropout
        self.features = nn.Sequential(
            MaxNormConv2d(1, 40, (1, 13), bias=True, max_norm=2.0),
            MaxNormConv2d(40, 40, (n_channels, 1), bias=False, max_norm=2.0),
            keras_bn(40, 0.9, 1e-5),
            _Square(),
            nn.MaxPool2d((1, 35), stride=(1, 7)),
            _Log(),
            nn.Dropout(dropout),
            nn.Flatten(),
        )
        self.classifier = MaxNormLinear(self._n_features(self.features), n_classes, max_norm=0.5)
        glorot_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self._as_4d(x)))


class DeepConvNet(EEGModel):
    """Deep ConvNet: four convolution–pooling blocks (Schirrmeister et al. 2017)."""

    name = "deep"

    def __init__(self, n_channels: int, n_times: int, n_classes: int, sfreq: float, dropout: float = 0.5):
        super().__init__(n_channels, n_times, n_classes, sfreq)
        self.config["dropout"] = dropout
        layers: list[nn.Module] = [MaxNormConv2d(1, 25, (1, 5), bias=True, max_norm=2.0)]
        for c_in, c_out, kernel in (
            (25, 25, (n_channels, 1)),
            (25, 50, (1, 5)),
            (50, 100, (1, 5)),
            (100, 200, (1, 5)),
        ):
            layers += [
                MaxNormConv2d(c_in, c_out, kernel, bias=True, max_norm=2.0),
                keras_bn(c_out, 0.9, 1e-5),
                nn.ELU(),
                nn.MaxPool2d((1, 2), stride=(1, 2)),
                nn.Dropout(dropout),
            ]
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.classifier = MaxNormLinear(self._n_features(self.features), n_classes, max_norm=0.5)
        glorot_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self._as_4d(x)))


def _eegnet_features(
    n_channels: int,
    f1: int,
    depth: int,
    f2: int,
    temporal: int,
    separable: tuple[int, int],
    dropout: float,
) -> nn.Sequential:
    """The EEGNet feature extractor: temporal conv, depthwise spatial conv, separable conv, pools."""
    return nn.Sequential(
        same_conv(1, f1, (1, temporal)),
        keras_bn(f1),
        MaxNormConv2d(f1, f1 * depth, (n_channels, 1), groups=f1, bias=False, max_norm=1.0),
        keras_bn(f1 * depth),
        nn.ELU(),
        nn.AvgPool2d((1, 4)),
        nn.Dropout(dropout),
        SeparableConv2d(f1 * depth, f2, separable),
        keras_bn(f2),
        nn.ELU(),
        nn.AvgPool2d((1, 8)),
        nn.Dropout(dropout),
        nn.Flatten(),
    )


class EEGNet(EEGModel):
    """EEGNet-8,2 (Lawhern et al. 2018): F1 = 8 temporal filters of ``int(sfreq / 2)`` samples, D = 2."""

    name = "eegnet"

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        n_classes: int,
        sfreq: float,
        f1: int = 8,
        depth: int = 2,
        f2: int = 16,
        dropout: float = 0.5,
    ):
        super().__init__(n_channels, n_times, n_classes, sfreq)
        self.config.update(f1=f1, depth=depth, f2=f2, dropout=dropout)
        temporal = max(1, int(sfreq / 2))
        self.features = _eegnet_features(n_channels, f1, depth, f2, temporal, (1, 16), dropout)
        self.classifier = MaxNormLinear(self._n_features(self.features), n_classes, max_norm=0.25)
        glorot_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self._as_4d(x)))


class EEGNetFusion(EEGModel):
    """EEGNet Fusion (Roots et al. 2020) as the comparison code builds it: three EEGNet branches.

    Branches (F1, temporal kernel, separable kernel) are (8, fs/4, 8), (16, fs/2, 16), (32, fs, 32)
    with D = 2; the comparison code runs the separable kernels along the channel axis, ``(k, 1)``.
    """

    name = "eegnet_fusion"

    def __init__(self, n_channels: int, n_times: int, n_classes: int, sfreq: float, dropout: float = 0.5):
        super().__init__(n_channels, n_times, n_classes, sfreq)
        self.config["dropout"] = dropout
        self.branches = nn.ModuleList(
            _eegnet_features(n_channels, f1, 2, 2 * f1, max(1, int(sfreq * frac)), (sep, 1), dropout)
            for f1, frac, sep in ((8, 0.25, 8), (16, 0.5, 16), (32, 1.0, 32))
        )
        n = sum(self._n_features(branch) for branch in self.branches)
        self.classifier = MaxNormLinear(n, n_classes, max_norm=0.25)
        glorot_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._as_4d(x)
        return self.classifier(torch.cat([branch(x) for branch in self.branches], dim=1))


class _Towers(nn.Module):
    """MI-EEGNet's inception block: four towers to 64 maps each at half length, concatenated."""

    def __init__(self, c_in: int, dropout: float):
        super().__init__()

        def conv_tower(k: int) -> nn.Sequential:
            return nn.Sequential(
                MaxNormConv2d(c_in, 64, 1, bias=False),
                SeparableConv2d(64, 64, (1, k)),
                keras_bn(64),
                nn.ELU(),
                nn.Dropout(dropout),
                SeparableConv2d(64, 64, (1, k)),
                nn.AvgPool2d((1, 2)),
            )

        self.towers = nn.ModuleList(
            [
                conv_tower(7),
                conv_tower(9),
                nn.Sequential(nn.AvgPool2d((1, 2)), MaxNormConv2d(c_in, 64, 1, bias=False)),
                MaxNormConv2d(c_in, 64, 1, stride=(1, 2), bias=False),
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [tower(x) for tower in self.towers]
        n = min(o.shape[-1] for o in outs)  # odd lengths: pooling floors, a strided conv ceils
        return torch.cat([o[..., :n] for o in outs], dim=1)


class MIEEGNet(EEGModel):
    """MI-EEGNet (Riyad et al. 2021): an EEGNet stem, an inception block, global average pooling."""

    name = "mi_eegnet"

    def __init__(self, n_channels: int, n_times: int, n_classes: int, sfreq: float, dropout: float = 0.5):
        super().__init__(n_channels, n_times, n_classes, sfreq)
        self.config["dropout"] = dropout
        self.features = nn.Sequential(
            same_conv(1, 64, (1, max(1, int(sfreq / 2)))),
            keras_bn(64),
            MaxNormConv2d(64, 128, (n_channels, 1), groups=64, bias=False, max_norm=1.0),
            keras_bn(128),
            nn.ELU(),
            nn.AvgPool2d((1, 4)),
            nn.Dropout(dropout),
            _Towers(128, dropout),
            keras_bn(256),
            nn.ELU(),
            SeparableConv2d(256, 256, (1, 5)),
            keras_bn(256),
            nn.ELU(),
            nn.Dropout(dropout),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = MaxNormLinear(self._n_features(self.features), n_classes, max_norm=0.25)
        glorot_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self._as_4d(x)))


#: Registered model names → classes.
MODELS: dict[str, type[EEGModel]] = {
    cls.name: cls for cls in (ShallowConvNet, DeepConvNet, EEGNet, EEGNetFusion, MIEEGNet)
}


def build_model(
    name: str, n_channels: int, n_times: int, n_classes: int, sfreq: float, **options: Any
) -> EEGModel:
    """Build a model of the family by name.

    Parameters
    ----------
    name : str
        One of :data:`MODELS` (``"shallow"``, ``"deep"``, ``"eegnet"``, ``"eegnet_fusion"``,
        ``"mi_eegnet"``).
    n_channels, n_times, n_classes : int
        Input window shape and output classes.
    sfreq : float
        Sampling rate in Hz.
    **options
        Model-specific options (e.g. ``dropout``).
    """
    check_option("model", name, MODELS)
    return MODELS[name](n_channels, n_times, n_classes, sfreq, **options)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
