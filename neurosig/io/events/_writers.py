"""Streaming writers for binary event formats: header, encoded blocks, atomic rename on close."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.persist import ExclusiveOutput
from neurosig.io.events._common import check_writable_events, empty_triggers

__all__ = ["AtomicWriter", "WordWriter"]


class AtomicWriter:
    """Base of the file writers: own ``PATH``, write its partial file, rename it on :meth:`close`.

    See :class:`neurosig.core.persist.ExclusiveOutput`; a second writer of the same path fails at
    once with :class:`~neurosig.core.persist.OutputBusyError`.

    Parameters
    ----------
    path : Path
        The output file.
    overwrite : bool
        Replace an existing file.
    """

    fmt = ""

    def __init__(self, path: Path, overwrite: bool = False):
        self.path = Path(path)
        self._check_target(overwrite)
        self._output = ExclusiveOutput(self.path)
        self.partial = self._output.open()
        try:
            self._check_target(overwrite)  # again, now that no other writer can create it
        except BaseException:
            self._output.abort()
            raise
        self.last_t = 0
        self.last_trig = 0
        self.n_events = 0
        self.n_triggers = 0

    def _check_target(self, overwrite: bool) -> None:
        if self.path.exists() and not overwrite:
            raise ConfigError(f"{self.path} exists; pass overwrite=True or choose another path.")

    def write(self, events: np.ndarray, triggers: np.ndarray | None = None) -> None:
        """Append time-ordered events (and triggers) that follow everything written so far."""
        raise NotImplementedError

    def _finish(self) -> None:
        """Flush and close the partial file."""

    def close(self) -> Path:
        """Finish the file and make it visible under its name."""
        self._finish()
        return self._output.commit()

    def abort(self) -> None:
        """Drop the partial file after a failure."""
        try:
            self._finish()
        finally:
            self._output.abort()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class WordWriter(AtomicWriter):
    """Write a ``%`` text header, then words from an encoder kernel, in bounded memory.

    Parameters
    ----------
    path : Path
        The output file.
    sensor_size : tuple of int
        ``(width, height, polarities)`` written in the header; events must lie inside.
    header : str
        The ``%`` header lines (ending in ``% end``).
    encoder : callable
        :func:`~neurosig.kernels.event_decoders.encode_evt2` or ``encode_evt3``.
    word_dtype : str
        ``"<u4"`` or ``"<u2"``.
    state_len : int
        Length of the encoder's state.
    fmt : str
        Format name, for messages.
    overwrite : bool
        Replace an existing file.
    """

    #: Words encoded per flush.
    BUFFER_WORDS = 1 << 18

    def __init__(
        self,
        path: Path,
        sensor_size: tuple[int, int, int],
        header: str,
        encoder: Callable,
        word_dtype: str,
        state_len: int,
        fmt: str,
        overwrite: bool = False,
    ):
        super().__init__(path, overwrite)
        self.fmt = fmt
        self.sensor_size = sensor_size
        self.encoder = encoder
        self.state = np.full(state_len, -1, np.int64)
        self.out = np.empty(self.BUFFER_WORDS, word_dtype)
        self.file = open(self.partial, "wb")  # noqa: SIM115 - closed in _finish
        self.file.write(header.encode("ascii"))

    def write(self, events: np.ndarray, triggers: np.ndarray | None = None) -> None:
        """Encode and append events and triggers (each time-ordered, after what came before)."""
        triggers = empty_triggers() if triggers is None else triggers
        floor = max(self.last_t, self.last_trig)
        check_writable_events(events, floor, self.sensor_size, self.fmt)
        if len(triggers) and (triggers["t"][0] < floor or np.any(np.diff(triggers["t"]) < 0)):
            raise DataError(f"{self.fmt} triggers must be time-ordered with t >= 0 µs; sort them first.")
        t, x, y, p = (np.ascontiguousarray(events[f]) for f in ("t", "x", "y", "p"))
        tt, tid, tv = (np.ascontiguousarray(triggers[f]) for f in ("t", "id", "value"))
        ie = it = 0
        while ie < len(t) or it < len(tt):
            ie, it, n = self.encoder(t, x, y, p, tt, tid, tv, ie, it, self.state, self.out)
            self.file.write(self.out[:n].tobytes())
        if len(t):
            self.last_t = int(t[-1])
        if len(tt):
            self.last_trig = int(tt[-1])
        self.n_events += len(t)
        self.n_triggers += len(tt)

    def _finish(self) -> None:
        if not self.file.closed:
            self.file.close()
