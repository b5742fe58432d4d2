"""Exclusive atomic outputs (locks, partials, stale takeover, concurrent killed writers); checkpoints."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import traceback

import h5py
import numpy as np
import pytest
import torch

from neurosig.core.config import build_pipeline
from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.core.persist import (
    ArraySpill,
    ExclusiveOutput,
    OutputBusyError,
    clear_stale_files,
    load_checkpoint,
    lock_path,
    partial_path,
    restore,
    save_checkpoint,
    shipped_weights,
    write_text,
)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_second_writer_fails_at_once_naming_the_owner(tmp_path):
    out = tmp_path / "out.txt"
    first = ExclusiveOutput(out)
    partial = first.open()
    with pytest.raises(OutputBusyError, match=rf"out.txt is being written.*pid {os.getpid()} on host"):
        ExclusiveOutput(out).open()
    partial.write_text("mine")
    first.commit()
    assert out.read_text() == "mine" and sorted(tmp_path.iterdir()) == [out]
    write_text(out, "again")  # released: the next writer gets it
    assert out.read_text() == "again"


def test_the_owner_is_named_from_another_process(tmp_path):
    out = tmp_path / "out.h5"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from neurosig.core.persist import ExclusiveOutput; import sys, time\n"
            f"ExclusiveOutput({str(out)!r}).open(); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(OutputBusyError) as err:
            ExclusiveOutput(out).open()
        assert f"pid {holder.pid} on host {socket.gethostname()}" in str(err.value)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    output = ExclusiveOutput(out)  # the holder died holding it: its lock and partial are stale
    output.open()
    assert output.taken_over["pid"] == holder.pid
    assert not partial_path(out, holder.pid).exists()
    output.abort()
    assert sorted(tmp_path.iterdir()) == []


def test_a_stale_lock_is_taken_over_and_only_neurosig_partials_are_removed(tmp_path):
    out = tmp_path / "out.h5"
    dead = _dead_pid()
    owner = {"pid": dead, "host": socket.gethostname(), "started": "2020-01-01T00:00:00+00:00"}
    lock_path(out).write_text(json.dumps(owner))
    partial_path(out, dead).write_bytes(b"half")
    mine = tmp_path / "out.h5.partial"  # a user's own file with a partial-looking name
    mine.write_bytes(b"keep me")
    other = tmp_path / "out.h5.neurosig-12.partial.txt.bak"
    other.write_bytes(b"not a side file of ours")
    output = ExclusiveOutput(out)
    with output as partial:
        partial.write_bytes(b"complete")
    assert output.taken_over == owner
    assert out.read_bytes() == b"complete" and mine.read_bytes() == b"keep me" and other.exists()
    assert sorted(tmp_path.iterdir()) == sorted([out, mine, other])


def test_hdf5_runs_leave_a_users_partial_file_alone(tmp_path):
    """#15 item 7: a file named OUT.partial that neurosig did not write survives a run."""
    out = tmp_path / "out.h5"
    mine = tmp_path / "out.h5.partial"
    mine.write_bytes(b"my notes")
    _pipeline(out, 5.0).run()
    assert mine.read_bytes() == b"my notes" and sorted(tmp_path.iterdir()) == [out, mine]


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    out = tmp_path / "out.txt"
    write_text(out, "old")
    with pytest.raises(RuntimeError), ExclusiveOutput(out) as partial:
        partial.write_text("half")
        raise RuntimeError("killed")
    assert out.read_text() == "old" and sorted(tmp_path.iterdir()) == [out]


# -- two writers at once, killed at random points -------------------------------------------------


def _pipeline(out, duration: float = 20.0):
    source = {"type": "simulate", "duration": duration, "n_channels": 19, "chunk_duration": 1.0}
    sink = {"type": "hdf5", "path": str(out), "compression_level": 1}
    return build_pipeline({"source": source, "stages": [], "sink": sink})


def _write(out) -> None:
    """Child process: run the pipeline; exit 0 when done, 3 when the output is busy, 1 otherwise."""
    try:
        _pipeline(out).run()
    except OutputBusyError:
        os._exit(3)
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


