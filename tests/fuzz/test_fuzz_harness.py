"""The fuzz harness classifies outcomes right, and every input it found stays fixed (regression tests).

``tests/fuzz/findings/`` holds the inputs that once crashed a target: ``TARGET_WHAT.SUFFIX``.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz  # noqa: E402
import seeds  # noqa: E402

from neurosig.core.errors import FormatError  # noqa: E402

FINDINGS = sorted((Path(__file__).resolve().parent / "findings").iterdir())


def _raise_format_error():
    raise FormatError("corrupt")


def _raise_key_error():
    raise KeyError("raw")


def _allocate():
    return bytearray(4 << 30)  # 4 GiB: past the 1 GiB limit, a MemoryError


def _spin():
    while True:
        pass


@pytest.mark.parametrize(
    "call, outcome",
    [
        (lambda: "ok", "ok"),
        (lambda: "mismatch: 3 events whole, 2 chunked", "mismatch"),
        (_raise_key_error, "crash"),
        (_allocate, "crash"),
        (lambda: time.sleep(30), "hang"),  # blocked: past WALL_FACTOR * timeout
        (_spin, "hang"),  # spinning: past the CPU limit
        (lambda: os.abort(), "abort"),
    ],
)
def test_run_case_classifies(tmp_path, capfd, call, outcome):
    def target():
        try:
            return call()
        except FormatError:
            return "ok"

    assert fuzz.run_case(target, timeout=1.0, memory=1 << 30, report=tmp_path / "r.txt")[0] == outcome
    assert "Fatal Python error" not in capfd.readouterr().err  # the child's faulthandler is off
    if outcome == "crash":
        assert "Traceback" in (tmp_path / "r.txt").read_text()


def test_format_error_is_ok(tmp_path):
    def target():
        try:
            _raise_format_error()
        except FormatError:
            return "ok"

    assert fuzz.run_case(target, timeout=5.0, memory=1 << 30, report=tmp_path / "r.txt")[0] == "ok"


def test_mutate_is_reproducible():
    data = bytes(range(256)) * 4
    a = fuzz.mutate(data, random.Random(7), 64)
    assert a == fuzz.mutate(data, random.Random(7), 64) and a != data


def test_generated_seeds_decode(tmp_path):
    """The harness's own seeds are valid files of their formats (so mutations start from valid input)."""
    from neurosig.io.eeg import open_raw
    from neurosig.io.events import read_events

    made = seeds.generated(tmp_path)
    for target, paths in made.items():
        for path in paths:
            if target == "edf":
                assert open_raw(path).n_times == 32
            elif target != "yaml":
                assert len(read_events(path)) in (40, 300), path


@pytest.mark.parametrize("path", FINDINGS, ids=[p.name for p in FINDINGS])
def test_finding_stays_fixed(tmp_path, monkeypatch, path):
    """Strict, lenient and chunked reads of each past finding end in a NeurosigError or in events, in
    a child under the harness's limits (a finding that hung would hang the test run otherwise)."""
    from neurosig.io import hdf5

    monkeypatch.setattr(hdf5, "METADATA_TIMEOUT_S", 2.0)  # every finding is damaged: no honest file waits
    target = path.name.split("_")[0]
    report = tmp_path / "r.txt"
    outcome = fuzz.run_case(lambda: fuzz.run_target(target, path), 20.0, 1 << 30, report)[0]
    assert outcome == "ok", report.read_text() if report.exists() else outcome
