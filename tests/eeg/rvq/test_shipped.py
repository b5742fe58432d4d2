"""The pretrained tokenizer shipped in the package: format, default of the stage and sink, quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import neurosig.eeg.rvq
from neurosig.core.chunks import EpochsChunk, EpochsInfo, SignalChunk, SignalInfo
from neurosig.core.config import build_pipeline
from neurosig.core.errors import DataError
from neurosig.core.persist import load_checkpoint
from neurosig.eeg.rvq.config import preset
from neurosig.eeg.rvq.data import preprocess
from neurosig.eeg.rvq.evaluate import evaluate
from neurosig.eeg.rvq.stage import RVQTokenize
from neurosig.eeg.rvq.store import load_tokens
from neurosig.eeg.rvq.tokenizer import KIND, SHIPPED_CHECKPOINT, Tokenizer, shipped_checkpoint
from neurosig.testing import run_stage, split_chunk


@pytest.fixture(scope="module")
def shipped() -> Tokenizer:
    return Tokenizer.load()


def test_shipped_file_is_a_small_tokenizer_checkpoint(shipped, tmp_path):
    path = shipped_checkpoint()
    assert path == Path(neurosig.eeg.rvq.__file__).parent / "weights" / SHIPPED_CHECKPOINT
    assert (path.parent / "MODEL_CARD.md").is_file()
    checkpoint = load_checkpoint(path, KIND)
    assert checkpoint.config == preset("small").model_dump()
    assert shipped.config == preset("small")
    again = Tokenizer.load(shipped.save(tmp_path / "copy.pt"))
    x = np.random.default_rng(0).standard_normal((3, 600)).astype(np.float32) * 20e-6
    np.testing.assert_array_equal(again.encode(x, 200.0), shipped.encode(x, 200.0))


def test_stage_without_checkpoint_tokenizes_continuous_and_epochs(shipped, held_out_signal):
    signal = held_out_signal[:, :1200]
    names = tuple(f"EEG{i}" for i in range(signal.shape[0]))
    chunk = SignalChunk(signal, SignalInfo(200.0, names))
    out = run_stage(RVQTokenize(), split_chunk(chunk, [130, 700]))
    tokens = np.concatenate([c.tokens for c in out], axis=1)
    np.testing.assert_array_equal(tokens, shipped.encode(signal, 200.0))
    assert out[0].info.n_levels == 8 and out[0].info.codebook_size == 256

    data = np.ascontiguousarray(signal.reshape(len(names), 3, 400).transpose(1, 0, 2))
    info = EpochsInfo(200.0, names, ("eeg",) * len(names), 0.0, 400)
    epochs = EpochsChunk(data, info, np.arange(3) * 2.0, ("a",) * 3)
    out = run_stage(RVQTokenize(), split_chunk(epochs, [1]))
    np.testing.assert_array_equal(np.concatenate([c.tokens for c in out], axis=1), tokens)
    assert out[0].info.epoch_patches == 2


def test_sink_without_checkpoint_stores_the_shipped_tokenizer(shipped, tiny_checkpoint, tmp_path):
    def pipeline(path, checkpoint=None):
        return build_pipeline(
            {
                "source": {"type": "simulate", "duration": 4.0, "sfreq": 200.0, "n_channels": 19, "seed": 3},
                "stages": [{"type": "rvq_tokenize", **({"checkpoint": checkpoint} if checkpoint else {})}],
                "sink": {"type": "rvq_hdf5", "path": str(path)},
            }
        )

    pipeline(tmp_path / "t.h5").run()
    chunk, stored, _ = load_tokens(tmp_path / "t.h5")
    assert stored.config == shipped.config and chunk.tokens.shape == (19, 4, 4, 8)
    mismatch = r"rvq_hdf5: the tokens have .* \(4, 4, 32, 1.0\) .* makes \(4, 8, 256"
    with pytest.raises(DataError, match=mismatch):
        pipeline(tmp_path / "mixed.h5", tiny_checkpoint).run()
    assert not list(tmp_path.glob("mixed*"))


def test_shipped_tokenizer_reconstructs_held_out_eegmmidb(shipped, shared_file):
    """Run R14 was held out of training; without AT-AT and FASTER here, so a lower bar than the card's."""
    path = shared_file("eeg/eegmmidb/S001/S001R14.edf")
    pre = {
        "source": {"type": "file", "path": "", "chunk_duration": 10.0, "picks": "eeg"},
        "stages": [
            {"type": "notch", "freqs": [60.0]},
            {"type": "bandpass", "l_freq": 1.0, "h_freq": 40.0},
            {"type": "resample", "sfreq": 200.0},
        ],
    }
    signal = preprocess(str(path), pre).data[:, 1000:7000]  # 30 s after the filters settled
    bands = evaluate(shipped, [(signal, 200.0)])["bands"]
    assert bands["broadband"]["pcc"] > 0.93 and bands["gamma"]["pcc"] > 0.6
    assert bands["alpha"]["pcc"] > 0.9
