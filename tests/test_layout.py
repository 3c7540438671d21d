"""The tree shows the product: each package is one stage, imports run one way, nothing is cyclic.

Layers, lowest first: a module may import its own package and any lower layer, never a higher one
or a package beside it in the same layer. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
LAYERS = [
    {"src.errors", "src.models", "src.masking", "src.utils"},  # foundations, no product logic
    {"src.config"},
    {"src.logs", "src.ingest", "src.detect", "src.targets", "src.persistence"},
    {"src.quality", "src.providers"},
    {"src.agents", "src.export"},
    {"src.engine"},  # runs ingest/identify/agents/scoring on a pool or Ray; the pipeline picks one
    {"src.pipeline", "src.training"},  # training: upload + jobs; uses export/ and targets/
    {"src.cli"},
    {"src.main"},
]
# The boundaries where a broad `except Exception` is allowed (each re-raises our bugs in tests).
BROAD_EXCEPT_ALLOWED = {"src.main", "src.cli.menu", "src.ingest.file_processor"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        name = ".".join(("src", *path.relative_to(SRC).with_suffix("").parts))
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            resolved = _resolve(name) if name.startswith("src") else None
            if resolved and resolved != module:
                targets.add(resolved)
    return targets


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _layer(module: str) -> tuple[int, str]:
    for number, packages in enumerate(LAYERS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return number, package
    raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS")


def test_every_module_belongs_to_a_layer() -> None:
    for module in MODULES:
        if module != "src":
            _layer(module)


def test_imports_run_one_way() -> None:
    wrong = []
    for module, targets in GRAPH.items():
        if module == "src":
            continue
        layer, package = _layer(module)
        for target in targets:
            if target == "src":
                continue
            other_layer, other_package = _layer(target)
            if other_package != package and other_layer >= layer:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against the layering:\n" + "\n".join(sorted(wrong))


def test_no_import_cycle() -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [module, target]))
            elif target not in state:
                visit(target, path + [module])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_modules_are_imported_by_name_not_by_string() -> None:
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        assert "import_module(" not in text and "__import__(" not in text, module


def test_broad_except_only_at_the_boundaries() -> None:
    found = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and isinstance(node.type, ast.Name) and \
                    node.type.id in ("Exception", "BaseException") and \
                    not any(isinstance(n, ast.Raise) and n.exc is None for n in ast.walk(node)):
                found.append(module)
    assert set(found) <= BROAD_EXCEPT_ALLOWED, sorted(set(found) - BROAD_EXCEPT_ALLOWED)


def test_utils_holds_only_small_generic_helpers() -> None:
    helpers = sorted(p.name for p in (SRC / "utils").glob("*.py"))
    assert helpers == ["__init__.py", "text.py"], helpers
    assert all(target in ("src",) or _layer(target)[0] == 0
               for module, targets in GRAPH.items() if module.startswith("src.utils")
               for target in targets)
