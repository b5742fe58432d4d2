"""The ``rvq_train`` job: prepare recordings, train the RVQ tokenizer and its baseline, evaluate both.

Run it with ``neurosig run pipelines/rvq_train.yaml``. Outputs in ``out_dir``:

- ``rvq/model.pt`` and ``single/model.pt``: the tokenizer and the single-codebook baseline
  (checkpoints written during training too);
- ``metrics.json``: per-band PCC/NMSE on the held-out recordings, NMSE by residual level, codebook
  usage and perplexity, bit rates, training history and time, data provenance;
- ``reconstruction.png``: original vs reconstructed traces and spectra of a held-out recording;
- ``tokens.h5``: that recording's tokens with the tokenizer, decodable from the file alone;
- ``data/``: the prepared recordings, reused by later runs with the same preparation settings.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import pydantic

from neurosig.core.errors import ConfigError
from neurosig.core.stage import Job

__all__ = ["RVQTrainJob"]

PositiveInt = Annotated[int, pydantic.Field(gt=0)]
_S001 = "../shared/data/eeg/eegmmidb/S001/"


class RVQTrainJob(Job):
    """Train and evaluate an RVQ EEG tokenizer against the LaBraM-style baseline at equal bits.

    Parameters
    ----------
    train_files, held_out_files : list of str
        Glob patterns of recordings; held-out recordings are whole files never seen in training.
    preprocessing : str | dict | None
        A stream-pipeline YAML path or mapping applied to every recording (its ``source.path`` is
        replaced); ``None`` for NeuroRVQ's (:data:`~neurosig.eeg.rvq.data.DEFAULT_PREPROCESSING`).
    cleaning : {"auto", "faster", "none"}
        FASTER cleaning (``"auto"``: when installed).
    ica_components : int | None
        ICA components of FASTER's step 3 (``None``: one per good channel, slow on 64 channels).
    preset : {"tiny", "small"}
        Tokenizer size.
    overrides : dict
        Fields of :class:`~neurosig.eeg.rvq.config.TokenizerConfig` to change.
    baseline : bool
        Also train the single-codebook baseline at the same bit rate.
    steps, batch_size : int
        Optimiser steps and patches per step (each model).
    lr : float
        Peak learning rate.
    max_seconds : float | None
        Training budget per model, s.
    seed : int
        Seed of weights, batches and ICA.
    threads : int
        Torch CPU threads.
    out_dir : str
        Output folder.
    """

    name: ClassVar[str] = "rvq_train"

    def __init__(
        self,
        train_files: list[str] = (_S001 + "S001R0[1-9].edf", _S001 + "S001R1[0-2].edf"),
        held_out_files: list[str] = (_S001 + "S001R1[34].edf",),
        preprocessing: str | dict[str, Any] | None = None,
        cleaning: Literal["auto", "faster", "none"] = "auto",
        ica_components: PositiveInt | None = 20,
        preset: Literal["tiny", "small"] = "small",
        overrides: dict[str, Any] = {},  # noqa: B006 - pydantic copies defaults
        baseline: bool = True,
        steps: PositiveInt = 2000,
        batch_size: PositiveInt = 256,
        lr: Annotated[float, pydantic.Field(gt=0)] = 2e-3,
        max_seconds: Annotated[float, pydantic.Field(gt=0)] | None = 720.0,
        seed: int = 0,
        threads: PositiveInt = 1,
        out_dir: str = "out/rvq",
    ):
        self.train_files = list(train_files)
        self.held_out_files = list(held_out_files)
        self.preprocessing = preprocessing
        self.cleaning = cleaning
        self.ica_components = ica_components
        self.preset = preset
        self.overrides = overrides
        self.baseline = baseline
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.max_seconds = max_seconds
        self.seed = seed
        self.threads = threads
        self.out_dir = out_dir

    def prepare(self, path: str, patch_len: int):
        """A prepared recording, from ``out_dir/data`` when the same preparation ran before."""
        from neurosig.eeg.rvq.data import DEFAULT_PREPROCESSING, Recording, prepare, resolve_cleaning

        pre = self.preprocessing if self.preprocessing is not None else DEFAULT_PREPROCESSING
        method = resolve_cleaning(self.cleaning)
        stat = Path(path).stat()
        parts = [
            str(Path(path).resolve()),
            stat.st_size,
            pre,
            method,
            self.ica_components,
            self.seed,
            patch_len,
        ]
        key = json.dumps(parts, sort_keys=True, default=str)
        cache = (
            Path(self.out_dir)
            / "data"
            / f"{Path(path).stem}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"
        )
        if cache.is_file():
            with np.load(cache, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                return Recording(
                    meta["name"], z["data"], meta["sfreq"], meta["ch_names"], z["good"], meta["cleaning"]
                )
        rec = prepare(path, pre, method, patch_len, seed=self.seed, n_components=self.ica_components)
        cache.parent.mkdir(parents=True, exist_ok=True)
        meta = {"name": rec.name, "sfreq": rec.sfreq, "ch_names": rec.ch_names, "cleaning": rec.cleaning}
        np.savez(cache, data=rec.data, good=rec.good, meta=json.dumps(meta))
        return rec

    def run(self, progress: bool = False) -> dict[str, Any]:
        """Prepare the data, train, evaluate, and write the outputs; return ``metrics.json``'s content."""
        import torch

        from neurosig.core.chunks import TokenChunk, TokenInfo
        from neurosig.core.validate import expand_files
        from neurosig.eeg.rvq.config import preset, single_codebook_baseline
        from neurosig.eeg.rvq.evaluate import evaluate, plot_reconstruction
        from neurosig.eeg.rvq.store import save_tokens
        from neurosig.eeg.rvq.tokenizer import Tokenizer
        from neurosig.eeg.rvq.train import fit

        torch.set_num_threads(self.threads)
        config = preset(self.preset, **self.overrides)
        files = expand_files(self.train_files, "train_files")
        held = expand_files(self.held_out_files, "held_out_files")
        train_recs = [self.prepare(f, config.patch_len) for f in files]
        test_recs = [self.prepare(f, config.patch_len) for f in held]
        wrong = sorted({r.sfreq for r in train_recs + test_recs} - {config.sfreq})
        if wrong:
            raise ConfigError(
                f"the preprocessing gives {wrong} Hz but the tokenizer works at {config.sfreq:g} Hz; "
                f"end the preprocessing with {{type: resample, sfreq: {config.sfreq:g}}}."
            )
        shaper = Tokenizer(config)
        patches = np.concatenate([shaper.to_patches(r.data)[r.good] for r in train_recs])
        out = Path(self.out_dir)
        configs = {"rvq": config}
        if self.baseline:
            configs["single"] = single_codebook_baseline(config)
        held_signals = [(r.data, r.sfreq) for r in test_recs]
        results: dict[str, Any] = {}
        tokenizers: dict[str, Tokenizer] = {}
        for label, cfg in configs.items():
            res = fit(
                patches, cfg, self.steps, self.batch_size, self.lr, self.seed, self.max_seconds,
                checkpoint=out / label / "model.pt", progress=progress,
            )  # fmt: skip
            tokenizers[label] = res.tokenizer
            results[label] = {
                "config": json.loads(cfg.model_dump_json()),
                "n_params": sum(p.numel() for p in res.tokenizer.net.parameters()),
                "train_steps": res.steps,
                "train_seconds": round(res.seconds, 1),
                "history": res.history,
                "held_out": evaluate(res.tokenizer, held_signals),
                "weights": str(out / label / "model.pt"),
            }
        first = test_recs[0]
        recons = {label: tok.decode(tok.encode(first.data, first.sfreq)) for label, tok in tokenizers.items()}
        n = next(iter(recons.values())).shape[1]
        png = plot_reconstruction(
            out / "reconstruction.png", first.data[:, :n], recons, first.sfreq, first.ch_names
        )
        rvq = tokenizers["rvq"]
        scales, levels = config.token_shape
        info = TokenInfo(tuple(first.ch_names), config.patch_duration, scales, levels, config.codebook_size)
        h5 = save_tokens(
            out / "tokens.h5", TokenChunk(rvq.encode(first.data, first.sfreq), info), rvq, overwrite=True
        )
        summary = {
            "models": results,
            "data": {
                "train": [{"file": r.name, "cleaning": r.cleaning} for r in train_recs],
                "held_out": [{"file": r.name, "cleaning": r.cleaning} for r in test_recs],
                "train_patches": int(len(patches)),
                "preprocessing": self.preprocessing or "DEFAULT_PREPROCESSING",
            },
            "figure": str(png),
            "tokens": str(h5),
        }
        (out / "metrics.json").write_text(json.dumps(summary, indent=1))
        return summary

    def headline(self, result: dict[str, Any]) -> str:
        """Held-out broadband PCC and NMSE of each model, and where ``metrics.json`` is."""
        parts = []
        for label, model in result["models"].items():
            band = model["held_out"]["bands"]["broadband"]
            parts.append(
                f"{label} PCC {band['pcc']:.3f}, NMSE {band['nmse']:.3f} ({model['train_steps']} steps)"
            )
        return f"held out: {'; '.join(parts)}; details in {Path(self.out_dir) / 'metrics.json'}"
