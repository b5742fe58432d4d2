"""Streaming event-driven delayed synapses: a stage for live spike streams.

The stage holds the contributions that spikes of earlier chunks will make to later time steps (at
most ``max_delay`` steps ahead) and adds them when those steps arrive, so the output for a stream cut
into chunks of any size equals the whole-sequence result of
:func:`neurosig.kernels.delays.delayed_scatter`; the synapse tables are built once per stream
(:class:`~neurosig.kernels.delays.EventDrivenDelays`), not per chunk.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from neurosig.core.chunks import SpikeChunk, SpikeInfo
from neurosig.core.errors import DataError
from neurosig.core.stage import Stage
from neurosig.kernels.delays import EventDrivenDelays, check_binary

__all__ = ["SpikeDelay"]


class SpikeDelay(Stage):
    """Delayed weighted synapses applied spike by spike to a :class:`SpikeChunk` stream.

    Parameters
    ----------
    weight : list of list of float, shape (out, in)
        Synaptic weights (e.g. ``DelayedSynapses.rounded_numpy()[0].tolist()``).
    delay : list of list of int, shape (out, in)
        Integer delays in time steps, ``>= 0``.

    Notes
    -----
    Input: binary spikes ``(n_steps, in)``. Output: a :class:`SpikeChunk` of ``out`` units holding the
    summed synaptic input per step (float32), with the same ``dt`` and ``start``. Contributions that
    would land after the last step of the stream are dropped at :meth:`flush`, as in the
    whole-sequence result.
    """

    name = "spike_delay"
    accepts = (SpikeChunk,)

    def __init__(self, weight: list[list[float]], delay: list[list[int]]) -> None:
        self.weight = weight
        self.delay = delay
        self.reset()

    @classmethod
    def from_layer(cls, layer) -> SpikeDelay:
        """Build the stage from a trained :class:`~neurosig.snn.delays.DelayedSynapses` (rounded delays)."""
        weight, delay = layer.rounded_numpy()
        return cls(weight=weight.tolist(), delay=delay.tolist())

    def reset(self) -> None:
        """Forget pending contributions and the expected next step."""
        self._synapses = EventDrivenDelays(np.asarray(self.weight, dtype=np.float32), np.asarray(self.delay))
        self._horizon = self._synapses.max_delay
        self._pending = np.zeros((self._horizon, self._synapses.weight.shape[0]), dtype=np.float32)
        self._next: int | None = None

    def _process(self, chunk: SpikeChunk) -> Iterable[SpikeChunk]:
        n_out, n_in = self._synapses.weight.shape
        if chunk.info.n_units != n_in:
            raise DataError(
                f"spike_delay has {n_in} inputs per synapse row but the stream has "
                f"{chunk.info.n_units} units; use weights of shape (out, {chunk.info.n_units})."
            )
        if self._next is not None and chunk.start != self._next:
            raise DataError(
                f"spike_delay expected the chunk starting at step {self._next}, got {chunk.start}; "
                "feed chunks in order or call reset() for a new stream."
            )
        check_binary(chunk.data, "SpikeChunk.data")
        n = chunk.n_steps
        self._next = chunk.start + n
        total = self._synapses(chunk.data, n_steps=n + self._horizon)
        total[: self._horizon] += self._pending
        self._pending = total[n:].copy()
        info = SpikeInfo(dt=chunk.info.dt, n_units=n_out)
        return [SpikeChunk(total[:n], info, chunk.start)]
