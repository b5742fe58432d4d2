"""RVQ tokenizer versus the single-codebook (LaBraM-style) baseline at the same bit rate.

Uses the models of the ``rvq_train`` job (``pipelines/rvq_train.yaml``; trained first when missing):
both are evaluated on the held-out eegmmidb runs (S001 R13, R14; whole recordings never seen in
training) with per-band PCC/NMSE, codebook usage per level and the bit rate; then both encode the
continuous preprocessed 64-channel run R13, as an array and through the ``rvq_tokenize`` stage of a
file → notch → band-pass → resample → tokenize pipeline; medians over repeats give real-time
factors. Writes ``benchmarks/results/rvq.json`` and prints markdown tables.

Run: ``.venv/bin/python benchmarks/bench_rvq.py [--out-dir out/rvq] [--repeats 5] [--threads 1]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import markdown_table, median_seconds, save  # noqa: E402

from neurosig.core.config import build_job, build_pipeline  # noqa: E402
from neurosig.core.validate import expand_files  # noqa: E402
from neurosig.eeg.rvq.data import DEFAULT_PREPROCESSING, preprocess  # noqa: E402
from neurosig.eeg.rvq.evaluate import BANDS, evaluate  # noqa: E402
from neurosig.eeg.rvq.tokenizer import Tokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "pipelines" / "rvq_train.yaml"


def encode_speed(tok: Tokenizer, signal: np.ndarray, sfreq: float, repeats: int) -> dict[str, float]:
    """Median seconds to tokenize a whole recording, and the real-time factor."""
    seconds = median_seconds(lambda: tok.encode(signal, sfreq), repeats=repeats)
    duration = signal.shape[1] / sfreq
    return {"seconds": seconds, "realtime": duration / seconds}


def stage_speed(checkpoint: Path, path: str, preprocessing: dict, repeats: int) -> dict[str, float]:
    """Median seconds spent in the ``rvq_tokenize`` stage over a whole file, and its real-time factor."""
    config = {**preprocessing, "source": {**preprocessing["source"], "path": path}}
    config["stages"] = [*preprocessing["stages"], {"type": "rvq_tokenize", "checkpoint": str(checkpoint)}]
    runs = []
    for _ in range(repeats):
        summary = build_pipeline(config).run()
        runs.append(
            (summary.stage_seconds[f"{len(config['stages']) - 1}:rvq_tokenize"], summary.stream_seconds)
        )
    seconds = float(np.median([r[0] for r in runs]))
    return {"seconds": seconds, "realtime": runs[0][1] / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(ROOT / "out" / "rvq"), help="the rvq_train job's out_dir")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for the speed runs")
    args = parser.parse_args()
    job = build_job(PIPELINE, [f"job.out_dir={args.out_dir}"])
    out = Path(args.out_dir)
    if not (out / "rvq" / "model.pt").is_file() or not (out / "single" / "model.pt").is_file():
        print(f"no trained models in {out}; running {PIPELINE.name} (≤ 30 min) ...")
        job.run(progress=True)
    models = {
        "rvq": Tokenizer.load(out / "rvq" / "model.pt"),
        "single": Tokenizer.load(out / "single" / "model.pt"),
    }
    held_files = expand_files(job.held_out_files, "held_out_files")
    held = [job.prepare(f, 200) for f in held_files]
    torch.set_num_threads(1)
    results = {name: evaluate(tok, [(r.data, r.sfreq) for r in held]) for name, tok in models.items()}

    band_rows = []
    for band in BANDS:
        r, s = results["rvq"]["bands"][band], results["single"]["bands"][band]
        band_rows.append({
            "band": band,
            "RVQ PCC": r["pcc"], "single VQ PCC": s["pcc"],
            "RVQ NMSE": r["nmse"], "single VQ NMSE": s["nmse"],
            "NMSE ratio (RVQ/single)": r["nmse"] / s["nmse"],
            "RVQ better": bool(r["pcc"] > s["pcc"] and r["nmse"] < s["nmse"]),
        })  # fmt: skip
    print(markdown_table(band_rows), "\n")

    pre = job.preprocessing or DEFAULT_PREPROCESSING
    continuous = preprocess(held_files[0], pre)
    torch.set_num_threads(args.threads)
    rows = []
    for name, tok in models.items():
        usage = np.array(results[name]["usage"]["fraction"])
        speed = encode_speed(tok, continuous.data, continuous.info.sfreq, args.repeats)
        stage = stage_speed(out / name / "model.pt", held_files[0], pre, max(1, args.repeats // 2))
        rows.append({
            "tokenizer": name,
            "bits/s/channel": tok.bitrate()["bits_per_second_per_channel"],
            "codes/patch": tok.config.codes_per_patch,
            "broadband PCC": results[name]["bands"]["broadband"]["pcc"],
            "broadband NMSE": results[name]["bands"]["broadband"]["nmse"],
            "min usage per level": float(usage.min()),
            "levels > 50% used": f"{int((usage.min(axis=0) > 0.5).sum())}/{usage.shape[1]}",
            "encode x real time (64 ch)": speed["realtime"],
            "stage x real time (64 ch)": stage["realtime"],
        })  # fmt: skip
    save(
        "rvq",
        rows,
        bands=band_rows,
        held_out=[Path(f).name for f in held_files],
        evaluation=results,
        speed_recording={
            "file": Path(held_files[0]).name,
            "channels": int(continuous.data.shape[0]),
            "seconds": continuous.data.shape[1] / continuous.info.sfreq,
            "threads": args.threads,
        },
        targets={
            "rvq_better_every_band": all(r["RVQ better"] for r in band_rows),
            "usage_over_50pct_every_level": bool(rows[0]["min usage per level"] > 0.5),
            "encode_at_least_50x_realtime": bool(rows[0]["encode x real time (64 ch)"] >= 50),
        },
        command="python benchmarks/bench_rvq.py " + " ".join(sys.argv[1:]),
    )  # fmt: skip


if __name__ == "__main__":
    main()
