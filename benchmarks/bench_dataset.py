"""Dataset processing throughput: the 14 eegmmidb S001 runs as a BIDS dataset, through the whole chain.

The runs are laid out as BIDS with mne-bids in a temporary folder (EDF copied as is, events.tsv from
the annotations). Measured, one thread per process (``OMP_NUM_THREADS=1``, torch 1 thread):

- the whole chain, ``pipelines/dataset.yaml`` (notch → band-pass → AT-AT → resample → epochs →
  FASTER with a 20-component ICA → RVQ tokens of the small preset, cleaned epochs and tokens
  stored, the dataset report), on a Dask LocalCluster of 1 and of 2 workers: recordings per minute,
  real-time factor, and the scaling efficiency (speed-up / 2). The tokenizer is the small preset
  untrained (kmeans off): encoding costs the same whatever the weights. Each side's wall is split
  into the map (cluster start included) and the report, beside the sum of the recordings' own
  times and the CPU time of the whole machine (``/proc/stat``: ours and other sessions', so
  ``cpu_busy_share`` near 1 with a short map means the cores were busy, not ours idle). With
  ``--scaling`` only this part runs (``--scaling-rounds`` paired rounds, the order alternating:
  1 then 2 workers, then 2 then 1), and its rows replace the whole-chain rows of ``dataset.json``,
  keeping the others;
- side by side on one core, the same steps as the script a user writes today with MNE and
  mne-faster: read, notch and band-pass filter, 2-s epochs, mne-faster steps 1, 2 and 4 with the
  interpolations, save the epochs as FIF; ours is ``neurosig run`` of the same steps (``faster``
  with ``metrics: mne-faster``, no ICA) into HDF5, uncompressed as the FIF file and with the sink's
  default gzip, run in this process. Both run once on the first
  recording before the timings (imports, compiled kernels), then in ``--rounds`` paired rounds (the
  script, then ours); the table gives each side's median wall and the median of the paired ratios.

Writes ``benchmarks/results/dataset.json`` and prints a markdown table.

``--memory`` measures instead the peak resident memory (``ru_maxrss`` of a child process) of the
whole chain on simulated 64-channel 256 Hz recordings (EDF, written in a temporary folder): a short
one (the process's floor: imports, models), and a long one (default 60 minutes) with FASTER's
default ``block_mib`` and with a ``block_mib`` above the recording (in one piece, as before the
blocked path), beside the recording's size. Writes ``benchmarks/results/dataset_memory.json``.

Run: ``python benchmarks/bench_dataset.py [--runs 1 2 ...] [--skip-workers | --scaling]``, or
``... --memory [--minutes 60]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

try:
    from _common import RESULTS, save
except ImportError:  # run as a module from the repository root
    from benchmarks._common import RESULTS, save

REPO = Path(__file__).resolve().parents[1]
SHARED = (
    Path(os.environ.get("NEUROSIG_SHARED_DATA", REPO.parent / "shared" / "data"))
    / "eeg"
    / "eegmmidb"
    / "S001"
)


def make_bids(runs: list[int], root: Path) -> float:
    """Lay the runs out as BIDS (sub-001, task eegmmidb); return their total duration in seconds."""
    import mne
    import mne_bids

    total = 0.0
    for run in runs:
        raw = mne.io.read_raw_edf(SHARED / f"S001R{run:02d}.edf", preload=False, verbose="error")
        total += raw.n_times / raw.info["sfreq"]
        path = mne_bids.BIDSPath(subject="001", task="eegmmidb", run=run, datatype="eeg", root=root)
        mne_bids.write_raw_bids(raw, path, overwrite=True, verbose="error")
    return total


def mne_script(runs: list[int], out: Path) -> None:
    """What a user writes today: MNE and mne-faster, recording by recording."""
    import mne
    import mne_faster

    out.mkdir(parents=True, exist_ok=True)
    for run in runs:
        raw = mne.io.read_raw_edf(SHARED / f"S001R{run:02d}.edf", preload=True, verbose="error")
        mne.datasets.eegbci.standardize(raw)
        raw.set_montage("standard_1005", verbose="error")
        raw.notch_filter(60.0, verbose="error")
        raw.filter(1.0, 40.0, verbose="error")
        epochs = mne.make_fixed_length_epochs(raw, duration=2.0, preload=True, verbose="error")
        epochs.info["bads"] = mne_faster.find_bad_channels(epochs)
        if epochs.info["bads"]:
            epochs.interpolate_bads(verbose="error")
        epochs.drop(mne_faster.find_bad_epochs(epochs), verbose="error")
        for i, bad in enumerate(mne_faster.find_bad_channels_in_epochs(epochs)):
            if bad:
                one = epochs[i]
                one.info["bads"] = list(bad)
                one.interpolate_bads(verbose="error")
                epochs._data[i] = one.get_data()[0]
        epochs.save(out / f"S001R{run:02d}-epo.fif", overwrite=True, verbose="error")


def same_steps(compression_level: int = 0) -> dict:
    """Ours for the MNE script's steps: file → notch → band-pass → epochs → FASTER 1, 2, 4 → HDF5.

    Uncompressed by default, as the script's FIF file; ``compression_level=4`` is the HDF5 sink's
    default (gzip with shuffle, which takes ~15 % off float32 EEG).
    """
    return {
        "name": "faster_steps",
        "source": {"type": "file", "path": "", "chunk_duration": 10.0, "picks": "eeg"},
        "stages": [
            {"type": "notch", "freqs": [60.0]},
            {"type": "bandpass", "l_freq": 1.0, "h_freq": 40.0},
            {"type": "epochs", "length": 2.0},
            {"type": "faster", "metrics": "mne-faster", "ica": False, "band": [1.0, 40.0]},
        ],
        "sink": {"type": "hdf5", "path": "", "compression_level": compression_level},
    }


def whole_chain(checkpoint: str) -> dict:
    config = yaml.safe_load((REPO / "pipelines" / "dataset.yaml").read_text())
    tokens = config["pipelines"][1]
    tokens["stages"][0]["checkpoint"] = tokens["sink"]["checkpoint"] = checkpoint
    return config


_SIMULATE = """
import sys, mne
from neurosig.eeg.simulate import simulate_raw
raw = simulate_raw(duration=float(sys.argv[1]), sfreq=256.0, n_channels=64, seed=0, chunk_duration=10.0,
                   line_freq=60.0)
