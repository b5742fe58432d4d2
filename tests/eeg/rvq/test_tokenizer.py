"""encode/decode, bit rate, the residual property, the baseline's bit budget, bad input."""

from __future__ import annotations

import datetime
import json
import math

import numpy as np
import pytest
import torch

from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.core.persist import save_checkpoint
from neurosig.eeg.rvq.config import EEG_BANDS, TokenizerConfig, preset, single_codebook_baseline
from neurosig.eeg.rvq.loss import band_error
from neurosig.eeg.rvq.model import TokenizerNet
from neurosig.eeg.rvq.tokenizer import Tokenizer


def test_encode_shapes_dtype_and_range(tiny, held_out_signal):
    tokens = tiny.encode(held_out_signal, 200.0)
    n_ch, n = held_out_signal.shape
    assert tokens.shape == (n_ch, n // 200, 4, 4)
    assert tokens.dtype == np.int32
    assert tokens.min() >= 0 and tokens.max() < tiny.config.codebook_size
    signal = tiny.decode(tokens)
    assert signal.shape == (n_ch, n // 200 * 200) and signal.dtype == np.float32


def test_tail_shorter_than_a_patch_is_not_tokenized(tiny, held_out_signal):
    x = held_out_signal[:, :1050]
    np.testing.assert_array_equal(tiny.encode(x, 200.0), tiny.encode(x[:, :1000], 200.0))


def test_bitrate_accounting():
    config = preset("small")
    rate = Tokenizer(config).bitrate(n_channels=64)
    assert rate["codes_per_patch"] == 4 * 8
    assert rate["bits_per_patch"] == 32 * math.log2(256) == 256
    assert rate["bits_per_second_per_channel"] == 256 / (200 / 200.0)
    assert rate["bits_per_second"] == 64 * 256


def test_baseline_spends_the_same_bits_with_one_codebook():
    config = preset("small")
    base = single_codebook_baseline(config)
    assert base.quantizer == "single" and base.n_scales == 1 and len(base.kernels) == 1
    assert base.bits_per_second == config.bits_per_second
    assert base.time_weight == 0.0
    tok = Tokenizer(base)
    assert tuple(tok.net.codebooks().shape[:2]) == (1, 1)
    x = np.random.default_rng(0).normal(0, 20e-6, (2, 400)).astype(np.float32)
    assert tok.encode(x, 200.0).shape == (2, 2, 1, 32)


def test_nearest_codes_match_the_quantizer_forward(tiny, held_out_signal):
    """The inference search gives the codes (and latents) of the training-time quantizers."""
    patches = torch.from_numpy(tiny.patches(held_out_signal, 200.0).reshape(-1, 200))
    net = tiny.net.eval()
    with torch.no_grad():
        z = net.latents(patches)
        zq, idx, _ = net.quantize(z)
        mine = net.nearest_codes(z)
        agree = (mine == idx).float().mean().item()
        np.testing.assert_allclose(net.from_indices(mine).numpy(), zq.numpy(), atol=1e-4)
    assert agree == 1.0


def test_residual_levels_improve_round_trip_monotonically(tiny, held_out_signal):
    """Decoding with more residual levels never reconstructs held-out data worse."""
    tokens = tiny.encode(held_out_signal, 200.0)
    ref = held_out_signal[:, : tokens.shape[1] * 200].astype(np.float64)
    errors = []
    for levels in range(1, tiny.config.n_levels + 1):
        rec = tiny.decode(tokens, n_levels=levels)
        errors.append(float(((ref - rec) ** 2).sum() / (ref**2).sum()))
    assert all(b <= a for a, b in zip(errors, errors[1:], strict=False)), errors
    assert errors[-1] < errors[0]
    # in latent space each level strictly shrinks the residual
    patches = torch.from_numpy(tiny.patches(held_out_signal, 200.0).reshape(-1, 200))
    with torch.no_grad():
        z = tiny.net.latents(patches)
        codes = tiny.net.nearest_codes(z)
        residuals = [float(((z - tiny.net.from_indices(codes, lev)) ** 2).mean()) for lev in range(1, 5)]
    assert residuals == sorted(residuals, reverse=True) and residuals[-1] < 0.5 * residuals[0]


def test_training_lowers_held_out_error(tiny, held_out_signal):
    untrained = Tokenizer(preset("tiny", kmeans_init=False), seed=0)
    ref = held_out_signal[:, : held_out_signal.shape[1] // 200 * 200]

    def nmse(tok):
        rec = tok.decode(tok.encode(held_out_signal, 200.0))
        return float(((ref - rec) ** 2).sum() / (ref**2).sum())

    assert nmse(tiny) < nmse(untrained)


def test_checkpoint_round_trip(tiny, tiny_checkpoint, held_out_signal):
    again = Tokenizer.load(tiny_checkpoint)
    assert again.config == tiny.config
    tokens = tiny.encode(held_out_signal, 200.0)
    np.testing.assert_array_equal(again.encode(held_out_signal, 200.0), tokens)
    np.testing.assert_allclose(again.decode(tokens), tiny.decode(tokens), rtol=1e-6, atol=1e-12)


def test_bad_checkpoint(tiny, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        Tokenizer.load(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    torch.save({"something": 1}, bad)
    with pytest.raises(FormatError, match="bad.pt: not a neurosig-checkpoint file"):
        Tokenizer.load(bad)
    pickled = tmp_path / "pickled.pt"
    torch.save({"config": datetime.date(2020, 1, 1)}, pickled)  # an object weights_only refuses
    with pytest.raises(FormatError, match="pickled.pt: refused"):
        Tokenizer.load(pickled)
    config_json, state = tiny.state()
    config = {**json.loads(config_json), "patch_len": "many"}
    save_checkpoint(tmp_path / "config.pt", "rvq-tokenizer", config, state)
    with pytest.raises(FormatError, match="config.pt: the saved config and weights do not make"):
        Tokenizer.load(tmp_path / "config.pt")


def test_wrong_sampling_rate_needs_resampling(tiny, held_out_signal):
    x160 = held_out_signal[:, :1600]
    with pytest.raises(DataError, match="160 Hz but the tokenizer works at 200 Hz.*resample"):
        tiny.encode(x160, 160.0)
    assert tiny.encode(x160, 160.0, resample=True).shape[1] == 10


def test_too_short_nan_and_shape_errors(tiny, held_out_signal):
    with pytest.raises(DataError, match="fewer than one patch"):
        tiny.encode(held_out_signal[:, :199], 200.0)
    bad = held_out_signal[:, :400].copy()
    bad[3, 17] = np.nan
    with pytest.raises(DataError, match="NaN"):
        tiny.encode(bad, 200.0)
    with pytest.raises(DataError, match="n_channels, n_samples"):
        tiny.encode(held_out_signal[0], 200.0)


def test_decode_rejects_bad_tokens(tiny):
    with pytest.raises(DataError, match="lie in"):
        tiny.decode(np.full((1, 1, 4, 4), 32))
    with pytest.raises(DataError, match="scales, levels"):
        tiny.decode(np.zeros((1, 1, 4, 3), dtype=int))
    with pytest.raises(DataError, match="n_levels"):
        tiny.decode(np.zeros((1, 1, 4, 4), dtype=int), n_levels=5)


def test_config_validation():
    with pytest.raises(ConfigError, match="did you mean|choose one of"):
        preset("tinny")
    with pytest.raises(ConfigError, match="must divide patch_len"):
        preset("tiny", patch_len=100)
    with pytest.raises(ConfigError, match="one factor per branch"):
        preset("tiny", pooling=[8, 4])
    with pytest.raises(ConfigError, match="len\\(kernels\\) - 1"):
        preset("tiny", band_edges=[4.0, 13.0])
    with pytest.raises(ConfigError, match="increase"):
        preset("tiny", band_edges=[4.0, 30.0, 13.0])
    with pytest.raises(ConfigError, match="Nyquist"):
        preset("tiny", band_edges=[4.0, 13.0, 100.0])
    with pytest.raises(ValueError, match="quantizer"):
        TokenizerConfig(quantizer="fsq")


def test_band_split_partitions_the_patch_spectrum():
    net = TokenizerNet(preset("tiny"))
    x = torch.randn(5, 200, generator=torch.Generator().manual_seed(0))
    parts = net.band_split(x)
    assert len(parts) == 4
    torch.testing.assert_close(sum(parts), x, atol=1e-5, rtol=0)
    freqs = np.fft.rfftfreq(200, 1 / 200.0)
    edges = [0.0, 4.0, 13.0, 30.0, np.inf]
    for part, lo, hi in zip(parts, edges, edges[1:], strict=False):
        power = np.abs(np.fft.rfft(part.numpy())) ** 2
        outside = (freqs < lo) | (freqs >= hi)
        assert power[:, outside].max() < 1e-8 * power.max()


def test_without_band_edges_every_branch_sees_the_whole_patch():
    net = TokenizerNet(preset("tiny", band_edges=[]))
    x = torch.randn(3, 200)
    assert all(part is x for part in net.band_split(x))


def test_band_error_weighs_every_band_alike():
    """An error of 10 % of the power in one band costs the same whether that band is strong or weak."""
    freqs = np.fft.rfftfreq(200, 1 / 200.0)
    spec = np.where(freqs < 4, 100.0, 1.0).astype(np.complex128)  # δ a hundred times stronger
    x = torch.from_numpy(np.fft.irfft(spec, n=200, norm="ortho")[None].astype(np.float32))

    def error_in(lo, hi, fraction=0.1):
        err = np.where((freqs >= lo) & (freqs < hi), np.sqrt(fraction) * spec, 0)
        return torch.from_numpy(np.fft.irfft(err, n=200, norm="ortho")[None].astype(np.float32))

    n_bands = len(EEG_BANDS)
    weak = float(band_error(x, x + error_in(30.0, 45.0), 200.0))
    strong = float(band_error(x, x + error_in(0.0, 4.0), 200.0))
    assert weak == pytest.approx(0.1 / n_bands, rel=1e-3)
    assert strong == pytest.approx(0.1 / n_bands, rel=1e-3)
    assert float(band_error(x, x, 200.0)) == 0.0
