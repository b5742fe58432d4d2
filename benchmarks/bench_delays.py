"""Learnable delays against DCLS 0.1.1, event-driven inference against dense convolution, FEAST speed.

1. Training step: forward + backward of :class:`neurosig.snn.delays.DelayedSynapses` and of
   ``DCLS.construct.modules.Dcls1d`` (version ``gauss``) with the same parameters on the SHD
   configuration (batch 64, T = 100, 140 -> 256, 25 delay taps), on 2 torch threads; outputs compared.
2. Inference with rounded delays on SHD-like spikes (5 % density): the dense causal convolution
   (our layer after ``round_delays()``, torch, 2 threads, its kernel built once) against the
   event-driven Numba kernel (batch rows in parallel on Numba's default threads, 2 here), with the
   synapse tables prepared once (``EventDrivenDelays``) and as a one-shot ``delayed_scatter`` call
   that validates and builds them each time, and from the same spikes listed as ``(row, step,
   input)`` events (``EventDrivenDelays.apply_events``: the form SHD stores, nothing sized by
   ``T x in``; the listing, like the dense side's tensor, is made before timing); outputs compared.
3. The same inference across spike densities (1 % to 50 %), prepared synapses against the dense
   convolution, so that the event-driven cost can be seen to grow with the spikes while the dense
   one stays flat: ``benchmarks/results/delays_density.png``. Beside the default (each batch row
   pulled or scattered by its density), every row pulled and every row scattered (``pull_density``
   0 and inf): where those two cross sets ``neurosig.kernels.delays.PULL_DENSITY`` (in the JSON).
4. FEAST (8 neurons, 7x7 context) on oriented moving edges: events per second while learning.
5. The floor: what one scattered add costs on this CPU, by loop (a plain store, a load-add-store,
   a pair of them from one table load, and 16 at a time with vector gather and scatter), in ns and in
   cycles at the measured clock (``scatter_floor`` in the JSON; see ``_delay_floor.py``); and what the
   vectorised alternative, pulling each output's steps from every input's delayed spike train 16
   steps per vector op (fused multiply-adds on float spikes, or AVX-512 masked adds on spike bits),
   costs per output-input pair and per add the event kernel would do (``pull_floor``).

Medians over repeats after a warm-up (Numba compilation excluded). The two sides of each ratio
are timed in alternation, round by round, and the ratio is the median over rounds of the two sides
timed seconds apart, so that load changes on a shared machine cancel out. Times are of calls in
steady use (back-to-back, as when a test set is evaluated batch after batch); each side's first
call after 0.3 s of idling, which on the benchmark VM includes waking the idle core, is reported
beside them (see ``interleaved_timings``). When a CUDA GPU is present, the CUDA twin is timed
too, from the spike tensor and from its events, all on the GPU.

Every inference row also gives the synapse adds the event-driven side performs (those that land
before the output's end) and its wall time per add on its 2 threads (``ns_per_add``). The JSON records
the CPU capability torch dispatched to (``torch_cpu_capability``: AVX512 on CPUs that have it).

Run: ``.venv/bin/python benchmarks/bench_delays.py [--repeats N]``; writes
``benchmarks/results/delays.json`` and prints a markdown table. With ``ATEN_CPU_CAPABILITY=avx2`` (or
another level) in the environment, torch's kernels are limited to that level and the results go to
``benchmarks/results/delays_aten_avx2.json``, so that the ratio can be given with and without AVX-512
on one machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402
from _delay_floor import pull_floor, scatter_floor  # noqa: E402

from neurosig.core.figures import save_figure, subplots  # noqa: E402
from neurosig.kernels._numba import cuda_enabled  # noqa: E402
from neurosig.kernels.delays import EventDrivenDelays, delayed_scatter  # noqa: E402
from neurosig.snn.delays import DelayedSynapses  # noqa: E402
from neurosig.snn.feast import Feast  # noqa: E402
from neurosig.snn.synthetic import moving_edges  # noqa: E402

BATCH, T, N_IN, N_OUT, K, DENSITY = 64, 100, 140, 256, 25, 0.05
SWEEP_DENSITIES = (0.01, 0.02, 0.05, 0.08, 0.1, 0.2, 0.5)


@dataclass
class Timing:
    """One function's timings: per round, the median of its back-to-back calls and its first call."""

    rounds: list[float]
    first: list[float]

    @property
    def seconds(self) -> float:
        """Median seconds of a call in steady use."""
        return statistics.median(self.rounds)

    @property
    def first_seconds(self) -> float:
        """Median seconds of a first call after idling."""
        return statistics.median(self.first)

    def speedup_over(self, anchor: Timing) -> float:
        """Median over rounds of ``anchor / self``: each round's two sides ran seconds apart, so a
        change in the machine's speed between rounds cancels out of the ratio."""
        return statistics.median(a / o for a, o in zip(anchor.rounds, self.rounds, strict=True))


