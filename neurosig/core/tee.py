"""A sink that hands every chunk to several sinks, e.g. an LSL outlet and an HDF5 recording."""

from __future__ import annotations

from typing import Any

from neurosig.core.chunks import Chunk
from neurosig.core.errors import ConfigError
from neurosig.core.registry import resolve
from neurosig.core.stage import RunMeta, Sink, Source

__all__ = ["TeeSink"]


class TeeSink(Sink):
    """Write one stream to several sinks.

    Every sink opens, receives every chunk, and commits (or aborts) together; the output is complete
    only when all are. A tee of an ``lsl`` outlet and an ``hdf5`` file records a live run while it
    streams.

    Parameters
    ----------
    sinks : list of dict
        Each ``{type: NAME, ...parameters}``, as a ``sink:`` entry of a pipeline.
    """

    name = "tee"

    def __init__(self, sinks: list[dict[str, Any]]):
        self.sinks = sinks
        if not sinks:
            raise ConfigError("the tee sink needs at least one entry in sinks: [{type: ..., ...}].")

    def _built(self) -> list[Sink]:
        if getattr(self, "_members", None) is None:
            members = []
            for i, spec in enumerate(self.sinks):
                spec = dict(spec)
                kind = spec.pop("type", None)
                if kind is None:
                    raise ConfigError(f"tee sinks[{i}] needs a type, e.g. {{type: hdf5, path: out.h5}}.")
                members.append(resolve("sink", kind)(**spec))
            self._members = members
        return self._members

    def is_complete(self, meta: RunMeta) -> bool:
        """Complete only when every sink holds a complete output of this run."""
        return all(s.is_complete(meta) for s in self._built())

    def follow(self, source: Source) -> None:
        """Hand the run's source to every sink."""
        for s in self._built():
            s.follow(source)

    def open(self, meta: RunMeta) -> None:
        """Open every sink."""
        for s in self._built():
            s.open(meta)

    def write(self, chunk: Chunk) -> None:
        """Hand the chunk to every sink."""
        for s in self._members:
            s.write(chunk)

    def attach(self, name: str, report: dict[str, Any]) -> None:
        """Attach a side output to every sink."""
        for s in self._members:
            s.attach(name, report)

    def commit(self) -> str | None:
        """Commit every sink; return their locations joined by ``" + "``."""
        outputs = [s.commit() for s in self._members]
        return " + ".join(o for o in outputs if o) or None

    def abort(self) -> None:
        """Abort every sink."""
        for s in self._built():
            s.abort()
