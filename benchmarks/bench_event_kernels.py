"""Event kernels against tonic 1.7 on the shared 539k-event EVT2 sample (640x480), in one run.

For each transform: tonic's functional implementation and ours on the same events, median wall time over
repeats, throughput in million events per second (Mev/s) and the ratio ours/tonic. Ours is timed on
one thread, and on two threads each processing its own copy of the recording at once (the kernels
release the GIL); tonic is single-threaded Python. The first call of each of our kernels (Numba compile
or cache load) is timed separately and excluded from the medians. When a real GPU is present, the CUDA
twins are timed on device-resident arrays too.

Medians are the headline figures; the best of the repeats is recorded too, because on a shared,
oversubscribed machine a run of a few milliseconds is often pre-empted for whole scheduler slices.

Run: ``.venv/bin/python benchmarks/bench_event_kernels.py [--repeats N] [--only NAMES] [--out FILE]``;
writes ``benchmarks/results/event_kernels.json`` (or ``FILE``) and prints a markdown table. ``--quick``
times only ToFrame and the voxel grid (the rows with the 10x target), 21 rounds, in a few seconds, and
writes ``event_kernels_quick.json`` so that the full table stays.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tonic
import tonic.functional as TF

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu  # noqa: E402

from neurosig.core.chunks import EVENTS_DTYPE  # noqa: E402
from neurosig.kernels import event_filters as EF  # noqa: E402
from neurosig.kernels import event_repr as ER  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path(os.environ.get("NEUROSIG_SHARED_DATA", ROOT.parent / "shared" / "data")) / "events"
SAMPLE = SAMPLE / "expelliarmus_evt2_sample.raw"
SIZE = (640, 480, 2)
OUT = ROOT / "benchmarks" / "results" / "event_kernels.json"
QUICK_OUT = OUT.with_name("event_kernels_quick.json")
QUICK_ONLY = "ToFrame,ToVoxelGrid"


def load_events() -> np.ndarray:
    """The EVT2 sample as EVENTS_DTYPE (neurosig's reader when present, else expelliarmus)."""
    try:
        from neurosig.io.events import read_events
    except ImportError:
        from expelliarmus import Wizard

        raw = Wizard(encoding="evt2").read(str(SAMPLE))
        events = np.empty(len(raw), dtype=EVENTS_DTYPE)
        for name in EVENTS_DTYPE.names:
            events[name] = raw[name]
        return events
    return read_events(SAMPLE).events


def as_tonic(events: np.ndarray) -> np.ndarray:
    out = np.empty(len(events), dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])
    for name in EVENTS_DTYPE.names:
        out[name] = events[name]
    return out


def timed(fn, arg) -> float:
    t0 = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t0


def timed_two_threads(pool: ThreadPoolExecutor, fn, copies: list[np.ndarray]) -> float:
    """Wall time for two threads each running ``fn`` on its own copy of the events."""
    t0 = time.perf_counter()
    list(pool.map(fn, copies))
    return time.perf_counter() - t0


def interleaved(tonic_fn, our_fn, events: np.ndarray, repeats: int, pool: ThreadPoolExecutor):
    """(median, best) seconds of tonic, ours on one thread and ours on two threads, taken in
    alternation so that all three see the same machine load (this machine is shared)."""
    copies = [events.copy(), events.copy()]
    tonic_s, ours_1, ours_2 = [], [], []
    for _ in range(repeats):
        if tonic_fn is not None:
            tonic_s.append(timed(tonic_fn, as_tonic(events)))
        ours_1.append(timed(our_fn, events))
        ours_2.append(timed_two_threads(pool, our_fn, copies))
    med = statistics.median
    return {
        "tonic": (med(tonic_s), min(tonic_s)) if tonic_s else (None, None),
        "ours_1t": (med(ours_1), min(ours_1)),
        "ours_2t": (med(ours_2), min(ours_2)),
    }


