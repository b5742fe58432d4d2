"""BCI decoding benchmark: time per fold per model, results tables, and MOABB side by side.

Three parts, in one process on this CPU (one torch and one BLAS thread):

1. **Simulator** (``neurosig.data.simulated``): within-subject 5-fold accuracy and median training +
   evaluation seconds per fold for the five networks and the two baselines.
2. **PhysioNet S001** (runs 4/8/12 from ``../shared/data``; skipped when absent): the same table.
3. **Anchor**: MOABB's ``WithinSessionEvaluation`` and ours on the very same trials (MOABB's
   ``PhysionetMI`` S001 loaded offline from the shared files), with CSP+LDA, tangent space + LR and our
   EEGNet classifier (which MOABB accepts unchanged): accuracies and the wall-time ratio of the whole
   evaluation, median over repeats.

Writes ``benchmarks/results/bci.json`` and prints markdown tables.

    .venv/bin/python benchmarks/bench_bci.py --s001-resample 80 --repeats 2   # ~20 min, 2 shared cores
    .venv/bin/python benchmarks/bench_bci.py                 # S001 at 160 Hz: over 40 minutes
    .venv/bin/python benchmarks/bench_bci.py --epochs 5 --repeats 1 --skip-anchor   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from neurosig.bci.evaluation import evaluate
from neurosig.bci.metrics import summarise
from neurosig.bci.pipelines import PIPELINE_NAMES, make_pipeline
from neurosig.bci.protocols import make_folds
from neurosig.data.dataset import EpochsSet

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEUROSIG_SHARED_DATA", ROOT.parent / "shared" / "data"))
S001 = SHARED / "eeg" / "eegmmidb" / "S001"


def _table(data: EpochsSet, training: dict, names, seed: int = 0) -> list[dict]:
    pipes = {
        n: (
            lambda s, n=n: make_pipeline(
                n, data.sfreq, data.ch_names, [{"type": "average_reference"}], training, s
            )
        )
        for n in names
    }
    records, _ = evaluate(data, pipes, make_folds(data, "within_subject", 5, seed), progress=True)
    rows = []
    for row in summarise(records):
        rs = [r for r in records if r["pipeline"] == row["pipeline"]]
        rows.append(
            {
                "pipeline": row["pipeline"],
                "accuracy": row["accuracy"],
                "accuracy_sd": row["accuracy_sd"],
                "kappa": row["kappa"],
                "n_subjects": row["n_subjects"],
                "n_folds": len(rs),
                "fit_seconds_median": float(np.median([r["fit_seconds"] for r in rs])),
                "predict_seconds_median": float(np.median([r["predict_seconds"] for r in rs])),
            }
        )
    return rows


def _print_table(title: str, rows: list[dict]) -> None:
    print(f"\n### {title}\n")
    print("| pipeline | accuracy (%) | kappa | train s / fold (median) | predict s / fold |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['pipeline']} | {100 * r['accuracy']:.1f} ± {100 * r['accuracy_sd']:.1f} | "
            f"{r['kappa']:.2f} | {r['fit_seconds_median']:.2f} | {r['predict_seconds_median']:.3f} |"
        )


def _eegbci_root(tmp: Path, runs) -> Path:
    from neurosig.data.eegbci import eegbci_file

    for run in runs:
        target = eegbci_file(tmp, 1, run)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.symlink_to(S001 / f"S001R{run:02d}.edf")
    return tmp


def _anchor(tmp: Path, training: dict, repeats: int) -> dict:
    """MOABB's WithinSessionEvaluation vs ours on MOABB's own S001 trials."""
    from moabb.datasets import PhysionetMI
    from moabb.evaluations import WithinSessionEvaluation
    from moabb.paradigms import LeftRightImagery

    from neurosig.data.moabb_data import load_moabb

    _eegbci_root(tmp, range(1, 15))
    os.environ["MNE_DATASETS_EEGBCI_PATH"] = str(tmp)
    os.environ["MOABB_DOWNLOAD_PROVIDER"] = "upstream"  # the local MNE layout; no NEMAR look-ups
    dataset = PhysionetMI(imagined=True)
    dataset.subject_list = [1]
    paradigm = LeftRightImagery(fmin=1.0, fmax=45.0, tmin=0.0, tmax=None, scorer="accuracy")

    def load() -> EpochsSet:
        return load_moabb(
            "PhysionetMI", "LeftRightImagery", [1], 1.0, 45.0, 0.0, None, dataset_options={"imagined": True}
        )

    data = load()
    names = ("csp_lda", "ts_lr", "eegnet")
    pipes = {n: make_pipeline(n, data.sfreq, data.ch_names, (), training, 0) for n in names}
    theirs, ours, moabb_acc = [], [], {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        evaluation = WithinSessionEvaluation(
            paradigm=paradigm,
            datasets=[dataset],
            overwrite=True,
            hdf5_path=str(tmp / "moabb_results"),
            n_jobs=1,
        )
        result = evaluation.process(pipes)
        theirs.append(time.perf_counter() - t0)
        moabb_acc = {n: float(result[result["pipeline"] == n]["score"].mean()) for n in names}
        t0 = time.perf_counter()
        data = load()
        factories = {
            n: (lambda s, n=n, d=data: make_pipeline(n, d.sfreq, d.ch_names, (), training, s)) for n in names
        }
        records, _ = evaluate(data, factories, make_folds(data, "within_subject", 5, 0))
        ours.append(time.perf_counter() - t0)
    ours_acc = {r["pipeline"]: r["accuracy"] for r in summarise(records)}
    return {
        "data": data.describe(),
        "note": (
            "Both load S001 through MOABB's paradigm inside the timed block and score accuracy "
            "over 5 stratified folds; MOABB's folds are its own, so accuracies differ by fold luck."
        ),
        "moabb_seconds_median": float(np.median(theirs)),
        "ours_seconds_median": float(np.median(ours)),
        "ratio_ours_over_moabb": float(np.median(ours) / np.median(theirs)),
        "moabb_accuracy": moabb_acc,
        "ours_accuracy": ours_acc,
        "repeats": repeats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="training epochs of the networks")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the anchor comparison")
    parser.add_argument("--skip-s001", action="store_true", help="skip the S001 table (the slow part)")
    parser.add_argument(
        "--s001-resample",
        type=float,
        default=None,
        help="resample S001 (Hz) before the table; default: its 160 Hz",
    )
    parser.add_argument("--skip-anchor", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bci.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    training = {"epochs": args.epochs, "batch_size": 32, "lr": 1e-3, "validation": 0.0}
    results: dict = {
        "machine": {**machine(), "torch": torch.__version__, "threads": 1},
        "settings": {
            "training": training,
            "folds": 5,
            "protocol": "within_subject",
            "preprocessing": ["average_reference"],
        },
    }
    with threadpool_limits(1), tempfile.TemporaryDirectory() as tmp:
        from neurosig.data.simulated import load_simulated

        sim = load_simulated(
            n_subjects=2,
            n_trials=60,
            sfreq=128.0,
            n_channels=19,
            mi_effect=0.8,
            tmin=0.5,
            tmax=2.5,
            l_freq=4.0,
            h_freq=40.0,
        )
        results["simulated"] = {"data": sim.describe(), "rows": _table(sim, training, PIPELINE_NAMES)}
        _print_table(f"Simulated MI ({sim.describe()})", results["simulated"]["rows"])
        if S001.is_dir() and not args.skip_s001:
            from neurosig.data.eegbci import load_eegbci

            s001 = load_eegbci(
                [1],
                path=str(_eegbci_root(Path(tmp), (4, 8, 12))),
                l_freq=1.0,
                h_freq=45.0,
                resample=args.s001_resample,
            )
            results["s001"] = {"data": s001.describe(), "rows": _table(s001, training, PIPELINE_NAMES)}
            _print_table(f"PhysioNet S001, runs 4/8/12 ({s001.describe()})", results["s001"]["rows"])
        if not args.skip_anchor and S001.is_dir():
            anchor = _anchor(Path(tmp), training, args.repeats)
            results["anchor_moabb"] = anchor
            print("\n### MOABB WithinSessionEvaluation vs neurosig on PhysionetMI S001\n")
            print("| | MOABB | neurosig | ratio (ours / MOABB) |\n|---|---:|---:|---:|")
            print(
                f"| wall seconds (median of {anchor['repeats']}) | {anchor['moabb_seconds_median']:.1f} | "
                f"{anchor['ours_seconds_median']:.1f} | {anchor['ratio_ours_over_moabb']:.2f} |"
            )
            for n, acc in anchor["moabb_accuracy"].items():
                print(f"| {n}: accuracy | {acc:.3f} | {anchor['ours_accuracy'].get(n, float('nan')):.3f} | |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
