"""Event-stream training: data-pipeline throughput against tonic, accuracy of the variants, step time.

(a) **Data pipeline**: samples/s into the model from the same ``.npy`` event files, downsampled by 2
    and binned into 5 ms binary spikes (20 steps; no denoising: tonic's ``Denoise`` keeps ~10 % more
    of these simulated events than the 4-neighbour filter, so the outputs would differ): neurosig's
    HDF5 cache + ``CachedEventDataset`` against tonic's transforms + ``tonic.DiskCachedDataset``, both
    through a torch ``DataLoader`` (batch 32, no workers), cold (the first epoch, which fills the
    cache; Numba's kernels already loaded) and warm (a later epoch). The two outputs are compared
    sample by sample.
(b) **Accuracy** on the simulated 8-direction dataset (``pipelines/event_train.yaml``, its validation
    split picks the checkpoint): delays against no delays, ALIF against LIF, and the convolutional
    model (``model: {type: conv, channels: [8]}``, LIF, delays) against the dense one. Then a smoke run on the
    shared real N-MNIST sample (``../shared/data/spikes/tonic_sample_nmnist.bin``, or
    ``$NEUROSIG_SHARED_DATA``): a label CSV of the file itself and of thinned copies (20 % of the
    events dropped), as recorded or mirrored in x (two classes), through the ``files`` dataset.
(c) **Training step** (forward, backward, Adam) of the YAML's network without delays, against the
    same network written directly in SpikingJelly; and the step with delays.

    python benchmarks/bench_event_train.py [--quick] [--only pipeline accuracy smoke step]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_seconds, save  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SIZE = (32, 32, 2)
DT, N_STEPS = 5000, 20


SHARED_DATA = Path(os.environ.get("NEUROSIG_SHARED_DATA", REPO.parent / "shared" / "data"))


def _write_files(folder: Path, n_per_class: int) -> list[tuple[Path, int]]:
    from neurosig.data.event_dataset import simulated_motion
    from neurosig.io.events import write_events

    files = []
    for rec in simulated_motion(n_per_class, seed=0):
        path = folder / f"{rec.name.replace('/', '_')}.npy"
        write_events(path, rec.load()[0], sensor_size=SIZE)
        files.append((path, rec.label))
    return files


class _TonicFiles:
    """A tonic-style dataset over the same files: tonic's events dtype, tonic's transforms."""

    def __init__(self, files):
        import tonic.transforms as T

        from neurosig.io.events import to_tonic

        self.files, self.to_tonic = files, to_tonic
        self.transform = T.Compose(
            [
                T.Downsample(spatial_factor=0.5),
                T.ToFrame(sensor_size=(16, 16, 2), time_window=DT, include_incomplete=True),
            ]
        )

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        path, label = self.files[i]
        events = self.to_tonic(np.load(path))
        frames = np.minimum(self.transform(events), 1).reshape(-1, 512)[:N_STEPS]
        out = np.zeros((N_STEPS, 512), dtype=np.float32)
        out[: len(frames)] = frames
        return out, label


def _epoch(loader) -> int:
    n = 0
    for x, _ in loader:
        n += len(x)
    return n


def data_pipeline(folder: Path, n_per_class: int) -> list[dict]:
    import tonic
    from torch.utils.data import DataLoader

    from neurosig.data.event_cache import CachedEventDataset, build_cache
    from neurosig.data.event_dataset import labelled_files
    from neurosig.events.preprocess import EventPreprocessing

    files = _write_files(folder / "files", n_per_class)
    rows = []
    # neurosig: cache then DataLoader
    (folder / "labels.csv").write_text("file,label\n" + "".join(f"{p.name},{y}\n" for p, y in files))
    recs, _ = labelled_files(
        folder / "files", folder / "labels.csv", sensor_size=SIZE, classes=[str(k) for k in range(8)]
    )
    pre = EventPreprocessing.from_config(
        SIZE,
        [{"type": "downsample", "spatial_factor": 2}],
        {"type": "spikes", "dt": DT},
        N_STEPS,
    )
    pre(recs[0].load()[0])  # load the Numba kernels once (a per-process cost, not a per-dataset one)
    tic = time.perf_counter()
    path = build_cache(recs, pre, folder / "ours")
    ours = CachedEventDataset(path)
    cold_ours = time.perf_counter() - tic + _timed_epoch(ours.loader(32))
    warm_ours = median_seconds(lambda: _epoch(ours.loader(32)), repeats=3)
    # tonic: DiskCachedDataset then DataLoader
    theirs_plain = _TonicFiles(files)
    cached = tonic.DiskCachedDataset(theirs_plain, cache_path=str(folder / "tonic"))
    cold_tonic = _timed_epoch(DataLoader(cached, batch_size=32))
    warm_tonic = median_seconds(lambda: _epoch(DataLoader(cached, batch_size=32)), repeats=3)
    same = all(np.array_equal(ours[i][0], cached[i][0]) for i in range(len(files)))
    n = len(files)
    for name, cold, warm in (
        ("neurosig cache", cold_ours, warm_ours),
        ("tonic DiskCachedDataset", cold_tonic, warm_tonic),
    ):
        rows.append(
            {"pipeline": name, "samples": n, "cold_samples_per_s": n / cold, "warm_samples_per_s": n / warm}
        )
    rows[0]["warm_speedup"] = warm_tonic / warm_ours
    rows[0]["cold_speedup"] = cold_tonic / cold_ours
    rows[0]["same_representation"] = same
    return rows


def _timed_epoch(loader) -> float:
    tic = time.perf_counter()
    _epoch(loader)
    return time.perf_counter() - tic


def accuracy(folder: Path, quick: bool) -> list[dict]:
    from neurosig.core.config import build_job, load_config

    rows = []
    conv = "{type: conv, channels: [8], conv_kernel: 3, pool: 2}"
    variants = [(n, d, "{type: dense}") for n in ("lif", "alif") for d in (True, False)]
    for neuron, delays, model in [*variants, ("lif", True, conv)]:
        name = f"{neuron}_{delays}_{'conv' if model == conv else 'dense'}"
        sets = [f"job.output_dir={folder / name}", f"job.cache_dir={folder / 'cache'}"]
        sets += [f"job.neuron={neuron}", f"job.delays={str(delays).lower()}", f"job.model={model}"]
        if quick:
            sets += ["job.epochs=2"]
        tic = time.perf_counter()
        summary = build_job(load_config(REPO / "pipelines" / "event_train.yaml", sets)).run()
        rows.append(
            {
                "model": "conv [8], pool 2" if model == conv else "dense",
                "neuron": neuron,
                "delays": delays,
                "val_accuracy": summary["val_accuracy"],
                "test_accuracy": summary["test_accuracy"],
                "n_test": summary["n_test"],
                "stream_agrees": summary["stream_agrees_with_offline"],
                "seconds": time.perf_counter() - tic,
            }
        )
    return rows


def _nmnist_labels(sample: Path, folder: Path, n_per_class: int) -> Path:
    """The real sample and thinned copies, as recorded or mirrored in x; their label CSV."""
    from neurosig.io.events import read_events, write_events

    folder.mkdir(parents=True)
    chunk = read_events(sample)
    shutil.copy(sample, folder / sample.name)
    rows = [f"{sample.name},as_recorded"]
    rng = np.random.default_rng(0)
    for k in range(2 * n_per_class - 1):
        events = chunk.events[rng.random(len(chunk.events)) >= 0.2]
        label = "mirrored" if k % 2 == 0 else "as_recorded"
        if label == "mirrored":
            events["x"] = chunk.info.sensor_size[0] - 1 - events["x"]
        write_events(folder / f"variant{k}.h5", events, sensor_size=chunk.info.sensor_size)
        rows.append(f"variant{k}.h5,{label}")
    (folder / "labels.csv").write_text("file,label\n" + "\n".join(rows) + "\n")
    return folder / "labels.csv"


def nmnist_smoke(folder: Path, quick: bool) -> dict:
    """A tiny model trained on the shared N-MNIST sample and its variants (see the module notes)."""
    from neurosig.core.config import build_job, load_config

    sample = SHARED_DATA / "spikes" / "tonic_sample_nmnist.bin"
    if not sample.is_file():
        return {"dataset": "nmnist sample", "skipped": f"{sample} not found"}
    labels = _nmnist_labels(sample, folder / "nmnist", 4 if quick else 12)
    sets = [
        f"job.output_dir={folder / 'nmnist_out'}",
        f"job.cache_dir={folder / 'cache'}",
        f'job.dataset={{"type": "files", "root": "{labels.parent}", "labels": "{labels}"}}',
        'job.transforms=[{"type": "downsample", "spatial_factor": 2}]',
        'job.representation={"type": "spikes", "dt": 20000}',
        "job.n_steps=16",
        "job.val_fraction=0.25",
        "job.test_fraction=0.25",
        f"job.epochs={2 if quick else 8}",
        "job.batch_size=4",
    ]
    tic = time.perf_counter()
    summary = build_job(load_config(REPO / "pipelines" / "event_train.yaml", sets)).run()
    keys = ("n_train", "n_val", "n_test", "val_accuracy", "test_accuracy", "stream_agrees_with_offline")
    return {
        "dataset": "nmnist sample + variants",
        **{k: summary[k] for k in keys},
        "nir_agrees_with_offline": summary.get("nir_agrees_with_offline"),
        "seconds": time.perf_counter() - tic,
    }


class _PlainSJ(torch.nn.Module):
    """The YAML's network without delays, written directly in SpikingJelly."""

    def __init__(self, n_in, n_hidden, n_out, tau):
        from spikingjelly.activation_based import layer, neuron, surrogate

        super().__init__()
        self.fc = layer.Linear(n_in, n_hidden, bias=False, step_mode="m")
        self.bn = layer.BatchNorm1d(n_hidden, step_mode="m")
        self.lif = neuron.LIFNode(
            tau=tau,
            decay_input=False,
            surrogate_function=surrogate.ATan(alpha=5.0),
            detach_reset=True,
            step_mode="m",
        )
        self.out = layer.Linear(n_hidden, n_out, bias=False, step_mode="m")
        self.decay = float(np.exp(-1.0 / tau))

    def forward(self, x):
        from spikingjelly.activation_based import functional

        functional.reset_net(self)
        current = self.out(self.lif(self.bn(self.fc(x))))
        v, total = torch.zeros_like(current[0]), torch.zeros_like(current[0])
        for step in current:
            v = self.decay * v + step
            total = total + v
        return total