CASES = [
    # name, tonic call, our call, target ratio
    (
        "Denoise(filter_time=10 ms), 4 neighbours",
        lambda e: TF.denoise_numpy(e, filter_time=10_000),
        lambda e: EF.denoise(e, SIZE, 10_000, neighbours=4),
        100,
    ),
    (
        "Denoise(filter_time=10 ms), 8 neighbours (ours only)",
        lambda e: TF.denoise_numpy(e, filter_time=10_000),
        lambda e: EF.denoise(e, SIZE, 10_000, neighbours=8),
        100,
    ),
    (
        "RefractoryPeriod(1 ms)",
        lambda e: TF.refractory_period_numpy(e, refractory_period=1_000),
        lambda e: EF.refractory_period(e, SIZE, 1_000),
        100,
    ),
    (
        "ToFrame(n_time_bins=10)",
        lambda e: TF.to_frame_numpy(e, SIZE, n_time_bins=10),
        lambda e: ER.to_frame(e, SIZE, n_time_bins=10),
        10,
    ),
    (
        "ToVoxelGrid(n_time_bins=10)",
        lambda e: TF.to_voxel_grid_numpy(e, SIZE, n_time_bins=10),
        lambda e: ER.to_voxel_grid(e, SIZE, 10),
        10,
    ),
    (
        "ToTimesurface(dt=5 ms, tau=5 ms)",
        lambda e: TF.to_timesurface_numpy(e, SIZE, dt=5_000, tau=5_000.0),
        lambda e: ER.to_time_surface(e, SIZE, 5_000, 5_000.0),
        10,
    ),
    # tonic 1.7 has no per-event local time surface (its ToAveragedTimesurface is HATS, another
    # quantity): our throughput only, no anchor and no target.
    (
        "Local time surfaces(radius=2, tau=5 ms) (no anchor)",
        None,
        lambda e: ER.to_local_time_surfaces(e, SIZE, 2, 5_000.0),
        None,
    ),
]


