"""Learnable delays: DCLS equivalence, rounding, event-driven and streaming inference, bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosig.core.chunks import SpikeChunk, SpikeInfo
from neurosig.core.errors import ConfigError, DataError
from neurosig.kernels._delay_pull import pull_row
from neurosig.kernels.delays import EventDrivenDelays, delayed_scatter
from neurosig.snn.delays import DelayedSynapses, sigma_schedule
from neurosig.snn.stream import SpikeDelay
from neurosig.testing import check_streaming_invariance


def naive_delays(spikes: np.ndarray, weight: np.ndarray, delay: np.ndarray, n_steps=None) -> np.ndarray:
    """Obviously correct twin: y[b, t, o] = sum_i w[o, i] * s[b, t - d[o, i], i] for t < n_steps."""
    n_batch, n_in_steps, _ = spikes.shape
    n_steps = n_in_steps if n_steps is None else n_steps
    padded = np.zeros((n_batch, max(n_steps, n_in_steps), spikes.shape[2]), dtype=np.float64)
    padded[:, :n_in_steps] = spikes
    out = np.zeros((n_batch, n_steps, weight.shape[0]), dtype=np.float64)
    for o in range(weight.shape[0]):
        for i in range(weight.shape[1]):
            d = int(delay[o, i])
            if d < n_steps:
                out[:, d:, o] += weight[o, i] * padded[:, : n_steps - d, i]
    return out


def _spikes(rng, shape, density=0.1):
    return (rng.random(shape) < density).astype(np.float32)


def test_forward_equals_dcls1d():
    dcls = pytest.importorskip("DCLS.construct.modules")
    k = 9
    ours = DelayedSynapses(6, 5, kernel_size=k, sigma=2.5, seed=1)
    ref = dcls.Dcls1d(6, 5, kernel_count=1, dilated_kernel_size=k, bias=False, version="gauss")
    with torch.no_grad():
        ours.P.mul_(1.3)  # also exercise positions beyond the initial range
        ref.weight.copy_(ours.weight.unsqueeze(-1))
        ref.P.copy_(ours.P[None, :, :, None])
        ref.SIG.copy_(ours.SIG[None, :, :, None])
    x = torch.rand(30, 4, 6)
    expected = ref(torch.nn.functional.pad(x.permute(1, 2, 0), (k - 1, 0))).permute(2, 0, 1)
    torch.testing.assert_close(ours(x), expected, atol=1e-5, rtol=0)


def test_causal_and_gradients_reach_weights_and_positions():
    layer = DelayedSynapses(3, 2, kernel_size=5, seed=0)
    x = torch.zeros(12, 1, 3)
    x[6, 0, 1] = 1.0
    y = layer(x)
    assert torch.all(y[:6] == 0), "output before the first input spike must be zero (causal)"
    y.pow(2).sum().backward()
    assert layer.weight.grad.abs().sum() > 0 and layer.P.grad.abs().sum() > 0


def test_rounded_layer_is_pure_delay():
    layer = DelayedSynapses(1, 1, kernel_size=7, seed=0)
    with torch.no_grad():
        layer.weight.fill_(2.0)
        layer.P.fill_(-1.2)  # tap round(-1.2 + 3) = 2 -> delay 7 - 1 - 2 = 4
    layer.round_delays()
    assert int(layer.delays()) == 4
    x = torch.zeros(10, 1, 1)
    x[1] = 1.0
    y = layer(x)[:, 0, 0]
    expected = torch.zeros(10)
    expected[5] = 2.0
    torch.testing.assert_close(y, expected)


def test_event_driven_equals_dense_rounded_convolution():
    rng = np.random.default_rng(0)
    layer = DelayedSynapses(20, 16, kernel_size=11, seed=3)
    layer.round_delays()
    x = _spikes(rng, (5, 40, 20), 0.05)
    with torch.no_grad():
        dense = layer(torch.from_numpy(x).transpose(0, 1)).transpose(0, 1).numpy()
    weight, delay = layer.rounded_numpy()
    np.testing.assert_allclose(delayed_scatter(x, weight, delay), dense, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(delayed_scatter(x, weight, delay), naive_delays(x, weight, delay), atol=1e-5)


@pytest.mark.parametrize("shape", [(0, 4), (1, 4), (8, 4)])
def test_event_driven_edge_cases(shape):
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((3, 4)).astype(np.float32)
    delay = np.array([[0, 1, 7, 20]] * 3)  # a delay longer than the sequence
    x = np.ones(shape, dtype=np.float32)
    out = delayed_scatter(x, weight, delay)
    assert out.shape == (shape[0], 3)
    np.testing.assert_allclose(out, naive_delays(x[None], weight, delay)[0], atol=1e-5)


@st.composite
def delay_problems(
    draw, max_out: int = 12, max_steps: int = 40, max_delay: int = 50
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``(weight, delay, spikes, horizon)`` of any sizes and densities (pairs of spikes of one input
    near and far apart), delays beyond the horizon, and outputs shorter or longer than the input."""
    n_batch, n_steps, n_out = (draw(st.integers(lo, hi)) for lo, hi in ((1, 4), (0, max_steps), (1, max_out)))
    n_in = draw(st.one_of(st.integers(1, 9), st.integers(60, 140)))  # the spikes are read 64 inputs at a time
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    weight = rng.standard_normal((n_out, n_in)).astype(np.float32)
    delay = rng.integers(0, draw(st.integers(0, max_delay)) + 1, (n_out, n_in))
    x = _spikes(rng, (n_batch, n_steps, n_in), draw(st.sampled_from([0.0, 0.05, 0.3, 1.0])))
    return weight, delay, x, max(n_steps + draw(st.integers(-15, 40)), 0)


