"""Token files: tokens, codebooks and the whole tokenizer in one HDF5 file that decodes on its own.

The layout is the suite's token layout (see :mod:`neurosig.io.hdf5`: root provenance attributes,
``stream_info``, a ``tokens`` dataset ``(channels, patches, scales, levels)``), so
:class:`~neurosig.io.hdf5.HDF5Source` streams the tokens back, plus a ``tokenizer`` group::

    tokenizer/   attrs: config (JSON), bitrate (JSON), sfreq
      codebooks  (scales, levels, codebook_size, code_dim) float32 (also inside weights/, kept here
                 for readers without torch)
      weights/   one dataset per tensor of the network's state dict
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
import pydantic
import torch

from neurosig._version import __version__
from neurosig.core.chunks import SignalChunk, SignalInfo, TokenChunk, TokenInfo
from neurosig.core.errors import DataError, FormatError
from neurosig.core.stage import RunMeta
from neurosig.core.validate import check_existing_file
from neurosig.eeg.rvq.tokenizer import Tokenizer
from neurosig.io.hdf5 import HDF5Sink, atomic_h5, check_metadata, read_hdf5, write_provenance

__all__ = ["write_tokenizer", "read_tokenizer", "save_tokens", "load_tokens", "decode_file", "RVQTokenSink"]


def _token_dtype(codebook_size: int) -> np.dtype:
    return np.dtype(np.uint8 if codebook_size <= 256 else np.uint16 if codebook_size <= 65536 else np.int32)


def write_tokenizer(h5file: Any, tokenizer: Tokenizer) -> None:
    """Store a tokenizer (config, bit rate, codebooks, weights) in the ``tokenizer`` group of an open file."""
    config_json, state = tokenizer.state()
    group = h5file.require_group("tokenizer")
    group.attrs["config"] = config_json
    group.attrs["bitrate"] = json.dumps(tokenizer.bitrate())
    group.attrs["sfreq"] = tokenizer.config.sfreq
    group.create_dataset("codebooks", data=tokenizer.net.codebooks().detach().numpy())
    weights = group.create_group("weights")
    for key, value in state.items():
        weights.create_dataset(key, data=value.numpy())


def read_tokenizer(path: str | Path) -> Tokenizer:
    """Rebuild the tokenizer stored in a token file.

    Raises
    ------
    FormatError
        If the file holds no tokenizer (e.g. it was written by the plain ``hdf5`` sink), or its
        stored config or weights do not make a tokenizer.
    """
    import h5py

    path = check_existing_file(path, "token file")
    check_metadata(path)
    with h5py.File(path, "r") as f:
        if "tokenizer" not in f:
            raise FormatError(
                "the file holds no tokenizer group; write tokens with the 'rvq_hdf5' sink or save_tokens().",
                path=path,
            )
        group = f["tokenizer"]
        try:
            state = {key: torch.from_numpy(np.asarray(ds[()])) for key, ds in group["weights"].items()}
            return Tokenizer.from_state(group.attrs["config"], state)
        except Exception as err:  # noqa: BLE001 - the config and weights come from the file
            raise FormatError(
                f"the stored tokenizer is invalid ({type(err).__name__}: {err}); rewrite the file "
                "with the 'rvq_hdf5' sink or save_tokens().",
                path=path,
            ) from None


def save_tokens(
    path: str | Path,
    chunk: TokenChunk,
    tokenizer: Tokenizer,
    meta: RunMeta | None = None,
    overwrite: bool = False,
) -> Path:
    """Write tokens and their tokenizer exclusively and atomically (see :mod:`neurosig.core.persist`).

    Parameters
    ----------
    path : str | Path
        Output ``.h5`` file.
    chunk : TokenChunk
        The tokens, e.g. ``TokenChunk(tokenizer.encode(x, sfreq), info)``.
    tokenizer : Tokenizer
        The tokenizer that made them.
    meta : RunMeta | None
        Provenance; by default the neurosig version and ``{"type": "array"}``.
    overwrite : bool
        Replace an existing neurosig file.
    """
    meta = meta or RunMeta(neurosig_version=__version__, pipeline_yaml="", source={"type": "array"})
    path = Path(path)
    with atomic_h5(path, overwrite) as f:
        write_provenance(f, meta)
        f.attrs["stream_info"] = chunk.info.to_json()
        f.attrs["chunk_type"] = "TokenChunk"
        tokens = chunk.tokens.astype(_token_dtype(tokenizer.config.codebook_size))
        f.create_dataset("tokens", data=tokens, compression="gzip", shuffle=True)
        write_tokenizer(f, tokenizer)
    return path


def load_tokens(path: str | Path) -> tuple[TokenChunk, Tokenizer, dict[str, Any]]:
    """Read a token file: the tokens, the tokenizer, and the root attributes."""
    chunk, attrs = read_hdf5(path)
    if not isinstance(chunk, TokenChunk):
        raise FormatError(f"the file holds a {type(chunk).__name__} stream, not tokens.", path=path)
    return chunk, read_tokenizer(path), attrs


def decode_file(path: str | Path, n_levels: int | None = None) -> SignalChunk:
    """Decode a token file back to EEG (volts at the tokenizer's rate), from the file alone."""
    chunk, tokenizer, _ = load_tokens(path)
    config = tokenizer.config
    if (chunk.info.n_scales, chunk.info.n_levels) != config.token_shape:
        raise DataError(
            f"{path}: tokens have (scales, levels) = ({chunk.info.n_scales}, {chunk.info.n_levels}) but the "
            f"stored tokenizer makes {config.token_shape}; the file is inconsistent."
        )
    signal = tokenizer.decode(chunk.tokens.astype(np.int64), n_levels)
    start = chunk.start * config.patch_len
    return SignalChunk(signal, SignalInfo(config.sfreq, chunk.info.ch_names), start)


class RVQTokenSink(HDF5Sink):
    """The ``hdf5`` sink plus the tokenizer, so that the token file decodes on its own.

    Parameters
    ----------
    path : str
        Output file (``.h5``).
    checkpoint : str | None
        The tokenizer checkpoint the ``rvq_tokenize`` stage uses; ``None``, as for the stage, the
        tokenizer shipped with neurosig. Tokens whose shape (scales, levels, codebook size, patch
        duration) does not match this tokenizer's are refused at commit.
    overwrite : bool
        Replace an existing neurosig output of a different run.
    compression_level : int
        gzip level 0–9.
    """

    name: ClassVar[str] = "rvq_hdf5"

    def __init__(
        self,
        path: str,
        checkpoint: str | None = None,
        overwrite: bool = False,
        compression_level: Annotated[int, pydantic.Field(ge=0, le=9)] = 4,
    ):
        self.path = path
        self.checkpoint = checkpoint
        self.overwrite = overwrite
        self.compression_level = compression_level

    def write(self, chunk: TokenChunk) -> None:
        """Append one token chunk."""
        if not isinstance(chunk, TokenChunk):
            raise DataError(
                f"rvq_hdf5 stores token streams; got {type(chunk).__name__} (put rvq_tokenize first)."
            )
        super().write(chunk)

    def commit(self) -> str:
        """Add the tokenizer group, then commit as the ``hdf5`` sink does.

        Raises
        ------
        DataError
            If the tokens were not made by a tokenizer of this checkpoint's shape (the stage and the
            sink name different checkpoints).
        """
        if self._type is not None:
            tokenizer = Tokenizer.load(self.checkpoint)
            _check_same_shape(self._info, tokenizer, self.checkpoint)
            write_tokenizer(self._file, tokenizer)
        return super().commit()


def _check_same_shape(info: TokenInfo, tokenizer: Tokenizer, checkpoint: str | None) -> None:
    config = tokenizer.config
    scales, levels = config.token_shape
    stream = (info.n_scales, info.n_levels, info.codebook_size, info.patch_duration)
    model = (scales, levels, config.codebook_size, config.patch_duration)
    if stream != model:
        name = checkpoint or "the shipped tokenizer"
        raise DataError(
            f"rvq_hdf5: the tokens have (scales, levels, codebook size, patch s) = {stream} but the "
            f"sink's checkpoint ({name}) makes {model}; give the sink the rvq_tokenize stage's "
            "checkpoint (or leave both unset for the shipped tokenizer)."
        )
