"""The five networks: parameter counts of the reference definitions, shapes, constraints, errors."""

from __future__ import annotations

import pytest
import torch

from neurosig.bci.layers import apply_max_norm
from neurosig.bci.models import MODELS, build_model, count_parameters
from neurosig.core.errors import ConfigError, DataError

# Trainable parameters of the comparison code's Keras definitions (Köllőd et al. 2023, bionic_apps
# ai/keras_networks.py), as listed in the project's REFERENCES.md, for two input shapes:
# 22 channels × 1000 samples at 250 Hz with 4 classes (BCI IV 2a) and 64 × 640 at 160 Hz, 2 classes
# (PhysioNet).
REFERENCE_COUNTS = {
    "shallow": (57_764, 109_842),
    "deep": (192_679, 186_927),
    "eegnet": (3_932, 2_898),
    "eegnet_fusion": (35_476, 26_994),
    "mi_eegnet": (131_524, 133_506),
}
SHAPES = ((22, 1000, 4, 250.0), (64, 640, 2, 160.0))


@pytest.mark.parametrize("name", sorted(REFERENCE_COUNTS))
@pytest.mark.parametrize("shape", [0, 1])
def test_parameter_counts_equal_the_reference_definitions(name, shape):
    model = build_model(name, *SHAPES[shape])
    assert count_parameters(model) == REFERENCE_COUNTS[name][shape]


def test_every_registered_model_has_a_reference_count():
    assert set(MODELS) == set(REFERENCE_COUNTS)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize(("c", "t", "k", "fs"), [(3, 257, 2, 128.0), (8, 150, 3, 100.0)])
def test_any_shape_gives_logits_per_class_and_accepts_3d_or_4d(name, c, t, k, fs):
    model = build_model(name, c, t, k, fs).eval()
    x = torch.randn(5, c, t)
    with torch.no_grad():
        out3, out4 = model(x), model(x.unsqueeze(1))
    assert out3.shape == (5, k)
    torch.testing.assert_close(out3, out4)
    assert torch.isfinite(out3).all()


def test_models_store_the_config_that_rebuilds_them():
    model = build_model("eegnet", 4, 128, 2, 64.0, dropout=0.25)
    cfg = dict(model.config)
    name = cfg.pop("name")
    again = build_model(name, **cfg)
    assert count_parameters(again) == count_parameters(model)
    assert again.config == model.config


def test_glorot_init_zero_biases():
    model = build_model("deep", 4, 128, 2, 64.0)
    first = model.features[0]
    assert torch.all(first.bias == 0)
    bound = (6 / (first.weight[0].numel() + first.weight.shape[0] * first.weight[0, 0].numel())) ** 0.5
    assert first.weight.abs().max() <= bound + 1e-6


def test_max_norm_renormalises_each_output_unit():
    model = build_model("eegnet", 4, 128, 2, 64.0)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(100.0)
    apply_max_norm(model)
    dense_norms = model.classifier.weight.norm(dim=1)
    assert torch.all(dense_norms <= 0.25 + 1e-5)
    depthwise = model.features[2]
    assert torch.all(depthwise.weight.flatten(1).norm(dim=1) <= 1.0 + 1e-5)


def test_keras_same_padding_keeps_length_with_even_kernel():
    model = build_model("eegnet", 2, 101, 2, 64.0)  # temporal kernel 32: even
    first = model.features[0]
    assert first(torch.zeros(1, 1, 2, 101)).shape[-1] == 101


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_window_too_short_fails_clearly(name):
    with pytest.raises(DataError, match="too short"):
        build_model(name, 4, 3, 2, 128.0)


def test_bad_model_arguments():
    with pytest.raises(ConfigError, match="did you mean|choose one of"):
        build_model("eegnett", 4, 128, 2, 64.0)
    with pytest.raises(ConfigError, match="n_classes"):
        build_model("eegnet", 4, 128, 1, 64.0)
    with pytest.raises(ConfigError, match="sfreq"):
        build_model("eegnet", 4, 128, 2, 0.0)