@settings(max_examples=40, deadline=None)
@given(delay_problems())
def test_event_driven_equals_naive_any_shape(problem):
    weight, delay, x, horizon = problem
    out = delayed_scatter(x, weight, delay, n_steps=horizon)
    assert out.shape == (x.shape[0], horizon, weight.shape[0]) and out.dtype == np.float32
    np.testing.assert_allclose(out, naive_delays(x, weight, delay, horizon), atol=1e-4, rtol=1e-5)


def test_event_driven_shd_sized_row_equals_naive():
    """SHD-sized rows (256 outputs, delays up to 24) exercise the unrolled inner loops and the tail."""
    rng = np.random.default_rng(5)
    weight = rng.standard_normal((256, 140)).astype(np.float32)
    delay = rng.integers(0, 25, (256, 140))
    x = _spikes(rng, (3, 100, 140), 0.05)
    np.testing.assert_allclose(delayed_scatter(x, weight, delay), naive_delays(x, weight, delay), atol=1e-4)
    # an output of 4.6 MB lands on a buffer aligned for huge pages
    long = delayed_scatter(x, weight, delay, n_steps=1500)
    assert long.ctypes.data % (2 << 20) == 0
    np.testing.assert_allclose(long, naive_delays(x, weight, delay, 1500), atol=1e-4)


@pytest.mark.parametrize(
    ("longest", "width"), [(24, np.uint16), (8191, np.uint16), (8192, np.uint32), (2**29, np.uint64)]
)
def test_table_offsets_take_the_narrowest_width_that_holds_them(longest, width):
    """Offsets ``d * out + o`` up to ``(longest + 1) * out - 1`` (8 outputs here) fit 16, 32 or 64
    bits; every width gives the naive result, the last output of the longest delay included."""
    rng = np.random.default_rng(11)
    weight = rng.standard_normal((8, 3)).astype(np.float32)
    delay = rng.integers(0, 20, (8, 3))
    delay[7, 1] = longest
    synapses = EventDrivenDelays(weight, delay)
    assert synapses._offset.dtype == width
    x = _spikes(rng, (2, 50, 3), 0.3)
    x[0, 0, 1] = 1  # input 1's spike reaches output 7 at step `longest`, inside the longest horizon
    for horizon in (50, 8300):
        np.testing.assert_allclose(synapses(x, horizon), naive_delays(x, weight, delay, horizon), atol=1e-4)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("n_batch", [0, 1, 2, 9])