mne.export.export_raw(sys.argv[2], raw, fmt="edf", overwrite=True, verbose="error")
"""


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def peak_rss(edf: Path, out: Path, checkpoint: str, block_mib: float | None = None) -> tuple[int, float]:
    """The whole chain on ``edf`` in a child process: its peak resident memory (bytes) and wall (s)."""
    cmd = [sys.executable, "-m", "neurosig.cli", "run", str(REPO / "pipelines" / "dataset.yaml"),
           "--no-progress", "--inputs", str(edf), "--out-dir", str(out),
           "--set", f"pipelines.tokens.stages.0.checkpoint={checkpoint}",
           "--set", f"pipelines.tokens.sink.checkpoint={checkpoint}"]  # fmt: skip
    if block_mib is not None:
        cmd += ["--set", f"pipelines.clean.stages.5.block_mib={block_mib}"]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, env=_child_env(), stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the chain failed on {edf}: exit {os.waitstatus_to_exitcode(status)}")
    return usage.ru_maxrss * 1024, wall  # Linux reports kilobytes


def memory(minutes: float) -> None:
    """Peak RSS of the whole chain on a short and a long simulated recording, beside their sizes."""
    from neurosig.eeg.rvq.tokenizer import Tokenizer

    rows = []
    mib = 2**20
    with tempfile.TemporaryDirectory(prefix="neurosig-bench-memory-") as tmp:
        tmp = Path(tmp)
        checkpoint = str(Tokenizer.from_preset("small", seed=0, kmeans_init=False).save(tmp / "small.pt"))
        for length, block_mib in ((2.0, None), (minutes, 1e6), (minutes, None)):
            edf = tmp / f"sim{length:g}min.edf"
            if not edf.exists():
                subprocess.run(
                    [sys.executable, "-c", _SIMULATE, str(60 * length), str(edf)],
                    env=_child_env(),
                    check=True,
                )
            rss, wall = peak_rss(edf, tmp / f"out-{length:g}-{block_mib}", checkpoint, block_mib)
            samples = 64 * int(60 * length * 256)
            rows.append(
                {
                    "recording": f"{length:g} min, 64 channels, 256 Hz (simulated)",
                    "faster": "one piece (block_mib above the recording)"
                    if block_mib
                    else "default block_mib (64)",
                    "edf_mib": round(edf.stat().st_size / mib, 1),
                    "float32_mib": round(4 * samples / mib, 1),
                    "float64_mib": round(8 * samples / mib, 1),
                    "peak_rss_mib": round(rss / mib, 1),
                    "wall_s": round(wall, 1),
                }
            )
            print(rows[-1], flush=True)
    note = "peak RSS (ru_maxrss) of `neurosig run pipelines/dataset.yaml` in a child process, one thread"
    save("dataset_memory", rows, note=note + "; the 2-minute recording shows the process's floor")


CHAIN = "neurosig, whole chain (AT-AT, ICA, tokens, report)"


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (Linux ``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def whole_chain_side(root: Path, out: Path, checkpoint: str, workers: int) -> dict:
    """The whole chain over the BIDS dataset on a LocalCluster of ``workers``: walls and CPU."""
    from neurosig.jobs.dataset import process_dataset, write_report

    load = os.getloadavg()
    busy0, total0 = _cpu_jiffies()
    t0 = time.perf_counter()
    results, _ = process_dataset(
        whole_chain(checkpoint),
        out,
        bids_root=root,
        executor="dask",
        n_workers=workers,
        report=False,
        threads=1,
    )
    t_map = time.perf_counter() - t0
    write_report(results, out)
    wall = time.perf_counter() - t0
    busy1, total1 = _cpu_jiffies()
    failed = [r.error for r in results if r.status != "done"]
    assert not failed, failed
    return {
        "wall": wall,
        "map_s": round(t_map, 2),
        "report_s": round(wall - t_map, 2),
        "recording_seconds_sum": round(sum(r.seconds for r in results), 2),
        "cpu_busy_share": round((busy1 - busy0) / (total1 - total0), 3),
        "load_average_before": [round(x, 2) for x in load],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def scaling(root: Path, tmp: Path, rounds: int, row) -> list[dict]:
    """Paired rounds of the whole chain on 1 and on 2 workers (order alternating); median rows."""
    from neurosig.eeg.rvq.tokenizer import Tokenizer

    checkpoint = str(Tokenizer.from_preset("small", seed=0, kmeans_init=False).save(tmp / "small.pt"))
    sides: dict[int, list[dict]] = {1: [], 2: []}
    for k in range(rounds):
        for workers in (1, 2) if k % 2 == 0 else (2, 1):
            sides[workers].append(whole_chain_side(root, tmp / f"chain{workers}-{k}", checkpoint, workers))
            print(f"round {k}, {workers} worker(s):", sides[workers][-1], flush=True)
    walls = {w: [r["wall"] for r in rs] for w, rs in sides.items()}
    speedups = [a / b for a, b in zip(walls[1], walls[2], strict=True)]
    rows = []
    for workers, runs in sides.items():
        extra = {}
        if workers == 2:
            extra["speedup"] = round(statistics.median(speedups), 2)
            extra["scaling_efficiency"] = round(statistics.median(speedups) / 2, 2)
        rounds_detail = [{k: v for k, v in r.items() if k != "wall"} for r in runs]
        rows.append(
            row(
                CHAIN,
                workers,
                statistics.median(walls[workers]),
                **extra,
                rounds_s=[round(w, 2) for w in walls[workers]],
                rounds=rounds_detail,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=list(range(1, 15)))
    parser.add_argument("--skip-workers", action="store_true", help="only the one-core comparison")
    parser.add_argument(
        "--scaling", action="store_true", help="only the whole chain on 1 and 2 workers (into dataset.json)"
    )
    parser.add_argument("--scaling-rounds", type=int, default=1, help="paired rounds of 1 and 2 workers")
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds of the one-core comparison")
    parser.add_argument("--memory", action="store_true", help="peak RSS on long simulated recordings instead")
    parser.add_argument("--minutes", type=float, default=60.0, help="with --memory: the long recording")
    args = parser.parse_args()
    if args.memory:
        memory(args.minutes)
        return
    import torch

    from neurosig.executor import map_pipeline

    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="neurosig-bench-dataset-") as tmp:
        tmp = Path(tmp)
        root = tmp / "bids"
        seconds = make_bids(args.runs, root)
        n = len(args.runs)
        files = [SHARED / f"S001R{r:02d}.edf" for r in args.runs]

        def row(what: str, workers: int, wall: float, **extra) -> dict:
            return {
                "pipeline": what,
                "workers": workers,
                "recordings": n,
                "wall_s": round(wall, 2),
                "recordings_per_min": round(60 * n / wall, 2),
                "realtime_factor": round(seconds / wall, 1),
                "vs_mne": "",
                "scaling_efficiency": "",
                **extra,
            }

        if args.scaling:
            chain_rows = scaling(root, tmp, args.scaling_rounds, row)
            previous = json.loads((RESULTS / "dataset.json").read_text())
            for r in chain_rows:
                r["runs"] = args.runs  # the other rows' runs are at the top
            kept = [r for r in previous["rows"] if not r["pipeline"].startswith("neurosig, whole chain")]
            other = previous.get("machine_of_other_rows", previous["machine"])  # after an earlier --scaling
            skip = ("benchmark", "machine", "machine_of_other_rows", "rows")
            extra = {k: v for k, v in previous.items() if k not in skip}
            save("dataset", kept + chain_rows, **extra, machine_of_other_rows=other)
            return

        mne_script(args.runs[:1], tmp / "warmup-mne")  # imports and caches outside the timings
        map_pipeline(same_steps(), files[:1], tmp / "warmup-ours")
        sides: dict[str, list[float]] = {"mne": [], "ours": [], "ours_gzip": []}
        for k in range(args.rounds):  # paired rounds: MNE, then ours, each on fresh output folders
            for side in sides:
                t0 = time.perf_counter()
                if side == "mne":
                    mne_script(args.runs, tmp / f"mne{k}")
                else:
                    config = same_steps(4 if side == "ours_gzip" else 0)
                    results = map_pipeline(config, files, tmp / f"{side}{k}")
                    assert all(r.status == "done" for r in results), [r.error for r in results]
                sides[side].append(time.perf_counter() - t0)
        theirs = sides["mne"]
        rows.append(
            row(
                "MNE + mne-faster script (steps 1, 2, 4), FIF",
                1,
                statistics.median(theirs),
                rounds_s=[round(t, 2) for t in theirs],
            )
        )
        for side, what in (("ours", "uncompressed, as the FIF"), ("ours_gzip", "gzip 4, the sink's default")):
            ratios = [a / b for a, b in zip(theirs, sides[side], strict=True)]
            rows.append(
                row(
                    f"neurosig, same steps (steps 1, 2, 4), HDF5 {what}",
                    1,
                    statistics.median(sides[side]),
                    vs_mne=round(statistics.median(ratios), 2),
                    rounds_s=[round(t, 2) for t in sides[side]],
                )
            )
        if not args.skip_workers:
            rows += scaling(root, tmp, args.scaling_rounds, row)
    save(
        "dataset",
        rows,
        runs=args.runs,
        recording_seconds=seconds,
        note="one thread per process; wall times include starting the LocalCluster and the report",
        targets={"vs_mne_one_core": 3.0, "scaling_1_to_2_workers": 1.7},
    )


if __name__ == "__main__":
    main()
