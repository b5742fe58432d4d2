"""Contract checks every stage must pass, usable on your own stages too.

The suite's ``tests/test_common.py`` runs these over every registered stage, like scikit-learn's
``check_estimator``. A third-party stage can call them in its own tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from neurosig.core.chunks import (
    Chunk,
    EpochsChunk,
    EventChunk,
    SignalChunk,
    SpikeChunk,
    TokenChunk,
    concat_chunks,
)
from neurosig.core.stage import Stage

__all__ = ["chunk_length", "split_chunk", "run_stage", "assert_chunks_close", "check_streaming_invariance"]


def chunk_length(chunk: Chunk) -> int:
    """Length of a chunk along its streaming axis (samples, epochs, events, steps or patches)."""
    return chunk.length


def _slice(chunk: Chunk, a: int, b: int) -> Chunk:
    if isinstance(chunk, SignalChunk):
        sfreq = chunk.info.sfreq
        t0, t1 = (chunk.start + a) / sfreq, (chunk.start + b) / sfreq
        markers = tuple(m for m in chunk.markers if t0 <= m.onset < t1)
        return SignalChunk(chunk.data[:, a:b], chunk.info, chunk.start + a, markers)
    if isinstance(chunk, EpochsChunk):
        return EpochsChunk(chunk.data[a:b], chunk.info, chunk.onsets[a:b], chunk.labels[a:b], chunk.start + a)
    if isinstance(chunk, EventChunk):
        return EventChunk(chunk.events[a:b], chunk.info)
    if isinstance(chunk, SpikeChunk):
        return SpikeChunk(chunk.data[a:b], chunk.info, chunk.start + a)
    return TokenChunk(chunk.tokens[:, a:b], chunk.info, chunk.start + a)


def split_chunk(chunk: Chunk, boundaries: Sequence[int]) -> list[Chunk]:
    """Cut a chunk at the given positions along its streaming axis (empty pieces included)."""
    n = chunk_length(chunk)
    cuts = [0, *sorted(min(max(int(b), 0), n) for b in boundaries), n]
    return [_slice(chunk, a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def run_stage(stage: Stage, chunks: Sequence[Chunk]) -> list[Chunk]:
    """Reset a stage, feed it every chunk, flush it, and return all output chunks."""
    stage.reset()
    out = [o for c in chunks for o in stage.process(c)]
    out.extend(stage.flush())
    return out


def assert_chunks_close(a: list[Chunk], b: list[Chunk], rtol: float = 1e-5, atol: float = 1e-9) -> None:
    """Assert two chunk lists carry the same stream (same info, same joined payload within tolerance)."""
    a = [c for c in a if chunk_length(c)]
    b = [c for c in b if chunk_length(c)]
    assert bool(a) == bool(b), f"one output is empty ({len(a)} vs {len(b)} non-empty chunks)"
    if not a:
        return
    ja, jb = concat_chunks(a), concat_chunks(b)
    assert ja.info == jb.info, f"stream info differs: {ja.info} vs {jb.info}"
    pa, pb = ja.payload, jb.payload
    assert pa.shape == pb.shape, f"shapes differ: {pa.shape} vs {pb.shape}"
    if pa.dtype.names:
        for name in pa.dtype.names:
            np.testing.assert_array_equal(pa[name], pb[name], err_msg=f"field {name!r}")
    else:
        np.testing.assert_allclose(pa, pb, rtol=rtol, atol=atol)
    if isinstance(ja, SignalChunk):
        assert ja.start == jb.start and ja.markers == jb.markers


def check_streaming_invariance(
    make_stage: Callable[[], Stage],
    chunk: Chunk,
    boundaries: Sequence[int],
    rtol: float = 1e-5,
    atol: float = 1e-9,
) -> None:
    """Assert that a stage gives the same output on ``chunk`` whole and cut at ``boundaries``.

    Also checks that :meth:`Stage.reset` makes a used stage behave like a fresh one.
    """
    stage = make_stage()
    whole = run_stage(stage, [chunk])
    pieces = run_stage(stage, split_chunk(chunk, boundaries))
    assert_chunks_close(whole, pieces, rtol, atol)
    again = run_stage(stage, [chunk])
    assert_chunks_close(whole, again, rtol, atol)