def interleaved_timings(
    fns: list[Callable[[], object]], repeats: int, number: int = 5, pause: float = 0.3
) -> list[Timing]:
    """Time the functions in alternation, ``repeats`` rounds of ``number`` back-to-back calls each.

    In a round, every function in turn idles ``pause`` seconds, makes one first call, then the
    ``number`` timed calls. The pause keeps torch's OpenMP workers, which spin for a while after a
    parallel region, from slowing whatever runs next. The first call after idling pays the machine's
    wake-up: on the 2-core benchmark VM an empty Numba parallel loop takes up to 8 ms after 0.3 s idle
    against 2 µs in use, which would be most of a 3 ms call. Ratios use the calls in steady use,
    round by round; the first calls are reported beside them.
    """
    for fn in fns:
        fn()
    timings = [Timing([], []) for _ in fns]
    for _ in range(repeats):
        for fn, timing in zip(fns, timings, strict=True):
            time.sleep(pause)
            calls = []
            for _ in range(number + 1):
                t0 = time.perf_counter()
                fn()
                calls.append(time.perf_counter() - t0)
            timing.first.append(calls[0])
            timing.rounds.append(statistics.median(calls[1:]))
    return timings


def _ratio_row(
    task: str,
    ours: Timing,
    anchor_name: str,
    anchor: Timing,
    diff: float,
    events: float | None,
    adds: int | None = None,
):
    speedup = ours.speedup_over(anchor)
    return {
        "task": task,
        "ours_ms": 1e3 * ours.seconds,
        "anchor": anchor_name,
        "anchor_ms": 1e3 * anchor.seconds,
        "ours/anchor": 1 / speedup,
        "speedup": speedup,
        "max_abs_diff": diff,
        "events_per_s": None if events is None else events / ours.seconds,
        "first_call_ms": 1e3 * ours.first_seconds,
        "anchor_first_call_ms": 1e3 * anchor.first_seconds,
        "adds": adds,
        "ns_per_add": None if adds is None else 1e9 * ours.seconds / adds,
    }


def bench_training(repeats: int) -> dict:
    from DCLS.construct.modules import Dcls1d

    ours = DelayedSynapses(N_IN, N_OUT, kernel_size=K, seed=0)
    ref = Dcls1d(N_IN, N_OUT, kernel_count=1, dilated_kernel_size=K, bias=False, version="gauss")
    with torch.no_grad():
        ref.weight.copy_(ours.weight.unsqueeze(-1))
        ref.P.copy_(ours.P[None, :, :, None])
        ref.SIG.copy_(ours.SIG[None, :, :, None])
    x = (torch.rand(T, BATCH, N_IN, generator=torch.Generator().manual_seed(0)) < DENSITY).float()

    def run_ours():
        ours.zero_grad()
        ours(x).sum().backward()

    def run_ref():
        ref.zero_grad()
        ref(F.pad(x.permute(1, 2, 0), (K - 1, 0))).sum().backward()

    with torch.no_grad():
        diff = (ours(x) - ref(F.pad(x.permute(1, 2, 0), (K - 1, 0))).permute(2, 0, 1)).abs().max()
    ours_timing, ref_timing = interleaved_timings([run_ours, run_ref], repeats, number=1)
    return _ratio_row(
        "delay layer fwd+bwd, SHD config (64x100, 140->256, K=25)",
        ours_timing,
        "dcls 0.1.1 Dcls1d gauss",
        ref_timing,
        float(diff),
        None,
    )


