"""Shared fixtures: the real samples in ../shared/data."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

_DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHARED_DATA = Path(os.environ.get("NEUROSIG_SHARED_DATA", _DEFAULT))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's real sample data (``../shared/data``); tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at {SHARED_DATA} (set NEUROSIG_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_file(shared_data: Path) -> Callable[[str], Path]:
    """``shared_file("eeg/eegmmidb/S001/S001R04.edf")``: a path under the shared data, or skip."""

    def get(relative: str) -> Path:
        path = shared_data / relative
        if not path.is_file():
            pytest.skip(f"{relative} not found under {shared_data}")
        return path

    return get
