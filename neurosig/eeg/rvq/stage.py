"""``rvq_tokenize``: the streaming stage that turns EEG into :class:`~neurosig.core.chunks.TokenChunk`."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Annotated, ClassVar

import numpy as np
import pydantic

from neurosig.core.chunks import SignalChunk, TokenChunk, TokenInfo
from neurosig.core.errors import DataError
from neurosig.core.stage import Stage
from neurosig.core.validate import check_finite
from neurosig.eeg.rvq.tokenizer import Tokenizer

__all__ = ["RVQTokenize"]


class RVQTokenize(Stage):
    """Tokenize an EEG stream patch by patch with a trained tokenizer.

    Samples are buffered until a whole patch (``patch_len`` samples, 1 s by default) is there; each
    patch is encoded on its own, so the tokens do not depend on how the stream is chunked.

    Parameters
    ----------
    checkpoint : str
        A tokenizer checkpoint (``model.pt`` from the ``rvq_train`` job, or
        :meth:`Tokenizer.save <neurosig.eeg.rvq.tokenizer.Tokenizer.save>`).
    batch_size : int
        Channel-patches encoded per forward pass (memory only; the tokens do not depend on it).

    Notes
    -----
    The input must already be at the tokenizer's rate (200 Hz for the presets): put a ``resample``
    stage first. Samples after the last whole patch (less than one patch) are not tokenized; a
    warning says how many. A stream shorter than one patch is an error.
    """

    name: ClassVar[str] = "rvq_tokenize"
    accepts: ClassVar[tuple[type, ...]] = (SignalChunk,)
    _tokenizer: Tokenizer | None = None
    _buffer: np.ndarray | None = None
    _info: TokenInfo | None = None
    _next_patch: int = 0

    def __init__(self, checkpoint: str, batch_size: Annotated[int, pydantic.Field(gt=0)] = 8192):
        self.checkpoint = checkpoint
        self.batch_size = batch_size

    def reset(self) -> None:
        """Forget the buffered samples and the stream position (the loaded tokenizer is kept)."""
        self._buffer = None
        self._info = None
        self._next_patch = 0

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer, read from ``checkpoint`` on first use."""
        if self._tokenizer is None:
            self._tokenizer = Tokenizer.load(self.checkpoint)
        return self._tokenizer

    def _start(self, chunk: SignalChunk) -> None:
        config = self.tokenizer.config
        if not np.isclose(chunk.info.sfreq, config.sfreq):
            raise DataError(
                f"rvq_tokenize: the stream is sampled at {chunk.info.sfreq:g} Hz but the tokenizer works at "
                f"{config.sfreq:g} Hz; add {{type: resample, sfreq: {config.sfreq:g}}} before it."
            )
        scales, levels = config.token_shape
        self._info = TokenInfo(
            chunk.info.ch_names, config.patch_duration, scales, levels, config.codebook_size
        )
        self._buffer = np.zeros((chunk.info.n_channels, 0), dtype=np.float32)

    def _process(self, chunk: SignalChunk) -> Iterable[TokenChunk]:
        if self._info is None:
            self._start(chunk)
        check_finite("rvq_tokenize input", chunk.data)
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

    def _flush(self) -> Iterable[TokenChunk]:
        if self._info is None:
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
