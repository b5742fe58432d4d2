"""A scikit-learn classifier around the EEGNet-family models.

:class:`EEGClassifier` has ``fit``/``predict``/``predict_proba``/``get_params``, so MOABB's evaluations,
``sklearn.model_selection`` and ``sklearn.pipeline`` accept it unchanged. Training follows the comparison
code: Adam (lr 1e-3), cross-entropy, batch 32, a seeded validation split with early stopping, max-norm
constraints after every step, inputs in microvolts. Runs are deterministic by default.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedShuffleSplit
from torch import nn

from neurosig.bci.layers import apply_max_norm
from neurosig.bci.models import MODELS, build_model
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.persist import restore, save_checkpoint
from neurosig.core.validate import check_epochs_array, check_finite, check_option, check_positive

__all__ = ["EEGClassifier", "KIND", "check_epochs", "deterministic_torch", "load_classifier"]

#: The checkpoint kind of EEG classifiers.
KIND = "bci-classifier"


def check_epochs(
    X: Any, y: Any | None = None, *, min_classes: int = 2
) -> tuple[np.ndarray, np.ndarray | None]:
    """Check an epochs array ``(n_trials, n_channels, n_times)`` and its labels.

    Raises
    ------
    DataError
        On a wrong shape, non-finite values, a label count that differs from the trials, or fewer
        than ``min_classes`` classes.
    """
    X = check_epochs_array(X, hint="cut the recording into trials first (see neurosig.data)")
    check_finite("epochs", X)
    if y is None:
        return X, None
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise DataError(f"{len(X)} trials but labels of shape {y.shape}; give one label per trial.")
    classes = np.unique(y)
    if len(classes) < min_classes:
        raise DataError(
            f"the labels hold {len(classes)} class(es) {classes.tolist()}; a decoder needs at least "
            f"{min_classes}. Check the event mapping of the dataset."
        )
    return X, y


@contextlib.contextmanager
def deterministic_torch(seed: int, enabled: bool = True) -> Iterator[None]:
    """Seed torch and, when ``enabled``, switch on deterministic algorithms for the block."""
    previous = torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(seed)
    if enabled:
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)


class EEGClassifier(ClassifierMixin, BaseEstimator):
    """Train and apply an EEGNet-family model with the scikit-learn interface.

    Parameters
    ----------
    model : str
        ``"shallow"``, ``"deep"``, ``"eegnet"``, ``"eegnet_fusion"`` or ``"mi_eegnet"``.
    sfreq : float | None
        Sampling rate of the epochs in Hz (sets the EEGNets' kernel lengths). Required by ``fit``; the
        evaluation fills it in from the dataset.
    epochs : int
        Maximum training epochs.
    batch_size : int
        Trials per optimiser step.
    lr : float
        Adam learning rate.
    validation : float
        Fraction of the training trials held out (stratified, seeded) for early stopping; 0 trains for
        exactly ``epochs`` epochs on everything.
    patience : int
        Epochs without a lower validation loss before training stops (the best weights are kept).
    scale : float
        Factor applied to the input before the model; 1e6 turns volts into microvolts.
    seed : int
        Seeds weights, the validation split, batch order and dropout.
    deterministic : bool
        Use torch's deterministic algorithms during training and inference.
    model_options : dict | None
        Extra keyword arguments for the model (e.g. ``{"dropout": 0.25}``).
    device : str
        Torch device (``"cpu"`` or ``"cuda"``).
    recalibrate_bn : bool
        After training, re-estimate the batch-norm running statistics on the training trials. The
        comparison code's Keras momentum (0.99) moves them so slowly that after a short training on
        few trials they are far from the data and every prediction falls in one class; ``False``
        keeps the running averages as Keras would.
    """

    def __init__(
        self,
        model: str = "eegnet",
        sfreq: float | None = None,
        epochs: int = 500,
        batch_size: int = 32,
        lr: float = 1e-3,
        validation: float = 0.2,
        patience: int = 15,
        scale: float = 1e6,
        seed: int = 0,
        deterministic: bool = True,
        model_options: dict[str, Any] | None = None,
        device: str = "cpu",
        recalibrate_bn: bool = True,
    ):
        self.model = model
        self.sfreq = sfreq
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation = validation
        self.patience = patience
        self.scale = scale
        self.seed = seed
        self.deterministic = deterministic
        self.model_options = model_options
        self.device = device
        self.recalibrate_bn = recalibrate_bn

    # -- checks -----------------------------------------------------------------------------------
    def _check_params(self) -> None:
        check_option("model", self.model, MODELS)
        if self.sfreq is None:
            raise ConfigError(
                "EEGClassifier needs sfreq (Hz) to size the temporal kernels; pass sfreq=... "
                "(the evaluation sets it from the dataset)."
            )
        check_positive("sfreq", self.sfreq)
        check_positive("lr", self.lr)
        for name in ("epochs", "batch_size", "patience"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)!r}.")
        if not 0 <= self.validation < 1:
            raise ConfigError(f"validation must be a fraction in [0, 1), got {self.validation!r}.")

    def _tensor(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(X, dtype=np.float32) * np.float32(self.scale), device=self.device)

    # -- training ---------------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray) -> EEGClassifier:
        """Build a fresh model and train it.

        Parameters
        ----------
        X : ndarray, shape (n_trials, n_channels, n_times)
            Epochs in volts (times ``scale``).
        y : ndarray, shape (n_trials,)
            Class labels (any hashable values).
        """
        self._check_params()
        X, y = check_epochs(X, y)
        self.classes_ = np.unique(y)
        with deterministic_torch(self.seed, self.deterministic):
            self.model_ = build_model(
                self.model,
                X.shape[1],
                X.shape[2],
                len(self.classes_),
                float(self.sfreq),
                **(self.model_options or {}),
            ).to(self.device)
            self.history_ = self._train(X, np.searchsorted(self.classes_, y), int(self.epochs), self.lr)
        return self

    def fine_tune(
        self, X: np.ndarray, y: np.ndarray, epochs: int | None = None, lr: float | None = None
    ) -> EEGClassifier:
        """Continue training the fitted model on new trials (transfer learning).

        Parameters
        ----------
        X, y
            As in :meth:`fit`; the labels must be among the classes seen by :meth:`fit`.
        epochs : int | None
            Maximum epochs (default: ``self.epochs``).
        lr : float | None
            Learning rate (default: ``self.lr``).
        """
        if not hasattr(self, "model_"):
            raise DataError("fine_tune needs a fitted classifier; call fit (pretraining) first.")
        X, y = check_epochs(X, y, min_classes=1)
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise DataError(
                f"fine_tune got classes {unknown.tolist()} that pretraining never saw "
                f"({self.classes_.tolist()}); pretrain on the same classes."
            )
        with deterministic_torch(self.seed + 1, self.deterministic):
            self.history_ = self._train(
                X, np.searchsorted(self.classes_, y), int(epochs or self.epochs), lr or self.lr
            )
        return self

    def _split(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = np.arange(len(y))
        n_val = int(round(self.validation * len(y)))
        counts = np.bincount(y)
        if n_val < len(np.unique(y)) or min(counts[counts > 0]) < 2:
            return index, index[:0]
        splitter = StratifiedShuffleSplit(1, test_size=n_val, random_state=self.seed)
        return next(splitter.split(index, y))

    def _train(self, X: np.ndarray, y: np.ndarray, epochs: int, lr: float) -> dict[str, list[float]]:
        model = self.model_
        train, val = self._split(y)
        xt, yt = self._tensor(X), torch.as_tensor(y, device=self.device)
        optimiser = torch.optim.Adam(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(self.seed)
        history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
        best, best_state, waited = np.inf, None, 0
        for _ in range(epochs):
            model.train()
            order = torch.as_tensor(train)[torch.randperm(len(train), generator=generator)]
            total = 0.0
            for start in range(0, len(order), int(self.batch_size)):
                batch = order[start : start + int(self.batch_size)]
                if len(batch) < 2 and len(order) > 1:
                    continue  # batch norm cannot train on one trial
                optimiser.zero_grad()
                loss = loss_fn(model(xt[batch]), yt[batch])
                loss.backward()
                optimiser.step()
                apply_max_norm(model)
                total += loss.detach().item() * len(batch)
            history["train_loss"].append(total / max(len(order), 1))
            if len(val) == 0:
                continue
            model.eval()
            with torch.no_grad():
                val_loss = float(loss_fn(model(xt[val]), yt[val]))
            history["val_loss"].append(val_loss)
            if val_loss < best:
                best, best_state, waited = val_loss, copy.deepcopy(model.state_dict()), 0
            else:
                waited += 1
                if waited >= int(self.patience):
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
        if self.recalibrate_bn:
            self._recalibrate_batch_norm(xt[torch.as_tensor(train)])
        model.eval()
        return history

    @torch.no_grad()
    def _recalibrate_batch_norm(self, x: torch.Tensor) -> None:
        """Re-estimate every batch norm's running mean and variance on ``x`` (dropout off)."""
        model = self.model_
        norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if not norms or len(x) < 2:
            return
        model.eval()
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.train()
        seen = 0
        for start in range(0, len(x), int(self.batch_size)):
            batch = x[start : start + int(self.batch_size)]
            if len(batch) < 2:
                continue
            seen += len(batch)
            for m in norms:  # running stats become the trial-weighted average of the batch stats
                m.momentum = len(batch) / seen
            model(batch)
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum

    # -- inference --------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise DataError("this EEGClassifier is not fitted yet; call fit(X, y) first.")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape ``(n_trials, n_classes)``, columns ordered as ``classes_``."""
        self._check_fitted()
        X, _ = check_epochs(X)
        expected = (self.model_.config["n_channels"], self.model_.config["n_times"])
        if X.shape[1:] != expected:
            raise DataError(
                f"epochs of shape {X.shape[1:]} (channels, samples) but the model was trained on "
                f"{expected}; use the same channels and window."
            )
        self.model_.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(X), 256):
                logits = self.model_(self._tensor(X[start : start + 256]))
                out.append(torch.softmax(logits, dim=1).cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of each trial."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write a checkpoint (kind ``bci-classifier``): parameters, model config, classes, weights.

        See :mod:`neurosig.core.persist`; the write is exclusive and atomic.
        """
        self._check_fitted()
        config = {
            "params": {k: v for k, v in self.get_params().items() if k != "device"},
            "model": self.model_.config,
            "classes": self.classes_.tolist(),
        }
        return save_checkpoint(path, KIND, config, self.model_.state_dict())


def load_classifier(path: str | Path, device: str = "cpu") -> EEGClassifier:
    """Load a classifier written by :meth:`EEGClassifier.save` (``weights_only=True``).

    Raises
    ------
    FormatError
        If the file is not a classifier checkpoint, or its config or weights are invalid.
    """
    clf = None

    def build(config: dict[str, Any]) -> nn.Module:
        nonlocal clf
        clf = EEGClassifier(**config["params"], device=device)
        clf.classes_ = np.asarray(config["classes"])
        return build_model(**config["model"])

    model, _ = restore(path, KIND, build, map_location=device)
    clf.model_ = model
    return clf
