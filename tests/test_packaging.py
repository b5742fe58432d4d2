"""pyproject.toml: setuptools reads it without a deprecation banner."""

import warnings
from pathlib import Path

from setuptools.config.pyprojecttoml import apply_configuration
from setuptools.dist import Distribution

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_gives_setuptools_no_warning_and_an_spdx_licence():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dist = apply_configuration(Distribution(), ROOT / "pyproject.toml")
    assert dist.metadata.license_expression == "BSD-3-Clause"
    assert (ROOT / "LICENSE").is_file()
