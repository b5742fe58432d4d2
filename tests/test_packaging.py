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


def test_shipped_weights_and_model_cards_are_package_data():
    """Every file under a ``weights/`` folder of the package is matched by a package-data glob."""
    import fnmatch

    dist = apply_configuration(Distribution(), ROOT / "pyproject.toml")
    shipped = sorted((ROOT / "neurosig").glob("**/weights/*"))
    assert {"atat_small.pt", "rvq_small.pt", "MODEL_CARD.md"} <= {p.name for p in shipped}
    for path in shipped:
        package = ".".join(path.parent.parent.relative_to(ROOT).parts)
        globs = dist.package_data.get(package, [])
        relative = path.relative_to(path.parent.parent).as_posix()
        assert any(fnmatch.fnmatch(relative, g) for g in globs), f"{relative} of {package}: not package data"