def test_every_row_is_taken_once_by_any_number_of_threads(n_threads, n_batch):
    """Rows go to the threads one at a time (an atomic counter): with fewer rows than threads, or
    many, each row is written exactly once, from the tensor and from events alike."""
    import numba

    rng = np.random.default_rng(n_batch)
    weight = rng.standard_normal((7, 5)).astype(np.float32)
    delay = rng.integers(0, 6, (7, 5))
    x = _spikes(rng, (n_batch, 30, 5), 0.2)
    synapses = EventDrivenDelays(weight, delay, pull_density=np.inf)
    before = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        dense_out = synapses(x)
        rows, steps, units = np.nonzero(x)
        event_out = synapses.apply_events(steps, units, 30, rows=rows, n_rows=n_batch)
    finally:
        numba.set_num_threads(before)
    expected = naive_delays(x, weight, delay)
    np.testing.assert_allclose(dense_out, expected, atol=1e-5)
    np.testing.assert_array_equal(event_out, dense_out)


def test_prepared_synapses_serve_any_batch_and_horizon():
    """Tables built once answer every later call like the one-shot function, including very long
    delays (bisection over the delay-sorted table, no table sized by the largest delay)."""
    rng = np.random.default_rng(7)
    weight = rng.standard_normal((6, 5)).astype(np.float32)
    delay = rng.integers(0, 30, (6, 5))
    delay[0, 0] = 10**9  # lands after any horizon
    synapses = EventDrivenDelays(weight, delay)
    assert synapses.max_delay == 10**9
    for n_steps, horizon in [(40, None), (7, 3), (12, 60), (1, 1)]:
        x = _spikes(rng, (2, n_steps, 5), 0.3)
        expected = naive_delays(x, weight, delay, n_steps if horizon is None else horizon)
        np.testing.assert_allclose(synapses(x, n_steps=horizon), expected, atol=1e-4)
        np.testing.assert_array_equal(synapses(x, horizon), delayed_scatter(x, weight, delay, horizon))
    with pytest.raises(DataError, match="non-negative integers"):
        EventDrivenDelays(weight, -delay)


@settings(max_examples=40, deadline=None)
@given(delay_problems(), st.booleans(), st.integers(0, 2**16))
def test_spike_events_equal_the_dense_call(problem, shuffle, seed):
    """Events listed as np.nonzero lists them, or shuffled, give the dense call's output exactly,
    for any horizon; rows without spikes (also the last ones) stay zero."""
    weight, delay, x, horizon = problem
    synapses = EventDrivenDelays(weight, delay)
    rows, steps, units = np.nonzero(x)
    if shuffle:
        order = np.random.default_rng(seed).permutation(len(rows))
        rows, steps, units = rows[order], steps[order], units[order]
    out = synapses.apply_events(steps, units, horizon, rows=rows, n_rows=x.shape[0])
    assert out.shape == (x.shape[0], horizon, weight.shape[0]) and out.dtype == np.float32
    np.testing.assert_allclose(out, synapses(x, horizon), atol=1e-5, rtol=1e-6)
    single = synapses.apply_events(*np.nonzero(x[0]), horizon)  # one sequence: a 2-D output
    np.testing.assert_allclose(single, synapses(x[0], horizon), atol=1e-5)


def test_spike_events_of_an_shd_batch_equal_the_dense_call():
    rng = np.random.default_rng(5)
    synapses = EventDrivenDelays(rng.standard_normal((256, 140)), rng.integers(0, 25, (256, 140)))
    x = _spikes(rng, (8, 100, 140), 0.05)
    rows, steps, units = np.nonzero(x)
    np.testing.assert_array_equal(synapses.apply_events(steps, units, 100, rows=rows), synapses(x))
    assert synapses.apply_events(steps[:0], units[:0], 100, rows=rows[:0]).shape == (0, 100, 256)


