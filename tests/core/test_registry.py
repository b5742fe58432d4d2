"""The component registry: entry points, runtime registration, the one "module:attr" resolver."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest
import yaml

from neurosig.core import registry
from neurosig.core.chunks import concat_chunks
from neurosig.core.errors import ConfigError
from neurosig.core.stage import Job, Sink, Source, Stage
from neurosig.eeg.simulate import SimulatedEEGSource

BASES = {"source": Source, "stage": Stage, "sink": Sink, "job": Job}


@pytest.mark.parametrize("kind", sorted(BASES))
def test_every_installed_name_resolves_to_its_kind(kind):
    assert registry.names(kind), f"no {kind} entry points: is neurosig installed (pip install -e .)?"
    for name in registry.names(kind):
        assert issubclass(registry.resolve(kind, name), BASES[kind])


def test_unknown_name_lists_valid_names_and_the_closest():
    with pytest.raises(ConfigError, match=r"unknown stage type 'bandpas'.*Did you mean 'bandpass'"):
        registry.resolve("stage", "bandpas")
    with pytest.raises(ConfigError, match="kind='filter' is not valid"):
        registry.names("filter")


def test_register_at_run_time_takes_precedence(monkeypatch):
    monkeypatch.setattr(registry, "_RUNTIME", {kind: {} for kind in registry.GROUPS})
    from neurosig.eeg.filters import HighPass, Notch

    registry.register("stage", "my_notch", "neurosig.eeg.filters:Notch")
    registry.register("stage", "bandpass", HighPass)
    assert "my_notch" in registry.names("stage")
    assert registry.resolve("stage", "my_notch") is Notch
    assert registry.resolve("stage", "bandpass") is HighPass


def test_a_name_two_packages_claim_or_a_wrong_kind_is_an_error(monkeypatch):
    monkeypatch.setattr(
        registry,
        "_installed",
        lambda kind: {"twice": ("a.mod:Stage", "b.mod:Stage"), "not_a_stage": ("neurosig.io.hdf5:HDF5Sink",)},
    )
    with pytest.raises(ConfigError, match=r"more than one installed package.*a\.mod:Stage.*b\.mod:Stage"):
        registry.resolve("stage", "twice")
    with pytest.raises(ConfigError, match="HDF5Sink.*not a Stage subclass"):
        registry.resolve("stage", "not_a_stage")


def test_load_imports_attributes_and_modules_or_says_what_is_missing():
    from neurosig.io import hdf5

    assert registry.load("neurosig.io.hdf5") is hdf5
    assert registry.load("neurosig.io.hdf5:HDF5Sink.name") == "hdf5"
    with pytest.raises(ConfigError, match=r"dataset 'x' needs 'neurosig.io.hdf5:Nope', which cannot"):
        registry.load("neurosig.io.hdf5:Nope", "dataset 'x'")
    with pytest.raises(ConfigError, match="no_such_package"):
        registry.load("no_such_package.mod:f")


def test_listing_names_imports_nothing_heavy():
    code = (
        "import sys; from neurosig.core import registry; "
        "assert all(registry.names(k) for k in registry.GROUPS); "
        "print([m for m in ('torch', 'mne', 'h5py', 'numba', 'spikingjelly', 'tonic') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


PLUGIN = '''
"""A third-party stage: multiply a signal by a constant."""

from collections.abc import Iterable

from neurosig.core.chunks import SignalChunk
from neurosig.core.stage import Stage


class Scale(Stage):
    """Multiply every sample by ``factor`` (stateless)."""

    name = "scale"
    accepts = (SignalChunk,)

    def __init__(self, factor: float = 1.0):
        self.factor = factor

    def _process(self, chunk: SignalChunk) -> Iterable[SignalChunk]:
        yield SignalChunk(chunk.data * self.factor, chunk.info, chunk.start, chunk.markers)
'''


def test_an_installed_plugin_stage_runs_from_yaml(tmp_path):
    """A package that declares a ``neurosig.stages`` entry point is usable by name, with no import."""
    site = tmp_path / "site"
    (site / "scale_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "scale_plugin.py").write_text(textwrap.dedent(PLUGIN))
    (site / "scale_plugin-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: scale-plugin\nVersion: 0.1\n"
    )
    (site / "scale_plugin-0.1.dist-info" / "entry_points.txt").write_text(
        "[neurosig.stages]\nscale = scale_plugin:Scale\n"
    )
    source = {"type": "simulate", "duration": 4.0, "sfreq": 200.0, "n_channels": 19, "seed": 7}
    out = tmp_path / "scaled.h5"
    pipeline = tmp_path / "scale.yaml"
    pipeline.write_text(
        yaml.safe_dump(
            {
                "name": "scale",
                "source": source,
                "stages": [{"type": "scale", "factor": 2.5}],
                "sink": {"type": "hdf5", "path": str(out)},
            }
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(
        [sys.executable, "-m", "neurosig.cli", "run", str(pipeline), "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    expected = concat_chunks(list(SimulatedEEGSource(**{k: v for k, v in source.items() if k != "type"})))
    with h5py.File(out) as f:
        np.testing.assert_allclose(f["data"][:], 2.5 * expected.data, rtol=1e-6)
    # without the plugin on the path, the name is unknown, with the usual hint
    bad = yaml.safe_load(pipeline.read_text())
    bad["stages"] = [{"type": "scael", "factor": 2.5}]
    pipeline.write_text(yaml.safe_dump(bad))
    run = subprocess.run(
        [sys.executable, "-m", "neurosig.cli", "run", str(pipeline), "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 2 and "Did you mean 'scale'" in run.stderr