def step_time() -> list[dict]:
    from neurosig.snn.models import DelaySNN

    torch.manual_seed(0)
    x = (torch.rand(N_STEPS, 32, 512) < 0.05).float()
    y = torch.randint(0, 8, (32,))
    nets = {
        "neurosig DelaySNN, no delays": DelaySNN(512, 64, 8, n_layers=1, delays=False, tau=2.0),
        "SpikingJelly directly": _PlainSJ(512, 64, 8, 2.0),
        "neurosig DelaySNN, delays (K=7)": DelaySNN(512, 64, 8, n_layers=1, kernel_size=7, tau=2.0),
    }
    rows = []
    for name, net in nets.items():
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def step(net=net, opt=opt):
            loss = torch.nn.functional.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        rows.append(
            {
                "network": name,
                "batch": 32,
                "steps": N_STEPS,
                "ms_per_step": 1e3 * median_seconds(step, repeats=20, warmup=3),
            }
        )
    base = rows[1]["ms_per_step"]
    for row in rows:
        row["vs_spikingjelly"] = row["ms_per_step"] / base
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer files and epochs (a smoke run)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument(
        "--only", nargs="+", choices=["pipeline", "accuracy", "smoke", "step"], help="run only these parts"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    parts = args.only or ["pipeline", "accuracy", "smoke", "step"]
    folder = Path(tempfile.mkdtemp(prefix="bench_event_train-"))
    try:
        if "pipeline" in parts:
            rows = data_pipeline(folder, 10 if args.quick else 100)
            save("event_train_pipeline", rows, threads=args.threads, quick=args.quick)
        if "accuracy" in parts:
            rows = accuracy(folder / "train", args.quick)
            save("event_train_accuracy", rows, threads=args.threads, quick=args.quick)
        if "smoke" in parts:
            rows = [nmnist_smoke(folder / "smoke", args.quick)]
            save("event_train_nmnist_smoke", rows, threads=args.threads, quick=args.quick)
        if "step" in parts:
            save("event_train_step", step_time(), threads=args.threads)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
