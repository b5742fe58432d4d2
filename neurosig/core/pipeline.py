"""Pipeline = source → stages → sink, run chunk by chunk in bounded memory."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from neurosig._version import __version__
from neurosig.core.chunks import Chunk
from neurosig.core.stage import RunMeta, Sink, Source, Stage

__all__ = ["Pipeline", "RunSummary"]


@dataclass
class RunSummary:
    """What a pipeline run did.

    Attributes
    ----------
    chunks_in, chunks_out : int
        Chunks read from the source and written to the sink (or yielded).
    stream_seconds : float
        Seconds of recording read from the source.
    wall_seconds : float
        Wall-clock seconds of the run.
    stage_seconds : dict of str to float
        Wall-clock seconds spent inside each stage (and ``"source"``, ``"sink"``).
    output : str | None
        Where the sink wrote, if anywhere.
    skipped : bool
        True when a complete output of the same run existed and nothing was recomputed.
    """

    chunks_in: int = 0
    chunks_out: int = 0
    stream_seconds: float = 0.0
    wall_seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    output: str | None = None
    skipped: bool = False

    @property
    def realtime_factor(self) -> float:
        """Seconds of recording processed per wall-clock second."""
        return self.stream_seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")

    def __str__(self) -> str:
        if self.skipped:
            return f"skipped: {self.output} is complete for this pipeline and source"
        lines = [
            f"{self.chunks_in} chunks in, {self.chunks_out} out; {self.stream_seconds:.1f} s of data "
            f"in {self.wall_seconds:.2f} s ({self.realtime_factor:.0f}x real time)",
        ]
        lines += [f"  {name:<24} {sec:8.3f} s" for name, sec in self.stage_seconds.items()]
        if self.output:
            lines.append(f"output: {self.output}")
        return "\n".join(lines)


class Pipeline:
    """A source, a chain of stages and an optional sink.

    Parameters
    ----------
    source : Source
        Yields the input chunks.
    stages : sequence of Stage
        Applied in order to every chunk.
    sink : Sink | None
        Receives the output chunks; ``None`` to consume them with :meth:`iter_chunks`.
    config_yaml : str
        The configuration this pipeline was built from, recorded in outputs.

    Attributes
    ----------
    monitor : object | None
        Optional observer of a live run (e.g. :class:`neurosig.io.lsl.LiveMonitor`): its
        ``stage(label, seconds)`` gets each stage call's compute time, ``output(chunk)`` each chunk
        the sink received, and ``postfix()`` the progress bar's text.

    Notes
    -----
    Memory is bounded by one chunk per stage plus the stages' state: chunks flow one at a time from
    the source through every stage into the sink.
    """

    def __init__(
        self,
        source: Source,
        stages: Sequence[Stage] = (),
        sink: Sink | None = None,
        config_yaml: str = "",
    ):
        self.source = source
        self.stages = list(stages)
        self.sink = sink
        self.config_yaml = config_yaml
        self._seconds: dict[str, float] = {}
        self.monitor = None

    def _labels(self) -> list[str]:
        return [f"{i}:{stage.name or type(stage).__name__}" for i, stage in enumerate(self.stages)]

    def _push(self, index: int, chunk: Chunk, labels: list[str]) -> Iterator[Chunk]:
        if index == len(self.stages):
            yield chunk
            return
        t0 = time.perf_counter()
        outputs = list(self.stages[index].process(chunk))
        seconds = time.perf_counter() - t0
        self._seconds[labels[index]] += seconds
        if self.monitor is not None:
            self.monitor.stage(labels[index], seconds)
        for out in outputs:
            yield from self._push(index + 1, out, labels)

    def _drain(self, summary: RunSummary, progress: bool) -> Iterator[Chunk]:
        labels = self._labels()
        self._seconds = {"source": 0.0, **dict.fromkeys(labels, 0.0)}
        for stage in self.stages:
            stage.reset()
        # no bar object at all without progress: even a disabled tqdm takes tqdm's lock, which is
        # shared across fork, and a forked writer killed while holding it would hang its parent
        bar = tqdm(total=self.source.n_chunks, unit="chunk", desc="neurosig") if progress else None
        iterator = iter(self.source)
        try:
            while True:
                t0 = time.perf_counter()
                chunk = next(iterator, None)
                self._seconds["source"] += time.perf_counter() - t0
                if chunk is None:
                    break
                summary.chunks_in += 1
                summary.stream_seconds += chunk.duration
                if bar is not None:
                    if self.monitor is not None:
                        bar.set_postfix_str(self.monitor.postfix(), refresh=False)
                    bar.update()
                yield from self._push(0, chunk, labels)
            for index, stage in enumerate(self.stages):
                t0 = time.perf_counter()
                outputs = list(stage.flush())
                self._seconds[labels[index]] += time.perf_counter() - t0
                for out in outputs:
                    yield from self._push(index + 1, out, labels)
        finally:
            if bar is not None:
                bar.close()
            summary.stage_seconds = dict(self._seconds)

    def iter_chunks(self, progress: bool = False) -> Iterator[Chunk]:
        """Run the stages and yield the output chunks (the sink, if any, is not used)."""
        yield from self._drain(RunSummary(), progress)

    def meta(self) -> RunMeta:
        """Provenance recorded by the sink."""
        return RunMeta(
            neurosig_version=__version__, pipeline_yaml=self.config_yaml, source=self.source.describe()
        )

    def run(self, progress: bool = False) -> RunSummary:
        """Run the whole stream into the sink.

        If the sink already holds a complete output of this very run (same configuration, same
        source), nothing is recomputed and the summary says ``skipped``. On any failure the partial
        output is dropped and the error propagates.
        """
        summary = RunSummary()
        t_start = time.perf_counter()
        if self.sink is None:
            for _ in self._drain(summary, progress):
                summary.chunks_out += 1
            summary.wall_seconds = time.perf_counter() - t_start
            return summary
        meta = self.meta()
        if self.sink.is_complete(meta):
            return RunSummary(skipped=True, output=str(getattr(self.sink, "path", "")))
        self.sink.follow(self.source)
        self.sink.open(meta)
        try:
            sink_seconds = 0.0
            for chunk in self._drain(summary, progress):
                t0 = time.perf_counter()
                self.sink.write(chunk)
                sink_seconds += time.perf_counter() - t0
                if self.monitor is not None:
                    self.monitor.output(chunk)
                summary.chunks_out += 1
            t0 = time.perf_counter()
            for label, stage in zip(self._labels(), self.stages, strict=True):
                report = stage.side_output()
                if report is not None:
                    self.sink.attach(label, report)
            summary.output = self.sink.commit()
            sink_seconds += time.perf_counter() - t0
        except BaseException:
            self.sink.abort()
            raise
        summary.stage_seconds["sink"] = sink_seconds
        summary.wall_seconds = time.perf_counter() - t_start
        return summary
