"""The engine's layers (docs/ARCHITECTURE.md): import-linter contracts and no import circle."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ESEP = Path(__file__).resolve().parents[1] / "src" / "esep"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ESEP.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """esep module -> esep modules it imports (top-level and deferred imports alike)."""
    mods = {_module_name(p): p for p in ESEP.rglob("*.py") if "__pycache__" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            deps |= {t for t in targets if t in mods and t != name}
        graph[name] = deps
    return graph


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ESEP.parents[1],
                         env={"PYTHONPATH": str(ESEP.parent), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "broken" not in out.stdout.lower().replace("0 broken", "")


def test_no_import_circle_between_engine_modules():
    graph = _graph()
    # packages' __init__ are containers, not dependencies of their modules
    graph = {m: {d for d in ds if not (m.startswith(d + "."))} for m, ds in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_a_layer_violation_is_caught(tmp_path):
    """The contract can fail: a core module importing the pipeline is reported."""
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(ESEP, copy / "esep", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "esep" / "core" / "bad.py").write_text("from esep.pipeline import build\n", encoding="utf-8")
    shutil.copy(ESEP.parents[1] / "pyproject.toml", tmp_path / "pyproject.toml")
    lint = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(lint)], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert out.returncode != 0
    assert "esep.core.bad -> esep.pipeline.build" in out.stdout
