"""The ``snn_delays`` job: train a delay network and evaluate it, from YAML.

The split is kept honest: the checkpoint is chosen on a validation part carved from the training data,
and the test data is read once, at the end (the delay paper selected on its test set; we do not).
The job writes the checkpoints and ``metrics.jsonl`` of :func:`neurosig.snn.train.fit`, then draws
``training.png``: accuracy and loss per epoch and a histogram of the learnt, rounded delays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pydantic
import torch

from neurosig.core.errors import ConfigError
from neurosig.core.stage import Job
from neurosig.snn.models import DelaySNN, count_parameters
from neurosig.snn.report import plot_training
from neurosig.snn.train import evaluate, fit

__all__ = ["DelayTrainingJob"]


class DelayTrainingJob(Job):
    """Train a delay SNN on SHD-format data and evaluate it on held-out test data.

    Parameters
    ----------
    train : str | None
        SHD-format HDF5 training file; ``None`` generates the synthetic delay task
        (:func:`neurosig.data.shd.make_delay_task`) into ``output_dir``.
    test : str | None
        SHD-format test file; ``None`` holds out ``test_fraction`` of the training file instead.
    output_dir : str
        Checkpoints, ``metrics.jsonl`` and ``summary.json`` go here.
    synthetic : dict | None
        Parameters of :func:`~neurosig.data.shd.make_delay_task` when ``train`` is ``None``.
    dt : float
        Bin length in seconds (SHD: 0.01).
    n_bins : int
        Bins per sample (SHD: 100).
    group : int
        Neighbouring channels summed into one input (SHD: 5, giving 140 inputs).
    n_hidden, n_layers, kernel_size : int
        Network size; delays span ``kernel_size`` steps (SHD: 256, 2, 25).
    delays : bool
        Train delays (``False``: the no-delay control network).
    neuron : {"lif", "plif", "alif"}
        Hidden neuron model.
    tau : float
        Membrane time constant in steps.
    dropout : float
        Dropout after each hidden layer.
    epochs, batch_size : int
        Training length and batch size.
    lr, position_lr, weight_decay : float
        Optimiser settings (see :func:`neurosig.snn.train.fit`).
    val_fraction, test_fraction : float
        Parts of the training file held out for validation (and for testing when ``test`` is None).
    seed : int
        Seed of the split, the shuffles and the initialisation.
    threads : int | None
        Torch intra-op threads for this run (``None`` keeps torch's setting); small networks train
        fastest on one thread.
    """

    name = "snn_delays"

    def __init__(
        self,
        train: str | None = None,
        test: str | None = None,
        output_dir: str = "out/snn_delays",
        synthetic: dict[str, Any] | None = None,
        dt: Annotated[float, pydantic.Field(gt=0)] = 0.01,
        n_bins: Annotated[int, pydantic.Field(gt=0)] = 100,
        group: Annotated[int, pydantic.Field(gt=0)] = 1,
        n_hidden: Annotated[int, pydantic.Field(gt=0)] = 256,
        n_layers: Annotated[int, pydantic.Field(gt=0)] = 2,
        kernel_size: Annotated[int, pydantic.Field(gt=0)] = 25,
        delays: bool = True,
        neuron: str = "lif",
        tau: Annotated[float, pydantic.Field(gt=0)] = 1.005,
        dropout: Annotated[float, pydantic.Field(ge=0, lt=1)] = 0.4,
        epochs: Annotated[int, pydantic.Field(gt=0)] = 20,
        batch_size: Annotated[int, pydantic.Field(gt=0)] = 64,
        lr: Annotated[float, pydantic.Field(gt=0)] = 1e-3,
        position_lr: Annotated[float, pydantic.Field(gt=0)] = 0.1,
        weight_decay: Annotated[float, pydantic.Field(ge=0)] = 1e-5,
        val_fraction: Annotated[float, pydantic.Field(gt=0, lt=1)] = 0.1,
        test_fraction: Annotated[float, pydantic.Field(gt=0, lt=1)] = 0.2,
        seed: int = 0,
        threads: Annotated[int, pydantic.Field(gt=0)] | None = None,
    ) -> None:
        self.train = train
        self.test = test
        self.output_dir = output_dir
        self.synthetic = synthetic
        self.dt = dt
        self.n_bins = n_bins
        self.group = group
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
        self.seed = seed
        self.threads = threads

    def _train_file(self, out: Path) -> Path:
        if self.train is not None:
            return Path(self.train)
        from neurosig.data.shd import make_delay_task

        path = out / "synthetic_delay_task.h5"  # regenerated each run (deterministic, fast): never stale
        try:
            return make_delay_task(path, seed=self.seed, dt=self.dt, overwrite=True, **(self.synthetic or {}))
        except TypeError as err:
            raise ConfigError(
                f"synthetic: {err}; see neurosig.data.shd.make_delay_task for its parameters."
            ) from None

    def run(self, progress: bool = False) -> dict[str, Any]:
        """Train, select on validation, evaluate on test; return the summary (also ``summary.json``)."""
        from neurosig.data.shd import SHDReader, split_indices

        out = Path(self.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        torch.manual_seed(self.seed)
        opts = {"dt": self.dt, "n_bins": self.n_bins, "group": self.group}
        reader = SHDReader(self._train_file(out), **opts)
        test_reader = reader if self.test is None else SHDReader(self.test, n_units=reader.n_units, **opts)
        if self.test is None:
            fractions = [1 - self.val_fraction - self.test_fraction, self.val_fraction, self.test_fraction]
            train_idx, val_idx, test_idx = split_indices(len(reader), fractions, seed=self.seed)
        else:
            train_idx, val_idx = split_indices(
                len(reader), [1 - self.val_fraction, self.val_fraction], self.seed
            )
            test_idx = np.arange(len(test_reader))
        model = DelaySNN(
            reader.n_channels,
            self.n_hidden,
            max(reader.n_classes, test_reader.n_classes),
            n_layers=self.n_layers,
            kernel_size=self.kernel_size,
            delays=self.delays,
            neuron=self.neuron,
            tau=self.tau,
            dropout=self.dropout,
            seed=self.seed,
        )
        bs = self.batch_size
        result = fit(
            model,
            lambda epoch: reader.batches(train_idx, bs, shuffle=True, seed=self.seed * 1000 + epoch),
            lambda: reader.batches(val_idx, bs),
            self.epochs,
            lr=self.lr,
            position_lr=self.position_lr,
            weight_decay=self.weight_decay,
            output_dir=out,
            progress=progress,
        )
        layers = model.delay_layers()  # the hidden layers' synapses, then the readout's
        delays = {
            "readout" if i == len(layers) else f"hidden {i}": layer.delays().cpu().numpy()
            for i, layer in enumerate(layers, start=1)
        }
        test = evaluate(model, test_reader.batches(test_idx, bs))
        rounded = evaluate(model, test_reader.batches(test_idx, bs), rounded=True)
        summary = {
            "train_file": str(reader.path),
            "n_train": len(train_idx),
            "n_val": len(val_idx),
            "n_test": len(test_idx),
            "n_parameters": count_parameters(model),
            "best_epoch": result["best_epoch"],
            "val_accuracy": result["best_val_accuracy"],
            "test_accuracy": test["accuracy"],
            "test_accuracy_rounded_delays": rounded["accuracy"],
            "checkpoint": str(out / "best.pt"),
            "metrics": str(out / "metrics.jsonl"),
            "figure": str(
                plot_training(result["history"], delays, out / "training.png", self.dt, result["best_epoch"])
            ),
        }
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        reader.close()
        if test_reader is not reader:
            test_reader.close()
        return summary

    def headline(self, result: dict[str, Any]) -> str:
        """Test accuracy (trained and rounded delays), the epoch kept, and where ``summary.json`` is."""
        return (
            f"test accuracy {100 * result['test_accuracy']:.1f} % "
            f"({100 * result['test_accuracy_rounded_delays']:.1f} % with rounded delays), "
            f"best_epoch {result['best_epoch']} of 0-{self.epochs - 1}; "
            f"details in {Path(self.output_dir) / 'summary.json'}"
        )
