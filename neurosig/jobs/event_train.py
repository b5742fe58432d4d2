"""The ``event_train`` job: event recordings → cached spikes → a delay SNN → evaluation, stream, NIR.

One YAML (``pipelines/event_train.yaml``) trains, evaluates, streams and exports:

1. the dataset (simulated, labelled files or a tonic dataset; :mod:`neurosig.data.event_dataset`) is
   split into train / validation / test parts that share no recording group;
2. transforms and the spike representation are computed once into the HDF5 cache
   (:func:`neurosig.data.event_cache.build_cache`); training batches come from a DataLoader over it,
   with augmentations on the events;
3. a :class:`~neurosig.snn.models.DelaySNN` or a convolutional
   :class:`~neurosig.snn.models.ConvSNN` (LIF / PLIF / ALIF, learnable delays or not) is trained
   by :func:`neurosig.snn.train.fit` (``metrics.jsonl``, ``best.pt``, ``last.pt``; best on validation
   with rounded delays) on the GPU when there is one;
4. the test part is scored with rounded delays (``confusion.png``, ``training.png``), then streamed
   through ``snn_classify`` (event-driven inference) and, when exported, through the NIR graph; the
   summary reports how often each agrees with the offline evaluation.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pydantic
import torch

from neurosig.core.chunks import EventChunk, EventInfo
from neurosig.core.errors import ConfigError
from neurosig.core.stage import Job
from neurosig.data.event_cache import CachedEventDataset, EventAugment, build_cache
from neurosig.data.event_dataset import labelled_files, simulated_motion, split_by_group, tonic_recordings
from neurosig.events.preprocess import EventPreprocessing
from neurosig.snn.event_inference import save_event_model
from neurosig.snn.models import ConvSNN, DelaySNN, count_parameters
from neurosig.snn.report import plot_confusion, plot_training
from neurosig.snn.train import evaluate, fit

__all__ = ["EventTrainJob", "load_dataset"]

_DATASETS = ("simulated", "files", "tonic")


def load_dataset(spec: dict[str, Any], seed: int = 0):
    """``(recordings, classes)`` from a YAML ``dataset:`` mapping.

    ``{type: simulated, n_per_class, seed, duration, width, height, ...}``,
    ``{type: files, root, labels, sensor_size, classes}`` or ``{type: tonic, name, root, train, limit}``.
    """
    from neurosig.core.validate import check_option
    from neurosig.events.simulate import N_DIRECTIONS

    params = dict(spec)
    kind = check_option("dataset.type", params.pop("type", "simulated"), _DATASETS)
    try:
        if kind == "simulated":
            params.setdefault("seed", seed)
            names = ["0°", "45°", "90°", "135°", "180°", "225°", "270°", "315°"][:N_DIRECTIONS]
            return simulated_motion(**params), names
        if kind == "files":
            return labelled_files(**params)
        return tonic_recordings(**params)
    except TypeError as err:
        raise ConfigError(f"dataset ({kind}): {err}.") from None


class EventTrainJob(Job):
    """Train a spiking network with learnable delays on labelled event recordings; evaluate and deploy.

    Parameters
    ----------
    dataset : dict
        See :func:`load_dataset`; default: the simulated 8-direction motion set.
    transforms : list of dict
        Stream transforms (``denoise``, ``refractory``, ``hot_pixels``, ``crop``, ``downsample``,
        ``merge_polarity``) with their parameters, in order.
    representation : dict
        ``{type: spikes, dt: µs}``: the dense SNN takes binary spikes.
    n_steps : int
        Time steps per sample.
    augment : dict | None
        :class:`~neurosig.data.event_cache.EventAugment` parameters for the training part.
    model : dict | None
        ``{type: dense}`` (the default: a :class:`~neurosig.snn.models.DelaySNN` on the flattened
        spikes) or ``{type: conv, channels: [8, 16], conv_kernel: 3, pool: 2}`` (a
        :class:`~neurosig.snn.models.ConvSNN`: convolutional spiking blocks, then the delay layers
        and readout set by the parameters below; no NIR export).
    n_hidden, n_layers, kernel_size : int
        Network size; delays span ``0 .. kernel_size - 1`` steps.
    delays : bool
        Learnable delays (``False``: plain weights, the control).
    neuron : {"lif", "plif", "alif"}
        Hidden neuron model (ALIF cannot be exported to NIR).
    tau : float
        Membrane time constant in steps.
    dropout : float
        Dropout after each hidden layer.
    epochs, batch_size : int
        Training length and batch size.
    lr, position_lr, weight_decay : float
        Optimiser settings (:func:`neurosig.snn.train.fit`).
    val_fraction, test_fraction : float
        Parts of the dataset held out (by recording group).
    workers : int
        DataLoader worker processes reading the cache.
    device : {"auto", "cpu", "cuda"}
        ``auto``: CUDA when torch sees a GPU.
    export_nir : bool
        Write ``model.nir`` and check it against the model on the test part.
    output_dir, cache_dir : str
        Where results go, and the cache (shared between runs and models).
    seed : int
        Seed of the split, the augmentations, the shuffles and the initialisation.
    threads : int | None
        Torch intra-op threads (``None``: torch's setting).
    """

    name = "event_train"

    def __init__(
        self,
        dataset: dict[str, Any] | None = None,
        transforms: list[dict[str, Any]] | None = None,
        representation: dict[str, Any] | None = None,
        n_steps: Annotated[int, pydantic.Field(gt=0)] = 20,
        augment: dict[str, float] | None = None,
        model: dict[str, Any] | None = None,
        n_hidden: Annotated[int, pydantic.Field(gt=0)] = 64,
        n_layers: Annotated[int, pydantic.Field(gt=0)] = 1,
        kernel_size: Annotated[int, pydantic.Field(gt=0)] = 7,
        delays: bool = True,
        neuron: Literal["lif", "plif", "alif"] = "lif",
        tau: Annotated[float, pydantic.Field(gt=1)] = 2.0,
        dropout: Annotated[float, pydantic.Field(ge=0, lt=1)] = 0.0,
        epochs: Annotated[int, pydantic.Field(gt=0)] = 10,
        batch_size: Annotated[int, pydantic.Field(gt=0)] = 32,
        lr: Annotated[float, pydantic.Field(gt=0)] = 5e-3,
        position_lr: Annotated[float, pydantic.Field(gt=0)] = 0.1,
        weight_decay: Annotated[float, pydantic.Field(ge=0)] = 1e-5,
        val_fraction: Annotated[float, pydantic.Field(gt=0, lt=1)] = 0.15,
        test_fraction: Annotated[float, pydantic.Field(gt=0, lt=1)] = 0.15,
        workers: Annotated[int, pydantic.Field(ge=0)] = 0,
        device: Literal["auto", "cpu", "cuda"] = "auto",
        export_nir: bool = True,
        output_dir: str = "out/event_train",
        cache_dir: str = "out/event_cache",
        seed: int = 0,
        threads: Annotated[int, pydantic.Field(gt=0)] | None = None,
    ) -> None:
        self.dataset = dataset
        self.transforms = transforms
        self.representation = representation
        self.n_steps = n_steps
        self.augment = augment
        self.model = model
        self.n_hidden = n_hidden
        self.n_layers = n_layers
        self.kernel_size = kernel_size
        self.delays = delays
        self.neuron = neuron
        self.tau = tau
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.position_lr = position_lr
        self.weight_decay = weight_decay
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.workers = workers
        self.device = device
        self.export_nir = export_nir
        self.output_dir = output_dir
        self.cache_dir = cache_dir
        self.seed = seed
        self.threads = threads

    def _device(self) -> torch.device:
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device: cuda was asked for but torch sees no GPU; use device: auto or cpu.")
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def _model(self, pre: EventPreprocessing, n_classes: int) -> DelaySNN | ConvSNN:
        """The network the ``model:`` mapping and the size parameters describe."""
        from neurosig.core.validate import check_option

        spec = dict(self.model or {})
        kind = check_option("model.type", spec.pop("type", "dense"), ("dense", "conv"))
        common = {
            "n_hidden": self.n_hidden,
            "n_layers": self.n_layers,
            "kernel_size": self.kernel_size,
            "delays": self.delays,
            "neuron": self.neuron,
            "tau": self.tau,
            "dropout": self.dropout,
            "seed": self.seed,
        }
        if kind == "dense":
            if spec:
                raise ConfigError(f"model: {{type: dense}} takes no other keys, got {sorted(spec)}.")
            return DelaySNN(pre.n_units, n_outputs=n_classes, **common)
        width, height, polarities = pre.output_size
        try:
            return ConvSNN((polarities, height, width), n_classes, **spec, **common)
        except TypeError as err:
            raise ConfigError(
                f"model (conv): {err}; it takes channels, conv_kernel and pool (the rest are job keys)."
            ) from None

    def _batches(self, ds: CachedEventDataset, epoch: int | None = None):
        shuffle = epoch is not None
        if shuffle:
            ds.set_epoch(epoch)
        for x, y in ds.loader(self.batch_size, shuffle=shuffle, workers=self.workers, seed=self.seed):
            yield x.transpose(0, 1), y

    def run(self, progress: bool = False) -> dict[str, Any]:
        """Train, select on validation, test, stream, export; return the summary (also ``summary.json``)."""
        out = Path(self.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        torch.manual_seed(self.seed)
        recordings, classes = load_dataset(self.dataset or {"type": "simulated"}, self.seed)
        sensor_size = recordings[0].load()[1]
        pre = EventPreprocessing.from_config(
            sensor_size,
            self.transforms or [],
            self.representation or {"type": "spikes", "dt": 5000},
            self.n_steps,
        )
        if not pre.binary:
            raise ConfigError(
                f"representation {pre.representation['type']!r}: the spiking network takes binary "
                "spikes; use representation: {type: spikes, dt: MICROSECONDS}."
            )
        tic = time.perf_counter()
        cache = build_cache(recordings, pre, self.cache_dir, progress=progress)
        cache_seconds = time.perf_counter() - tic
        fractions = [1 - self.val_fraction - self.test_fraction, self.val_fraction, self.test_fraction]
        train_idx, val_idx, test_idx = split_by_group(recordings, fractions, seed=self.seed)
        if not (train_idx and val_idx and test_idx):
            raise ConfigError(
                f"the split left an empty part (train {len(train_idx)}, val {len(val_idx)}, test "
                f"{len(test_idx)} recordings); use more recordings or larger val_fraction / test_fraction."
            )
        augment = EventAugment(**(self.augment or {}))
        train = CachedEventDataset(cache, train_idx, augment=augment, seed=self.seed)
        val, test = CachedEventDataset(cache, val_idx), CachedEventDataset(cache, test_idx)
        device = self._device()
        model = self._model(pre, len(classes)).to(device)
        result = fit(
            model,
            lambda epoch: self._batches(train, epoch),
            lambda: self._batches(val),
            self.epochs,
            lr=self.lr,
            position_lr=self.position_lr,
            weight_decay=self.weight_decay,
            output_dir=out,
            progress=progress,
        )
        model = model.cpu()
        for layer in model.delay_layers():
            layer.round_delays()
        checkpoint = save_event_model(
            out / "model.pt", model, pre, classes, val_accuracy=result["best_val_accuracy"]
        )
        scores = self._offline_scores(model, test)
        predicted = scores.argmax(1)
        truth = test.labels
        matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
        np.add.at(matrix, (truth, predicted), 1)
        delays = {
            "readout" if i == len(model.delay_layers()) else f"hidden {i}": layer.delays().numpy()
            for i, layer in enumerate(model.delay_layers(), start=1)
        }
        summary = {
            "n_recordings": len(recordings),
            "n_train": len(train_idx),
            "n_val": len(val_idx),
            "n_test": len(test_idx),
            "classes": classes,
            "sensor_size": list(pre.sensor_size),
            "n_inputs": pre.n_units,
            "n_parameters": count_parameters(model),
            "device": str(device),
            "cache": str(cache),
            "cache_seconds": cache_seconds,
            "epoch_seconds": [row["seconds"] for row in result["history"]],
            "best_epoch": result["best_epoch"],
            "val_accuracy": result["best_val_accuracy"],
            "test_accuracy": float(np.mean(predicted == truth)),
            "checkpoint": str(checkpoint),
            "metrics": str(out / "metrics.jsonl"),
            "figure": str(
                plot_training(result["history"], delays, out / "training.png", pre.dt, result["best_epoch"])
            ),
            "confusion": str(plot_confusion(matrix, classes, out / "confusion.png")),
        }
        streamed = self._stream(checkpoint, recordings, test_idx)
        summary["stream_test_accuracy"] = float(np.mean(streamed == truth))
        summary["stream_agrees_with_offline"] = float(np.mean(streamed == predicted))
        if self.export_nir:
            summary.update(self._nir(checkpoint, out, test, predicted))
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        return summary

    def _offline_scores(self, model: DelaySNN | ConvSNN, ds: CachedEventDataset) -> np.ndarray:
        """The rounded-delay model's scores on a split (the offline evaluation)."""
        evaluate(model, self._batches(ds), rounded=True)  # eval mode, rounded delays
        with torch.no_grad():
            return np.concatenate([model(x).numpy() for x, _ in self._batches(ds)])

    @staticmethod
    def _stream(checkpoint: Path, recordings, indices) -> np.ndarray:
        """Each recording streamed through ``snn_classify`` in 4 chunks: its first window's prediction."""
        from neurosig.snn.classify import SNNClassify
        from neurosig.testing import run_stage

        stage = SNNClassify(str(checkpoint))
        predictions = []
        for i in indices:
            events, size = recordings[i].load()
            chunks = [EventChunk(part, EventInfo(size)) for part in np.array_split(events, 4)]
            scores = np.concatenate([c.data for c in run_stage(stage, chunks)])
            predictions.append(int(scores[0].argmax()))
        return np.array(predictions, dtype=np.int64)

    def _nir(
        self, checkpoint: Path, out: Path, test: CachedEventDataset, predicted: np.ndarray
    ) -> dict[str, Any]:
        """Export ``model.nir``, read it back and run it on the test part."""
        from neurosig.snn.nir_graph import export_nir, load_nir

        if self.neuron == "alif":
            return {"nir": "not exported: NIR has no adaptive-threshold (ALIF) neuron"}
        if (self.model or {}).get("type") == "conv":
            return {"nir": "not exported: the convolutional model has no NIR form here (see to_nir)"}
        path = export_nir(checkpoint, out / "model.nir")
        network = load_nir(path)
        x = np.stack([test[i][0] for i in range(len(test))]).transpose(1, 0, 2)
        nir_predicted = network(x).sum(0).argmax(1)
        return {
            "nir": str(path),
            "nir_test_accuracy": float(np.mean(nir_predicted == test.labels)),
            "nir_agrees_with_offline": float(np.mean(nir_predicted == predicted)),
        }
