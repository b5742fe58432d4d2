"""Offline FASTER in bounded memory: the spilled stream, the blocked path against the one-piece path."""

from __future__ import annotations

import tracemalloc

import mne
import numpy as np
import pytest

from neurosig.core.chunks import EpochsChunk, concat_chunks
from neurosig.core.errors import DataError
from neurosig.core.persist import ArraySpill
from neurosig.eeg.epochs import Epochs
from neurosig.eeg.faster.model import run_faster, run_faster_blocked
from neurosig.eeg.faster.stages import Faster, eog_named, mne_info
from neurosig.eeg.simulate import SimulatedEEGSource
from neurosig.testing import check_streaming_invariance, run_stage, split_chunk


def _stream(duration=60.0, **kw):
    params = dict(duration=duration, sfreq=128.0, n_channels=19, seed=1, noisy_channels=["P3"], eog=True) | kw
    chunks = run_stage(Epochs(length=2.0), list(SimulatedEEGSource(**params)))
    return concat_chunks([c for c in chunks if c.n_epochs])


@pytest.fixture(scope="module")
def stream() -> EpochsChunk:
    return _stream()


def _mib(n_epochs: int, chunk: EpochsChunk) -> float:
    """``block_mib`` that holds ``n_epochs`` epochs of ``chunk`` as float64."""
    return n_epochs * chunk.data[0].size * 8 / 2**20


def _same_report(a: dict, b: dict) -> None:
    """Decisions equal; scores equal to rounding (the channel correlations are summed in another order)."""
    for key in ("bad_channels", "bad_epochs", "kept_epochs", "interpolated", "ica"):
        assert a[key] == b[key], key
    for step in a["steps"]:
        for metric, values in a["steps"][step]["metrics"].items():
            got = b["steps"][step]["metrics"][metric]
            assert got["bad"] == values["bad"], (step, metric)
            np.testing.assert_allclose(
                np.array(got["score"], dtype=float), np.array(values["score"], dtype=float), rtol=1e-9
            )


def test_blocked_stage_equals_one_piece(stream):
    whole = Faster(ica=False)
    (one,) = run_stage(whole, [stream])
    # 7 epochs per block, and step 1 four of the 20 channels at a time (their series are 30 epochs long).
    blocked = Faster(ica=False, block_mib=_mib(7, stream))
    out = run_stage(blocked, split_chunk(stream, [5, 13]))
    assert len(out) > 1
    _same_report(whole.report.to_dict(), blocked.report.to_dict())
    joined = concat_chunks(out)
    np.testing.assert_array_equal(joined.onsets, one.onsets)
    assert joined.labels == one.labels
    np.testing.assert_allclose(joined.data, one.data, rtol=1e-6, atol=1e-13)
    np.testing.assert_array_equal(np.diff([c.start for c in out]), [c.n_epochs for c in out[:-1]])


def test_blocked_model_with_ica_equals_run_faster(stream):
    """With the ICA fitted on every kept epoch, the blocked steps 1-4 give run_faster's result."""
    info = mne_info(stream.info, eog_named(stream.info))
    epochs = mne.EpochsArray(stream.data.astype(np.float64), info, verbose="error")
    clean, report = run_faster(epochs, n_components=8, band=(1.0, 40.0))
    block = int(_mib(7, stream) * 2**20)
    blocks = run_faster_blocked(stream.data, info, block, n_components=8, band=(1.0, 40.0), ica_bytes=2**30)
    parts = []
    while True:
        try:
            parts.append(next(blocks))
        except StopIteration as done:
            got = done.value
            break
    assert len(parts) > 1 and "components" in got.steps
    _same_report(report.to_dict(), got.to_dict())
    np.testing.assert_array_equal(np.concatenate([rows for rows, _ in parts]), report.kept_epochs)
    np.testing.assert_allclose(np.concatenate([c for _, c in parts]), clean.get_data(), rtol=1e-7, atol=1e-14)


def test_blocked_ica_fits_on_a_spread_subset(stream):
    stage = Faster(n_components=8, block_mib=_mib(12, stream))
    run_stage(stage, [stream])
    fit = stage.report.ica["fit_epochs"]
    assert len(fit) == 12 and fit == sorted(fit)
    assert set(fit) <= set(stage.report.kept_epochs)
    assert fit[0] == stage.report.kept_epochs[0] and fit[-1] == stage.report.kept_epochs[-1]


def test_blocked_streaming_invariance(stream):
    check_streaming_invariance(lambda: Faster(ica=False, block_mib=_mib(6, stream)), stream, [1, 9, 9, 20])


def _held(stage: Faster, chunk: EpochsChunk, n_chunks: int) -> int:
    """Bytes the stage's gathering allocates and keeps over ``n_chunks`` copies of ``chunk``."""
    pieces = split_chunk(chunk, list(range(4, chunk.n_epochs, 4)))[:n_chunks]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for piece in pieces:  # each a fresh array, as a stream's chunks are, dropped after the call
            fresh = EpochsChunk(piece.data.copy(), piece.info, piece.onsets, piece.labels, piece.start)
            list(stage.process(fresh))
            del fresh
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        stage.reset()


def test_gathering_holds_no_signal(stream):
    """The stage spills the epochs as they come: it keeps their onsets and labels, not their data."""
    stage = Faster(ica=False)
    few, many = _held(stage, stream, 2), _held(stage, stream, 7)
    per_epoch = stream.data[0].nbytes  # 4.8 kB of float32 signal per epoch
    assert many - few < 20 * per_epoch / 10  # 20 more epochs, under a tenth of their signal
    assert ArraySpill().shape == (0,)


def test_blocked_names_a_flat_epoch_by_its_place_in_the_recording(stream):
    data = stream.data.copy()
    data[20] = 0.0  # a gap, in the third block of 7
    chunk = EpochsChunk(data, stream.info, stream.onsets, stream.labels)
    with pytest.raises(DataError, match=r"epochs \[20\] have zero variance"):
        run_stage(Faster(ica=False, block_mib=_mib(7, stream)), [chunk])