@settings(max_examples=40, deadline=None)
@given(delay_problems(max_out=40, max_steps=200, max_delay=200))
def test_pulled_rows_equal_naive_and_scattered_rows(problem):
    """The pull (every row pulled) equals the naive twin and the scatter to float rounding, over
    several passes of 128 steps and whole and partial 16 x 16 transposes; its events form equals its
    tensor form exactly, and a row with spikes is the pull's own output (``pull_row`` called alone)."""
    weight, delay, x, horizon = problem
    pulled = EventDrivenDelays(weight, delay, pull_density=0)
    scattered = EventDrivenDelays(weight, delay, pull_density=np.inf)
    out = pulled(x, horizon)
    assert out.shape == (x.shape[0], horizon, weight.shape[0]) and out.dtype == np.float32
    np.testing.assert_allclose(out, naive_delays(x, weight, delay, horizon), atol=1e-4, rtol=1e-5)
    np.testing.assert_allclose(out, scattered(x, horizon), atol=1e-5, rtol=1e-6)
    rows, steps, units = np.nonzero(x)
    np.testing.assert_array_equal(pulled.apply_events(steps, units, horizon, rows=rows, n_rows=len(x)), out)
    first = rows == 0
    ev_t, ev_i = steps[first & (steps < horizon)], units[first & (steps < horizon)]
    if ev_t.size:
        alone = np.empty(horizon * weight.shape[0], np.float32)
        pull_row(ev_t, ev_i, ev_t.size, pulled.weight, pulled._rel, pulled.max_delay, horizon, alone)
        np.testing.assert_array_equal(alone.reshape(horizon, -1), out[0])


@pytest.mark.parametrize(
    ("n_out", "n_in", "n_steps", "horizon", "max_delay"),
    [
        (256, 140, 100, 100, 24),
        (33, 70, 130, 300, 40),
        (16, 64, 16, 16, 15),
        (5, 9, 400, 410, 300),
        (20, 8, 50, 20, 3),
    ],
)
def test_pull_over_passes_blocks_and_edges(n_out, n_in, n_steps, horizon, max_delay):
    """Horizons over several passes of 128 steps, delays longer than a pass, outputs and steps that
    are not multiples of 16 (the transposes' edges), more inputs than one L1 block, outputs cut short."""
    rng = np.random.default_rng(n_out + horizon)
    weight = rng.standard_normal((n_out, n_in)).astype(np.float32)
    delay = rng.integers(0, max_delay + 1, (n_out, n_in))
    x = _spikes(rng, (3, n_steps, n_in), 0.2)
    out = EventDrivenDelays(weight, delay, pull_density=0)(x, horizon)
    np.testing.assert_allclose(out, naive_delays(x, weight, delay, horizon), atol=1e-4, rtol=1e-5)


def test_each_row_is_pulled_or_scattered_by_its_own_density():
    rng = np.random.default_rng(3)
    weight = rng.standard_normal((40, 30)).astype(np.float32)
    delay = rng.integers(0, 20, (40, 30))
    x = np.stack([_spikes(rng, (60, 30), 0.02), _spikes(rng, (60, 30), 0.3), np.zeros((60, 30), np.float32)])
    mixed = EventDrivenDelays(weight, delay, pull_density=0.1)(x)
    pulled = EventDrivenDelays(weight, delay, pull_density=0)(x)
    scattered = EventDrivenDelays(weight, delay, pull_density=np.inf)(x)
    assert not np.array_equal(pulled[1], scattered[1])  # the two sum in different orders
    np.testing.assert_array_equal(mixed[0], scattered[0])
    np.testing.assert_array_equal(mixed[1], pulled[1])
    np.testing.assert_array_equal(mixed[2], 0)


