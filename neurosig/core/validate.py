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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

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
    "check_increasing",
    "check_one_of",
    "check_epochs_array",
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


def check_band(
    l_freq: float | None, h_freq: float | None, sfreq: float, names: tuple[str, str] = ("l_freq", "h_freq")
) -> None:
    """Check the edges (Hz) of a filter's pass band against the sampling rate (Hz).

    Each edge is ``None`` (that side open: no high-pass, no low-pass) or strictly inside
    ``(0, sfreq / 2)``: a causal IIR filter cannot put an edge at 0 Hz or at Nyquist, where its
    bilinear-transformed design degenerates. Both edges given must be in increasing order.

    Parameters
    ----------
    l_freq, h_freq : float | None
        Lower and upper edge in Hz.
    sfreq : float
        Sampling rate in Hz.
    names : tuple of str
        How the edges are called in the caller's parameters (for the message).

    Raises
    ------
    DataError
        If an edge is not strictly between 0 Hz and Nyquist (it depends on the data's rate).
    ConfigError
        If ``l_freq >= h_freq``.
    """
    nyquist = sfreq / 2.0
    for name, f, open_side in ((names[0], l_freq, "no high-pass"), (names[1], h_freq, "no low-pass")):
        if f is None:
            continue
        if not f > 0:
            raise DataError(f"{name}={f} Hz must be above 0 Hz; give None for {open_side} instead of {f}.")
        if not f < nyquist:
            raise DataError(
                f"{name}={f} Hz must be below Nyquist ({nyquist:g} Hz for sfreq={sfreq:g} Hz); lower "
                f"{name}, give None for {open_side}, or resample to more than {2 * f:g} Hz first."
            )
    check_increasing(names, l_freq, h_freq, "Hz")


def check_increasing(names: tuple[str, str], low: float | None, high: float | None, unit: str) -> None:
    """Check that ``low < high`` when both are given (a band's edges, a window's start and stop).

    Raises
    ------
    ConfigError
        Naming both parameters and their values.
    """
    if low is not None and high is not None and not low < high:
        raise ConfigError(
            f"{names[0]}={low} {unit} must be below {names[1]}={high} {unit}; swap or correct them."
        )


def check_one_of(owner: str, params: Mapping[str, Any], *, required: bool = True) -> str | None:
    """Check that exactly one of ``params`` is given (not ``None``), or at most one if not ``required``.

    Parameters
    ----------
    owner : str
        Who takes the parameters (a stage, a function), for the message.
    params : mapping of str to value
        The mutually exclusive parameters.
    required : bool
        Whether one of them must be given.

    Returns
    -------
    str | None
        The name of the one given.

    Raises
    ------
    ConfigError
        Naming every exclusive parameter and those that came in.
    """
    given = [name for name, value in params.items() if value is not None]
    if len(given) > 1 or (required and not given):
        need = "exactly one" if required else "at most one"
        raise ConfigError(f"{owner} takes {need} of {list(params)}, got {given or 'none'}; pass one of them.")
    return given[0] if given else None


def check_epochs_array(
    data: Any,
    name: str = "epochs",
    *,
    min_epochs: int = 1,
    min_channels: int = 1,
    min_times: int = 1,
    hint: str = "cut the recording into epochs first (see neurosig.eeg.epochs)",
) -> np.ndarray:
    """Check that ``data`` is a 3-D ``(n_epochs, n_channels, n_times)`` array of the minimum size.

    Returns ``np.asarray(data)``; finite values and dtype are the caller's to check.

    Raises
    ------
    DataError
        Naming ``name``, the expected layout and minimum sizes, the shape that came in, and ``hint``.
    """
    data = np.asarray(data)
    if data.ndim != 3:
        raise DataError(
            f"{name} must be a 3-D array (n_epochs, n_channels, n_times), got shape {data.shape}; {hint}."
        )
    for axis, (what, least) in enumerate(
        (("epochs", min_epochs), ("channels", min_channels), ("samples", min_times))
    ):
        if data.shape[axis] < least:
            raise DataError(
                f"{name} needs at least {least} {what} (n_epochs, n_channels, n_times), got shape "
                f"{data.shape}; {hint}."
            )
    return data
