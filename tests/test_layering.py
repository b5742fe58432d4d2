"""Which subpackages may import which (MNE's layering test, for neurosig).

core → kernels → io → eeg/events → snn → bci → data → jobs; cli, executor and plotting on top.
A module may import its own layer and those below it, never above. Jobs (modules named ``train``
or ``job``, wherever they live) orchestrate data and models, so they sit above every library layer.
"""

import ast
from pathlib import Path

import neurosig

ROOT = Path(neurosig.__file__).parent
LAYERS = {
    "core": 0,
    "_version": 0,
    "testing": 1,
    "kernels": 1,
    "io": 2,
    "eeg": 3,
    "events": 3,
    "snn": 4,
    "bci": 5,
    "data": 6,
    "plotting": 7,
    "executor": 7,
    "jobs": 7,
    "cli": 8,
}
JOBS = 7


def _layer(module: str) -> int:
    parts = module.split(".")
    if parts[-1] in ("train", "job"):
        return JOBS
    return LAYERS.get(parts[1] if len(parts) > 1 else "", 0)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [m for m in found if m.startswith("neurosig.")]


def test_no_module_imports_from_a_higher_layer():
    violations = []
    for path in ROOT.rglob("*.py"):
        module = "neurosig." + ".".join(path.relative_to(ROOT).with_suffix("").parts)
        own = _layer(module)
        for imported in _imports(path):
            if _layer(imported) > own:
                violations.append(f"{module} imports {imported}")
    assert not violations, "layering violations:\n" + "\n".join(sorted(violations))


def test_every_subpackage_has_a_layer():
    tops = {p.name.removesuffix(".py") for p in ROOT.iterdir() if not p.name.startswith("__")}
    tops -= {"py.typed"}
    assert {t for t in tops if not t.startswith(".")} <= set(LAYERS)
