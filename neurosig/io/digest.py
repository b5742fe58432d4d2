"""File digests for provenance and dataset checks, read in blocks so large files stay out of memory."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["file_digest", "sha256_file"]


def file_digest(path: str | Path, algorithm: str = "sha256", block: int = 1 << 20) -> str:
    """Hex digest of a file (``algorithm`` as :func:`hashlib.new` names it), read in blocks of bytes."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while data := f.read(block):
            digest.update(data)
    return digest.hexdigest()


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file: the ``sha256`` recorded in every output's provenance."""
    return file_digest(path, "sha256")
