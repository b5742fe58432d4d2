"""``rvq_tokenize``: the streaming stage that turns EEG, continuous or epochs, into token chunks."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Annotated, ClassVar

import numpy as np
import pydantic

from neurosig.core.chunks import EpochsChunk, SignalChunk, TokenChunk, TokenInfo
from neurosig.core.errors import DataError
from neurosig.core.stage import Stage
from neurosig.core.validate import check_finite
from neurosig.eeg.rvq.tokenizer import Tokenizer

__all__ = ["RVQTokenize"]


class RVQTokenize(Stage):
    """Tokenize an EEG stream patch by patch with a trained tokenizer.

    A continuous stream: samples are buffered until a whole patch (``patch_len`` samples, 1 s by
    default) is there. An epochs stream (e.g. after ``faster``): each epoch is cut into its own
    ``n_times // patch_len`` patches from its first sample, and the token stream's
    ``info.epoch_patches`` says how many patches each epoch holds, in the epochs' order. Each patch is
    encoded on its own, so the tokens do not depend on how the stream is chunked.

    Parameters
    ----------
    checkpoint : str | None
        A tokenizer checkpoint (``model.pt`` from the ``rvq_train`` job, or
        :meth:`Tokenizer.save <neurosig.eeg.rvq.tokenizer.Tokenizer.save>`); ``None`` uses the
        pretrained ``small`` tokenizer shipped with neurosig (trained on eegmmidb after notch,
        band-pass 1–40 Hz, AT-AT, resampling to 200 Hz and FASTER; see
        ``neurosig/eeg/rvq/weights/MODEL_CARD.md``).
    batch_size : int
        Channel-patches encoded per forward pass (memory only; the tokens do not depend on it).

    Notes
    -----
    The input must already be at the tokenizer's rate (200 Hz for the presets): put a ``resample``
    stage first (before ``epochs``, for epochs). Samples after the last whole patch (less than one
    patch; per epoch, for epochs) are not tokenized; a warning says how many. A continuous stream
    shorter than one patch, or epochs shorter than one patch, are an error.
    """

    name: ClassVar[str] = "rvq_tokenize"
    accepts: ClassVar[tuple[type, ...]] = (SignalChunk, EpochsChunk)
    _tokenizer: Tokenizer | None = None
    _buffer: np.ndarray | None = None
    _info: TokenInfo | None = None
    _next_patch: int = 0

    def __init__(
        self, checkpoint: str | None = None, batch_size: Annotated[int, pydantic.Field(gt=0)] = 8192
    ):
        self.checkpoint = checkpoint
        self.batch_size = batch_size

    def reset(self) -> None:
        """Forget the buffered samples and the stream position (the loaded tokenizer is kept)."""
        self._buffer = None
        self._info = None
        self._next_patch = 0

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer, read from ``checkpoint`` (or the shipped one) on first use."""
        if self._tokenizer is None:
            self._tokenizer = Tokenizer.load(self.checkpoint)
        return self._tokenizer

    def _start(self, chunk: SignalChunk | EpochsChunk) -> None:
        config = self.tokenizer.config
        if not np.isclose(chunk.info.sfreq, config.sfreq):
            raise DataError(
                f"rvq_tokenize: the stream is sampled at {chunk.info.sfreq:g} Hz but the tokenizer works at "
                f"{config.sfreq:g} Hz; add {{type: resample, sfreq: {config.sfreq:g}}} before it."
            )
        epoch_patches = 0
        if isinstance(chunk, EpochsChunk):
            epoch_patches, left = divmod(chunk.info.n_times, config.patch_len)
            if epoch_patches == 0:
                raise DataError(
                    f"rvq_tokenize: epochs have {chunk.info.n_times} samples, fewer than one patch "
                    f"({config.patch_len} samples = {config.patch_duration:g} s); cut longer epochs."
                )
            if left:
                warnings.warn(
                    f"rvq_tokenize: the last {left} samples of every epoch (less than one patch) are not "
                    "tokenized.",
                    UserWarning,
                    stacklevel=3,
                )
        scales, levels = config.token_shape
        self._info = TokenInfo(
            chunk.info.ch_names, config.patch_duration, scales, levels, config.codebook_size, epoch_patches
        )
        self._buffer = np.zeros((chunk.info.n_channels, 0), dtype=np.float32)

    def _process(self, chunk: SignalChunk | EpochsChunk) -> Iterable[TokenChunk]:
        if self._info is None:
            self._start(chunk)
        if isinstance(chunk, EpochsChunk) != bool(self._info.epoch_patches):
            raise DataError(
                "rvq_tokenize got continuous and epochs chunks in one stream; run one per pipeline."
            )
        check_finite("rvq_tokenize input", chunk.data)
        if isinstance(chunk, EpochsChunk):
            return self._epochs(chunk)
        buffer = np.concatenate([self._buffer, chunk.data], axis=1)
        tok = self.tokenizer
        n = buffer.shape[1] // tok.config.patch_len
        self._buffer = buffer[:, n * tok.config.patch_len :]
        if n == 0:
            return ()
        tokens = tok.encode_patches(tok.to_patches(buffer), self.batch_size)
        out = TokenChunk(tokens, self._info, self._next_patch)
        self._next_patch += n
        return (out,)

    def _epochs(self, chunk: EpochsChunk) -> Iterable[TokenChunk]:
        if chunk.n_epochs == 0:
            return ()
        tok = self.tokenizer
        n = self._info.epoch_patches * tok.config.patch_len
        # (epochs, channels, n) -> (channels, epochs * n): patches then never straddle two epochs
        joined = chunk.data[:, :, :n].transpose(1, 0, 2).reshape(chunk.info.n_channels, -1)
        tokens = tok.encode_patches(tok.to_patches(joined), self.batch_size)
        out = TokenChunk(tokens, self._info, self._next_patch)
        self._next_patch += tokens.shape[1]
        return (out,)

    def _flush(self) -> Iterable[TokenChunk]:
        if self._info is None or self._info.epoch_patches:
            return ()
        left = self._buffer.shape[1]
        if self._next_patch == 0:
            config = self.tokenizer.config
            raise DataError(
                f"rvq_tokenize: the stream has {left} samples, fewer than one patch ({config.patch_len} "
                f"samples = {config.patch_duration:g} s); give a longer recording."
            )
        if left:
            warnings.warn(
                f"rvq_tokenize: the last {left} samples (less than one patch) were not tokenized.",
                UserWarning,
                stacklevel=2,
            )
        return ()