def test_rows_at_the_threshold_are_pulled():
    """A row of exactly ``pull_from`` spikes is pulled and one spike fewer is scattered; fewer outputs
    (mask building weighs more) raise the count."""
    rng = np.random.default_rng(4)
    weight = rng.standard_normal((64, 20)).astype(np.float32)
    delay = rng.integers(0, 10, (64, 20))
    mixed = EventDrivenDelays(weight, delay, pull_density=0.1)
    pull_from = mixed._kernel_args(50)[-1]
    assert EventDrivenDelays(weight[:2], delay[:2], pull_density=0.1)._kernel_args(50)[-1] > pull_from
    x = np.zeros((2, 50, 20), np.float32)
    for row, count in enumerate((pull_from, pull_from - 1)):
        x[row].flat[rng.choice(50 * 20, count, replace=False)] = 1
    pulled = EventDrivenDelays(weight, delay, pull_density=0)(x)
    scattered = EventDrivenDelays(weight, delay, pull_density=np.inf)(x)
    assert not np.array_equal(pulled[0], scattered[0]) and not np.array_equal(pulled[1], scattered[1])
    out = mixed(x)
    np.testing.assert_array_equal(out[0], pulled[0])
    np.testing.assert_array_equal(out[1], scattered[1])


def test_pull_density_default_and_bad_values():
    from neurosig.kernels import delays
    from neurosig.kernels._numba import host_has

    weight, delay = np.ones((2, 3)), np.ones((2, 3), dtype=int)
    expected = delays.PULL_DENSITY if host_has("avx512f") else np.inf
    assert EventDrivenDelays(weight, delay).pull_density == expected
    for bad in (-0.1, np.nan, "dense", [1]):
        with pytest.raises(DataError, match="pull_density must be >= 0"):
            EventDrivenDelays(weight, delay, pull_density=bad)
    delay[0, 0] = 10**9  # masks per input would need gigabytes: every row is scattered
    assert EventDrivenDelays(weight, delay, pull_density=0).pull_density == np.inf


def test_spike_events_bad_input():
    synapses = EventDrivenDelays(np.ones((2, 3)), np.ones((2, 3), dtype=int))
    steps, units = np.array([0, 1, 1]), np.array([2, 0, 1])
    assert synapses.apply_events(steps, units, 4).shape == (4, 2)
    cases = [
        ((steps, np.array([2, 0, 3]), 4), {}, r"spike 2 has step 1 and input 3.*\[0, 3\)"),
        ((np.array([0, -1, 1]), units, 4), {}, "spike 1 has step -1"),
        ((np.array([0, 1, 1]), np.array([2, 1, 1]), 4), {}, "listed twice"),
        ((np.array([1, 0, 1]), np.array([1, 2, 1]), 4), {}, "listed twice"),  # found after sorting
        ((steps[:2], units, 4), {}, "steps must be a 1-D array"),
        ((steps * 0.5, units, 4), {}, "steps must hold integers.*np.floor"),
        ((steps, units, -1), {}, "n_steps must be >= 0"),
        ((steps, units, 4), {"rows": np.zeros(3, int), "n_rows": -1}, "n_rows must be >= 0"),
        ((steps, units, 4), {"rows": np.array([0, 0, 2]), "n_rows": 2}, r"rows must be in \[0, 2\).*got 2"),
        ((steps, units, 4), {"rows": np.array([0, -1, 0])}, "got -1"),
        ((steps, units, 4), {"rows": np.array([-3, -2, -2])}, r"rows must be in \[0, 0\).*got -3"),
        ((steps, units, 4), {"rows": np.zeros((3, 1), int)}, "rows must be a 1-D array"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(DataError, match=message):
            synapses.apply_events(*args, **kwargs)

    class DeviceArray:  # what neurosig.kernels._numba.on_gpu recognises
        __cuda_array_interface__: dict = {}

    with pytest.raises(DataError, match="all device arrays or all host arrays"):
        synapses.apply_events(steps, DeviceArray(), 4)


@pytest.mark.parametrize("value", [2.0, 0.5, -1.0, np.nan])
@pytest.mark.parametrize("where", [(0, 0), (1, 63), (1, 64), (2, 127), (2, 128), (3, 129)])
def test_non_binary_spike_found_in_any_lane(value, where):
    """The spikes are checked 64 inputs at a time (vector compares): a bad value in any lane of a full
    or a partial block is reported, where it is."""
    x = np.zeros((4, 130), dtype=np.float32)
    x[where] = value
    with pytest.raises(DataError, match=rf"binary.*{where[0]}, {where[1]}\)"):
        delayed_scatter(x, np.ones((2, 130)), np.ones((2, 130), dtype=int))


def test_bad_input_errors():
    weight, delay = np.ones((2, 3)), np.ones((2, 3), dtype=int)
    with pytest.raises(DataError, match="non-negative integers"):
        delayed_scatter(np.zeros((4, 3)), weight, -delay)
    with pytest.raises(DataError, match="non-negative integers"):
        delayed_scatter(np.zeros((4, 3)), weight, delay * 0.5)
    with pytest.raises(DataError, match="shape"):
        delayed_scatter(np.zeros((4, 5)), weight, delay)
    with pytest.raises(DataError, match="shape"):
        delayed_scatter(np.zeros((4, 3)), weight, delay[:, :2])
    with pytest.raises(DataError, match="binary"):
        delayed_scatter(np.full((4, 3), 2.0), weight, delay)
    late = np.zeros((4, 3))
    late[3, 1] = 0.5  # after the output horizon: not read by the kernel, still rejected
    with pytest.raises(DataError, match=r"binary.*3, 1\)"):
        delayed_scatter(late, weight, delay, n_steps=2)
    with pytest.raises(DataError, match="n_steps"):
        delayed_scatter(np.zeros((4, 3)), weight, delay, n_steps=-1)
    with pytest.raises(DataError, match="time-first"):
        DelayedSynapses(3, 2)(torch.zeros(4, 5))
    with pytest.raises(ConfigError, match="sigma"):
        DelayedSynapses(3, 2, sigma=-0.1)
    with pytest.raises(ConfigError, match="kernel_size"):
        DelayedSynapses(3, 2, kernel_size=0)


def test_sigma_schedule_decays_then_holds():
    values = [sigma_schedule(e, 8, start=12.0) for e in range(8)]
    assert values[0] == 12.0 and values[2] == pytest.approx(0.23) and values[-1] == pytest.approx(0.23)
    assert values[1] < values[0]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 60), max_size=6), st.integers(0, 2**16))
