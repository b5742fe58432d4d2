"""Stages, sources and sinks: the three roles in a stream pipeline.

A :class:`Stage` turns chunks into chunks. It is streaming by default: feeding a stream in one piece or
in chunks of any size gives the same output (within float tolerance), because all that a stage needs
from earlier chunks lives in its state, which :meth:`Stage.reset` clears.

Parameters are declared once, as type hints of ``__init__`` (``Annotated[float, Field(gt=0)]`` for
ranges), and checked by pydantic both for Python calls and for YAML configs, so a bad call and a bad
config give the same :class:`~neurosig.core.errors.ConfigError`. Rules between parameters (exactly one
of two, a low edge below a high edge) go in a ``check_params`` classmethod beside that ``__init__``,
which the base class calls with the validated arguments before ``__init__`` runs. ``__init__`` only
stores its arguments under their own names (as in scikit-learn); checks that need the data (a band
below Nyquist) run on the first chunk.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pydantic

from neurosig.core.chunks import Chunk
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import did_you_mean

__all__ = ["Component", "Stage", "Source", "ChunkSource", "Sink", "Job", "RunMeta"]


def _format_validation_error(owner: str, err: pydantic.ValidationError, params: list[str]) -> str:
    lines = []
    for e in err.errors():
        # positional arguments are located by index (0 is self)
        parts = [params[p] if isinstance(p, int) and p < len(params) else p for p in e["loc"]]
        loc = ".".join(str(p) for p in parts if p != "self") or "(arguments)"
        if e["type"] in ("missing_argument", "missing"):  # its input is the whole call, not a value
            lines.append(f"{owner}: parameter {loc!r} is required and was not given")
        else:
            lines.append(f"{owner}: parameter {loc!r}: {e['msg']} (got {e.get('input')!r})")
    return "; ".join(lines) + "."


def _validating(cls: type, init):
    """Wrap ``init`` so that its arguments are checked against its type hints, then ``check_params``."""
    sig = inspect.signature(init)
    names = [p for p in sig.parameters if p != "self"]
    rule = cls.__dict__.get("check_params")

    @functools.wraps(init)
    def checked(self, *args, **kwargs):
        if rule is not None:  # the arguments are validated and coerced by now
            bound = sig.bind(self, *args, **kwargs)
            bound.apply_defaults()
            rule.__get__(None, cls)({k: v for k, v in bound.arguments.items() if k != "self"})
        init(self, *args, **kwargs)

    validated = pydantic.validate_call(checked, config=pydantic.ConfigDict(arbitrary_types_allowed=True))

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        for key in kwargs:
            if key not in names:
                raise ConfigError(
                    f"{cls.__name__} has no parameter {key!r}; valid parameters are {names}."
                    f"{did_you_mean(key, names)}"
                )
        try:
            validated(self, *args, **kwargs)
        except pydantic.ValidationError as err:
            raise ConfigError(_format_validation_error(cls.__name__, err, list(sig.parameters))) from None
        if type(self).__init__ is __init__ and isinstance(self, Stage):
            self.reset()  # state starts as after reset(), once the outermost __init__ is done

    __init__._neurosig_validated = True
    return __init__


class Component:
    """Base of stages, sources and sinks: validated parameters, ``get_params``, a readable ``repr``.

    Subclasses set ``name``, the key under which the registry knows them (see
    :mod:`neurosig.core.registry`). A class whose ``__init__`` has rules between its parameters
    defines them in a classmethod beside it::

        @classmethod
        def check_params(cls, params: dict[str, Any]) -> None:
            if params["l_freq"] >= params["h_freq"]:
                raise ConfigError(...)

    ``params`` holds every argument of that ``__init__``, validated and with defaults filled in; the
    rule runs before ``__init__``, so a bad combination fails at construction, from Python and YAML
    alike. The rule belongs to the ``__init__`` it sits beside: a subclass with its own ``__init__``
    has its own rules.
    """

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_neurosig_validated", False):
            cls.__init__ = _validating(cls, init)

    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the constructor's parameters."""
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments, as stored on the instance."""
        return {name: getattr(self, name) for name in self.param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class Stage(Component):
    """A streaming transformation of chunks.

    Subclasses implement :meth:`_process` (and :meth:`_flush` when they hold back data, :meth:`reset`
    when they carry state) and list the chunk types they take in ``accepts``.
    """

    accepts: ClassVar[tuple[type, ...]] = ()

    def process(self, chunk: Chunk) -> Iterator[Chunk]:
        """Feed one chunk; yield the chunks that are ready.

        Raises
        ------
        DataError
            If the chunk's type is not one this stage accepts.
        """
        if self.accepts and not isinstance(chunk, self.accepts):
            wanted = " or ".join(t.__name__ for t in self.accepts)
            raise DataError(
                f"{type(self).__name__} takes {wanted}, got {type(chunk).__name__}; "
                "check the order of stages in the pipeline."
            )
        return iter(self._process(chunk))

    def flush(self) -> Iterator[Chunk]:
        """Signal the end of the stream; yield whatever the stage still holds."""
        return iter(self._flush())

    def reset(self) -> None:
        """Forget all state, ready for a new stream (parameters are kept).

        Called once at construction too, so state attributes are always defined.
        """

    def side_output(self) -> dict[str, Any] | None:
        """What the stage learnt about the stream beyond its chunks (a rejection log, statistics).

        Read after the stream is flushed; the pipeline hands it to the sink, which stores it with
        the output (HDF5: JSON under ``reports/<stage>``). ``None`` (the default) stores nothing.
        """
        return None

    def _process(self, chunk: Chunk) -> Iterable[Chunk]:
        raise NotImplementedError

    def _flush(self) -> Iterable[Chunk]:
        return ()


class Source(Component):
    """Where a stream comes from: an iterable of chunks of one type.

    Subclasses implement :meth:`__iter__` and :meth:`describe`; ``n_chunks`` (for progress bars) and
    ``duration`` are optional.
    """

    def __iter__(self) -> Iterator[Chunk]:
        raise NotImplementedError

    @property
    def n_chunks(self) -> int | None:
        """Number of chunks the source will yield, or ``None`` when unknown."""
        return None

    def describe(self) -> dict[str, Any]:
        """Provenance for output attributes: at least ``type``; ``path`` and ``sha256`` for files."""
        return {"type": self.name, "params": {k: str(v) for k, v in self.get_params().items()}}


class ChunkSource(Source):
    """A source over chunks already in memory (or any iterable of chunks), e.g. to test a pipeline.

    Parameters
    ----------
    chunks : iterable of chunks
        The stream; a list can be iterated more than once.
    """

    name = "chunks"

    def __init__(self, chunks: Any):
        self.chunks = chunks

    def __iter__(self) -> Iterator[Chunk]:
        return iter(self.chunks)

    @property
    def n_chunks(self) -> int | None:
        """Number of chunks, when the iterable knows its length."""
        return len(self.chunks) if hasattr(self.chunks, "__len__") else None

    def describe(self) -> dict[str, Any]:
        """Provenance: chunks given in memory."""
        return {"type": self.name}


class RunMeta(pydantic.BaseModel):
    """What a sink records about the run that produced its output."""

    neurosig_version: str
    pipeline_yaml: str
    source: dict[str, Any]


class Sink(Component):
    """Where a stream goes. Writes are atomic: nothing is visible as complete until :meth:`commit`."""

    def is_complete(self, meta: RunMeta) -> bool:
        """Whether a complete output of this very run (same config, same source) already exists."""
        return False

    def follow(self, source: Source) -> None:
        """Learn the run's source before :meth:`open` (the ``lsl`` sink stamps outputs with its clock)."""

    def open(self, meta: RunMeta) -> None:
        """Prepare to receive chunks."""

    def write(self, chunk: Chunk) -> None:
        """Receive one chunk."""
        raise NotImplementedError

    def attach(self, name: str, report: dict[str, Any]) -> None:
        """Store a stage's side output (see :meth:`Stage.side_output`) with the output."""

    def commit(self) -> str | None:
        """Make the output complete and visible; return its location."""
        return None

    def abort(self) -> None:
        """Drop a partial output after a failure."""


class Job(Component):
    """Work that is not a stream: train a model, evaluate decoders, run a benchmark.

    A job names the stream pipelines that prepare its data (e.g. a ``preprocessing`` parameter with
    a pipeline YAML path) instead of re-describing them. :meth:`run` returns a JSON-serialisable
    summary of what it produced (metrics, output paths).
    """

    def run(self, progress: bool = False) -> dict[str, Any]:
        """Do the work."""
        raise NotImplementedError

    def headline(self, result: dict[str, Any]) -> str:
        """One line for the terminal: the numbers that matter in ``result`` and where the rest is.

        ``result`` is what :meth:`run` returned; the full results go to files, never the screen.
        The default names the files ``result`` points to.
        """
        files = [v for v in result.values() if isinstance(v, str) and Path(v).is_file()]
        return f"wrote {', '.join(files)}" if files else "done"
