"""The dataset on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on
127.0.0.1; one worker is SIGKILLed mid-run; every output is complete and equal in data to a local
run, nothing is lost, and a rerun skips everything. Every process the test starts, it stops."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("mne_bids")
pytest.importorskip("pybv")
distributed = pytest.importorskip("dask.distributed")

from neurosig.jobs.dataset import simulate_bids  # noqa: E402
from neurosig.testing import stop_process  # noqa: E402

pytestmark = pytest.mark.slow

# One BLAS / torch thread everywhere, so the cluster and the local run do the same arithmetic.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask(*args: str) -> list[str]:
    cli = Path(sys.executable).with_name("dask")
    return [str(cli), *args] if cli.is_file() else [sys.executable, "-m", "dask", *args]


def _neurosig(*args: str) -> list[str]:
    return [sys.executable, "-m", "neurosig.cli", *args]


def _data(path: str) -> dict[str, np.ndarray]:
    import h5py

    with h5py.File(path, "r") as f:
        assert f.attrs["complete"]
        return {k: f[k][()] for k in f if isinstance(f[k], h5py.Dataset)}


def test_killed_worker_loses_nothing_and_outputs_equal_a_local_run(suite, tmp_path):
    root = tmp_path / "bids"
    simulate_bids(root, subjects=["01", "02", "03", "04"], duration=60.0, seed=5)
    from neurosig.eeg.rvq.tokenizer import Tokenizer

    checkpoint = str(Tokenizer.from_preset("tiny", seed=0, kmeans_init=False).save(tmp_path / "tiny.pt"))
    pipeline = tmp_path / "dataset.yaml"
    pipeline.write_text(yaml.safe_dump(suite(checkpoint)))

    local = subprocess.run(
        _neurosig(
            "run",
            str(pipeline),
            "--bids-root",
            str(root),
            "--out-dir",
            str(tmp_path / "local"),
            "--no-progress",
        ),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert local.returncode == 0, local.stderr

    port, dashboard = _free_port(), _free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes: list[subprocess.Popen] = []
    client = None
    try:
        scheduler_args = ["scheduler", "--host", "127.0.0.1", "--port", str(port)]
        scheduler_args += ["--dashboard-address", f"127.0.0.1:{dashboard}"]
        processes.append(
            subprocess.Popen(_dask(*scheduler_args), env=ENV, stderr=subprocess.DEVNULL, cwd=tmp_path)
        )
        workers = {}
        for name in ("w1", "w2"):
            args = ["worker", address, "--name", name, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1"]
            workers[name] = subprocess.Popen(_dask(*args), env=ENV, stderr=subprocess.DEVNULL, cwd=tmp_path)
            processes.append(workers[name])
        client = distributed.Client(address, timeout=60)
        client.wait_for_workers(2, timeout=60)
        out = tmp_path / "cluster"
        run = _neurosig(
            "run", str(pipeline), "--bids-root", str(root), "--out-dir", str(out), "--scheduler", address
        )
        main = subprocess.Popen([*run, "--no-progress"], env=ENV, stdout=subprocess.PIPE, text=True)
        processes.append(main)
        # SIGKILL the worker that has been busy with a recording for a second.
        killed, deadline = None, time.monotonic() + 120
        busy_since: dict[str, float] = {}
        while killed is None and time.monotonic() < deadline and main.poll() is None:
            info = client.scheduler_info()["workers"]
            for addr, keys in client.processing().items():
                name = info.get(addr, {}).get("name")
                if keys and name in workers:
                    busy_since.setdefault(name, time.monotonic())
                    if time.monotonic() - busy_since[name] > 1.0:
                        killed = name
                        workers[name].send_signal(signal.SIGKILL)
                        break
            time.sleep(0.1)
        assert killed is not None, "no worker was busy long enough to be killed mid-run"
        stdout, _ = main.communicate(timeout=300)
        assert main.returncode == 0, stdout
        assert "4 of 4 recordings done" in stdout
        assert f"dask dashboard: http://127.0.0.1:{dashboard}/status" in stdout

        local_files = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*.h5"))
        cluster_files = sorted(p.relative_to(out) for p in out.rglob("*.h5"))
        assert len(local_files) == 8 and cluster_files == local_files
        assert not list(out.rglob("*.partial"))
        for rel in local_files:
            a, b = _data(str(tmp_path / "local" / rel)), _data(str(out / rel))
            assert a.keys() == b.keys()
            for key in a:
                if a[key].dtype == object:  # strings (epoch labels)
                    assert a[key].tolist() == b[key].tolist(), f"{rel}:{key} differs"
                else:
                    assert a[key].tobytes() == b[key].tobytes(), f"{rel}:{key} differs"

        again = subprocess.run([*run, "--no-progress"], env=ENV, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        summary = json.loads((out / "summary.json").read_text())
        assert summary["totals"]["skipped"] == 4 and summary["totals"]["done"] == 0
    finally:
        if client is not None:
            client.close()
        for process in reversed(processes):
            stop_process(process, signal.SIGTERM, timeout=20)
        shutil.rmtree(tmp_path / "dask-scratch-space", ignore_errors=True)
