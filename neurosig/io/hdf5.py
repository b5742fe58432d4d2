"""Self-describing HDF5 stores: append chunks, compress, commit atomically, skip when complete.

Layout (one stream per file; each chunk type describes its part, see "Chunk protocol" in
``docs/ARCHITECTURE.md``)::

    /            attrs: format="neurosig-hdf5", format_version, neurosig_version, pipeline_yaml,
                        source (JSON: type, path, sha256, ...), stream_info (JSON), created, complete
    signal:  data (n_channels, n_samples) float32, attrs first_sample; markers (onset, duration,
             description)
    epochs:  data (n_epochs, n_channels, n_times) float32; onsets (s); labels
    events:  events (n,) of EVENTS_DTYPE
    spikes:  data (n_steps, n_units)
    tokens:  tokens (n_channels, n_patches, n_scales, n_levels)
    reports/<stage>: JSON side outputs of stages (e.g. FASTER's rejection log)

Every dataset is chunked and compressed (gzip with shuffle) and grows along the stream axis. Writes
go through :class:`neurosig.core.persist.ExclusiveOutput`: the run owns ``NAME`` (a second run
writing it fails at once), writes ``NAME.neurosig-PID.partial`` and renames it to ``NAME`` only when
the run completes, so an interrupted run never leaves a file that looks complete; rerunning an
identical run (same pipeline YAML, same source) skips it.
"""

from __future__ import annotations

import contextlib
import datetime
import faulthandler
import functools
import gc
import json
import os
import select
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pydantic

from neurosig._version import __version__
from neurosig.core.chunks import CHUNK_TYPES, Chunk, info_from_dict
from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.core.persist import ExclusiveOutput, clear_stale_files
from neurosig.core.stage import RunMeta, Sink, Source
from neurosig.core.validate import check_existing_file

__all__ = [
    "HDF5Sink",
    "HDF5Source",
    "read_hdf5",
    "read_attrs",
    "check_metadata",
    "check_dataset",
    "read_reports",
    "atomic_h5",
    "write_provenance",
]

FORMAT = "neurosig-hdf5"
FORMAT_VERSION = 1
# The main dataset of each chunk type is named after its payload field and grows along its
# stream axis; its item and record fields are datasets beside it (see neurosig.core.chunks).


def _str_dtype():
    import h5py

    return h5py.string_dtype()


def _h5_dtype(dtype: np.dtype) -> np.dtype:
    """The HDF5 dtype of a chunk field: text (``object``) becomes a UTF-8 string."""
    if dtype.names:
        return np.dtype([(name, _h5_dtype(dtype.fields[name][0])) for name in dtype.names])
    return _str_dtype() if dtype.kind == "O" else dtype


def _decoded(values: np.ndarray) -> np.ndarray:
    """Rows read from HDF5 with their text fields as ``str`` (h5py reads bytes)."""
    if values.dtype.names:
        out = np.empty(values.shape, np.dtype([(n, values.dtype.fields[n][0]) for n in values.dtype.names]))
        for name in values.dtype.names:
            out[name] = _decoded(values[name])
        return out
    if values.dtype.kind == "O":
        return np.array([v.decode() if isinstance(v, bytes) else v for v in values], dtype=object)
    return values


#: Seconds a forked child may take to walk a file's metadata before the file is called damaged.
METADATA_TIMEOUT_S = 10.0
_SMALL_DATASET = 1 << 16  # datasets up to this many items are read whole by the metadata walk


def _walk_metadata(path: str) -> None:
    """Touch everything libhdf5 parses to read a neurosig file: every attribute, every group, every
    dataset's shape, type and chunk index, and small datasets whole (their strings live in the global
    heap, where a damaged file can make libhdf5 loop forever)."""
    import h5py

    def visit(obj) -> None:
        for key in obj.attrs:
            obj.attrs[key]
        if isinstance(obj, h5py.Dataset):
            if obj.size <= _SMALL_DATASET:
                obj[()]
            elif obj.chunks:
                obj.id.get_num_chunks()

    with h5py.File(path, "r") as f:
        visit(f)
        f.visititems(lambda _name, obj: visit(obj))


