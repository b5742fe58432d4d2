"""The pipeline source for event files (YAML ``type: events``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pydantic

from neurosig.core.chunks import EventChunk
from neurosig.core.stage import Source
from neurosig.core.validate import check_existing_file, check_one_of

__all__ = ["EventFileSource"]


class EventFileSource(Source):
    """Stream an event file as :class:`~neurosig.core.chunks.EventChunk` s in bounded memory.

    Parameters
    ----------
    path : str
        Any format :func:`neurosig.io.events.sniff` recognises.
    n_events : int, optional
        Events per chunk.
    duration : float, optional
        Seconds per chunk (time windows from the first event). With neither, chunks of 100 000 events.
    start : float, optional
        Skip events before this time (seconds of the file's clock).
    strict : bool
        Raise at the first corrupt word (``True``) or skip, count and warn (``False``).
    """

    name = "events"

    def __init__(
        self,
        path: str,
        n_events: Annotated[int, pydantic.Field(gt=0)] | None = None,
        duration: Annotated[float, pydantic.Field(gt=0)] | None = None,
        start: float | None = None,
        strict: bool = True,
    ):
        self.path = path
        self.n_events = n_events
        self.duration = duration
        self.start = start
        self.strict = strict

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """Chunks by event count or by duration, not both."""
        chunking = {"n_events": params["n_events"], "duration": params["duration"]}
        check_one_of("EventFileSource", chunking, required=False)

    def __iter__(self) -> Iterator[EventChunk]:
        from neurosig.io.events import iter_events

        n_events = 100_000 if self.n_events is None and self.duration is None else self.n_events
        yield from iter_events(
            self.path, n_events=n_events, duration=self.duration, start=self.start, strict=self.strict
        )

    def describe(self) -> dict[str, Any]:
        """Provenance: type, absolute path, format and sha256 of the file."""
        from neurosig.io.digest import sha256_file
        from neurosig.io.events._dispatch import sniff

        path = check_existing_file(self.path, "event file")
        return {
            "type": self.name,
            "path": str(path.resolve()),
            "format": sniff(path),
            "sha256": sha256_file(path),
            "params": {k: str(v) for k, v in self.get_params().items()},
        }
