"""Learnable delays against DCLS 0.1.1, event-driven inference against dense convolution, FEAST speed.

1. Training step: forward + backward of :class:`neurosig.snn.delays.DelayedSynapses` and of
   ``DCLS.construct.modules.Dcls1d`` (version ``gauss``) with the same parameters on the SHD
   configuration (batch 64, T = 100, 140 -> 256, 25 delay taps), on 2 torch threads; outputs compared.
2. Inference with rounded delays on SHD-like spikes (5 % density): the dense causal convolution
   (our layer after ``round_delays()``, torch, 2 threads, its kernel built once) against the
   event-driven Numba kernel (batch rows in parallel on Numba's default threads, 2 here), with the
   synapse tables prepared once (``EventDrivenDelays``) and as a one-shot ``delayed_scatter`` call
   that validates and builds them each time; outputs compared.
3. FEAST (8 neurons, 7x7 context) on oriented moving edges: events per second while learning.

Medians over repeats after a warm-up (Numba compilation excluded); the two sides of each ratio are
timed in alternation, so load changes on a shared machine affect both. When a CUDA GPU is present,
the event-driven CUDA twin is timed too.

Run: ``.venv/bin/python benchmarks/bench_delays.py [--repeats N]``; writes
``benchmarks/results/delays.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

from neurosig.kernels._numba import cuda_enabled  # noqa: E402
from neurosig.kernels.delays import EventDrivenDelays, delayed_scatter  # noqa: E402
from neurosig.snn.delays import DelayedSynapses  # noqa: E402
from neurosig.snn.feast import Feast  # noqa: E402
from neurosig.snn.synthetic import moving_edges  # noqa: E402

BATCH, T, N_IN, N_OUT, K, DENSITY = 64, 100, 140, 256, 25, 0.05


def interleaved_medians(fns: list[Callable[[], object]], repeats: int, pause: float = 0.3) -> list[float]:
    """Median seconds of each function, timed in alternation (one warm-up each) so that a change
    in the load of a shared machine hits both sides of a ratio alike.

    Each timed call starts after ``pause`` seconds of idling: torch's OpenMP workers spin for a
    while after a parallel region, and on a 2-core machine they would slow whatever runs next.
    """
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times, strict=True):
            time.sleep(pause)
            t0 = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - t0)
    return [statistics.median(b) for b in times]


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
    t_ours, t_ref = interleaved_medians([run_ours, run_ref], repeats)
    return {
        "task": "delay layer fwd+bwd, SHD config (64x100, 140->256, K=25)",
        "ours_ms": 1e3 * t_ours,
        "anchor": "dcls 0.1.1 Dcls1d gauss",
        "anchor_ms": 1e3 * t_ref,
        "ours/anchor": t_ours / t_ref,
        "speedup": t_ref / t_ours,
        "max_abs_diff": float(diff),
        "events_per_s": None,
    }


def bench_inference(repeats: int) -> list[dict]:
    layer = DelayedSynapses(N_IN, N_OUT, kernel_size=K, seed=0)
    layer.round_delays()
    rng = np.random.default_rng(0)
    spikes = (rng.random((BATCH, T, N_IN)) < DENSITY).astype(np.float32)
    x = torch.from_numpy(spikes).transpose(0, 1).contiguous()
    kernel = layer.kernel().detach()
    weight, delay = layer.rounded_numpy()

    @torch.no_grad()
    def dense():
        return F.conv1d(F.pad(x.permute(1, 2, 0), (K - 1, 0)), kernel)

    dense_out = dense().permute(0, 2, 1).numpy()
    synapses = EventDrivenDelays(weight, delay)  # built once, as the dense side's kernel is

    def one_shot():
        return delayed_scatter(spikes, weight, delay)

    event_out = synapses(spikes)
    one_shot_out = one_shot()
    t_dense, t_event, t_one_shot = interleaved_medians([dense, lambda: synapses(spikes), one_shot], repeats)
    n_spikes = float(spikes.sum())
    rows = [
        {
            "task": f"inference, rounded delays, {DENSITY:.0%} spikes (synapses prepared once)",
            "ours_ms": 1e3 * t_event,
            "anchor": "dense causal conv1d (torch, 2 threads; kernel built once)",
            "anchor_ms": 1e3 * t_dense,
            "ours/anchor": t_event / t_dense,
            "speedup": t_dense / t_event,
            "max_abs_diff": float(np.abs(dense_out - event_out).max()),
            "events_per_s": n_spikes / t_event,
        },
        {
            "task": f"inference, rounded delays, {DENSITY:.0%} spikes (one call: checks + tables + scatter)",
            "ours_ms": 1e3 * t_one_shot,
            "anchor": "dense causal conv1d (torch, 2 threads; kernel built once)",
            "anchor_ms": 1e3 * t_dense,
            "ours/anchor": t_one_shot / t_dense,
            "speedup": t_dense / t_one_shot,
            "max_abs_diff": float(np.abs(dense_out - one_shot_out).max()),
            "events_per_s": n_spikes / t_one_shot,
        },
    ]
    if cuda_enabled():
        from numba import cuda

        device_spikes = cuda.to_device(spikes)
        delayed_scatter(device_spikes, weight, delay)
        cuda.synchronize()

        def on_gpu():
            delayed_scatter(device_spikes, weight, delay)
            cuda.synchronize()

        (t_gpu,) = interleaved_medians([on_gpu], repeats)
        gpu_out = delayed_scatter(device_spikes, weight, delay).copy_to_host()
        rows.append(
            {
                "task": "inference, rounded delays, CUDA twin (incl. host copies)",
                "ours_ms": 1e3 * t_gpu,
                "anchor": "dense causal conv1d (torch CPU, 2 threads)",
                "anchor_ms": 1e3 * t_dense,
                "ours/anchor": t_gpu / t_dense,
                "speedup": t_dense / t_gpu,
                "max_abs_diff": float(np.abs(dense_out - gpu_out).max()),
                "events_per_s": float(spikes.sum()) / t_gpu,
            }
        )
    return rows


def bench_feast(repeats: int) -> dict:
    rng = np.random.default_rng(0)
    events, _ = moving_edges(rng.integers(0, 4, 200).tolist(), size=32, seed=0)
    settings = {"n_neurons": 8, "radius": 3, "tau": 0.001, "eta": 0.01, "d_open": 0.02, "d_close": 0.002}

    def run():
        Feast((32, 32, 2), **settings).process(events)

    (seconds,) = interleaved_medians([run], repeats)
    return {
        "task": f"FEAST learning, {len(events)} events (8 neurons, 7x7)",
        "ours_ms": 1e3 * seconds,
        "anchor": "none (events/s)",
        "anchor_ms": None,
        "ours/anchor": None,
        "speedup": None,
        "max_abs_diff": None,
        "events_per_s": len(events) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    load_before = os.getloadavg()
    rows = [bench_training(args.repeats), *bench_inference(args.repeats), bench_feast(args.repeats)]
    save(
        "delays",
        rows,
        torch_threads=torch.get_num_threads(),
        repeats=args.repeats,
        load_average_before_after=[load_before, os.getloadavg()],
    )


if __name__ == "__main__":
    main()