def _content(path) -> dict:
    with h5py.File(path, "r") as f:
        attrs = {k: v for k, v in f.attrs.items() if k != "created"}
        return {"attrs": attrs, "data": f["data"][()], "markers": f["markers"][()]}


def _same(a: dict, b: dict) -> bool:
    return (
        a["attrs"] == b["attrs"]
        and np.array_equal(a["data"], b["data"])
        and np.array_equal(a["markers"], b["markers"])
    )


def _kill_trials(tmp_path, n_trials: int, seed: int) -> dict[str, int]:
    """Writers A and B of one output; B starts at a random time; A, B or both are SIGKILLed at random."""
    out = tmp_path / "run.h5"
    ctx = multiprocessing.get_context("fork")
    _pipeline(out).run()  # imports everything the forked writers use, so they start warm
    out.unlink()
    t0 = time.perf_counter()
    solo = ctx.Process(target=_write, args=(out,))
    solo.start()
    solo.join(timeout=120)
    span = time.perf_counter() - t0  # how long one writer runs, start to exit
    assert solo.exitcode == 0
    reference = _content(out)
    out.unlink()
    rng = np.random.default_rng(seed)
    seen = {"absent": 0, "complete": 0, "killed": 0}
    for trial in range(n_trials):
        procs = [ctx.Process(target=_write, args=(out,)) for _ in range(2)]
        starts = {0: 0.0, 1: rng.uniform(0, span / 2)}
        victims = ([0], [1], [0, 1])[rng.integers(3)]
        plan = [(t, "start", i) for i, t in starts.items()]
        plan += [(starts[i] + rng.uniform(0, span), "kill", i) for i in victims]
        try:
            begin = time.perf_counter()
            for when, action, i in sorted(plan):
                time.sleep(max(0.0, when - (time.perf_counter() - begin)))
                if action == "start":
                    procs[i].start()
                elif procs[i].is_alive():
                    os.kill(procs[i].pid, signal.SIGKILL)
            for p in procs:
                p.join(timeout=120)
        finally:
            for p in procs:
                if p.is_alive():
                    p.kill()
                    p.join()
        codes = [p.exitcode for p in procs]
        assert all(c in (0, 3, -signal.SIGKILL) for c in codes), f"trial {trial}: exit codes {codes}"
        seen["killed"] += codes.count(-signal.SIGKILL)
        existed = out.exists()
        if existed:
            assert _same(_content(out), reference), f"trial {trial}: a wrong file stands at {out}"
            seen["complete"] += 1
        else:
            assert 0 not in codes, f"trial {trial}: a writer exited 0 but {out} is absent"
            seen["absent"] += 1
        assert _pipeline(out).run().skipped == existed  # the rerun completes (or skips a complete file)
        assert _same(_content(out), reference)
        assert sorted(tmp_path.iterdir()) == [out], f"trial {trial}: leftovers {sorted(tmp_path.iterdir())}"
        out.unlink()
    return seen


def test_two_writers_killed_at_random_leave_nothing_but_a_complete_file(tmp_path):
    seen = _kill_trials(tmp_path, 10, seed=0)
    assert seen["absent"] + seen["complete"] == 10


@pytest.mark.slow
def test_two_writers_killed_at_random_fifty_trials(tmp_path):
    seen = _kill_trials(tmp_path, 50, seed=1)
    assert seen["absent"] + seen["complete"] == 50 and seen["absent"] > 0 and seen["killed"] >= 25


# -- checkpoints --------------------------------------------------------------------------------


