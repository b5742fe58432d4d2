"""NIR export of a trained delay network, and a small NIR interpreter that runs NIR graphs in neurosig.

NIR (Neuromorphic Intermediate Representation, Pedersen et al. 2024) is read by snnTorch, Norse,
Sinabs, Lava, SpiNNaker2, Speck and others. Nodes are continuous-time; a network trained in steps of
``dt`` seconds maps onto them exactly under forward Euler with that ``dt`` (stored in the graph's
``metadata["dt"]``):

- **Delays**: a synapse layer with rounded delays is split by delay. For each delay ``d`` (steps) that
  some synapse has, a ``Delay`` node (``d × dt`` seconds on every input) feeds an ``Affine`` node that
  holds only the weights of the synapses with that delay (zeros elsewhere); delay 0 needs no ``Delay``
  node. The branches' outputs sum into the neuron, as NIR sums a node's inputs. The hidden layers'
  batch norm (eval mode) is folded into the weights and the bias of the first branch.
- **LIF** (SpikingJelly, ``decay_input=False``: ``v ← v − v / τ + I``, spike when ``v ≥ θ``, reset
  to 0) → ``LIF(tau=τ·dt, r=τ, v_leak=0, v_threshold=θ, v_reset=0)``; ParametricLIF likewise with
  ``τ = 1 / sigmoid(w)``. NIR fires on ``v > θ``: the two differ only when ``v`` equals ``θ`` exactly.
- **Readout** (``v ← a·v + I``, scores = ``v`` summed over time) → ``LI(tau=dt / (1 − a),
  r=1 / (1 − a), v_leak=0)``; sum the ``Output`` over time for the scores.
- ALIF has no NIR primitive (NIR 1.0 has no adaptive threshold): exporting it raises.
- The convolutional :class:`~neurosig.snn.models.ConvSNN` is refused with a ``ConfigError``: its max
  pooling has no NIR node (NIR pools by sum or average) and no ``Conv2d`` export is built.

:class:`NIRNetwork` executes a graph of ``Input``, ``Output``, ``Affine``, ``Linear``, ``Scale``,
``Delay``, ``LIF``, ``IF`` and ``LI`` nodes (feed-forward) step by step with forward Euler; it runs the
graphs exported here and delay-free graphs written by other frameworks (snnTorch's ``Linear`` →
``Affine`` and ``Leaky`` → ``LIF``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from neurosig.core import persist
from neurosig.core.errors import ConfigError, DataError
from neurosig.snn.event_inference import load_event_model, synapse_tables
from neurosig.snn.models import ConvSNN, DelaySNN

__all__ = ["to_nir", "export_nir", "NIRNetwork", "load_nir"]


def _nir():
    try:
        import nir
    except ImportError:
        raise ConfigError("NIR support needs the nir package: pip install -c constraints.txt nir") from None
    return nir


def _neuron_nir(block: nn.Module, n: int, dt: float):
    nir = _nir()
    kind = type(block).__name__
    if kind == "ALIFNode":
        raise ConfigError(
            "NIR has no adaptive-threshold (ALIF) neuron; export a network trained with neuron: lif or plif."
        )
    if kind == "LIFNode":
        tau = float(block.tau)
    elif kind == "ParametricLIFNode":
        tau = float(1.0 / torch.sigmoid(block.w.detach()))
    else:
        raise ConfigError(f"cannot express a {kind} neuron in NIR; use neuron: lif or plif.")
    if getattr(block, "decay_input", False) or block.v_reset is None:
        raise ConfigError(f"{kind} with decay_input=True or a soft reset has no exact NIR LIF form.")
    ones = np.ones(n, dtype=np.float32)
    return nir.LIF(
        tau=ones * tau * dt,
        r=ones * tau,
        v_leak=0 * ones,
        v_threshold=ones * float(block.v_threshold),
        v_reset=ones * float(block.v_reset),
    )


def _synapse_nodes(
    prefix: str, layer: nn.Module, scale: np.ndarray, bias: np.ndarray, dt: float, source: str
):
    """Nodes and edges of one synapse layer split by delay, from ``source``; returns (nodes, edges, sinks)."""
    nir = _nir()
    weight, delay = synapse_tables(layer)
    weight = weight * scale[:, None]
    nodes, edges, sinks = {}, [], []
    for k, d in enumerate(np.unique(delay)):
        name = f"{prefix}_d{int(d)}"
        w = np.where(delay == d, weight, 0).astype(np.float32)
        nodes[name] = nir.Affine(weight=w, bias=(bias if k == 0 else 0 * bias).astype(np.float32))
        if d > 0:
            nodes[f"{name}_delay"] = nir.Delay(delay=np.full(weight.shape[1], d * dt, dtype=np.float64))
            edges += [(source, f"{name}_delay"), (f"{name}_delay", name)]
        else:
            edges.append((source, name))
        sinks.append(name)
    return nodes, edges, sinks


def to_nir(model: DelaySNN, dt: float):
    """The NIR graph of a trained :class:`DelaySNN` with rounded delays (see the module notes).

    Parameters
    ----------
    model : DelaySNN
        The network (eval mode is used: batch norm folded, dropout off).
    dt : float
        Seconds per time step of the network.

    Returns
    -------
    nir.NIRGraph
        ``input`` → (delays, affine, ``lif{l}``) per hidden layer → ``readout`` (LI) → ``output``;
        ``metadata`` holds ``dt`` and how to read the output.
    """
    nir = _nir()
    if isinstance(model, ConvSNN):
        raise ConfigError(
            "the convolutional model (model: {type: conv}) has no NIR export: its max pooling has no NIR "
            "node (NIR pools by sum or average), and Conv2d export is not built; train model: {type: dense} "
            "to export, or set export_nir: false."
        )
    if not dt > 0:
        raise ConfigError(f"dt must be a positive number of seconds per step, got {dt!r}.")
    model = model.eval()
    n_in = model.config["n_inputs"]
    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([n_in])})}
    edges: list[tuple[str, str]] = []
    source, layer, pending, index = "input", None, None, 0
    for block in model.hidden:
        if isinstance(block, nn.BatchNorm1d):
            scale = (block.weight / torch.sqrt(block.running_var + block.eps)).detach().numpy()
            shift = (block.bias.detach() - block.running_mean * torch.from_numpy(scale)).numpy()
            pending = (scale.astype(np.float64), shift.astype(np.float64))
        elif hasattr(block, "weight") and block.weight.dim() == 2:
            layer = block
        elif isinstance(block, nn.Dropout):
            continue
        else:  # the neuron closes a hidden layer
            index += 1
            n = layer.weight.shape[0]
            scale, shift = pending if pending is not None else (np.ones(n), np.zeros(n))
            more, more_edges, sinks = _synapse_nodes(f"syn{index}", layer, scale, shift, dt, source)
            nodes.update(more)
            edges += more_edges
            nodes[f"lif{index}"] = _neuron_nir(block, n, dt)
            edges += [(s, f"lif{index}") for s in sinks]
            source, pending = f"lif{index}", None
    n_out = model.config["n_outputs"]
    more, more_edges, sinks = _synapse_nodes(
        "readout_syn", model.readout, np.ones(n_out), np.zeros(n_out), dt, source
    )
    nodes.update(more)
    edges += more_edges
    a = model.decay
    ones = np.ones(n_out, dtype=np.float64)
    nodes["readout"] = nir.LI(tau=ones * dt / (1 - a), r=ones / (1 - a), v_leak=0 * ones)
    edges += [(s, "readout") for s in sinks]
    nodes["output"] = nir.Output(output_type={"output": np.array([n_out])})
    edges.append(("readout", "output"))
    metadata = {"dt": float(dt), "scores": "sum of the output over time steps", "producer": "neurosig"}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def export_nir(checkpoint: str | Path, out: str | Path) -> Path:
    """Write the NIR graph (HDF5, ``nir.write``) of an ``event_train`` checkpoint; return ``out``."""
    model, pre, _ = load_event_model(checkpoint)
    if not pre.dt > 0:
        raise ConfigError("the model's representation has no fixed time step (dt); NIR needs one.")
    out = Path(out)
    with persist.ExclusiveOutput(out) as partial:
        _nir().write(partial, to_nir(model, pre.dt))
    return out


class NIRNetwork:
    """Run a feed-forward NIR graph step by step (forward Euler with ``dt`` seconds per step).

    Parameters
    ----------
    graph : nir.NIRGraph | str | Path
        The graph, or a file ``nir.read`` opens.
    dt : float | None
        Seconds per step (default: the graph's ``metadata["dt"]``; snnTorch exports assume 1e-4).

    Notes
    -----
    ``LIF``: ``v ← v + dt/τ (v_leak − v + r I)``, spike when ``v > v_threshold``, then ``v ← v_reset``;
    ``IF``: ``v ← v + r I``, same spike and reset; ``LI``: the ``LIF`` update without spikes (its
    output is ``v``); ``Delay``: ``y[t] = x[t − round(delay / dt)]`` per element. A node's inputs are
    summed.
    """

    def __init__(self, graph, dt: float | None = None):
        if isinstance(graph, str | Path):
            graph = _nir().read(graph)
        self.graph = graph
        meta = getattr(graph, "metadata", None)
        meta = meta if isinstance(meta, Mapping) else {}
        dt = meta.get("dt") if dt is None else dt
        if dt is None:
            raise ConfigError(
                "the NIR graph has no metadata['dt']; pass dt (seconds per step) to NIRNetwork."
            )
        self.dt = float(np.asarray(dt))
        self._order = self._topological_order()
        inputs = [n for n, node in graph.nodes.items() if type(node).__name__ == "Input"]
        outputs = [n for n, node in graph.nodes.items() if type(node).__name__ == "Output"]
        if len(inputs) != 1 or len(outputs) != 1:
            raise ConfigError(
                f"NIRNetwork runs graphs with one Input and one Output node; got {inputs} and {outputs}."
            )
        self.input, self.output = inputs[0], outputs[0]

    def _topological_order(self) -> list[str]:
        preds: dict[str, list[str]] = {n: [] for n in self.graph.nodes}
        for src, dst in self.graph.edges:
            preds[dst].append(src)
        order, state = [], {}

        def visit(n: str) -> None:
            if state.get(n) == 1:
                raise ConfigError(
                    f"the NIR graph has a cycle through {n!r}; NIRNetwork runs feed-forward graphs."
                )
            if state.get(n) == 2:
                return
            state[n] = 1
            for p in preds[n]:
                visit(p)
            state[n] = 2
            order.append(n)

        for n in self.graph.nodes:
            visit(n)
        self._preds = preds
        return order

    def _neuron(self, node, x: np.ndarray, spiking: bool) -> np.ndarray:
        kind = type(node).__name__
        r = np.asarray(node.r, dtype=np.float32)
        if kind == "IF":
            a, b, leak = np.float32(1.0), r, np.float32(0.0)
        else:
            k = (self.dt / np.asarray(node.tau, dtype=np.float64)).astype(np.float32)
            a, b, leak = np.float32(1.0) - k, k * r, k * np.asarray(node.v_leak, dtype=np.float32)
        v = np.zeros(x.shape[1:], dtype=np.float32)
        out = np.empty_like(x)
        for t in range(len(x)):
            v = a * v + leak + b * x[t]
            if spiking:
                s = v > np.asarray(node.v_threshold, dtype=np.float32)
                v = np.where(s, np.asarray(node.v_reset, dtype=np.float32), v)
                out[t] = s
            else:
                out[t] = v
        return out

    def _node(self, name: str, x: np.ndarray) -> np.ndarray:
        node = self.graph.nodes[name]
        kind = type(node).__name__
        if kind in ("Input", "Output"):
            return x
        if kind == "Affine":
            return x @ np.asarray(node.weight, dtype=np.float32).T + np.asarray(node.bias, dtype=np.float32)
        if kind == "Linear":
            return x @ np.asarray(node.weight, dtype=np.float32).T
        if kind == "Scale":
            return x * np.asarray(node.scale, dtype=np.float32)
        if kind == "Delay":
            steps = np.rint(np.asarray(node.delay, dtype=np.float64) / self.dt).astype(np.int64)
            out = np.zeros_like(x)
            for i, d in enumerate(steps.ravel()):
                if d < len(x):
                    out[d:, ..., i] = x[: len(x) - d, ..., i]
            return out
        if kind in ("LIF", "IF"):
            return self._neuron(node, x, spiking=True)
        if kind == "LI":
            return self._neuron(node, x, spiking=False)
        raise ConfigError(
            f"NIR node {name!r} is a {kind}; NIRNetwork runs Input, Output, Affine, Linear, Scale, Delay, "
            "LIF, IF and LI nodes."
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Outputs ``(T, ..., n_out)`` for inputs ``(T, ..., n_in)`` (time first, any batch dims)."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim < 2:
            raise DataError(f"NIRNetwork takes time-first inputs (T, ..., n_in); got shape {x.shape}.")
        values: dict[str, np.ndarray] = {}
        for name in self._order:
            if name == self.input:
                values[name] = x
                continue
            preds = self._preds[name]
            if not preds:
                raise ConfigError(f"NIR node {name!r} has no input edge.")
            total = values[preds[0]]
            for p in preds[1:]:
                total = total + values[p]
            values[name] = self._node(name, total)
        return values[self.output]


def load_nir(path: str | Path, dt: float | None = None) -> NIRNetwork:
    """Read a NIR file (any producer) into a runnable :class:`NIRNetwork`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"NIR file {path} does not exist.")
    return NIRNetwork(_nir().read(path), dt)
