"""The registry of component names used by YAML pipelines, and the one resolver of ``"module:attr"``.

Components are registered as Python entry points, one group per kind (``neurosig.sources``,
``neurosig.stages``, ``neurosig.sinks``, ``neurosig.jobs``): neurosig's own in its
``pyproject.toml``, a third-party package's in its own. Reading entry points reads installed
metadata only, so listing names (for errors and ``neurosig --help``) imports nothing heavy; a class is
imported only when a pipeline uses it. :func:`register` adds one at run time.
"""

from __future__ import annotations

import functools
import importlib
from importlib.metadata import entry_points
from typing import Any, Literal

from neurosig.core.errors import ConfigError
from neurosig.core.stage import Job, Sink, Source, Stage
from neurosig.core.validate import did_you_mean

__all__ = ["register", "resolve", "names", "load", "GROUPS", "Kind"]

Kind = Literal["source", "stage", "sink", "job"]

#: Entry-point group of each kind of component.
GROUPS: dict[str, str] = {
    "source": "neurosig.sources",
    "stage": "neurosig.stages",
    "sink": "neurosig.sinks",
    "job": "neurosig.jobs",
}
_BASES: dict[str, type] = {"source": Source, "stage": Stage, "sink": Sink, "job": Job}
_RUNTIME: dict[str, dict[str, str | type]] = {kind: {} for kind in GROUPS}


def load(target: str, what: str = "") -> Any:
    """Import ``"package.module:attr"`` (the attribute) or ``"package.module"`` (the module).

    The one resolver of dotted import strings in neurosig.

    Parameters
    ----------
    target : str
        ``"module:attr"`` or ``"module"``; ``attr`` may be dotted (``"module:Class.method"``).
    what : str
        Who needs it, for the error message (e.g. ``"stage 'bandpass'"``).

    Raises
    ------
    ConfigError
        If the module cannot be imported or has no such attribute.
    """
    module, _, attr = target.partition(":")
    try:
        obj = importlib.import_module(module)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        who = f"{what} needs " if what else ""
        raise ConfigError(
            f"{who}{target!r}, which cannot be imported ({err}); install the package that provides "
            "it, or fix the name."
        ) from None
    return obj


def _check_kind(kind: str) -> None:
    if kind not in GROUPS:
        raise ConfigError(f"kind={kind!r} is not valid; choose one of {sorted(GROUPS)}.")


@functools.cache
def _installed(kind: str) -> dict[str, tuple[str, ...]]:
    """Name → the ``"module:attr"`` values installed packages register under it (metadata only)."""
    found: dict[str, tuple[str, ...]] = {}
    for ep in entry_points(group=GROUPS[kind]):
        if ep.value not in found.get(ep.name, ()):
            found[ep.name] = (*found.get(ep.name, ()), ep.value)
    return found


def register(kind: Kind, name: str, obj: str | type) -> None:
    """Make a component available to YAML pipelines under ``name`` in this process.

    Packages register theirs once, as entry points in the group :data:`GROUPS` names for ``kind``;
    this is for components defined at run time (a notebook, a test).

    Parameters
    ----------
    kind : {"source", "stage", "sink", "job"}
        The component's role.
    name : str
        The name used in YAML (``type: NAME``); it takes precedence over an installed one.
    obj : type | str
        The class, or ``"module:Class"`` to import lazily.
    """
    _check_kind(kind)
    _RUNTIME[kind][name] = obj


def names(kind: Kind) -> list[str]:
    """Sorted names of the components of one kind, installed or registered at run time."""
    _check_kind(kind)
    return sorted(set(_installed(kind)) | set(_RUNTIME[kind]))


def resolve(kind: Kind, name: str) -> type:
    """Return the class registered as ``name``.

    Raises
    ------
    ConfigError
        If no such name exists (listing the valid names and the closest match), if two installed
        packages claim it, or if it does not name a component of this kind.
    """
    _check_kind(kind)
    entry = _RUNTIME[kind].get(name)
    if entry is None:
        targets = _installed(kind).get(name, ())
        if not targets:
            valid = names(kind)
            hint = did_you_mean(name, valid)
            if not valid:
                hint = " No entry points were found: install neurosig (pip install -e .) so they exist."
            raise ConfigError(f"unknown {kind} type {name!r}; valid {kind} types are {valid}.{hint}")
        if len(targets) > 1:
            raise ConfigError(
                f"{kind} type {name!r} is registered by more than one installed package ({list(targets)}); "
                f"uninstall one, or choose with neurosig.core.registry.register({kind!r}, {name!r}, ...)."
            )
        entry = targets[0]
    if isinstance(entry, str):
        entry = load(entry, f"{kind} {name!r}")
    if not (isinstance(entry, type) and issubclass(entry, _BASES[kind])):
        raise ConfigError(
            f"{kind} {name!r} is registered as {entry!r}, which is not a {_BASES[kind].__name__} subclass; "
            f"point the entry point in group {GROUPS[kind]!r} at one."
        )
    return entry