def test_checkpoint_round_trip_and_format(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = save_checkpoint(
        tmp_path / "m.pt", "linear", {"in": 3, "out": 2, "bias": [True]}, model.state_dict(), {"epoch": 4}
    )
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "neurosig-checkpoint" and raw["kind"] == "linear" and raw["neurosig_version"]
    back, checkpoint = restore(path, "linear", lambda c: torch.nn.Linear(c["in"], c["out"]))
    assert checkpoint.extra == {"epoch": 4} and not back.training
    torch.testing.assert_close(back.weight, model.weight)
    assert sorted(tmp_path.iterdir()) == [path]


def test_checkpoint_refuses_values_it_could_not_load_back(tmp_path):
    with pytest.raises(TypeError, match=r"config\['path'\] is a PosixPath"):
        save_checkpoint(tmp_path / "m.pt", "linear", {"path": tmp_path}, {})
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"format": "neurosig-checkpoint", "format_version": 9, "kind": "k"}, "version 9 is newer"),
        (
            {"format": "neurosig-checkpoint", "format_version": 1, "kind": "k", "config": {}},
            "'state_dict' entry",
        ),
        (
            {
                "format": "neurosig-checkpoint",
                "format_version": 1,
                "kind": "k",
                "config": {},
                "extra": {},
                "state_dict": {"w": 1},
            },
            "not tensors",
        ),
        ([1, 2], "not a neurosig-checkpoint file"),
    ],
)
def test_bad_checkpoints_are_format_errors_naming_the_file(tmp_path, payload, match):
    path = tmp_path / "bad.pt"
    torch.save(payload, path)
    with pytest.raises(FormatError, match=f"bad.pt: .*{match}"):
        load_checkpoint(path, "k")


def test_missing_checkpoint_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "none.pt", "k")


def test_spill_reads_rows_like_an_array():
    spill = ArraySpill()
    a = np.arange(5 * 3 * 4, dtype=np.float32).reshape(5, 3, 4)
    spill.append(a[:2])
    spill.append(a[2:])
    assert spill.shape == a.shape and len(spill) == 5
    np.testing.assert_array_equal(spill[:], a)
    np.testing.assert_array_equal(spill[1:4], a[1:4])
    np.testing.assert_array_equal(spill[[0, 2, 3, 4]], a[[0, 2, 3, 4]])
    np.testing.assert_array_equal(spill[np.array([], dtype=int)], a[:0])
    with pytest.raises(IndexError, match="5 rows"):
        spill[[5]]
    with pytest.raises(DataError, match="ArraySpill holds rows of shape"):
        spill.append(np.zeros((1, 3, 5), dtype=np.float32))
    spill.close()
    assert spill.n_rows == 0


def test_rerun_skipping_a_complete_output_removes_stale_files_but_never_a_live_writers(tmp_path):
    out = tmp_path / "run.h5"
    _pipeline(out, duration=2.0).run()
    lock = lock_path(out)
    lock.write_text('{"pid": 1, "host": "gone", "started": "then"}')  # its writer died after the rename
    dead = partial_path(out, pid=999_999)  # a writer killed while rewriting the complete output
    dead.write_bytes(b"half")
    mine = tmp_path / "run.h5.partial"  # a user's own file: never touched
    mine.write_bytes(b"keep")
    assert _pipeline(out, duration=2.0).run().skipped
    assert sorted(tmp_path.iterdir()) == [out, mine]
    dead.write_bytes(b"half")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)  # a live owner (another open file holds the flock)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert clear_stale_files(out) == []
        assert _pipeline(out, duration=2.0).run().skipped
        assert lock.exists() and dead.exists()
    finally:
        os.close(fd)
    assert clear_stale_files(out) == [lock, dead]
    assert sorted(tmp_path.iterdir()) == [out, mine]
    assert clear_stale_files(out) == []
    assert sorted(tmp_path.iterdir()) == [out, mine]


@pytest.mark.parametrize(
    ("package", "name"), [("neurosig.eeg.rvq", "rvq_small.pt"), ("neurosig.eeg.atat", "atat_small.pt")]
)
def test_shipped_weights_are_found_in_their_package_or_named_as_missing(package, name):
    assert shipped_weights(package, name, "weights", "pass weights=PATH").is_file()
    with pytest.raises(
        ConfigError, match=r"packaged AT-AT weights \(.*gone\.pt\) is missing; reinstall .*weights=PATH"
    ):
        shipped_weights(package, "gone.pt", "AT-AT weights", "pass weights=PATH")
