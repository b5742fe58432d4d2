"""YAML pipeline files → validated :class:`~neurosig.core.pipeline.Pipeline`.

A file is either a *stream pipeline* or a *job*. A stream pipeline::

    name: filter
    source: {type: file, path: rec.edf, chunk_duration: 1.0}
    stages:
      - {type: bandpass, l_freq: 1.0, h_freq: 40.0}
      - {type: notch, freqs: [50.0]}
    sink: {type: hdf5, path: out/rec.h5}

A *suite* lists pipelines and jobs to run in order (``pipelines: [...]``), like the demo.
A job is one registered component that does non-stream work (training, evaluation)::

    name: train
    job: {type: snn_delays, epochs: 20, data: data/shd.h5}

Each component is ``type`` (a registered name, see :mod:`neurosig.core.registry`) plus the
constructor's parameters, which are checked by the same rules as a Python call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pydantic
import yaml

from neurosig.core.errors import ConfigError
from neurosig.core.pipeline import Pipeline
from neurosig.core.registry import resolve

__all__ = [
    "ComponentConfig",
    "PipelineConfig",
    "JobConfig",
    "SuiteConfig",
    "load_config",
    "build_pipeline",
    "build_job",
    "build_suite",
    "apply_overrides",
]


class ComponentConfig(pydantic.BaseModel):
    """One source, stage or sink: its registered ``type`` and its parameters."""

    model_config = pydantic.ConfigDict(extra="allow")
    type: str

    @property
    def params(self) -> dict[str, Any]:
        """The constructor's keyword arguments."""
        return dict(self.model_extra or {})


class _FileConfig(pydantic.BaseModel):
    """What every configuration file shares: no unknown keys, and the YAML it is recorded as."""

    model_config = pydantic.ConfigDict(extra="forbid")

    def to_yaml(self) -> str:
        """The configuration as YAML (recorded in every output)."""
        return yaml.safe_dump(self.model_dump(exclude_none=True), sort_keys=False)


class PipelineConfig(_FileConfig):
    """A stream pipeline: source → stages → sink."""

    name: str = "pipeline"
    description: str = ""
    source: ComponentConfig
    stages: list[ComponentConfig] = []
    sink: ComponentConfig | None = None


class JobConfig(_FileConfig):
    """A job: one registered component whose ``run`` does non-stream work."""

    name: str = "job"
    description: str = ""
    job: ComponentConfig


class SuiteConfig(_FileConfig):
    """Several pipelines and jobs run one after another (e.g. the demo: an EEG and an event stream)."""

    name: str = "suite"
    description: str = ""
    pipelines: Annotated[list[PipelineConfig | JobConfig], pydantic.Field(min_length=1)]


