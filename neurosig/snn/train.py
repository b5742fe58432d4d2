"""Training loop for delay networks, and the ``snn_delays`` job that trains and evaluates from YAML.

The split is kept honest: the checkpoint is chosen on a validation part carved from the training data,
and the test data is read once, at the end (the delay paper selected on its test set; we do not).
Each epoch appends a JSON line of metrics to ``metrics.jsonl``; the best and the last states are saved
as checkpoints (model config beside the weights, loadable with ``weights_only=True``). The job also
draws ``training.png``: accuracy and loss per epoch and a histogram of the learnt, rounded delays.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pydantic
import torch
from torch import nn
from torch.nn import functional as F

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.stage import Job
from neurosig.snn.delays import sigma_schedule
from neurosig.snn.models import DelaySNN, count_parameters
from neurosig.snn.report import plot_training

__all__ = ["fit", "evaluate", "load_checkpoint", "DelayTrainingJob"]

Batches = Iterable[tuple[Any, Any]]


def _tensors(x, y) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x, dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y, dtype=torch.int64)
    if x.dim() != 3 or y.dim() != 1 or x.shape[1] != y.shape[0]:
        raise DataError(
            f"batches must be (x, y) with x of shape (T, batch, channels) and y of shape (batch,); "
            f"got {tuple(x.shape)} and {tuple(y.shape)}."
        )
    return x, y


@torch.no_grad()
def evaluate(model: nn.Module, batches: Batches, rounded: bool = False) -> dict[str, float]:
    """Mean cross-entropy and accuracy of ``model`` (in eval mode) over ``batches``.

    With ``rounded=True`` every delay layer runs with integer delays (as deployed), and is switched
    back afterwards.
    """
    model.eval()
    layers = [m for m in model.modules() if hasattr(m, "round_delays")]
    before = [layer.rounded for layer in layers]
    for layer in layers:
        layer.rounded = rounded or layer.rounded
    try:
        return _evaluate(model, batches)
    finally:
        for layer, flag in zip(layers, before, strict=True):
            layer.rounded = flag


def _evaluate(model: nn.Module, batches: Batches) -> dict[str, float]:
    total, correct, loss = 0, 0, 0.0
    for x, y in batches:
        x, y = _tensors(x, y)
        scores = model(x)
        loss += float(F.cross_entropy(scores, y, reduction="sum"))
        correct += int((scores.argmax(1) == y).sum())
        total += len(y)
    if total == 0:
        raise DataError("no samples to evaluate; check the split fractions and the data file.")
    return {"loss": loss / total, "accuracy": correct / total}


def _optimizer(model: DelaySNN, lr: float, position_lr: float, weight_decay: float) -> torch.optim.Optimizer:
    positions = [p for n, p in model.named_parameters() if n.endswith(".P")]
    others = [p for n, p in model.named_parameters() if not n.endswith(".P")]
    groups = [{"params": others, "lr": lr, "weight_decay": weight_decay}]
    if positions:
        groups.append({"params": positions, "lr": position_lr, "weight_decay": 0.0})
    return torch.optim.Adam(groups)


def save_checkpoint(path: Path, model: DelaySNN, **extra: Any) -> None:
    """Save the model's config and weights (and ``extra`` numbers) atomically."""
    partial = path.with_name(path.name + ".partial")
    torch.save({"config": model.config, "state_dict": model.state_dict(), **extra}, partial)
    partial.replace(path)


def load_checkpoint(path: str | Path) -> tuple[DelaySNN, dict[str, Any]]:
    """Rebuild a :class:`DelaySNN` from a checkpoint (``weights_only=True``); return it and the extras."""
    blob = torch.load(Path(path), map_location="cpu", weights_only=True)
    model = DelaySNN(**blob.pop("config"))
    model.load_state_dict(blob.pop("state_dict"))
    return model, blob


def fit(
    model: DelaySNN,
    train_batches: Callable[[int], Batches],
    val_batches: Callable[[], Batches],
    epochs: int,
    lr: float = 1e-3,
    position_lr: float = 0.1,
    weight_decay: float = 1e-5,
    sigma_start: float | None = None,
    sigma_end: float = 0.23,
    sigma_fraction: float = 0.25,
    output_dir: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train ``model`` and keep the state with the best validation accuracy (with rounded delays).

    Parameters
    ----------
    model : DelaySNN
        The network (trained in place; on return it holds the best validation state).
    train_batches : callable
        ``train_batches(epoch)`` returns the epoch's iterable of ``(x (T, batch, C), y (batch,))``.
    val_batches : callable
        ``val_batches()`` returns the validation batches.
    epochs : int
        Number of passes over the training data.
    lr, position_lr : float
        Adam learning rates of the weights and of the delay positions (cosine-annealed).
    weight_decay : float
        L2 penalty on the weights (not on positions).
    sigma_start, sigma_end, sigma_fraction : float
        Gaussian width schedule of the delays in steps (default start: ``kernel_size // 2``), see
        :func:`~neurosig.snn.delays.sigma_schedule`.
    output_dir : str | Path | None
        Where ``metrics.jsonl``, ``best.pt`` and ``last.pt`` go (nothing is written when ``None``).
    progress : bool
        Show a progress bar over epochs.

    Returns
    -------
    dict
        ``history`` (one dict per epoch), ``best_epoch``, ``best_val_accuracy``.
    """
    if epochs < 1:
        raise ConfigError(f"epochs must be >= 1, got {epochs}.")
    from tqdm.auto import tqdm

    out = None if output_dir is None else Path(output_dir)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.jsonl").write_text("")
    optimizer = _optimizer(model, lr, position_lr, weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    start = float(model.config["kernel_size"] // 2) if sigma_start is None else sigma_start
    history, best_acc, best_epoch, best_state = [], -1.0, -1, None
    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not progress)
    for epoch in bar:
        tic = time.perf_counter()
        sigma = sigma_schedule(epoch, epochs, start=start, end=sigma_end, fraction=sigma_fraction)
        for layer in model.delay_layers():
            layer.set_sigma(sigma)
        model.train()
        seen, loss_sum, correct = 0, 0.0, 0
        for x, y in train_batches(epoch):
            x, y = _tensors(x, y)
            scores = model(x)
            loss = F.cross_entropy(scores, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            for layer in model.delay_layers():
                layer.clamp_positions()
            seen += len(y)
            loss_sum += float(loss.detach()) * len(y)
            correct += int((scores.argmax(1) == y).sum())
        scheduler.step()
        val = evaluate(model, val_batches(), rounded=True)
        row = {
            "epoch": epoch,
            "sigma": sigma,
            "train_loss": loss_sum / max(seen, 1),
            "train_accuracy": correct / max(seen, 1),
            "val_loss": val["loss"],
            "val_accuracy": val["accuracy"],
            "seconds": time.perf_counter() - tic,
        }
        history.append(row)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_acc=f"{val['accuracy']:.3f}")
        if val["accuracy"] > best_acc:
            best_acc, best_epoch = val["accuracy"], epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if out is not None:
                save_checkpoint(out / "best.pt", model, epoch=epoch, val_accuracy=best_acc)
        if out is not None:
            with open(out / "metrics.jsonl", "a") as log:
                log.write(json.dumps(row) + "\n")
            save_checkpoint(out / "last.pt", model, epoch=epoch, val_accuracy=val["accuracy"])
    model.load_state_dict(best_state)
    return {"history": history, "best_epoch": best_epoch, "best_val_accuracy": best_acc}


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
        Optimiser settings (see :func:`fit`).
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