def test_stream_stage_is_chunk_invariant(boundaries, seed):
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((4, 3)).tolist()
    delay = rng.integers(0, 9, (4, 3)).tolist()
    chunk = SpikeChunk(_spikes(rng, (60, 3), 0.2), SpikeInfo(dt=0.001, n_units=3), start=0)
    check_streaming_invariance(lambda: SpikeDelay(weight=weight, delay=delay), chunk, boundaries)


def test_stream_stage_equals_whole_sequence_and_layer():
    rng = np.random.default_rng(2)
    layer = DelayedSynapses(3, 4, kernel_size=6, seed=0)
    stage = SpikeDelay.from_layer(layer)
    x = _spikes(rng, (50, 3), 0.2)
    out = np.concatenate([c.data for c in stage.process(SpikeChunk(x, SpikeInfo(0.01, 3)))])
    weight, delay = layer.rounded_numpy()
    np.testing.assert_allclose(out, naive_delays(x[None], weight, delay)[0], atol=1e-5)


def test_stream_stage_bad_input():
    stage = SpikeDelay(weight=[[1.0, 2.0]], delay=[[0, 3]])
    with pytest.raises(DataError, match="binary"):
        list(stage.process(SpikeChunk(np.full((3, 2), 0.5, np.float32), SpikeInfo(0.01, 2))))
    with pytest.raises(DataError, match="units"):
        list(stage.process(SpikeChunk(np.zeros((3, 5), np.float32), SpikeInfo(0.01, 5))))
    stage.reset()
    list(stage.process(SpikeChunk(np.zeros((3, 2), np.float32), SpikeInfo(0.01, 2), start=0)))
    with pytest.raises(DataError, match="in order"):
        list(stage.process(SpikeChunk(np.zeros((3, 2), np.float32), SpikeInfo(0.01, 2), start=7)))
    with pytest.raises(DataError, match="non-negative"):
        SpikeDelay(weight=[[1.0]], delay=[[-1]])
    with pytest.raises(ConfigError):
        SpikeDelay(weight=[[1.0]], delay=[["x"]])


