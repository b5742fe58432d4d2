"""The ``atat_train`` job: build the benchmark data, train one denoiser, evaluate it, save it.

Run it with ``neurosig run pipelines/atat_train.yaml`` (or build it with
:func:`neurosig.core.config.build_job`). Outputs in ``out_dir``: ``model.pt`` (best weights on
validation, with their config) and ``metrics.json`` (test metrics per SNR for the model and the
noisy input, training history, data provenance).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import pydantic

from neurosig.core.stage import Job
from neurosig.core.validate import expand_files

__all__ = ["ATATTrainJob"]

PositiveInt = Annotated[int, pydantic.Field(gt=0)]


class ATATTrainJob(Job):
    """Train an EMG-removal model (AT-AT or a baseline) on EEGdenoiseNet-style data.

    Parameters
    ----------
    eeg_files, emg_files : list of str
        Glob patterns of EEG recordings and UCI gesture EMG files for
        :func:`neurosig.data.denoise.build_from_recordings` (ignored with ``eegdenoisenet_root``).
    eegdenoisenet_root : str | None
        Folder with the published EEGdenoiseNet ``.npy`` files, used instead of recordings.
    cleaning : {"auto", "faster", "threshold", "none"}
        Cleaning of the EEG recordings.
    max_epochs_per_recording : int | None
        Cap on clean channel-epochs taken from one recording.
    model : {"atat", "fcnn", "simple_cnn", "rescnn"}
        What to train.
    size : {"tiny", "small", "medium"}
        AT-AT size preset.
    epochs, samples_per_epoch, batch_size, patience : int
        Training passes, pairs per pass, batch size, early-stopping patience (passes).
    lr : float
        Learning rate.
    adv_weight : float
        Adversarial loss weight (AT-AT).
    loss : {"mse", "relative"}
        Training loss (see :class:`~neurosig.eeg.atat.train.TrainConfig`).
    max_seconds : float | None
        Wall-clock budget for training, s.
    seed : int
        Seed of data subsampling, pair draws and weights.
    eval_epochs : int
        Test epochs per SNR level.
    threads : int
        Torch CPU threads.
    out_dir : str
        Where ``model.pt`` and ``metrics.json`` go.
    """

    name: ClassVar[str] = "atat_train"

    def __init__(
        self,
        eeg_files: list[str] = ("../shared/data/eeg/eegmmidb/S001/*.edf",),
        emg_files: list[str] = ("../shared/data/emg/*.txt",),
        eegdenoisenet_root: str | None = None,
        cleaning: Literal["auto", "faster", "threshold", "none"] = "auto",
        max_epochs_per_recording: PositiveInt | None = 1000,
        model: Literal["atat", "fcnn", "simple_cnn", "rescnn"] = "atat",
        size: Literal["tiny", "small", "medium"] = "small",
        epochs: PositiveInt = 40,
        samples_per_epoch: PositiveInt = 8192,
        batch_size: PositiveInt = 64,
        patience: PositiveInt = 6,
        lr: Annotated[float, pydantic.Field(gt=0)] = 2e-3,
        adv_weight: Annotated[float, pydantic.Field(ge=0)] = 0.02,
        loss: Literal["mse", "relative"] = "mse",
        max_seconds: Annotated[float, pydantic.Field(gt=0)] | None = None,
        seed: int = 0,
        eval_epochs: PositiveInt = 500,
        threads: PositiveInt = 1,
        out_dir: str = "out/atat",
    ):
        self.eeg_files = list(eeg_files)
        self.emg_files = list(emg_files)
        self.eegdenoisenet_root = eegdenoisenet_root
        self.cleaning = cleaning
        self.max_epochs_per_recording = max_epochs_per_recording
        self.model = model
        self.size = size
        self.epochs = epochs
        self.samples_per_epoch = samples_per_epoch
        self.batch_size = batch_size
        self.patience = patience
        self.lr = lr
        self.adv_weight = adv_weight
        self.loss = loss
        self.max_seconds = max_seconds
        self.seed = seed
        self.eval_epochs = eval_epochs
        self.threads = threads
        self.out_dir = out_dir

    def load_data(self):
        """The benchmark data this job trains on (:class:`~neurosig.eeg.atat.pairs.DenoiseData`)."""
        from neurosig.data import denoise  # noqa: PLC0415 - mne/scipy only when run

        if self.eegdenoisenet_root is not None:
            return denoise.load_eegdenoisenet(self.eegdenoisenet_root, seed=self.seed)
        return denoise.build_from_recordings(
            expand_files(self.eeg_files, "eeg_files"),
            expand_files(self.emg_files, "emg_files"),
            cleaning=self.cleaning,
            max_epochs_per_recording=self.max_epochs_per_recording,
            seed=self.seed,
        )

    def run(self, progress: bool = False) -> dict[str, Any]:
        """Train, evaluate on the held-out split and write ``model.pt`` and ``metrics.json``."""
        import torch  # noqa: PLC0415

        from neurosig.eeg.atat.checkpoint import predict  # noqa: PLC0415
        from neurosig.eeg.atat.train import TrainConfig, evaluate, fit  # noqa: PLC0415

        torch.set_num_threads(self.threads)
        data = self.load_data()
        cfg = TrainConfig(
            model=self.model,
            size=self.size,
            epochs=self.epochs,
            samples_per_epoch=self.samples_per_epoch,
            batch_size=self.batch_size,
            lr=self.lr,
            patience=self.patience,
            seed=self.seed,
            adv_weight=self.adv_weight,
            loss=self.loss,
            max_seconds=self.max_seconds,
        )
        out = Path(self.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        result = fit(data, cfg, checkpoint=out / "model.pt", progress=progress)
        kw = {"max_epochs": self.eval_epochs, "seed": self.seed}
        summary = {
            "model": self.model,
            "n_params": result.n_params,
            "train_seconds": result.seconds,
            "best_epoch": result.best_epoch,
            "history": result.history,
            "test": {
                "noisy": evaluate(lambda x: x, data, **kw),
                self.model: evaluate(lambda x: predict(result.model, x), data, **kw),
            },
            "data": data.provenance,
            "weights": str(out / "model.pt"),
        }
        (out / "metrics.json").write_text(json.dumps(summary, indent=1))
        return summary

    def headline(self, result: dict[str, Any]) -> str:
        """Held-out CC (noisy input and cleaned) at the lowest and highest SNR, and ``metrics.json``."""
        test, model = result["test"], result["model"]
        snr = test["noisy"]["snr_db"]
        cc = ", ".join(
            f"{snr[i]:g} dB: {test['noisy']['cc'][i]:.3f} -> {test[model]['cc'][i]:.3f}" for i in (0, -1)
        )
        where = Path(self.out_dir) / "metrics.json"
        return f"{model} held-out CC (noisy -> cleaned) at {cc}; details in {where}"
