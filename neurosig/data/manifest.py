"""Dataset manifests (``datasets/*.yaml``): source, licence, citation, layout and checksums.

Loaders use :func:`require` before reading, so a missing or corrupt download ends in one clear error
that names the files, where they belong and where they come from, instead of a deep traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import yaml

from neurosig.core.errors import DataError
from neurosig.core.validate import check_option
from neurosig.io.digest import file_digest

__all__ = ["Manifest", "ManifestFile", "manifest_names", "load_manifest", "verify", "require"]

MANIFESTS = Path(__file__).resolve().parents[2] / "datasets"


class ManifestFile(pydantic.BaseModel):
    """One file of a dataset, relative to its root, with whatever checksums are published."""

    model_config = pydantic.ConfigDict(extra="allow")
    path: str
    bytes: int | None = None
    sha256: str | None = None
    md5: str | None = None


class Manifest(pydantic.BaseModel):
    """What a dataset is and how it is laid out on disk."""

    model_config = pydantic.ConfigDict(extra="forbid")
    name: str
    title: str
    source: str
    licence: str
    citation: str
    description: str
    loader: str
    layout: str
    checksums_note: str = ""
    files: list[ManifestFile] = []


def manifest_names() -> list[str]:
    """Names of the datasets that have a manifest."""
    return sorted(p.stem for p in MANIFESTS.glob("*.yaml"))


def load_manifest(name: str) -> Manifest:
    """Read and validate ``datasets/NAME.yaml``."""
    check_option("dataset", name, manifest_names())
    return Manifest.model_validate(yaml.safe_load((MANIFESTS / f"{name}.yaml").read_text()))


def verify(name: str, root: str | Path, paths: list[str] | None = None) -> dict[str, list[str]]:
    """Check the files of a dataset under ``root``.

    Parameters
    ----------
    name : str
        Dataset name (see :func:`manifest_names`).
    root : str | Path
        Folder the manifest's file paths are relative to.
    paths : list of str | None
        Only these files (default: every file the manifest lists).

    Returns
    -------
    dict
        ``{"ok": [...], "missing": [...], "corrupt": [...]}`` of relative paths.
    """
    manifest = load_manifest(name)
    root = Path(root)
    wanted = [f for f in manifest.files if paths is None or f.path in paths]
    report: dict[str, list[str]] = {"ok": [], "missing": [], "corrupt": []}
    for entry in wanted:
        path = root / entry.path
        if not path.is_file():
            report["missing"].append(entry.path)
        elif entry.bytes is not None and path.stat().st_size != entry.bytes:
            report["corrupt"].append(entry.path)
        elif entry.sha256 and file_digest(path, "sha256") != entry.sha256:
            report["corrupt"].append(entry.path)
        elif entry.md5 and file_digest(path, "md5") != entry.md5:
            report["corrupt"].append(entry.path)
        else:
            report["ok"].append(entry.path)
    return report


def require(name: str, root: str | Path, paths: list[str] | None = None) -> Path:
    """Return ``root`` if the dataset's files are there and intact, else raise a :class:`DataError`.

    The error lists the missing or corrupt files, the expected layout, and the source to get them
    from (this machine may have no network: put the files there by hand).
    """
    report = verify(name, root, paths)
    problems = report["missing"] + report["corrupt"]
    if problems:
        manifest = load_manifest(name)
        shown = ", ".join(problems[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5 else "")
        kinds = " / ".join(k for k in ("missing", "corrupt") if report[k])
        raise DataError(
            f"{manifest.title}: {len(problems)} file(s) {kinds} under {Path(root)}: {shown}. "
            f"Expected layout: {manifest.layout}. Get them from {manifest.source} (licence: "
            f"{manifest.licence}) and place them there, or point the loader at the folder that has them."
        )
    return Path(root)


def describe(name: str) -> dict[str, Any]:
    """The manifest as a plain dict (for ``neurosig info`` and docs)."""
    return load_manifest(name).model_dump()
