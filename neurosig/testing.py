"""Contract checks every stage must pass, usable on your own stages too.

The suite's ``tests/test_common.py`` runs these over every registered stage, like scikit-learn's
``check_estimator``. A third-party stage can call them in its own tests.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Sequence

import numpy as np

from neurosig.core.chunks import Chunk, concat_chunks
from neurosig.core.stage import Stage

__all__ = [
    "chunk_length",
    "split_chunk",
    "run_stage",
    "assert_chunks_close",
    "check_streaming_invariance",
    "stop_process",
]


def chunk_length(chunk: Chunk) -> int:
    """Length of a chunk along its streaming axis (samples, epochs, events, steps or patches)."""
    return chunk.length


def split_chunk(chunk: Chunk, boundaries: Sequence[int]) -> list[Chunk]:
    """Cut a chunk at the given positions along its streaming axis (empty pieces included)."""
    n = chunk_length(chunk)
    cuts = [0, *sorted(min(max(int(b), 0), n) for b in boundaries), n]
    return [chunk.slice(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


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
    _assert_arrays_close(ja.payload, jb.payload, ja.payload_field, rtol, atol)
    assert ja.payload_attrs() == jb.payload_attrs(), f"{ja.payload_attrs()} vs {jb.payload_attrs()}"
    for side in ("items", "records"):
        sa, sb = getattr(ja, side)(), getattr(jb, side)()
        assert sa.keys() == sb.keys(), f"{side} differ: {sorted(sa)} vs {sorted(sb)}"
        for name in sa:
            _assert_arrays_close(sa[name], sb[name], name, rtol, atol)


def _assert_arrays_close(a: np.ndarray, b: np.ndarray, what: str, rtol: float, atol: float) -> None:
    assert a.shape == b.shape, f"{what}: shapes differ: {a.shape} vs {b.shape}"
    if a.dtype.names:
        for name in a.dtype.names:
            _assert_arrays_close(a[name], b[name], f"{what}[{name!r}]", rtol, atol)
    elif a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


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


def stop_process(
    proc: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 10.0, dump: int | None = None
) -> None:
    """Stop a child process a test started: send ``sig`` (its clean stop), wait up to ``timeout``
    seconds, then kill it; the process is gone when this returns. ``dump`` is a signal that makes
    the process print its threads' stacks (``signal.SIGUSR1`` for ``neurosig replay``), sent a second
    before killing one that did not stop, so that its output shows where it was."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if dump is not None:
                proc.send_signal(dump)
                time.sleep(1.0)
            proc.kill()
            proc.wait()
