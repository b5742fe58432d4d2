"""The tokenizer network: multi-scale encoder, transformer, quantisers, spectral decoder.

Every patch is encoded on its own (attention runs across the scale tokens of one channel-patch, never
across time), so tokens of a patch do not depend on its neighbours; that is what makes streaming
tokenization equal whole-recording tokenization.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from vector_quantize_pytorch import ResidualVQ, VectorQuantize

from neurosig.eeg.rvq.config import TokenizerConfig
from neurosig.eeg.rvq.loss import band_masks

__all__ = ["TokenizerNet"]


class _Pool(nn.Module):
    """Average over non-overlapping windows of ``factor`` samples (the length is a multiple of it)."""

    def __init__(self, factor: int):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.factor == 1 else x.unflatten(-1, (-1, self.factor)).mean(-1)


class _Branch(nn.Module):
    """Two temporal convolutions (GroupNorm, GELU), each followed by average pooling.

    The pooling factors multiply to ``pooling``: ×2 after the first convolution (none if ``pooling``
    is 1), the rest after the second.
    """

    def __init__(self, kernel: int, channels: int, pooling: int):
        super().__init__()
        second = max(3, 2 * (kernel // 4) + 1)
        groups = math.gcd(channels, 4)
        first_pool = min(2, pooling)
        self.net = nn.Sequential(
            nn.Conv1d(1, channels, kernel, padding="same"),
            nn.GroupNorm(groups, channels),
            nn.GELU(),
            _Pool(first_pool),
            nn.Conv1d(channels, channels, second, padding="same"),
            nn.GroupNorm(groups, channels),
            nn.GELU(),
            _Pool(pooling // first_pool),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.unsqueeze(1)).flatten(1)


class _GroupLinear(nn.Module):
    """One linear map per token: ``(B, T, i) -> (B, T, o)``."""

    def __init__(self, tokens: int, d_in: int, d_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(tokens, d_in, d_out) / math.sqrt(d_in))
        self.bias = nn.Parameter(torch.zeros(tokens, d_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bti,tio->bto", x, self.weight) + self.bias


def _transformer(config: TokenizerConfig) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        config.d_model,
        config.heads,
        dim_feedforward=2 * config.d_model,
        dropout=0.0,
        activation="gelu",
        batch_first=True,
        norm_first=True,
    )
    return nn.TransformerEncoder(layer, config.depth, enable_nested_tensor=False)


class TokenizerNet(nn.Module):
    """Patches ``(B, patch_len)`` (normalised units) ↔ codes ``(B, scales, levels)``.

    Parameters
    ----------
    config : TokenizerConfig
        The architecture; ``config.quantizer`` selects the residual VQs (one per scale) or the
        single shared codebook of the baseline.
    """

    def __init__(self, config: TokenizerConfig):
        super().__init__()
        self.config = config
        c = config
        n_tok = c.n_scales if c.quantizer == "rvq" else c.n_groups
        self.n_tokens = n_tok
        self.branches = nn.ModuleList(
            _Branch(k, c.branch_channels, f) for k, f in zip(c.kernels, c.pooling, strict=True)
        )
        per_branch = n_tok // len(c.kernels)
        self.to_model = nn.ModuleList(
            nn.Linear(c.branch_channels * c.patch_len // f, per_branch * c.d_model) for f in c.pooling
        )
        self.skip = nn.ModuleList(nn.Linear(c.patch_len, per_branch * c.d_model) for _ in c.kernels)
        masks = band_masks(c.patch_len, c.sfreq, [0.0, *c.band_edges, math.inf]).float()
        self.register_buffer("band_masks", masks if c.band_edges else torch.zeros(0), False)
        self.enc_pos = nn.Parameter(torch.zeros(n_tok, c.d_model))
        self.encoder = _transformer(c)
        self.to_code = _GroupLinear(n_tok, c.d_model, c.code_dim)
        vq_args = dict(
            codebook_size=c.codebook_size,
            decay=c.ema_decay,
            kmeans_init=c.kmeans_init,
            threshold_ema_dead_code=c.dead_code_threshold,
            commitment_weight=1.0,
        )
        if c.quantizer == "rvq":
            self.quantizers = nn.ModuleList(
                ResidualVQ(
                    dim=c.code_dim, num_quantizers=c.n_levels, quantize_dropout=c.level_dropout > 0, **vq_args
                )
                for _ in range(c.n_scales)
            )
        else:
            self.quantizers = nn.ModuleList([VectorQuantize(dim=c.code_dim, use_cosine_sim=True, **vq_args)])
        self.from_code = _GroupLinear(n_tok, c.code_dim, c.d_model)
        self.dec_pos = nn.Parameter(torch.zeros(n_tok, c.d_model))
        self.decoder = _transformer(c)
        self.n_freq = c.patch_len // 2 + 1
        self.head = nn.Linear(n_tok * c.d_model, 3 * self.n_freq)

    # -- encoder ---------------------------------------------------------------------------------
    def band_split(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The input of each branch: the patch restricted to the branch's band (``config.band_edges``).

        The bands partition the patch spectrum (FFT masks), so the branch inputs sum to the patch;
        without band edges every branch gets the whole patch.
        """
        if not self.config.band_edges:
            return [x] * len(self.branches)
        spec = torch.fft.rfft(x)
        return [torch.fft.irfft(spec * mask, n=x.shape[-1]) for mask in self.band_masks]

    def latents(self, x: torch.Tensor) -> torch.Tensor:
        """Continuous codes ``(B, tokens, code_dim)`` of patches ``(B, patch_len)``."""
        inputs = self.band_split(x)
        parts = [
            lin(br(xb)) + skip(xb)
            for br, lin, skip, xb in zip(self.branches, self.to_model, self.skip, inputs, strict=True)
        ]
        h = torch.cat(parts, dim=1).view(x.shape[0], self.n_tokens, -1) + self.enc_pos
        return self.to_code(self.encoder(h))

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Quantise latents: ``(zq, indices (B, scales, levels), commitment loss)``."""
        if self.config.quantizer == "single":
            zq, idx, loss = self.quantizers[0](z)
            return zq, idx.unsqueeze(1), loss.sum()
        if self.training and self.config.level_dropout > 0:
            # The library drops levels in every training batch when its flag is on; draw per batch.
            drop = bool(torch.rand(()) < self.config.level_dropout)
            for q in self.quantizers:
                q.quantize_dropout = drop
        outs = [q(z[:, s : s + 1]) for s, q in enumerate(self.quantizers)]
        zq = torch.cat([o[0] for o in outs], dim=1)
        idx = torch.cat([o[1] for o in outs], dim=1)
        loss = sum(o[2].sum() for o in outs)
        return zq, idx, loss

    def nearest_codes(self, z: torch.Tensor) -> torch.Tensor:
        """Codes ``(B, scales, levels)`` of latents by nearest-neighbour search (inference path).

        The same search as the quantisers' forward pass, written out so that inference never touches
        the training-time state (k-means initialisation, EMA statistics).
        """
        books = self.codebooks()
        if self.config.quantizer == "single":
            sim = nn.functional.normalize(z, dim=-1) @ nn.functional.normalize(books[0, 0], dim=-1).T
            return sim.argmax(-1).unsqueeze(1)
        idx = torch.empty(z.shape[0], books.shape[0], books.shape[1], dtype=torch.long)
        for s in range(books.shape[0]):
            residual = z[:, s]
            for lev in range(books.shape[1]):
                book = books[s, lev]
                dist = (book * book).sum(-1) - 2.0 * residual @ book.T
                idx[:, s, lev] = dist.argmin(-1)
                residual = residual - book[idx[:, s, lev]]
        return idx

    def codebooks(self) -> torch.Tensor:
        """Codebooks ``(scales, levels, codebook_size, code_dim)``; ``(1, 1, K, D)`` for the baseline."""
        if self.config.quantizer == "single":
            return self.quantizers[0].codebook[None, None]
        return torch.stack([q.codebooks for q in self.quantizers])

    def from_indices(self, idx: torch.Tensor, n_levels: int | None = None) -> torch.Tensor:
        """Quantised latents ``(B, tokens, code_dim)`` from codes, using the first ``n_levels`` levels."""
        books = self.codebooks()
        if self.config.quantizer == "single":
            return nn.functional.normalize(books[0, 0][idx[:, 0]], dim=-1)
        levels = idx.shape[2] if n_levels is None else n_levels
        zq = torch.zeros(idx.shape[0], idx.shape[1], books.shape[-1], dtype=books.dtype)
        for s in range(idx.shape[1]):
            for lev in range(levels):
                zq[:, s] += books[s, lev][idx[:, s, lev]]
        return zq

    # -- decoder ---------------------------------------------------------------------------------
    def spectrum(self, zq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Predicted ``(log1p amplitude, cos, sin)`` of the patch spectrum, each ``(B, n_freq)``."""
        h = self.decoder(self.from_code(zq) + self.dec_pos)
        out = self.head(h.flatten(1)).view(-1, 3, self.n_freq)
        return out[:, 0], out[:, 1], out[:, 2]

    def synthesize(self, log_amp: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """Signal ``(B, patch_len)`` by inverse FFT of the predicted amplitude and phase."""
        amp = torch.expm1(log_amp.clamp(max=30.0)).clamp(min=0.0)
        norm = torch.sqrt(cos**2 + sin**2).clamp(min=1e-6)
        spec = torch.complex(amp * cos / norm, amp * sin / norm)
        return torch.fft.irfft(spec, n=self.config.patch_len, norm="ortho")

    def decode(self, zq: torch.Tensor) -> torch.Tensor:
        """Patches ``(B, patch_len)`` from quantised latents."""
        return self.synthesize(*self.spectrum(zq))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Encode, quantise and decode a batch; return the reconstruction, codes and losses."""
        zq, idx, commit = self.quantize(self.latents(x))
        log_amp, cos, sin = self.spectrum(zq)
        recon = self.synthesize(log_amp, cos, sin)
        return {"recon": recon, "indices": idx, "commit": commit, "log_amp": log_amp, "cos": cos, "sin": sin}
