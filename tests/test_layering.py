"""Which parts of neurosig may import which (MNE's layering test, for neurosig).

The order is written once, in ``docs/ARCHITECTURE.md`` (Layers), and enforced here, lowest first:

    leaf (errors, dtypes, _version) → kernels → core (+ testing) → io
    → eeg / events / snn (+ plotting) → data → bci → jobs (+ executor) → cli

A module imports its own layer and those below, never above. Every import counts: relative ones,
``import a.b`` and imports inside functions (lazy imports), and ``importlib.import_module`` or
``find_spec`` of a literal name. No module is exempt by its name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import neurosig

ROOT = Path(neurosig.__file__).parent
ORDER = [
    {"_version", "errors", "dtypes"},
    {"kernels"},
    {"core", "testing", ""},  # "": the package itself (neurosig/__init__.py re-exports core)
    {"io"},
    {"eeg", "events", "snn", "plotting"},
    {"data"},
    {"bci"},
    {"jobs", "executor"},
    {"cli"},
]
LAYERS = {top: level for level, tops in enumerate(ORDER) for top in tops}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else ""]


def _is_module(name: str) -> bool:
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> set[str]:
    """Every neurosig module ``path`` imports, anywhere in the file, as absolute names."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.add(source)
            # ``from neurosig.eeg import faster`` imports the module neurosig.eeg.faster
            found.update(f"{source}.{a.name}" for a in node.names if _is_module(f"{source}.{a.name}"))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "find_spec")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return {m for m in found if m == "neurosig" or m.startswith("neurosig.")}


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): imports(p) for p in sorted(ROOT.rglob("*.py"))}


def test_no_module_imports_from_a_higher_layer():
    violations = [
        f"{module} (layer {_layer(module)}) imports {imported} (layer {_layer(imported)})"
        for module, found in _graph().items()
        for imported in found
        if _layer(imported) > _layer(module)
    ]
    assert not violations, "layering violations:\n" + "\n".join(sorted(violations))


def test_no_two_modules_import_each_other():
    """A package's ``__init__`` may re-export its submodules, which may use the package's names."""
    graph = _graph()
    cycles = sorted(
        f"{a} ⇄ {b}"
        for a, found in graph.items()
        for b in found
        if a < b and a in graph.get(b, set()) and not (a.startswith(b + ".") or b.startswith(a + "."))
    )
    assert not cycles, "modules importing each other:\n" + "\n".join(cycles)


def test_every_top_level_module_has_a_layer():
    tops = {p.name.removesuffix(".py") for p in ROOT.iterdir() if p.suffix == ".py" or p.is_dir()}
    tops = {t for t in tops if not t.startswith((".", "__"))}
    assert tops <= set(LAYERS), f"give these a layer in ORDER and docs/ARCHITECTURE.md: {tops - set(LAYERS)}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .filters import BandPass", {"neurosig.eeg.filters"}),
        ("from .. import core", {"neurosig", "neurosig.core"}),
        ("def f():\n    import neurosig.data.shd", {"neurosig.data.shd"}),
        ("def f():\n    from neurosig.eeg import faster", {"neurosig.eeg", "neurosig.eeg.faster"}),
        ("importlib.util.find_spec('neurosig.bci.models')", {"neurosig.bci.models"}),
    ],
)
def test_every_kind_of_import_is_seen(monkeypatch, source, expected):
    path = ROOT / "eeg" / "_layering_probe.py"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source)
    assert imports(path) == expected
