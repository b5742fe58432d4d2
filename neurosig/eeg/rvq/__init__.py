"""NeuroRVQ-style EEG tokenization: multi-scale encoder, residual VQ per scale, spectral decoder.

``Tokenizer.encode(signal, sfreq) -> tokens (channels, patches, scales, levels)`` and
``Tokenizer.decode(tokens) -> signal``; the ``rvq_tokenize`` stage streams tokens, the ``rvq_hdf5``
sink stores them with the tokenizer, and the ``rvq_train`` job trains and evaluates a tokenizer against
the single-codebook (LaBraM-style) baseline at the same bit rate. ``Tokenizer.load()`` (and the stage
and sink without a checkpoint) use the pretrained tokenizer shipped in ``weights/`` (see its
``MODEL_CARD.md``). See ``docs/rvq.md``.
"""

from neurosig.eeg.rvq.config import TokenizerConfig, preset, single_codebook_baseline
from neurosig.eeg.rvq.tokenizer import Tokenizer

__all__ = ["Tokenizer", "TokenizerConfig", "preset", "single_codebook_baseline"]