@functools.lru_cache(maxsize=256)
def _metadata_verdict(path: str, identity: tuple[int, ...], timeout: float) -> str:
    """Walk ``path``'s metadata in a forked child; ``""`` if it finished, else why the file is damaged.

    ``identity`` (device, inode, size, mtime) keys the cache: a file is walked once per version."""
    import h5py

    if not hasattr(os, "fork"):  # no fork (Windows): read unguarded
        return ""
    done_r, done_w = os.pipe()
    with h5py._objects.phil:  # no other thread is inside libhdf5 while the child is made
        pid = os.fork()
    if pid == 0:  # the child: never returns, never runs the parent's exit handlers or finalizers
        try:
            gc.disable()  # collecting the parent's garbage could close (and flush) its open files
            faulthandler.disable()  # a dying libhdf5 is reported by the parent, not dumped
            os.close(done_r)
            _walk_metadata(path)
        finally:
            os._exit(0)  # an exception is fine: the parent's own read raises it again
    os.close(done_w)
    try:
        finished = select.select([done_r], [], [], timeout)[0]  # EOF when the child exits
    finally:
        os.close(done_r)
    if not finished:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return (
            f"libhdf5 did not finish reading this file's metadata in {timeout:g} s (a damaged file can "
            "make it loop forever); the file is damaged: restore it from a copy or rerun what made it."
        )
    status = os.waitpid(pid, 0)[1]
    if os.WIFSIGNALED(status):
        return (
            f"reading this file's metadata killed libhdf5 ({signal.Signals(os.WTERMSIG(status)).name}); "
            "the file is damaged: restore it from a copy or rerun what made it."
        )
    return ""


def check_metadata(path: str | Path, timeout: float | None = None) -> None:
    """Check, in a forked child, that libhdf5 can read ``path``'s metadata without hanging or dying.

    libhdf5 loops forever on some damaged files (e.g. a global heap object of size 0), in C code that
    Python cannot interrupt. The walk runs once per file version (cached by device, inode, size and
    mtime); it costs a fork and the walk, a few milliseconds (``docs/reliability.md``).

    Parameters
    ----------
    path : str or Path
        An existing file.
    timeout : float, optional
        Seconds before the file is called damaged; default :data:`METADATA_TIMEOUT_S`.

    Raises
    ------
    FormatError
        If the walk ran past ``timeout`` or killed the child.
    """
    try:
        st = os.stat(path)
    except OSError:
        return  # opening it raises the error that names what is wrong
    identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    verdict = _metadata_verdict(os.fspath(path), identity, METADATA_TIMEOUT_S if timeout is None else timeout)
    if verdict:
        raise FormatError(verdict, path=path)


def check_dataset(f, name: str, path: str | Path):
    """``f[name]`` if it is a dataset whose stored chunks libhdf5 can read faithfully.

    A chunk of an unfiltered dataset must be stored whole: given a shorter one (a damaged filter
    pipeline or chunk index), libhdf5 fills the rest of the chunk with uninitialised memory and
    reports no error.

    Raises
    ------
    FormatError
        If ``name`` is missing or not a dataset, or a stored chunk is shorter than a chunk.
    """
    import h5py

    data = f.get(name)
    if not isinstance(data, h5py.Dataset):
        raise FormatError(f"/{name} is {'missing' if data is None else 'not a dataset'}.", path=path)
    if data.chunks is None or data.id.get_create_plist().get_nfilters():
        return data
    need = int(np.prod(data.chunks)) * data.dtype.itemsize
    for i in range(data.id.get_num_chunks()):
        info = data.id.get_chunk_info(i)
        if info.size != need:
            raise FormatError(
                f"/{name}'s chunk {i} holds {info.size} bytes where an unfiltered chunk needs {need}; "
                "the file is damaged.",
                path=path,
                offset=info.byte_offset,
            )
    return data


