"""One home for input checks, so every error in the suite reads the same way.

Each helper raises :class:`~neurosig.core.errors.ConfigError` (a bad parameter) or
:class:`~neurosig.core.errors.DataError` (bad data) whose message names the parameter, the allowed
values, what came in, and what to do.
"""

from __future__ import annotations

import difflib
import errno
import glob
import os
import stat
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.kernels.budget import check_output_bytes, memory_budget

__all__ = [
    "did_you_mean",
    "check_option",
    "check_positive",
    "check_existing_file",
    "expand_files",
    "check_finite",
    "check_band",
    "memory_budget",
    "check_output_bytes",
]


def did_you_mean(value: str, options: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest option, or an empty string."""
    close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_option(name: str, value: str, options: Iterable[str]) -> str:
    """Check that ``value`` is one of ``options``.

    Raises
    ------
    ConfigError
        Naming the parameter, the valid options and the closest match.
    """
    options = sorted(str(o) for o in options)
    if value not in options:
        raise ConfigError(
            f"{name}={value!r} is not valid; choose one of {options}.{did_you_mean(value, options)}"
        )
    return value


def check_positive(name: str, value: float, *, strict: bool = True) -> float:
    """Check that a number is positive (``> 0``, or ``>= 0`` when ``strict=False``)."""
    ok = value > 0 if strict else value >= 0
    if not np.isfinite(value) or not ok:
        bound = "> 0" if strict else ">= 0"
        raise ConfigError(f"{name} must be a finite number {bound}, got {value!r}.")
    return value


def check_existing_file(path: str | Path, what: str = "file") -> Path:
    """Check that ``path`` is an existing regular file and return it as a :class:`~pathlib.Path`.

    Raises
    ------
    DataError
        For a missing path, a dangling symlink, a symlink loop, a directory, or anything that is not
        a regular file (a FIFO would block the reader forever, a device never ends).
    """
    path = Path(path).expanduser()
    try:
        mode = path.stat().st_mode
    except OSError as err:
        if err.errno == errno.ELOOP:
            problem = "is a symlink loop"
        elif path.is_symlink():
            problem = f"is a symlink to {os.readlink(path)!r}, which does not exist"
        else:
            problem = f"does not exist ({err.strerror})"
        raise DataError(f"{what} {str(path)!r} {problem}; check the path (cwd is {Path.cwd()}).") from None
    if not stat.S_ISREG(mode):
        kind = (
            "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
        )
        raise DataError(f"{what} {str(path)!r} is {kind}; pass a regular file.")
    return path


def expand_files(patterns: Iterable[str], what: str) -> list[str]:
    """The files matching glob patterns (``~`` expanded), sorted within each pattern, in pattern order.

    Parameters
    ----------
    patterns : iterable of str
        Glob patterns or plain paths, relative to the working directory.
    what : str
        The setting they come from, named in the error (e.g. ``"train_files"``).

    Returns
    -------
    files : list of str
        The matches of every pattern.

    Raises
    ------
    ConfigError
        If a pattern matches no file.
    """
    files: list[str] = []
    for pattern in patterns:
        found = sorted(glob.glob(str(Path(pattern).expanduser())))
        if not found:
            raise ConfigError(f"{what}: {pattern!r} matches no file (cwd is {Path.cwd()}).")
        files.extend(found)
    return files


def check_finite(name: str, data: np.ndarray) -> np.ndarray:
    """Check that an array holds no NaN or infinite values."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(data)):  # one fast pass: NaN and inf propagate (overflow falls through)
            return data
    if not np.all(np.isfinite(data)):
        bad = np.argwhere(~np.isfinite(data))
        raise DataError(
            f"{name} contains {len(bad)} NaN or infinite values (first at index {tuple(bad[0])}); "
            "interpolate or drop them before this stage."
        )
    return data


def check_band(l_freq: float | None, h_freq: float | None, sfreq: float) -> None:
    """Check a pass band (Hz) against the sampling rate (Hz)."""
    nyquist = sfreq / 2.0
    for name, f in (("l_freq", l_freq), ("h_freq", h_freq)):
        if f is not None and not 0 < f < nyquist:
            raise DataError(
                f"{name}={f} Hz is outside (0, {nyquist:g}) Hz, the open band below Nyquist for "
                f"sfreq={sfreq:g} Hz; lower {name} or resample to more than {2 * f:g} Hz first."
            )
    if l_freq is not None and h_freq is not None and l_freq >= h_freq:
        raise ConfigError(f"l_freq={l_freq} Hz must be below h_freq={h_freq} Hz.")
