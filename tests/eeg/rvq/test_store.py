"""Token files written from arrays; files without a tokenizer; the rvq_hdf5 sink's input check."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from neurosig.core.chunks import SignalChunk, SignalInfo, TokenChunk, TokenInfo
from neurosig.core.errors import DataError, FormatError
from neurosig.core.stage import RunMeta as _Meta
from neurosig.eeg.rvq.store import RVQTokenSink, decode_file, load_tokens, read_tokenizer, save_tokens
from neurosig.io.hdf5 import HDF5Sink, read_hdf5


def _token_chunk(tok, signal):
    names = tuple(f"EEG{i}" for i in range(signal.shape[0]))
    info = TokenInfo(names, 1.0, 4, 4, tok.config.codebook_size)
    return TokenChunk(tok.encode(signal, 200.0), info)


def test_save_and_decode_from_the_file_alone(tiny, held_out_signal, tmp_path):
    chunk = _token_chunk(tiny, held_out_signal[:, :1000])
    path = save_tokens(tmp_path / "t.h5", chunk, tiny)
    back, stored, attrs = load_tokens(path)
    np.testing.assert_array_equal(back.tokens, chunk.tokens)
    assert attrs["complete"] and stored.config == tiny.config
    assert sorted(tmp_path.iterdir()) == [path]  # no partial file, no lock
    np.testing.assert_allclose(decode_file(path).data, tiny.decode(chunk.tokens), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(
        decode_file(path, n_levels=1).data, tiny.decode(chunk.tokens, 1), rtol=1e-6, atol=1e-12
    )

    with h5py.File(path, "r") as f:
        assert f["tokens"].dtype == np.uint8
        np.testing.assert_array_equal(f["tokenizer/codebooks"][()], tiny.net.codebooks().detach().numpy())


def test_file_without_tokenizer(tiny, held_out_signal, tmp_path):
    path = tmp_path / "plain.h5"
    sink = HDF5Sink(str(path))
    sink.open(_Meta(neurosig_version="x", pipeline_yaml="", source={"type": "array"}))
    sink.write(_token_chunk(tiny, held_out_signal[:, :400]))
    sink.commit()
    assert isinstance(read_hdf5(path)[0], TokenChunk)
    with pytest.raises(FormatError, match="no tokenizer group.*rvq_hdf5"):
        read_tokenizer(path)


def test_a_bad_stored_tokenizer_config_is_a_format_error(tiny, held_out_signal, tmp_path):
    path = save_tokens(tmp_path / "t.h5", _token_chunk(tiny, held_out_signal[:, :400]), tiny)
    with h5py.File(path, "a") as f:
        config = f["tokenizer"].attrs["config"]
        f["tokenizer"].attrs["config"] = config.replace('"patch_len":', '"patch_len":-')
    with pytest.raises(FormatError, match="t.h5: the stored tokenizer is invalid"):
        read_tokenizer(path)


def test_sink_refuses_signals(tmp_path, tiny_checkpoint):
    sink = RVQTokenSink(str(tmp_path / "x.h5"), tiny_checkpoint)
    sink.open(_Meta(neurosig_version="x", pipeline_yaml="", source={"type": "array"}))
    with pytest.raises(DataError, match="put rvq_tokenize first"):
        sink.write(SignalChunk(np.zeros((1, 10), np.float32), SignalInfo(200.0, ("a",))))
    sink.abort()
