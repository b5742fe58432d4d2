"""AT-AT networks, baselines, metrics and checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import neurosig.eeg.atat
from neurosig.core.errors import ConfigError, FormatError
from neurosig.core.persist import load_checkpoint, save_checkpoint
from neurosig.eeg.atat import metrics
from neurosig.eeg.atat.baselines import bandpass_reference
from neurosig.eeg.atat.checkpoint import build_model, load_model, save_model
from neurosig.eeg.atat.model import ATAT, ATATConfig, Discriminator, segment_correlation
from neurosig.eeg.atat.train import SIZES, evaluate


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", ["atat", "fcnn", "simple_cnn", "rescnn"])
def test_models_map_epochs_to_epochs(name):
    model = build_model(name, SIZES["tiny"] if name == "atat" else None).eval()
    x = torch.randn(3, 512)
    with torch.no_grad():
        y = model(x)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_discriminator_scores_each_epoch():
    assert Discriminator()(torch.randn(5, 512)).shape == (5,)


def test_segment_correlation_matches_numpy():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 2, 128))
    got = segment_correlation(torch.from_numpy(x), torch.from_numpy(y), 32).numpy()
    want = [
        [np.corrcoef(x[b, s : s + 32], y[b, s : s + 32])[0, 1] for s in range(0, 128, 32)] for b in range(2)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_noise_proxy_separates_clean_from_contaminated_segments():
    torch.manual_seed(0)
    model = ATAT(ATATConfig(**SIZES["tiny"]))
    # An autoencoder that reproduces its input stands in for one trained on clean EEG: the proxy of a
    # perfect reconstruction is zero, and it rises where the reconstruction misses the input.
    model.autoencoder.forward = lambda x: x  # type: ignore[method-assign]
    x = torch.randn(1, 512)
    assert torch.allclose(model.noise_proxy(x), torch.zeros(1, 32), atol=1e-6)
    model.autoencoder.forward = lambda x: torch.cat([x[:, :256], torch.randn(1, 256)], dim=1)  # type: ignore
    proxy = model.noise_proxy(x)[0]
    assert proxy[:16].abs().max() < 1e-5 and proxy[16:].mean() > 0.5


def test_gate_opens_with_the_proxy():
    model = ATAT(ATATConfig(**SIZES["tiny"]))
    gate = model.gate(torch.linspace(0, 2, 20)).detach()
    assert torch.all(torch.diff(gate) > 0) and gate[0] < 0.5 < gate[-1]


def test_atat_is_under_ten_percent_of_rescnn():
    atat = n_params(build_model("atat", SIZES["small"]))
    assert atat <= 0.1 * n_params(build_model("rescnn"))
    assert atat <= 0.1 * n_params(build_model("fcnn"))


def test_checkpoint_round_trip(tmp_path):
    model = build_model("atat", SIZES["tiny"]).eval()
    save_model(tmp_path / "m.pt", model, "atat", SIZES["tiny"], extra={"epoch": 3})
    loaded, meta = load_model(tmp_path / "m.pt")
    assert meta["model"] == "atat" and meta["extra"] == {"epoch": 3}
    x = torch.randn(2, 512)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    assert sorted(tmp_path.iterdir()) == [tmp_path / "m.pt"]  # no partial file, no lock


def test_load_rejects_foreign_files(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(FormatError, match="not a neurosig-checkpoint file"):
        load_model(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(FormatError, match="not a torch checkpoint"):
        load_model(tmp_path / "junk.pt")
    save_checkpoint(tmp_path / "tok.pt", "rvq-tokenizer", {}, {})
    with pytest.raises(FormatError, match="'rvq-tokenizer' model, not of a 'denoiser'"):
        load_model(tmp_path / "tok.pt")
    save_checkpoint(tmp_path / "wrong.pt", "denoiser", {"model": "atat", "params": {"d_model": 3}}, {})
    with pytest.raises(FormatError, match="wrong.pt: the saved config and weights do not make"):
        load_model(tmp_path / "wrong.pt")


def test_shipped_weights_are_in_the_checkpoint_format():
    path = Path(neurosig.eeg.atat.__file__).parent / "weights" / "atat_small.pt"
    checkpoint = load_checkpoint(path, "denoiser")
    assert checkpoint.config["model"] == "atat" and checkpoint.extra["epoch"] == 52
    model, meta = load_model(path)
    assert n_params(model) == 25_227 and meta["params"]["d_model"] == 32


def test_unknown_model_name_suggests_one():
    with pytest.raises(ConfigError, match="Did you mean 'fcnn'"):
        build_model("fcn")


def test_metrics_on_known_signals():
    rng = np.random.default_rng(0)
    clean = rng.standard_normal((4, 512))
    np.testing.assert_allclose(metrics.cc(clean, clean), 1.0)
    np.testing.assert_allclose(metrics.rrmse_t(clean, clean), 0.0)
    np.testing.assert_allclose(metrics.rrmse_s(clean, clean), 0.0)
    np.testing.assert_allclose(metrics.rrmse_t(2 * clean, clean), 1.0)
    np.testing.assert_allclose(metrics.cc(-clean, clean), -1.0)
    np.testing.assert_allclose(metrics.rrmse_s(2 * clean, clean), 3.0)  # power scales by 4


def test_bandpass_reference_removes_out_of_band_power():
    t = np.arange(512) / 256.0
    x = np.sin(2 * np.pi * 10 * t) + np.sin(2 * np.pi * 90 * t)
    y = bandpass_reference(x[None])[0]
    spec = np.abs(np.fft.rfft(y))
    assert spec[180] < 0.01 * spec[20]


def test_evaluate_and_report(real_data, tmp_path):
    res = evaluate(lambda x: x, real_data, max_epochs=50)
    # The identity's RRMSE_t equals 10^(-SNR/10) exactly, by the mixing's definition.
    np.testing.assert_allclose(res["rrmse_t"], 10 ** (-np.array(res["snr_db"]) / 10), rtol=1e-4)
    table = metrics.markdown_table({"noisy": res})
    assert table.count("\n") == 2 and "-7 dB" in table
    assert metrics.plot_metrics({"noisy": res}, tmp_path / "m.png").stat().st_size > 0