_CUDASIM_SCRIPT = """
import numpy as np
from numba import cuda
from neurosig.core.errors import DataError
from neurosig.kernels._delay_pull import pull_row
from neurosig.kernels.delays import EventDrivenDelays, delayed_scatter
rng = np.random.default_rng(0)
x = (rng.random((2, 12, 5)) < 0.2).astype(np.float32)
w = rng.standard_normal((3, 5)).astype(np.float32)
d = rng.integers(0, 6, (3, 5))
gpu = delayed_scatter(cuda.to_device(x), w, d).copy_to_host()
np.testing.assert_allclose(gpu, delayed_scatter(x, w, d), atol=1e-5)
synapses = EventDrivenDelays(w, d)
for spikes, n_steps in [(x, None), (x, 20), (x, 4), (x[0], None), (x.astype(np.uint8), 15), (x[:, :0], 3)]:
    got = synapses(cuda.to_device(spikes), n_steps).copy_to_host()
    np.testing.assert_allclose(got, synapses(spikes, n_steps), atol=1e-5)
assert synapses._cuda is not None  # the tables went to the device once, on the first call
strided = synapses(cuda.to_device(x)[:, ::2]).copy_to_host()  # a non-contiguous view
np.testing.assert_allclose(strided, synapses(np.ascontiguousarray(x[:, ::2])), atol=1e-5)
bad = x.copy()
bad[1, 11, 4] = 2.0  # past a short horizon: still refused, as on the CPU
for n_steps in (None, 4):
    try:
        synapses(cuda.to_device(bad), n_steps)
    except DataError as error:
        assert "binary" in str(error)
    else:
        raise AssertionError("non-binary spikes passed")
try:
    synapses(cuda.to_device(np.ascontiguousarray(x[:, :, :4])))
except DataError as error:
    assert "shape" in str(error)
else:
    raise AssertionError("wrong shape passed")
rows, steps, units = (np.ascontiguousarray(a) for a in np.nonzero(x))  # nonzero gives strided views
on_device = [cuda.to_device(a) for a in (steps, units, rows)]
for n_steps in (12, 4, 20):
    got = synapses.apply_events(*on_device[:2], n_steps, rows=on_device[2]).copy_to_host()
    np.testing.assert_allclose(got, synapses(x, n_steps), atol=1e-5)
    with_n_rows = synapses.apply_events(*on_device[:2], n_steps, rows=on_device[2], n_rows=3).copy_to_host()
    np.testing.assert_allclose(with_n_rows[:2], got, atol=1e-5)
    assert not with_n_rows[2].any()
single = synapses.apply_events(*(cuda.to_device(a.copy()) for a in np.nonzero(x[1])), 12).copy_to_host()
np.testing.assert_allclose(single, synapses(x[1]), atol=1e-5)
order = rng.permutation(len(rows))  # unsorted events: sorted on the host, same result
shuffled = [cuda.to_device(a[order]) for a in (steps, units, rows)]
got = synapses.apply_events(*shuffled[:2], 12, rows=shuffled[2]).copy_to_host()
np.testing.assert_allclose(got, synapses(x), atol=1e-5)
twice = [cuda.to_device(np.r_[a, a[:1]][np.r_[order, 0]]) for a in (steps, units, rows)]
for args, message in [
    ((twice[0], twice[1], 12, twice[2]), "listed twice"),
    ((on_device[0], cuda.to_device(units + 5), 12, on_device[2]), "out of range"),
    ((on_device[0], on_device[1], 12, cuda.to_device(rows * 0.5)), "integer"),
    ((on_device[0], units, 12, on_device[2]), "all device arrays or all host arrays"),
]:
    try:
        synapses.apply_events(*args[:3], rows=args[3])
    except DataError as error:
        assert message in str(error), (message, str(error))
    else:
        raise AssertionError(f"accepted: {message}")
print("cuda twin ok")
"""


def test_cuda_twin_under_simulator():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    result = subprocess.run(
        [sys.executable, "-c", _CUDASIM_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "cuda twin ok" in result.stdout