def _rounded_layer() -> DelayedSynapses:
    layer = DelayedSynapses(N_IN, N_OUT, kernel_size=K, seed=0)
    layer.round_delays()
    return layer


def _spikes(density: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((BATCH, T, N_IN)) < density).astype(np.float32)


def _dense(layer: DelayedSynapses, spikes: np.ndarray) -> Callable[[], torch.Tensor]:
    """The dense causal convolution of ``spikes`` (batch, T, in), its kernel built once."""
    x = torch.from_numpy(spikes).permute(0, 2, 1).contiguous()
    kernel = layer.kernel().detach()

    @torch.no_grad()
    def dense():
        return F.conv1d(F.pad(x, (K - 1, 0)), kernel)

    return dense


def _from_events(synapses: EventDrivenDelays, spikes: np.ndarray, place=lambda a: a) -> Callable:
    """A call of ``synapses.apply_events`` on the events of ``spikes``, listed beforehand as
    ``np.nonzero`` lists them (row, step, input: the order SHD stores); ``place`` puts each array where
    the call runs (``cuda.to_device`` for the GPU)."""
    rows, steps, units = (place(a) for a in np.nonzero(spikes))

    def from_events():
        return synapses.apply_events(steps, units, T, rows=rows, n_rows=BATCH)

    return from_events


def _adds(spikes: np.ndarray, delay: np.ndarray) -> int:
    """The synapse adds event-driven inference performs on ``spikes`` (batch, T, in): for every spike
    ``(b, t, i)``, the outputs ``o`` whose delayed step ``t + delay[o, i]`` is before the end ``T``."""
    n_steps = spikes.shape[1]
    _, steps, units = np.nonzero(spikes)
    # inside[i, r]: the synapses of input i with a delay below r, for r = 0 .. T
    inside = (delay.T[:, :, None] < np.arange(n_steps + 1)).sum(axis=1)
    return int(inside[units, n_steps - steps].sum())


def _rows_against_dense(calls, timings, anchor: str, t_dense: Timing, dense_out, spikes, delay) -> list[dict]:
    """One result row per ``(task, call)``, its output compared with the dense convolution's."""
    n_spikes, adds = float(spikes.sum()), _adds(spikes, delay)
    rows = []
    for (task, call), timing in zip(calls, timings, strict=True):
        diff = float(np.abs(dense_out - _host(call())).max())
        rows.append(_ratio_row(task, timing, anchor, t_dense, diff, n_spikes, adds))
    return rows


def _host(array) -> np.ndarray:
    return array.copy_to_host() if hasattr(array, "copy_to_host") else array


def bench_inference(repeats: int) -> list[dict]:
    layer = _rounded_layer()
    spikes = _spikes(DENSITY)
    weight, delay = layer.rounded_numpy()
    dense = _dense(layer, spikes)
    dense_out = dense().permute(0, 2, 1).numpy()
    synapses = EventDrivenDelays(weight, delay)  # built once, as the dense side's kernel is
    calls = [
        (
            f"inference, rounded delays, {DENSITY:.0%} spikes (synapses prepared once)",
            lambda: synapses(spikes),
        ),
        (
            f"inference, rounded delays, {DENSITY:.0%} spikes (one call: checks + tables + scatter)",
            lambda: delayed_scatter(spikes, weight, delay),
        ),
        (
            f"inference, rounded delays, {DENSITY:.0%} spikes given as (row, step, input) events "
            "(synapses prepared once)",
            _from_events(synapses, spikes),
        ),
    ]
    t_dense, *timings = interleaved_timings([dense, *(call for _, call in calls)], repeats)
    anchor = "dense causal conv1d (torch, 2 threads; kernel built once)"
    rows = _rows_against_dense(calls, timings, anchor, t_dense, dense_out, spikes, delay)
    if cuda_enabled():
        rows.extend(_bench_cuda(synapses, spikes, dense, dense_out, repeats))
    return rows


