"""FASTER per-step time against mne-faster on every eegmmidb S001 run, with equal decisions.

Both sides get the same 2-s fixed-length epochs (64 EEG channels, 160 Hz) and run in one process,
interleaved repeat by repeat so that both see the same machine load. Ours runs with
``metrics="mne-faster"``; every decision (per step and metric) is compared with mne-faster's. Step 3
scores the components of one shared, seeded ICA (the fit itself is not timed: it is the same MNE
call for both). Medians over repeats; ratios = mne-faster time / ours. Writes
``benchmarks/results/faster.json`` and prints a markdown table.

Run: ``.venv/bin/python benchmarks/bench_faster.py [--repeats 7] [--runs 1 2 ...]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from neurosig.eeg import faster as F

try:
    from _common import save
except ImportError:  # run as a module from the repository root
    from benchmarks._common import save

SHARED = (
    Path(os.environ.get("NEUROSIG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    / "eeg"
    / "eegmmidb"
    / "S001"
)
COMPONENT_METRICS = ["kurtosis", "power_gradient", "hurst", "median_gradient", "line_noise"]


def load(run: int):
    import mne

    raw = mne.io.read_raw_edf(SHARED / f"S001R{run:02d}.edf", preload=True, verbose="error")
    mne.datasets.eegbci.standardize(raw)
    raw.set_montage("standard_1005", verbose="error")
    return mne.make_fixed_length_epochs(raw, duration=2.0, preload=True, verbose="error")


def steps(epochs, ica):
    """(ours, theirs, same-decision check) per step, each a zero-argument callable."""
    import mne_faster

    sfreq, names = epochs.info["sfreq"], epochs.ch_names

    def data():
        return epochs.get_data(picks="eeg")

    def names_of(mask):
        return sorted(names[i] for i in np.flatnonzero(mask))

    return {
        "1 channels": (
            lambda: F.find_bad_channels(data(), sfreq, names, "mne-faster"),
            lambda: mne_faster.find_bad_channels(epochs, return_by_metric=True),
            lambda o, t: all(sorted(t[m]) == names_of(o.flags[m]) for m in t),
        ),
        "2 epochs": (
            lambda: F.find_bad_epochs(data(), None, "mne-faster"),
            lambda: mne_faster.find_bad_epochs(epochs, return_by_metric=True),
            lambda o, t: all(sorted(t[m]) == np.flatnonzero(o.flags[m]).tolist() for m in t),
        ),
        "3 components": (
            lambda: F.find_bad_components_ica(ica, epochs, "mne-faster"),
            lambda: mne_faster.find_bad_components(
                ica, epochs, use_metrics=COMPONENT_METRICS, return_by_metric=True
            ),
            lambda o, t: all(sorted(t[m]) == np.flatnonzero(o.flags[m]).tolist() for m in t),
        ),
        "4 channels in epochs": (
            lambda: F.find_bad_channels_in_epochs(data(), sfreq, names, "mne-faster"),
            lambda: mne_faster.find_bad_channels_in_epochs(epochs, return_by_metric=True),
            lambda o, t: all([sorted(x) for x in t[m]] == [names_of(row) for row in o.flags[m]] for m in t),
        ),
    }


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    import mne

    mne.set_log_level("error")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--runs", type=int, nargs="*", default=list(range(1, 15)))
    parser.add_argument("--ica-components", type=int, default=20)
    args = parser.parse_args()

    rows, per_step = [], {}
    for run in args.runs:
        epochs = load(run)
        ica = F.fit_ica(epochs, epochs.ch_names, n_components=args.ica_components, random_state=0)
        row = {"run": f"S001R{run:02d}", "epochs": len(epochs)}
        total_ours = total_theirs = 0.0
        for name, (ours, theirs, same) in steps(epochs, ica).items():
            ours(), theirs()  # warm-up (Numba compilation, caches)
            t_o, t_t = [], []
            for _ in range(args.repeats):
                dt, o = timed(ours)
                t_o.append(dt)
                dt, t = timed(theirs)
                t_t.append(dt)
            equal = bool(same(o, t))
            mo, mt = statistics.median(t_o), statistics.median(t_t)
            per_step.setdefault(name, []).append((mo, mt, equal))
            row[f"{name} ours s"] = mo
            row[f"{name} mne-faster s"] = mt
            row[f"{name} equal"] = equal
            if name != "3 components":
                total_ours += mo
                total_theirs += mt
        row["steps 1+2+4 ours s"] = total_ours
        row["steps 1+2+4 mne-faster s"] = total_theirs
        row["steps 1+2+4 speed-up"] = total_theirs / total_ours
        rows.append(row)
        print(f"{row['run']}: steps 1+2+4 {total_ours:.3f} s vs {total_theirs:.3f} s", flush=True)

    summary = []
    for name, vals in per_step.items():
        ours = float(np.median([v[0] for v in vals]))
        theirs = float(np.median([v[1] for v in vals]))
        summary.append(
            {
                "step": name,
                "ours s (median over runs)": ours,
                "mne-faster s": theirs,
                "speed-up": theirs / ours,
                "equal decisions": f"{sum(v[2] for v in vals)}/{len(vals)}",
            }
        )
    ours124 = float(np.median([r["steps 1+2+4 ours s"] for r in rows]))
    theirs124 = float(np.median([r["steps 1+2+4 mne-faster s"] for r in rows]))
    summary.append(
        {
            "step": "1+2+4 combined",
            "ours s (median over runs)": ours124,
            "mne-faster s": theirs124,
            "speed-up": theirs124 / ours124,
            "equal decisions": f"{sum(all(r[f'{s} equal'] for s in per_step) for r in rows)}/{len(rows)} "
            "runs",
        }
    )
    save(
        "faster",
        summary,
        runs=rows,
        repeats=args.repeats,
        ica_components=args.ica_components,
        note="2-s fixed-length epochs of each eegmmidb S001 run; ours with metrics='mne-faster'; "
        "step 3 scores one shared seeded ICA (fit not timed); ratios are mne-faster / ours.",
    )


if __name__ == "__main__":
    main()
