"""The error hierarchy: every failure a user can cause ends in a :class:`NeurosigError`.

Messages name the thing that failed (file, byte offset, parameter), what was expected, what came in,
and what to do instead.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["NeurosigError", "ConfigError", "DataError", "FormatError"]


class NeurosigError(Exception):
    """Base class of every error neurosig raises on purpose."""


class ConfigError(NeurosigError, ValueError):
    """A parameter, option or pipeline configuration is invalid."""


class DataError(NeurosigError, ValueError):
    """The data cannot be processed as asked (shape, sampling rate, NaNs, missing files, ...)."""


class FormatError(NeurosigError):
    """A file is not in the expected format, or is corrupt.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    path : str | Path | None
        The file.
    offset : int | None
        Byte offset of the first offending byte, when known.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, offset: int | None = None):
        self.path = None if path is None else Path(path)
        self.offset = offset
        where = []
        if path is not None:
            where.append(str(path))
        if offset is not None:
            where.append(f"byte {offset}")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(prefix + message)
