"""Codebook usage statistics, collapse detection, and dead-code restarts reviving collapsed codes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosig.eeg.rvq.config import preset
from neurosig.eeg.rvq.evaluate import codebook_usage
from neurosig.eeg.rvq.tokenizer import Tokenizer
from neurosig.eeg.rvq.train import fit, train_steps


def test_usage_fraction_and_perplexity_are_exact():
    tokens = np.zeros((4, 1, 2), dtype=int)  # 4 patches, 1 scale, 2 levels
    tokens[:, 0, 0] = [0, 1, 2, 3]  # uniform over 4 of 8 codes
    tokens[:, 0, 1] = [5, 5, 5, 5]  # one code
    with pytest.warns(UserWarning, match=r"1 of 2 codebooks.*\[\[0, 1\]\]"):
        usage = codebook_usage(tokens, codebook_size=8)
    assert usage["fraction"] == [[0.5, 0.125]]
    np.testing.assert_allclose(usage["perplexity"], [[4.0, 1.0]])
    assert usage["collapsed"] == [[0, 1]]


def test_healthy_codebooks_are_not_reported(recwarn):
    tokens = np.arange(64).reshape(64, 1, 1) % 8
    usage = codebook_usage(tokens, codebook_size=8)
    assert usage["collapsed"] == [] and usage["fraction"] == [[1.0]]
    assert not [w for w in recwarn if "collapse" in str(w.message)]


def _collapse_first_level(net) -> None:
    """Move all codes but one of every scale's first level far from any latent (consistent EMA stats).

    Nearest-code search then never picks them, and plain EMA updates leave them where they are:
    only a dead-code restart can bring them back.
    """
    for rvq in net.quantizers:
        book = rvq.layers[0]._codebook
        with torch.no_grad():
            far = 1e3 * torch.arange(1, book.embed.shape[1], dtype=book.embed.dtype)[:, None]
            book.embed[:, 1:] = far + book.embed[:, 1:]
            book.cluster_size[:] = book.cluster_size.mean()
            book.embed_avg[:] = book.embed * book.cluster_size[..., None]


def _first_level_usage(net, patches: np.ndarray) -> float:
    tok = Tokenizer(net.config, net)
    tokens = tok.encode_patches(patches)
    return float(
        np.mean(codebook_usage(tokens, net.config.codebook_size, min_fraction=0.0)["fraction"], axis=0)[0]
    )


@pytest.mark.parametrize("restart", [True, False])
def test_dead_code_restart_revives_collapsed_codes(train_signal, restart):
    config = preset("tiny", ema_decay=0.8, dead_code_threshold=1.0)
    patches = Tokenizer(config).to_patches(train_signal).reshape(-1, config.patch_len)
    net = fit(patches, config, steps=10, batch_size=64, seed=0).tokenizer.net
    _collapse_first_level(net)
    collapsed = _first_level_usage(net, patches)
    assert collapsed == pytest.approx(1 / config.codebook_size, abs=1e-4)
    with pytest.warns(UserWarning, match="codebook collapse"):
        codebook_usage(Tokenizer(config, net).encode_patches(patches), config.codebook_size)
    if not restart:
        for rvq in net.quantizers:
            for layer in rvq.layers:
                layer._codebook.threshold_ema_dead_code = 0.0
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    train_steps(net, patches, 20, optimizer, np.random.default_rng(0), batch_size=64)
    after = _first_level_usage(net, patches)
    if restart:
        assert after > 0.5, after
    else:
        assert after == collapsed


def test_progress_bar_names_its_losses_and_the_time_budget(train_signal, capsys):
    config = preset("tiny")
    patches = Tokenizer(config).to_patches(train_signal).reshape(-1, config.patch_len)
    fit(patches, config, steps=10_000, batch_size=16, max_seconds=1e-9, log_every=1, progress=True)
    err = capsys.readouterr().err
    assert "time_loss=" in err and "amp_loss=" in err and "stopped by the 1e-09-s budget" in err