def read_attrs(path: str | Path) -> dict[str, Any]:
    """Root attributes of a neurosig HDF5 file, JSON fields decoded.

    Raises
    ------
    DataError
        If the file is not HDF5 or was not written by neurosig.
    FormatError
        If libhdf5 hangs or dies reading its metadata (see :func:`check_metadata`).
    """
    import h5py

    check_metadata(path)
    try:
        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
    except OSError:
        raise DataError(
            f"{path} exists and is not an HDF5 file; neurosig will not overwrite it. "
            "Choose another output path or remove the file."
        ) from None
    if attrs.get("format") != FORMAT:
        raise DataError(
            f"{path} is an HDF5 file that neurosig did not write; it will not be overwritten. "
            "Choose another output path or remove the file."
        )
    for key in ("source", "stream_info"):
        if key in attrs:
            attrs[key] = json.loads(attrs[key])
    attrs["complete"] = bool(attrs.get("complete", False))
    return attrs


def write_provenance(h5file, meta: RunMeta) -> None:
    """Write the standard root attributes (format, versions, pipeline YAML, source) to an open file."""
    h5file.attrs["format"] = FORMAT
    h5file.attrs["format_version"] = FORMAT_VERSION
    h5file.attrs["neurosig_version"] = __version__
    h5file.attrs["pipeline_yaml"] = meta.pipeline_yaml
    h5file.attrs["source"] = json.dumps(meta.source, default=str, sort_keys=True)
    h5file.attrs["created"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    h5file.attrs["complete"] = False


def _same_run(attrs: dict[str, Any], meta: RunMeta) -> bool:
    source = json.loads(json.dumps(meta.source, default=str, sort_keys=True))
    return attrs.get("pipeline_yaml") == meta.pipeline_yaml and attrs.get("source") == source


def _check_target(path: Path, overwrite: bool, meta: RunMeta | None = None) -> bool:
    """Decide what to do with an existing output; return True if it is a complete copy of this run."""
    if not path.exists():
        return False
    attrs = read_attrs(path)  # raises if the file is not ours
    if meta is not None and attrs["complete"] and _same_run(attrs, meta):
        return True
    if not overwrite:
        raise ConfigError(
            f"{path} holds the output of a different run (another pipeline or source). "
            "Pass overwrite=True (YAML: sink.overwrite: true, CLI: --set sink.overwrite=true) "
            "or choose another path."
        )
    return False


@contextlib.contextmanager
def atomic_h5(path: str | Path, overwrite: bool = False) -> Iterator[Any]:
    """Own ``PATH`` and yield an HDF5 file open on its partial; rename it to ``PATH`` on success.

    On an exception the partial file is removed and the exception propagates. The caller writes the
    provenance (see :func:`write_provenance`); ``complete`` is set on success.

    Raises
    ------
    OutputBusyError
        If another run is writing ``PATH``.
    """
    import h5py

    path = Path(path)
    _check_target(path, overwrite)
    with ExclusiveOutput(path) as partial:
        _check_target(path, overwrite)  # again, now that no other run can write it
        with h5py.File(partial, "w") as f:
            yield f
            f.attrs["complete"] = True


class HDF5Sink(Sink):
    """Write a stream to a self-describing HDF5 file.

    Parameters
    ----------
    path : str
        Output file (``.h5``). Parent folders are created.
    overwrite : bool
        Replace an existing neurosig output of a *different* run. An identical complete run is
        always skipped; a file neurosig did not write is never replaced.
    compression_level : int
        gzip level 0–9 (0 disables compression).
    """

    name = "hdf5"

    def __init__(
        self,
        path: str,
        overwrite: bool = False,
        compression_level: Annotated[int, pydantic.Field(ge=0, le=9)] = 4,
    ):
        self.path = path
        self.overwrite = overwrite
        self.compression_level = compression_level

    @property
    def _final(self) -> Path:
        return Path(self.path)

    def is_complete(self, meta: RunMeta) -> bool:
        """Whether ``path`` already holds the complete output of this very run (what killed writers
        left beside it, a stale lock or partial files, is then removed)."""
        complete = _check_target(self._final, self.overwrite, meta)
        if complete:
            clear_stale_files(self._final)
        return complete

    def open(self, meta: RunMeta) -> None:
        """Own ``PATH`` for this run and start its partial file with the provenance attributes.

        Raises
        ------
        OutputBusyError
            If another run is writing ``PATH``.
        """
        import h5py

        self._output = ExclusiveOutput(self._final)
        partial = self._output.open()
        try:
            _check_target(self._final, self.overwrite, meta)  # again, now that the output is ours
            self._file = h5py.File(partial, "w")
            write_provenance(self._file, meta)
        except BaseException:
            self.abort()
            raise
        self._info = None
        self._type: type | None = None
        self._pending: list[np.ndarray] = []
        self._pending_rows = 0

    def _create(self, chunk: Chunk) -> None:
        f = self._file
        self._type = type(chunk)
        self._info = chunk.info
        f.attrs["stream_info"] = chunk.info.to_json()
        f.attrs["chunk_type"] = type(chunk).__name__
        name, axis = chunk.payload_field, chunk.stream_axis
        payload = chunk.payload
        shape = list(payload.shape)
        shape[axis] = 0
        maxshape = list(payload.shape)
        maxshape[axis] = None
        chunks = list(payload.shape)
        row_bytes = max(
            1, payload.dtype.itemsize * int(np.prod([s for i, s in enumerate(chunks) if i != axis]))
        )
        chunks[axis] = int(np.clip((1 << 18) // row_bytes, 1, 1 << 16))
        chunks = [max(1, c) for c in chunks]
        self._flush_rows = chunks[axis]
        compression = {"compression": "gzip", "compression_opts": self.compression_level, "shuffle": True}
        if self.compression_level == 0:
            compression = {}
        f.create_dataset(
            name, shape=shape, maxshape=maxshape, chunks=tuple(chunks), dtype=payload.dtype, **compression
        )
        f[name].attrs.update(chunk.payload_attrs())
        for field, dtype in {**chunk.item_fields, **chunk.record_fields}.items():
            f.create_dataset(field, shape=(0,), maxshape=(None,), dtype=_h5_dtype(dtype))

    @staticmethod
    def _append(dataset, values: np.ndarray, axis: int = 0) -> None:
        n = values.shape[axis]
        if n == 0:
            return
        old = dataset.shape[axis]
        dataset.resize(old + n, axis=axis)
        index = [slice(None)] * dataset.ndim
        index[axis] = slice(old, old + n)
        dataset[tuple(index)] = values

    def write(self, chunk: Chunk) -> None:
        """Append one chunk."""
        if type(chunk) not in CHUNK_TYPES.values():
            raise DataError(f"HDF5Sink cannot store {type(chunk).__name__} chunks.")
        if self._type is None:
            self._create(chunk)
        elif type(chunk) is not self._type or chunk.info != self._info:
            raise DataError("HDF5Sink stores one stream per file; got a chunk of another stream.")
        # Buffer small chunks so that each HDF5 chunk is compressed once, not once per append.
        self._pending.append(chunk.payload)
        self._pending_rows += chunk.length
        if self._pending_rows >= self._flush_rows:
            self._flush_pending()
        for field, rows in {**chunk.items(), **chunk.records()}.items():
            self._append(self._file[field], rows.astype(_h5_dtype(rows.dtype)))

    def attach(self, name: str, report: dict[str, Any]) -> None:
        """Store a stage's side output as JSON text at ``reports/NAME``."""
        group = self._file.require_group("reports")
        group.create_dataset(name, data=json.dumps(report, default=str), dtype=_str_dtype())

    def _flush_pending(self) -> None:
        if self._pending:
            name, axis = self._type.payload_field, self._type.stream_axis
            self._append(self._file[name], np.concatenate(self._pending, axis=axis), axis)
            self._pending, self._pending_rows = [], 0

    def commit(self) -> str:
        """Write what is buffered, mark complete, close, and rename the partial file to ``PATH``."""
        if self._type is None:
            self.abort()
            raise DataError(f"the stream was empty; nothing was written to {self._final}.")
        self._flush_pending()
        self._file.attrs["complete"] = True
        self._file.close()
        return str(self._output.commit())

    def abort(self) -> None:
        """Close and remove the partial file."""
        f = getattr(self, "_file", None)
        if f is not None and f.id.valid:
            f.close()
        output = getattr(self, "_output", None)
        if output is not None:
            output.abort()


class HDF5Source(Source):
    """Read a stream back from a neurosig HDF5 file.

    Parameters
    ----------
    path : str
        A complete neurosig HDF5 file.
    chunk_size : int
        Items per chunk along the stream axis (samples, epochs, events, steps or patches).
    """

    name = "hdf5"

    def __init__(self, path: str, chunk_size: Annotated[int, pydantic.Field(gt=0)] = 4096):
        self.path = path
        self.chunk_size = chunk_size

    def _attrs(self) -> dict[str, Any]:
        path = check_existing_file(self.path, "HDF5 file")
        attrs = read_attrs(path)
        if not attrs["complete"]:
            raise FormatError(
                "this file was never completed (an interrupted run); rerun the pipeline.", path=path
            )
        return attrs

    @property
    def info(self):
        """The stored stream's info."""
        return info_from_dict(self._attrs()["stream_info"])

    @property
    def n_chunks(self) -> int:
        """Number of chunks the file gives (for the progress bar)."""
        import h5py

        kind = CHUNK_TYPES[self._attrs()["chunk_type"]]
        with h5py.File(self.path, "r") as f:
            n = f[kind.payload_field].shape[kind.stream_axis]
        return -(-n // self.chunk_size)

    def describe(self) -> dict[str, Any]:
        """Provenance: the path, its sha256 and the source it was made from."""
        from neurosig.io.digest import sha256_file

        attrs = self._attrs()
        return {
            "type": self.name,
            "path": str(Path(self.path).resolve()),
            "sha256": sha256_file(self.path),
            "made_from": attrs.get("source"),
        }

    def __iter__(self) -> Iterator[Chunk]:
        import h5py

        attrs = self._attrs()
        info = info_from_dict(attrs["stream_info"])
        kind = CHUNK_TYPES[attrs["chunk_type"]]
        name, axis = kind.payload_field, kind.stream_axis
        with h5py.File(self.path, "r") as f:
            data = check_dataset(f, name, self.path)
            n = data.shape[axis]
            payload_attrs = dict(data.attrs)
            records = {field: _decoded(f[field][:]) for field in kind.record_fields}
            for a in range(0, n, self.chunk_size):
                b = min(n, a + self.chunk_size)
                index = [slice(None)] * data.ndim
                index[axis] = slice(a, b)
                items = {field: _decoded(f[field][a:b]) for field in kind.item_fields}
                yield kind.from_stored(data[tuple(index)], info, a, items, records, payload_attrs)


def read_reports(path: str | Path) -> dict[str, Any]:
    """The stages' side outputs stored with a neurosig HDF5 output (e.g. FASTER's rejection log)."""
    import h5py

    read_attrs(path)  # raises if the file is not ours
    with h5py.File(path, "r") as f:
        if "reports" not in f:
            return {}
        return {name: json.loads(f["reports"][name][()]) for name in f["reports"]}


def read_hdf5(path: str | Path) -> tuple[Chunk, dict[str, Any]]:
    """Read a whole neurosig HDF5 file: the stream as one chunk, and the root attributes."""
    from neurosig.core.chunks import concat_chunks

    source = HDF5Source(str(path), chunk_size=1 << 30)
    chunks = list(source)
    if not chunks:
        raise DataError(f"{path} holds an empty stream.")
    return concat_chunks(chunks), source._attrs()