def gpu_rows(events: np.ndarray, repeats: int) -> list[dict]:
    """Time the CUDA twins on device-resident field arrays (synchronised), when a real GPU exists."""
    from numba import cuda

    t, x, y, p = (cuda.to_device(np.ascontiguousarray(events[k])) for k in "txyp")
    t0, span = int(events["t"][0]), int(events["t"][-1]) - int(events["t"][0])
    w, h, n_pol = SIZE

    def run(fn):
        fn()
        cuda.synchronize()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            cuda.synchronize()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    n_surf = span // 5_000
    calls = {
        "Denoise, 4 neighbours": lambda: EF.denoise_mask(
            t, x, y, w, 10_000, 4, cuda.to_device(EF.new_pixel_state(SIZE))
        ),
        "RefractoryPeriod(1 ms)": lambda: EF.refractory_mask(
            t, x, y, w, 1_000, cuda.to_device(EF.new_pixel_state(SIZE))
        ),
        "ToFrame(n_time_bins=10)": lambda: ER.accumulate_frames_by_time(
            t, x, y, p, t0, 10, span, cuda.device_array((10, n_pol, h, w), np.int32), True
        ),
        "ToVoxelGrid(n_time_bins=10)": lambda: ER.accumulate_voxel_grid(
            t, x, y, p, t0, span, cuda.device_array((10, 1, h, w), np.float32)
        ),
        "ToTimesurface(dt=5 ms, tau=5 ms)": lambda: ER.fill_time_surfaces(
            t,
            x,
            y,
            p,
            t0,
            5_000,
            5_000.0,
            0,
            cuda.to_device(np.full((n_pol, h, w), EF.NEVER)),
            cuda.device_array((n_surf, n_pol, h, w), np.float32),
        ),
        "Local time surfaces(radius=2, tau=5 ms)": lambda: ER.fill_local_time_surfaces(
            t,
            x,
            y,
            p,
            2,
            5_000.0,
            cuda.to_device(np.full((n_pol, h, w), EF.NEVER)),
            cuda.device_array((len(events), n_pol, 5, 5), np.float32),
        ),
    }
    return [
        {"op": name, "gpu_s": (s := run(fn)), "gpu_mev_s": len(events) / s / 1e6}
        for name, fn in calls.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 5; 21 with --quick)")
    parser.add_argument("--only", help="comma-separated prefixes of the transforms to time (default all)")
    parser.add_argument("--quick", action="store_true", help=f"--only {QUICK_ONLY} --repeats 21")
    parser.add_argument("--out", type=Path, help=f"JSON to write (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args()
    only = args.only or (QUICK_ONLY if args.quick else None)
    args.repeats = args.repeats or (21 if args.quick else 5)
    args.out = args.out or (QUICK_OUT if args.quick else OUT)
    cases = [c for c in CASES if only is None or any(c[0].startswith(o) for o in only.split(","))]
    events = load_events()
    n = len(events)
    rows = []
    pool = ThreadPoolExecutor(2)
    for name, tonic_fn, our_fn, target in cases:
        t_first = time.perf_counter()
        our_fn(events)
        warmup = time.perf_counter() - t_first
        ours_only = name.endswith("(ours only)")
        got = interleaved(None if ours_only else tonic_fn, our_fn, events, args.repeats, pool)
        (tonic_s, tonic_best) = (
            (rows[-1]["tonic_s"], rows[-1]["tonic_best_s"]) if ours_only and rows else got["tonic"]
        )
        (ours_1, best_1), (ours_2, _) = got["ours_1t"], got["ours_2t"]
        anchored = tonic_s is not None
        rows.append(
            {
                "op": name,
                "tonic_s": tonic_s,
                "tonic_best_s": tonic_best,
                "tonic_mev_s": n / tonic_s / 1e6 if anchored else None,
                "ours_1t_s": ours_1,
                "ours_1t_best_s": best_1,
                "ours_1t_mev_s": n / ours_1 / 1e6,
                "ours_2t_s": ours_2,
                "ours_2t_mev_s": 2 * n / ours_2 / 1e6,
                "ratio_1t": tonic_s / ours_1 if anchored else None,
                "ratio_2t": (2 * n / ours_2) / (n / tonic_s) if anchored else None,
                "ratio_1t_best": tonic_best / best_1 if anchored else None,
                "target_ratio": target,
                "numba_first_call_s": warmup,
            }
        )
    pool.shutdown()
    gpu = None
    from neurosig.kernels._numba import cuda_enabled

    if cuda_enabled() and os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        gpu = gpu_rows(events, args.repeats)
    result = {
        "sample": SAMPLE.name,
        "n_events": n,
        "sensor_size": list(SIZE),
        "repeats": args.repeats,
        "tonic_version": tonic.__version__,
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores".strip(),
        "cpu": cpu(),
        "load_average_1min": os.getloadavg()[0],
        "command": "python benchmarks/bench_event_kernels.py " + " ".join(sys.argv[1:]),
        "rows": rows,
        "gpu": gpu,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{n} events, {SIZE[0]}x{SIZE[1]}, median of {args.repeats} (tonic {tonic.__version__}), "
        f"{result['cpu']['cpu_model']}, load average {result['load_average_1min']:.2f}\n"
    )
    header = [
        "transform",
        "tonic Mev/s",
        "ours 1 thread Mev/s",
        "ours 2 threads Mev/s",
        "ratio 1t",
        "ratio 2t",
        "ratio 1t, best of repeats",
        "target",
        "first call s",
    ]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")

    def fmt(value, spec: str) -> str:
        return "–" if value is None else format(value, spec)

    for r in rows:
        cells = [
            r["op"],
            fmt(r["tonic_mev_s"], ".2f"),
            f"{r['ours_1t_mev_s']:.1f}",
            f"{r['ours_2t_mev_s']:.1f}",
            fmt(r["ratio_1t"], ".0f") + ("x" if r["ratio_1t"] is not None else ""),
            fmt(r["ratio_2t"], ".0f") + ("x" if r["ratio_2t"] is not None else ""),
            fmt(r["ratio_1t_best"], ".0f") + ("x" if r["ratio_1t_best"] is not None else ""),
            fmt(r["target_ratio"], "") + ("x" if r["target_ratio"] is not None else ""),
            f"{r['numba_first_call_s']:.2f}",
        ]
        print("| " + " | ".join(cells) + " |")
    if gpu:
        print("\n| CUDA twin | GPU Mev/s |\n|---|---|")
        for r in gpu:
            print(f"| {r['op']} | {r['gpu_mev_s']:.0f} |")


if __name__ == "__main__":
    main()
