"""tonic dataset wrappers: a clear offline error, and tonic's own classes over a local root."""

from __future__ import annotations

import os

import numpy as np
import pytest

from neurosig.core.errors import ConfigError, DataError
from neurosig.io.events import read_events

tonic_datasets = pytest.importorskip("neurosig.data.tonic_datasets")
pytest.importorskip("tonic")


@pytest.mark.parametrize(
    "name, folder", [("nmnist", "NMNIST"), ("dvs_gesture", "DVSGesture"), ("shd", "SHD")]
)
def test_missing_files_raise_an_offline_error(tmp_path, name, folder):
    with pytest.raises(DataError) as err:
        tonic_datasets.tonic_dataset(name, tmp_path, train=False)
    message = str(err.value)
    assert str(tmp_path / folder) in message and "does not download" in message
    assert f"datasets/{name}.yaml" in message
    assert not any(tmp_path.rglob("*")), "nothing was downloaded or created"


def test_unknown_name():
    with pytest.raises(ConfigError, match="Did you mean 'nmnist'"):
        tonic_datasets.tonic_dataset("nmnsit", ".")


def test_nmnist_from_a_local_root(tmp_path, shared_file):
    sample = shared_file("spikes/tonic_sample_nmnist.bin")
    location = tmp_path / "NMNIST"
    digit = location / "Test" / "3"
    digit.mkdir(parents=True)
    (location / "test.zip").write_bytes(b"")  # tonic checks the archive is there, then the folder
    for i in range(10_000):  # tonic wants at least 10,000 .bin files before it trusts the folder
        os.link(sample, digit / f"{i:05d}.bin")
    ds = tonic_datasets.tonic_dataset("nmnist", tmp_path, train=False)
    assert len(ds) == 10_000
    events, label = ds[0]
    assert label == 3
    ours = read_events(sample).events
    np.testing.assert_array_equal(tonic_datasets.as_events(events), ours)
