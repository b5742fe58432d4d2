"""Persistence: exclusive atomic writes, and the one checkpoint format every model uses.

**Outputs.** :class:`ExclusiveOutput` owns an output path for the whole write:

- ``PATH.neurosig-lock`` is held with ``flock`` (exclusive, non-blocking) and names its owner (pid,
  host, start time). A second writer fails at once with :class:`OutputBusyError`. The kernel drops
  the lock when its process dies, so a lock file left by a killed run is *stale*: the next writer
  takes the lock and the file over, and a rerun that skips a complete output removes a stale lock
  and dead writers' partial files beside it (:func:`clear_stale_files`).
- Data goes to ``PATH.neurosig-PID.partial`` (created with ``O_EXCL``), is flushed to disk, and is
  renamed to ``PATH`` only on :meth:`~ExclusiveOutput.commit`. Whatever is killed when, ``PATH`` is
  either absent, the previous complete file, or the new complete file.
- Only partial files that carry the ``neurosig-PID`` marker (and their side files
  ``PATH.neurosig-PID.partial.SUFFIX``), and only while holding the lock, are deleted; a user's own
  ``out.h5.partial`` is never touched.

**Checkpoints.** :func:`save_checkpoint` writes one ``torch.save`` file (through
:class:`ExclusiveOutput`) of plain values and tensors: ``format``, ``format_version``, ``kind`` (which
model), ``neurosig_version``, ``config`` (what rebuilds the model), ``state_dict`` and ``extra``
(training numbers). :func:`load_checkpoint` reads it with ``torch.load(weights_only=True)`` and
:func:`restore` rebuilds the model; every bad file ends in a :class:`~neurosig.core.errors.FormatError`
naming it. torch is imported only inside the checkpoint functions.

**Scratch.** :class:`ArraySpill` keeps rows of a stream on disk rather than in memory (an unnamed
temporary file that disappears when closed or when the process ends, whatever kills it) and reads
them back a block of rows at a time: a stage that needs a whole stream before it can emit anything (offline
FASTER) holds its signal there.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from neurosig._version import __version__
from neurosig.core.errors import ConfigError, DataError, FormatError, NeurosigError

__all__ = [
    "OutputBusyError",
    "ExclusiveOutput",
    "write_text",
    "lock_path",
    "clear_stale_files",
    "partial_path",
    "Checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "shipped_weights",
    "restore",
    "ArraySpill",
]

CHECKPOINT_FORMAT = "neurosig-checkpoint"
CHECKPOINT_VERSION = 1
_PLAIN = (str, int, float, bool, type(None))


class OutputBusyError(NeurosigError):
    """Another live process is writing the same output."""


def lock_path(path: str | Path) -> Path:
    """The lock file of an output: ``PATH.neurosig-lock``."""
    path = Path(path)
    return path.with_name(path.name + ".neurosig-lock")


def partial_path(path: str | Path, pid: int | None = None) -> Path:
    """Where process ``pid`` (default: this one) writes ``PATH`` before the rename."""
    path = Path(path)
    return path.with_name(f"{path.name}.neurosig-{os.getpid() if pid is None else pid}.partial")


def _owned_partials(path: Path) -> list[Path]:
    pattern = re.compile(re.escape(path.name) + r"\.neurosig-\d+\.partial(\.\w+)?")
    return [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]


def _read_owner(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        owner = json.loads(raw)
    except ValueError:
        return {}
    return owner if isinstance(owner, dict) else {}


def _describe(owner: dict[str, Any]) -> str:
    if not owner:
        return "a process that is starting up"
    return f"pid {owner.get('pid')} on host {owner.get('host')}, since {owner.get('started')}"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clear_stale_files(path: str | Path) -> list[Path]:
    """Remove what killed writers left beside an output: a stale lock and their partial files.

    A writer killed after renaming its output into place, but before removing its lock, leaves a
    stale lock beside a complete file; one killed while rewriting an output that another writer
    completed meanwhile leaves its partial file. A rerun that skips the complete output calls this to
    tidy up. Nothing is touched while a live process holds the output: the lock is taken for the
    clean-up (created if absent) and removed after.

    Parameters
    ----------
    path : str | Path
        The output file.

    Returns
    -------
    removed : list of Path
        The stale lock and partial files removed; empty when there were none or the owner is alive.
    """
    output = ExclusiveOutput(path)
    had_lock = output.lock.exists()
    try:
        output._acquire()
    except OutputBusyError:
        return []
    try:
        partials = _owned_partials(output.path)
        for stale in partials:
            stale.unlink(missing_ok=True)
    finally:
        output._release()
    return ([output.lock] if had_lock else []) + partials


class ExclusiveOutput:
    """Own an output path for one write: lock, write a partial file, rename it into place.

    Use as a context manager (the partial path is bound by ``as``; commit on success, abort on any
    exception) or call :meth:`open`, :meth:`commit` and :meth:`abort` yourself.

    Parameters
    ----------
    path : str | Path
        The final output file. Parent folders are created.

    Attributes
    ----------
    partial : Path | None
        The file to write while the output is open.
    taken_over : dict | None
        The owner recorded in a stale lock that :meth:`open` took over (pid, host, started).

    Raises
    ------
    OutputBusyError
        From :meth:`open`, when another live process holds the output.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.lock = lock_path(self.path)
        self.partial: Path | None = None
        self.taken_over: dict[str, Any] | None = None
        self._fd: int | None = None

    def _acquire(self) -> None:
        while True:
            fd = os.open(self.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _read_owner(fd)
                for _ in range(20):  # the owner writes its name just after taking the lock
                    if owner:
                        break
                    time.sleep(0.01)
                    owner = _read_owner(fd)
                os.close(fd)
                raise OutputBusyError(
                    f"{self.path} is being written by another neurosig run ({_describe(owner)}); "
                    "wait for it to finish or choose another output path."
                ) from None
            try:  # the previous holder may have removed the lock file between our open and flock
                current = os.stat(self.lock)
                mine = os.fstat(fd)
                same = (current.st_ino, current.st_dev) == (mine.st_ino, mine.st_dev)
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = _read_owner(fd)
        self.taken_over = previous or None
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        self._fd = fd

    def _release(self) -> None:
        if self._fd is None:
            return
        self.lock.unlink(missing_ok=True)  # still held: nobody else can own this file right now
        os.close(self._fd)
        self._fd = None

    def open(self) -> Path:
        """Take the output, drop partial files of earlier (dead) writers, and create the partial file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._acquire()
        try:
            for stale in _owned_partials(self.path):
                stale.unlink(missing_ok=True)
            self.partial = partial_path(self.path)
            os.close(os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except BaseException:
            self._release()
            raise
        return self.partial

    def commit(self) -> Path:
        """Flush the (closed) partial file to disk, rename it to the output path, and release it."""
        try:
            _fsync(self.partial)
            os.replace(self.partial, self.path)
            _fsync(self.path.parent)
        except BaseException:
            self.abort()
            raise
        self.partial = None
        self._release()
        return self.path

    def abort(self) -> None:
        """Remove the partial file and release the output (the final path is left as it was)."""
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)
            self.partial = None
        self._release()

    def __enter__(self) -> Path:
        return self.open()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file (UTF-8) exclusively and atomically; return its path."""
    with ExclusiveOutput(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return Path(path)


# -- checkpoints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as read by :func:`load_checkpoint`.

    Attributes
    ----------
    path : Path
        The file.
    kind : str
        Which model (``"denoiser"``, ``"rvq-tokenizer"``, ``"snn-delay"``, ``"bci-classifier"``).
    config : dict
        Plain values that rebuild the model.
    state_dict : dict
        The weights (tensors).
    extra : dict
        Plain values about training (epoch, validation score, ...).
    neurosig_version : str
        The version that wrote the file.
    """

    path: Path
    kind: str
    config: dict[str, Any]
    state_dict: dict[str, Any]
    extra: dict[str, Any]
    neurosig_version: str


def _check_plain(value: Any, where: str) -> None:
    """Refuse values that ``torch.load(weights_only=True)`` would not read back."""
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"checkpoint {where}: key {key!r} is not a string.")
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"checkpoint {where} is a {type(value).__name__}; only str, int, float, bool, None, lists and "
        "dicts can be loaded back with weights_only=True."
    )


def save_checkpoint(
    path: str | Path,
    kind: str,
    config: Mapping[str, Any],
    state_dict: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model checkpoint exclusively and atomically (see the module docstring).

    Parameters
    ----------
    path : str | Path
        The checkpoint file (``.pt``).
    kind : str
        Which model; :func:`load_checkpoint` refuses a file of another kind.
    config : mapping
        Plain values (str, int, float, bool, None, lists, dicts) that rebuild the model.
    state_dict : mapping of str to torch.Tensor
        The weights; copied to the CPU.
    extra : mapping | None
        Plain values about training.

    Returns
    -------
    Path
        ``path``.
    """
    import torch

    config, extra = dict(config), dict(extra or {})
    _check_plain(config, "config")
    _check_plain(extra, "extra")
    payload = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "kind": kind,
        "neurosig_version": __version__,
        "config": config,
        "state_dict": {k: v.detach().cpu().clone() for k, v in state_dict.items()},
        "extra": extra,
    }
    with ExclusiveOutput(path) as partial:
        torch.save(payload, partial)
    return Path(path)


def load_checkpoint(path: str | Path, kind: str | tuple[str, ...], map_location: str = "cpu") -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    path : str | Path
        The checkpoint file.
    kind : str | tuple of str
        The model kind the caller expects (or the kinds it accepts; ``Checkpoint.kind`` says which).
    map_location : str
        Device of the loaded tensors.

    Raises
    ------
    DataError
        If the file does not exist.
    FormatError
        If the file is not a readable torch file (not a zip, truncated), holds objects other than
        tensors and plain values, is not a neurosig checkpoint, is of another kind, or lacks a key.
    """
    import pickle
    import zipfile

    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(
            f"checkpoint not found: {str(path)!r} does not exist or is not a file; check the path, "
            "or train a model first to write one."
        )
    if not zipfile.is_zipfile(path):
        raise FormatError(
            "not a torch checkpoint (torch.save writes a zip archive; this file is not one, or it "
            "was truncated). Pass a checkpoint written by neurosig.",
            path=path,
        )
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        lines = [line for line in str(err).splitlines() if "GLOBAL" in line or "Unsupported" in line]
        detail = f" ({lines[0].strip()})" if lines else ""
        raise FormatError(
            "refused: the file holds objects other than tensors and plain values, which "
            f"weights_only=True does not load{detail}. Only load checkpoints you trust; write them "
            "with neurosig.",
            path=path,
        ) from None
    except Exception as err:  # noqa: BLE001 - torch raises many kinds of errors on a bad file
        raise FormatError(
            f"not a readable torch checkpoint ({type(err).__name__}: {err}); the file may be damaged.",
            path=path,
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise FormatError(
            f"not a {CHECKPOINT_FORMAT} file (no 'format': {CHECKPOINT_FORMAT!r} entry); it was not "
            "written by this version of neurosig. Retrain the model, or load the old file with "
            "the neurosig version that wrote it and save it again with this one.",
            path=path,
        )
    kinds = (kind,) if isinstance(kind, str) else kind
    if payload.get("kind") not in kinds:
        expected = " or ".join(repr(k) for k in kinds)
        raise FormatError(
            f"a checkpoint of a {payload.get('kind')!r} model, not of a {expected} model; pass the "
            "right file.",
            path=path,
        )
    if payload.get("format_version", 0) > CHECKPOINT_VERSION:
        raise FormatError(
            f"checkpoint format version {payload['format_version']} is newer than this neurosig "
            f"reads ({CHECKPOINT_VERSION}); upgrade neurosig.",
            path=path,
        )
    for key in ("config", "state_dict", "extra"):
        if not isinstance(payload.get(key), dict):
            raise FormatError(f"the checkpoint's {key!r} entry is missing or not a dict.", path=path)
    if not all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values()):
        raise FormatError("the checkpoint's 'state_dict' holds values that are not tensors.", path=path)
    return Checkpoint(
        path=path,
        kind=payload["kind"],
        config=payload["config"],
        state_dict=payload["state_dict"],
        extra=payload["extra"],
        neurosig_version=str(payload.get("neurosig_version", "")),
    )


def shipped_weights(package: str, name: str, what: str, instead: str) -> Path:
    """The path of a checkpoint shipped inside ``package``'s ``weights/`` folder.

    Parameters
    ----------
    package : str
        The package that ships it (``"neurosig.eeg.rvq"``).
    name : str
        Its file name in ``weights/``.
    what : str
        What it is, for the error (``"RVQ tokenizer"``).
    instead : str
        How to pass a checkpoint of one's own, for the error.

    Raises
    ------
    ConfigError
        If the packaged file is missing (a broken install).
    """
    path = Path(str(resources.files(package) / "weights" / name))
    if not path.is_file():
        raise ConfigError(f"the packaged {what} ({path}) is missing; reinstall neurosig, or {instead}.")
    return path


def restore(
    path: str | Path, kind: str, build: Callable[[dict[str, Any]], Any], map_location: str = "cpu"
) -> tuple[Any, Checkpoint]:
    """Load a checkpoint and rebuild its model: ``build(config)``, then the weights, in eval mode.

    Parameters
    ----------
    path, kind, map_location
        As in :func:`load_checkpoint`.
    build : callable
        ``build(config)`` returns a fresh ``torch.nn.Module`` for the saved config.

    Returns
    -------
    model : torch.nn.Module
        The rebuilt model, weights loaded, in eval mode.
    checkpoint : Checkpoint
        What was read.

    Raises
    ------
    FormatError
        If the file is bad (see :func:`load_checkpoint`), or its config does not build a model, or
        the weights do not fit the model the config builds.
    """
    checkpoint = load_checkpoint(path, kind, map_location)
    try:
        model = build(checkpoint.config)
        model.load_state_dict(checkpoint.state_dict)
    except Exception as err:  # noqa: BLE001 - the config comes from the file; constructors raise anything
        raise FormatError(
            f"the saved config and weights do not make a {kind!r} model ({type(err).__name__}: {err}).",
            path=checkpoint.path,
        ) from None
    return model.to(map_location).eval(), checkpoint


class ArraySpill:
    """Arrays of one row shape and dtype appended to a temporary file, read back by rows.

    Indexing reads like an ndarray's first axis (``spill[5:9]``, ``spill[[0, 2, 7]]``) into a new
    array; ``shape`` and ``len`` are those of the whole spilled array.

    Parameters
    ----------
    directory : str | None
        Where the temporary file lives (``None``: :func:`tempfile.gettempdir`, i.e. ``$TMPDIR``).
    """

    def __init__(self, directory: str | None = None):
        self.directory = directory
        self._file: Any = None
        self._row: tuple[tuple[int, ...], Any] | None = None
        self.n_rows = 0

    def append(self, rows: Any) -> None:
        """Write ``rows`` (an ndarray; first axis: rows) after those already spilled.

        Raises
        ------
        DataError
            When their row shape or dtype differs from the first arrays'.
        """
        import numpy as np

        rows = np.ascontiguousarray(rows)
        row = (rows.shape[1:], rows.dtype)
        if self._row is None:
            self._row = row
            self._file = tempfile.TemporaryFile(prefix="neurosig-spill-", dir=self.directory)
        elif row != self._row:
            raise DataError(
                f"ArraySpill holds rows of shape {self._row[0]} {self._row[1]}, got {row[0]} {row[1]}."
            )
        self._file.write(memoryview(rows).cast("B"))
        self.n_rows += len(rows)

    @property
    def shape(self) -> tuple[int, ...]:
        """``(n_rows, *row_shape)``; ``(0,)`` before any row."""
        return (self.n_rows, *self._row[0]) if self._row is not None else (0,)

    def __len__(self) -> int:
        return self.n_rows

    def __getitem__(self, rows: Any) -> Any:
        """The rows at ``rows`` (a slice or integer indices) read into a new ndarray.

        Runs of consecutive rows are read with one call each; nothing stays mapped, so what the
        process holds is what the caller keeps.
        """
        import numpy as np

        idx = np.arange(self.n_rows)[rows] if isinstance(rows, slice) else np.asarray(rows, dtype=np.int64)
        if idx.ndim != 1 or (len(idx) and (idx.min() < -self.n_rows or idx.max() >= self.n_rows)):
            raise IndexError(f"ArraySpill has {self.n_rows} rows; got indices {rows!r}.")
        idx = np.where(idx < 0, idx + self.n_rows, idx)
        shape, dtype = self._row if self._row is not None else ((), np.dtype(np.float64))
        out = np.empty((len(idx), *shape), dtype=dtype)
        if not len(idx):
            return out
        self._file.flush()
        row_bytes = out[0].nbytes
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(idx)], strict=True):
            self._file.seek(int(idx[lo]) * row_bytes)
            self._file.readinto(memoryview(out[lo:hi]).cast("B"))
        return out

    def close(self) -> None:
        """Delete the file."""
        if self._file is not None:
            self._file.close()
        self._file, self._row, self.n_rows = None, None, 0
