"""AT-AT versus the EEGdenoiseNet baselines on the real-data EMG-removal benchmark.

Builds the benchmark from ../shared/data (eegmmidb S001 runs, split by recording; UCI gesture EMG),
trains AT-AT, the fully-connected network, the simple CNN and 1D-ResCNN with one harness under the
same wall-clock budget, adds the no-op and band-pass references, and reports CC, RRMSE_t and
RRMSE_s per SNR on the held-out recordings, parameter counts, CPU training time and inference
speed (one thread). Writes ``benchmarks/results/atat.json`` plus two PNGs, prints markdown tables.

Run: ``.venv/bin/python benchmarks/bench_atat.py [--budget 150] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from neurosig.data.denoise import build_from_recordings
from neurosig.eeg.atat.baselines import bandpass_reference
from neurosig.eeg.atat.checkpoint import predict
from neurosig.eeg.atat.metrics import markdown_table, plot_examples, plot_metrics
from neurosig.eeg.atat.pairs import TEST_SNRS
from neurosig.eeg.atat.train import TrainConfig, evaluate, fit

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
CHECKPOINT = ROOT / "out" / "bench_atat" / "atat.pt"  # git-ignored
MODELS = ("atat", "fcnn", "simple_cnn", "rescnn")


def inference_speed(fn, n_epochs: int = 512, repeats: int = 5) -> dict[str, float]:
    """Median seconds to denoise ``n_epochs`` 2-s epochs, and the real-time factor per channel."""
    x = np.random.default_rng(0).standard_normal((n_epochs, 512)).astype(np.float32)
    fn(x[:64])  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    median = float(np.median(times))
    return {"seconds": median, "realtime_per_channel": n_epochs * 2.0 / median}


def stage_speed(weights: Path, repeats: int = 3) -> dict[str, float]:
    """Real-time factor per channel of the streaming stage on 60 s × 64 channels at 160 Hz."""
    from neurosig.core.chunks import SignalChunk, SignalInfo
    from neurosig.eeg.atat.stage import ATATDenoise
    from neurosig.testing import run_stage, split_chunk

    rng = np.random.default_rng(0)
    sfreq, seconds, n_ch = 160.0, 60.0, 64
    data = 1e-5 * rng.standard_normal((n_ch, int(sfreq * seconds)))
    chunk = SignalChunk(data, SignalInfo(sfreq, tuple(f"E{i}" for i in range(n_ch))))
    pieces = split_chunk(chunk, np.arange(160, chunk.n_samples, 160))  # 1-s chunks
    stage = ATATDenoise(str(weights))
    run_stage(stage, pieces[:5])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_stage(stage, pieces)
        times.append(time.perf_counter() - t0)
    median = float(np.median(times))
    return {"seconds": median, "realtime_per_channel": seconds * n_ch / median, "sfreq": sfreq}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=150.0, help="training seconds per model")
    parser.add_argument("--eval-epochs", type=int, default=500, help="test epochs per SNR level")
    parser.add_argument("--cleaning", default="auto")
    parser.add_argument("--size", default="small", help="AT-AT size preset")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds per model")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.quick:
        args.budget, args.eval_epochs = 5.0, 50

    eeg = sorted((SHARED / "eeg" / "eegmmidb" / "S001").glob("S001R*.edf"))
    emg = sorted((SHARED / "emg").glob("*.txt"))
    if not eeg or not emg:
        raise SystemExit(f"benchmark data not found under {SHARED}")
    t0 = time.perf_counter()
    data = build_from_recordings(eeg, emg, cleaning=args.cleaning, max_epochs_per_recording=1000)
    build_seconds = time.perf_counter() - t0

    kw = {"max_epochs": args.eval_epochs, "seed": 0}
    results = {
        "noisy": evaluate(lambda x: x, data, **kw),
        "bandpass 1-40 Hz": evaluate(bandpass_reference, data, **kw),
    }
    models, info = {}, {}
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        cfg = TrainConfig(
            model=name,
            size=args.size,
            epochs=60,
            samples_per_epoch=4096,
            patience=8,
            max_seconds=args.budget,
        )
        res = fit(data, cfg, checkpoint=CHECKPOINT if name == "atat" else None, progress=True)
        models[name] = res.model
        results[name] = evaluate(lambda x, m=res.model: predict(m, x), data, **kw)
        info[name] = {
            "n_params": res.n_params,
            "train_seconds": res.seconds,
            "epochs_run": len(res.history),
            "best_epoch": res.best_epoch,
            "samples_seen": len(res.history) * cfg.samples_per_epoch,
            "best_val_mse": min(h["val_loss"] for h in res.history),
            "inference": inference_speed(lambda x, m=res.model: predict(m, x, 256)),
        }
    if "atat" in models:
        info["atat"]["stage"] = stage_speed(CHECKPOINT)

    snrs = np.asarray(TEST_SNRS)
    i2, i7 = int(np.argmin(np.abs(snrs - 2))), int(np.argmin(np.abs(snrs + 7)))
    targets = {}
    if "atat" in results:
        cc = np.array(results["atat"]["cc"])
        targets = {
            "cc_at_2db": {"value": cc[i2], "target": 0.95, "met": bool(cc[i2] >= 0.95)},
            "cc_at_-7db": {"value": cc[i7], "target": 0.70, "met": bool(cc[i7] >= 0.70)},
        }
        if "fcnn" in results:
            margin = cc - np.array(results["fcnn"]["cc"])
            targets["better_than_fcnn_cc_every_snr"] = {
                "margin": margin.tolist(),
                "met": bool(np.all(margin > 0)),
            }
        for base in ("rescnn",):
            if base in info:
                ratio = info["atat"]["n_params"] / info[base]["n_params"]
                targets[f"params_vs_{base}"] = {"ratio": ratio, "target": 0.10, "met": bool(ratio <= 0.10)}
        rt = info["atat"]["inference"]["realtime_per_channel"]
        targets["realtime_per_channel_one_core"] = {"value": rt, "target": 1000, "met": bool(rt >= 1000)}

    # Examples of cleaned epochs at -2 dB.
    noisy, clean = data.fixed_pairs("test", -2.0, seed=123, max_epochs=3)
    cleaned = {n: predict(m, noisy) for n, m in models.items()}
    stem = "atat_quick" if args.quick else "atat"
    plot_examples(noisy, clean, cleaned, RESULTS / f"{stem}_examples.png")
    plot_metrics(results, RESULTS / f"{stem}_metrics.png")

    report = {
        "benchmark": "atat",
        "machine": {**machine(), "torch_threads": 1},
        "data": {
            **data.provenance,
            "build_seconds": build_seconds,
            "n_epochs": {k: {s: len(v) for s, v in getattr(data, k).items()} for k in ("eeg", "emg")},
        },
        "budget_seconds_per_model": args.budget,
        "eval_epochs_per_snr": args.eval_epochs,
        "metrics": results,
        "models": info,
        "targets": targets,
    }
    out = RESULTS / f"{stem}.json"
    out.write_text(json.dumps(report, indent=1))
    for metric in ("cc", "rrmse_t", "rrmse_s"):
        print(f"\n{markdown_table(results, metric)}")
    print("\n| model | params | train s | epochs | inference × real time / channel (1 thread) |")
    print("|---|---|---|---|---|")
    for name, d in info.items():
        print(
            f"| {name} | {d['n_params']:,} | {d['train_seconds']:.0f} | {d['epochs_run']} | "
            f"{d['inference']['realtime_per_channel']:.0f} |"
        )
    if "atat" in info and "stage" in info["atat"]:
        print(
            f"\nstage (64 ch, 160 Hz, 1-s chunks): {info['atat']['stage']['realtime_per_channel']:.0f}× "
            "real time per channel"
        )
    print(f"\ntargets: {json.dumps(targets, indent=1)}\nwrote {out}")


if __name__ == "__main__":
    main()
