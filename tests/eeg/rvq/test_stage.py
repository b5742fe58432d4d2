"""The rvq_tokenize stage: streaming equals whole-recording tokenization; bad streams; YAML pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosig.core.chunks import (
    EpochsChunk,
    EpochsInfo,
    SignalChunk,
    SignalInfo,
    TokenChunk,
    concat_chunks,
)
from neurosig.core.config import build_pipeline
from neurosig.core.errors import ConfigError, DataError
from neurosig.eeg.rvq.stage import RVQTokenize
from neurosig.eeg.rvq.store import decode_file, load_tokens
from neurosig.testing import check_streaming_invariance, run_stage, split_chunk


def _chunk(signal: np.ndarray, sfreq: float = 200.0) -> SignalChunk:
    return SignalChunk(signal, SignalInfo(sfreq, tuple(f"EEG{i}" for i in range(signal.shape[0]))))


@pytest.mark.filterwarnings("ignore:rvq_tokenize. the last 50 samples")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(0, 2050), max_size=6))
def test_streaming_equals_whole_recording(tiny, tiny_checkpoint, held_out_signal, cuts):
    chunk = _chunk(held_out_signal[:, :2050])
    check_streaming_invariance(lambda: RVQTokenize(tiny_checkpoint), chunk, cuts, rtol=0, atol=0)
    out = concat_chunks(
        [c for c in run_stage(RVQTokenize(tiny_checkpoint), split_chunk(chunk, cuts)) if c.tokens.shape[1]]
    )
    np.testing.assert_array_equal(out.tokens, tiny.encode(held_out_signal[:, :2050], 200.0))
    assert out.info.n_scales == 4 and out.info.n_levels == 4 and out.info.patch_duration == 1.0


def test_token_chunks_carry_their_patch_index(tiny_checkpoint, held_out_signal):
    pieces = split_chunk(_chunk(held_out_signal[:, :1000]), [250, 700])
    out = run_stage(RVQTokenize(tiny_checkpoint), pieces)
    assert [(c.start, c.tokens.shape[1]) for c in out] == [(0, 1), (1, 2), (3, 2)]


def test_wrong_rate_tells_to_resample(tiny_checkpoint, held_out_signal):
    with pytest.raises(DataError, match="160 Hz.*resample, sfreq: 200"):
        run_stage(RVQTokenize(tiny_checkpoint), [_chunk(held_out_signal[:, :400], 160.0)])


def test_too_short_stream_and_nan(tiny_checkpoint, held_out_signal):
    with pytest.raises(DataError, match="fewer than one patch"):
        run_stage(RVQTokenize(tiny_checkpoint), split_chunk(_chunk(held_out_signal[:, :150]), [70]))
    bad = held_out_signal[:, :400].copy()
    bad[0, 300] = np.inf
    with pytest.raises(DataError, match="NaN or infinite"):
        run_stage(RVQTokenize(tiny_checkpoint), [_chunk(bad)])


def test_leftover_samples_are_reported(tiny_checkpoint, held_out_signal):
    with pytest.warns(UserWarning, match="last 50 samples"):
        out = run_stage(RVQTokenize(tiny_checkpoint), [_chunk(held_out_signal[:, :450])])
    assert sum(c.tokens.shape[1] for c in out) == 2


def test_missing_checkpoint_and_bad_params(tmp_path, held_out_signal):
    with pytest.raises(Exception, match="checkpoint not found"):
        run_stage(RVQTokenize(str(tmp_path / "none.pt")), [_chunk(held_out_signal[:, :400])])
    with pytest.raises(ConfigError, match="batch_size"):
        RVQTokenize("x.pt", batch_size=0)


def test_yaml_pipeline_writes_a_file_that_decodes_alone(tiny, tiny_checkpoint, tmp_path):
    out = tmp_path / "tokens.h5"
    pipeline = build_pipeline(
        {
            "source": {"type": "simulate", "duration": 12.0, "sfreq": 250.0, "n_channels": 19, "seed": 5},
            "stages": [
                {"type": "resample", "sfreq": 200.0},
                {"type": "rvq_tokenize", "checkpoint": tiny_checkpoint},
            ],
            "sink": {"type": "rvq_hdf5", "path": str(out), "checkpoint": tiny_checkpoint},
        }
    )
    summary = pipeline.run()
    assert summary.output == str(out)
    chunk, stored, attrs = load_tokens(out)
    assert isinstance(chunk, TokenChunk) and chunk.tokens.shape[:2] == (19, 12)
    assert stored.config == tiny.config
    assert "rvq_tokenize" in attrs["pipeline_yaml"]
    signal = decode_file(out)
    np.testing.assert_allclose(signal.data, tiny.decode(chunk.tokens.astype(np.int64)), rtol=1e-6, atol=1e-12)
    assert signal.info.sfreq == 200.0 and signal.data.shape[1] == chunk.tokens.shape[1] * 200


def _epochs(signal: np.ndarray, n_times: int = 450) -> EpochsChunk:
    """Consecutive epochs of ``n_times`` samples at 200 Hz cut from a signal."""
    n = signal.shape[1] // n_times
    data = signal[:, : n * n_times].reshape(signal.shape[0], n, n_times).transpose(1, 0, 2)
    names = tuple(f"EEG{i}" for i in range(signal.shape[0]))
    info = EpochsInfo(200.0, names, ("eeg",) * len(names), 0.0, n_times)
    return EpochsChunk(np.ascontiguousarray(data), info, np.arange(n) * n_times / 200.0, ("a",) * n)


@pytest.mark.filterwarnings("ignore:rvq_tokenize. the last 50 samples of every epoch")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(0, 8), max_size=5))
def test_epochs_streaming_equals_each_epoch_alone(tiny, tiny_checkpoint, held_out_signal, cuts):
    epochs = _epochs(held_out_signal[:, :3600])  # 8 epochs of 2.25 s: 2 patches each, 50 samples left
    check_streaming_invariance(lambda: RVQTokenize(tiny_checkpoint), epochs, cuts, rtol=0, atol=0)
    out = concat_chunks([c for c in run_stage(RVQTokenize(tiny_checkpoint), split_chunk(epochs, cuts))])
    assert out.info.epoch_patches == 2 and out.tokens.shape[1] == 16
    for e in range(epochs.n_epochs):
        alone = tiny.encode(epochs.data[e, :, :400], 200.0)
        np.testing.assert_array_equal(out.tokens[:, 2 * e : 2 * e + 2], alone)


def test_epochs_shorter_than_a_patch_and_mixed_streams(tiny_checkpoint, held_out_signal):
    with pytest.raises(DataError, match="epochs have 150 samples, fewer than one patch"):
        run_stage(RVQTokenize(tiny_checkpoint), [_epochs(held_out_signal, 150)])
    stage = RVQTokenize(tiny_checkpoint)
    list(stage.process(_epochs(held_out_signal[:, :800], 400)))
    with pytest.raises(DataError, match="continuous and epochs"):
        list(stage.process(_chunk(held_out_signal[:, :400])))


def test_epoch_tokens_round_trip_through_a_file(tiny_checkpoint, held_out_signal, tmp_path):
    from neurosig.cli import file_info
    from neurosig.core.pipeline import Pipeline
    from neurosig.core.stage import ChunkSource
    from neurosig.eeg.rvq.store import RVQTokenSink
    from neurosig.io.hdf5 import HDF5Source

    epochs = _epochs(held_out_signal[:, :2400], 400)
    out = tmp_path / "tokens.h5"
    sink = RVQTokenSink(str(out), tiny_checkpoint)
    Pipeline(ChunkSource(split_chunk(epochs, [2, 3])), [RVQTokenize(tiny_checkpoint)], sink).run()
    direct = concat_chunks(run_stage(RVQTokenize(tiny_checkpoint), [epochs]))
    back = concat_chunks(list(HDF5Source(str(out), chunk_size=5)))
    np.testing.assert_array_equal(back.tokens, direct.tokens)
    assert back.info == direct.info and back.info.epoch_patches == 2
    info = file_info(str(out))
    assert info["stream_info"]["epoch_patches"] == 2 and info["chunk_type"] == "TokenChunk"