def _parse_scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--set key=value`` overrides to a raw configuration dict.

    Keys are dotted paths: ``sink.path=out.h5``, ``stages.0.h_freq=30``, or a stage addressed by its
    type when the pipeline has one of that type: ``stages.bandpass.h_freq=30``. Values are parsed as
    YAML (``30`` is a number, ``[50, 60]`` a list).
    """
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got {item!r} (e.g. --set sink.path=out.h5).")
        parts = key.split(".")
        node: Any = raw
        for depth, part in enumerate(parts[:-1]):
            where = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                node = node[_list_index(node, part, where)]
            elif isinstance(node, dict):
                node = node.setdefault(part, {})
            else:
                raise ConfigError(f"--set {item!r}: {where!r} is not a section of the pipeline.")
        last = parts[-1]
        if isinstance(node, list):
            node[_list_index(node, last, key)] = _parse_scalar(value)
        elif isinstance(node, dict):
            node[last] = _parse_scalar(value)
        else:
            raise ConfigError(f"--set {item!r}: cannot set a field inside a value.")
    return raw


def _list_index(items: list[Any], part: str, where: str) -> int:
    if part.lstrip("-").isdigit():
        index = int(part)
        if not -len(items) <= index < len(items):
            raise ConfigError(f"--set: {where!r} is out of range; the list has {len(items)} items.")
        return index
    key = lambda it: it.get("type", it.get("name")) if isinstance(it, dict) else None  # noqa: E731
    matches = [i for i, it in enumerate(items) if key(it) == part]
    if len(matches) != 1:
        raise ConfigError(
            f"--set: {where!r} must name exactly one item; the items are {[key(it) for it in items]} "
            "(use the index, e.g. stages.0.h_freq=30)."
        )
    return matches[0]


def load_config(
    source: str | Path | dict[str, Any], overrides: list[str] = ()
) -> PipelineConfig | JobConfig | SuiteConfig:
    """Read and validate a pipeline configuration.

    Parameters
    ----------
    source : str | Path | dict
        A YAML file path, YAML text, or an already-parsed dict.
    overrides : list of str
        ``key=value`` overrides, see :func:`apply_overrides`.

    Raises
    ------
    ConfigError
        On a missing file, invalid YAML, or an invalid structure.
    """
    origin = "configuration"
    if isinstance(source, dict):
        raw = source
    else:
        text = str(source)
        path = Path(text)
        if isinstance(source, Path) or text.endswith((".yaml", ".yml")):
            if not path.is_file():
                raise ConfigError(f"pipeline file {text!r} does not exist (cwd is {Path.cwd()}).")
            try:
                origin, text = str(path), path.read_text()
            except UnicodeDecodeError as err:
                raise ConfigError(
                    f"{text} is not a text file (byte {err.start} is not UTF-8); a pipeline is YAML text."
                ) from None
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(f"{origin} is not valid YAML: {err}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{origin} must be a mapping with 'source', 'stages' and 'sink'.")
    raw = apply_overrides(raw, list(overrides))
    model = SuiteConfig if "pipelines" in raw else JobConfig if "job" in raw else PipelineConfig
    try:
        return model.model_validate(raw)
    except pydantic.ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(
            f"{origin} is not a valid {model.__name__.removesuffix('Config').lower()} ({problems}). "
            "A pipeline has 'source', optional 'stages' and optional 'sink'; a job has 'job'; a suite "
            "has 'pipelines' (a list of pipelines and jobs); each component has a 'type'."
        ) from None


def _build(kind: str, spec: ComponentConfig, where: str):
    cls = resolve(kind, spec.type)
    try:
        return cls(**spec.params)
    except ConfigError as err:
        raise ConfigError(f"{where} ({spec.type}): {err}") from None


def build_pipeline(config: PipelineConfig | str | Path | dict[str, Any], overrides=()) -> Pipeline:
    """Build a runnable pipeline from a configuration (see :func:`load_config`)."""
    if not isinstance(config, PipelineConfig | JobConfig | SuiteConfig):
        config = load_config(config, overrides)
    if not isinstance(config, PipelineConfig):
        kind = "job" if isinstance(config, JobConfig) else "suite"
        raise ConfigError(f"{config.name!r} is a {kind}, not a stream pipeline; use build_{kind}().")
    source = _build("source", config.source, "source")
    stages = [_build("stage", s, f"stages[{i}]") for i, s in enumerate(config.stages)]
    sink = None if config.sink is None else _build("sink", config.sink, "sink")
    return Pipeline(source, stages, sink, config_yaml=config.to_yaml())


def build_job(config: JobConfig | str | Path | dict[str, Any], overrides=()):
    """Build a runnable :class:`~neurosig.core.stage.Job` from a configuration."""
    if not isinstance(config, PipelineConfig | JobConfig | SuiteConfig):
        config = load_config(config, overrides)
    if not isinstance(config, JobConfig):
        raise ConfigError(f"{config.name!r} is not a job; use build_pipeline() or build_suite().")
    return _build("job", config.job, "job")


def build_suite(config: SuiteConfig | str | Path | dict[str, Any], overrides=()) -> list:
    """Build every member of a suite: pipelines and jobs, in order."""
    if not isinstance(config, PipelineConfig | JobConfig | SuiteConfig):
        config = load_config(config, overrides)
    if not isinstance(config, SuiteConfig):
        raise ConfigError(f"{config.name!r} is not a suite (it has no 'pipelines' list).")
    return [build_job(m) if isinstance(m, JobConfig) else build_pipeline(m) for m in config.pipelines]