def _bench_cuda(
    synapses: EventDrivenDelays, spikes: np.ndarray, dense, dense_out: np.ndarray, repeats: int
) -> list[dict]:
    """The CUDA twin from the spike tensor and from its events, all on the GPU, against the dense CPU
    convolution."""
    from numba import cuda

    device_spikes = cuda.to_device(spikes)
    calls = [
        (
            "inference, rounded delays, CUDA twin, from the spike tensor (on the GPU)",
            lambda: synapses(device_spikes),
        ),
        (
            "inference, rounded delays, CUDA twin, from (row, step, input) events (on the GPU)",
            _from_events(synapses, spikes, lambda a: cuda.to_device(np.ascontiguousarray(a))),
        ),
    ]

    def synchronised(fn):
        return lambda: (fn(), cuda.synchronize())

    t_dense, *timings = interleaved_timings([dense, *(synchronised(call) for _, call in calls)], repeats)
    anchor = "dense causal conv1d (torch CPU, 2 threads)"
    return _rows_against_dense(calls, timings, anchor, t_dense, dense_out, spikes, synapses.delay)


def bench_density(repeats: int) -> list[dict]:
    """Prepared event-driven inference, from the spike tensor and from its events, against the dense
    convolution at each of ``SWEEP_DENSITIES``; and from the tensor with every row pulled and with
    every row scattered (``pull_density`` 0 and inf), whose crossing sets ``PULL_DENSITY``."""
    layer = _rounded_layer()
    weight, delay = layer.rounded_numpy()
    synapses = EventDrivenDelays(weight, delay)
    pulled = EventDrivenDelays(weight, delay, pull_density=0)
    scattered = EventDrivenDelays(weight, delay, pull_density=np.inf)
    rows = []
    for density in SWEEP_DENSITIES:
        spikes = _spikes(density)
        dense = _dense(layer, spikes)
        calls = [partial(form, spikes) for form in (synapses, pulled, scattered)]
        from_events = _from_events(synapses, spikes)

        expected = dense().permute(0, 2, 1).numpy()
        diff = max(float(np.abs(expected - f()).max()) for f in (*calls, from_events))
        t_dense, t_tensor, t_pulled, t_scattered, t_events = interleaved_timings(
            [dense, *calls, from_events], repeats
        )
        rows.append(
            {
                "density": density,
                "n_spikes": int(spikes.sum()),
                "event_ms": 1e3 * t_tensor.seconds,
                "events_input_ms": 1e3 * t_events.seconds,
                "pulled_ms": 1e3 * t_pulled.seconds,
                "scattered_ms": 1e3 * t_scattered.seconds,
                "dense_ms": 1e3 * t_dense.seconds,
                "speedup": t_tensor.speedup_over(t_dense),
                "events_input_speedup": t_events.speedup_over(t_dense),
                "pull_over_scatter": t_pulled.speedup_over(t_scattered),
                "max_abs_diff": diff,
                "adds": (adds := _adds(spikes, delay)),
                "ns_per_add": 1e9 * t_tensor.seconds / adds,
                "events_input_ns_per_add": 1e9 * t_events.seconds / adds,
            }
        )
        print(
            f"density {density:.0%}: event-driven {rows[-1]['event_ms']:.2f} ms "
            f"(from events {rows[-1]['events_input_ms']:.2f} ms; all pulled {rows[-1]['pulled_ms']:.2f} ms, "
            f"all scattered {rows[-1]['scattered_ms']:.2f} ms), dense {rows[-1]['dense_ms']:.1f} ms, "
            f"{rows[-1]['speedup']:.1f}x ({rows[-1]['events_input_speedup']:.1f}x)"
        )
    return rows


def _finite_or_none(value: float) -> float | None:
    """``value``, or None for infinity (which JSON cannot hold): no row is ever pulled."""
    return value if np.isfinite(value) else None


def plot_density(rows: list[dict], path: Path) -> None:
    """Times against spike density (log-log) and the speed-up, with the crossover marked."""
    density = np.array([r["density"] for r in rows]) * 100
    event = np.array([r["event_ms"] for r in rows])
    events_input = np.array([r["events_input_ms"] for r in rows])
    dense = np.array([r["dense_ms"] for r in rows])
    speedup = np.array([r["speedup"] for r in rows])
    events_speedup = np.array([r["events_input_speedup"] for r in rows])
    fig, (ax_t, ax_r) = subplots(1, 2, figsize=(10, 4), layout="constrained")
    ax_t.loglog(density, dense, "o-", label="dense causal conv1d (torch)")
    ax_t.loglog(density, event, "s-", label="event-driven, from the spike tensor")
    ax_t.loglog(density, events_input, "^-", label="event-driven, from (row, step, input) events")
    ax_t.loglog(density, [r["pulled_ms"] for r in rows], "--", lw=1, label="every row pulled")
    ax_t.loglog(density, [r["scattered_ms"] for r in rows], "--", lw=1, label="every row scattered")
    ax_t.loglog(density, events_input[0] * density / density[0], ":", color="grey", label="∝ spikes")
    ax_t.set(xlabel="spike density (%)", ylabel="ms per batch", title="SHD config, 2 threads each")
    ax_t.legend(loc="upper left", bbox_to_anchor=(0, 0.9), fontsize="small")
    ax_r.loglog(density, speedup, "s-", color="tab:orange", label="from the spike tensor")
    ax_r.loglog(density, events_speedup, "^-", color="tab:green", label="from events")
    ax_r.axhline(1, color="grey", lw=0.8)
    ax_r.axhline(20, color="tab:red", lw=0.8, ls="--", label="issue target (5 %)")
    for x, y in zip(density, speedup, strict=True):
        ax_r.annotate(f"{y:.1f}×", (x, y), textcoords="offset points", xytext=(0, 6), ha="center")
    for ax in (ax_t, ax_r):
        ax.set_xticks(density, [f"{d:g}" for d in density])
        ax.minorticks_off()
    ax_r.set(xlabel="spike density (%)", ylabel="dense time / event-driven time", title="speed-up")
    ax_r.legend(fontsize="small")
    save_figure(fig, path, dpi=110)


def bench_feast(repeats: int) -> dict:
    rng = np.random.default_rng(0)
    events, _ = moving_edges(rng.integers(0, 4, 200).tolist(), size=32, seed=0)
    settings = {"n_neurons": 8, "radius": 3, "tau": 0.001, "eta": 0.01, "d_open": 0.02, "d_close": 0.002}

    def run():
        Feast((32, 32, 2), **settings).process(events)

    (timing,) = interleaved_timings([run], repeats, number=1)
    seconds = timing.seconds
    return {
        "task": f"FEAST learning, {len(events)} events (8 neurons, 7x7)",
        "ours_ms": 1e3 * seconds,
        "anchor": "none (events/s)",
        "anchor_ms": None,
        "ours/anchor": None,
        "speedup": None,
        "max_abs_diff": None,
        "events_per_s": len(events) / seconds,
        "first_call_ms": None,
        "anchor_first_call_ms": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    aten = os.environ.get("ATEN_CPU_CAPABILITY")
    load_before = os.getloadavg()
    rows = [bench_training(args.repeats), *bench_inference(args.repeats), bench_feast(args.repeats)]
    sweep = bench_density(max(3, args.repeats // 2))
    floor = scatter_floor()
    print("cost of one scattered add, by loop:", {k: round(v, 3) for k, v in floor.items()})
    pull = pull_floor()
    print("vectorised pull loops instead:", {k: round(v, 3) for k, v in pull.items()})
    path = save(
        "delays" if aten is None else f"delays_aten_{aten.lower()}",
        rows,
        torch_threads=torch.get_num_threads(),
        torch_cpu_capability=torch.backends.cpu.get_cpu_capability(),
        aten_cpu_capability_env=aten,
        repeats=args.repeats,
        load_average_before_after=[load_before, os.getloadavg()],
        pull_density=_finite_or_none(EventDrivenDelays(*_rounded_layer().rounded_numpy()).pull_density),
        density_sweep=sweep,
        scatter_floor=floor,
        pull_floor=pull,
    )
    plot_density(sweep, path.with_name(f"{path.stem}_density.png"))


if __name__ == "__main__":
    main()
