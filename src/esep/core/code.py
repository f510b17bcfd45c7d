"""Which code a report's outputs depend on: the cache key's and the manifest's ``code`` part.

A unit's outputs are shaped by
- the helper modules its notebook imports, transitively: ``helpers.X`` resolves to the
  project's ``src/helpers/X.py`` first, then to esep's kit (``esep/kit/X.py``), exactly as
  the kernel resolves it (see :mod:`esep.kit`); modules those import (relative imports
  inside ``helpers``, ``esep.*`` imports) are followed too;
- the engine code that turns data and the executed notebook into outputs: every module
  of ``esep.core``, ``esep.data``, ``esep.notebook`` and ``esep.publish`` (with the
  page templates and CSS) and the unit runner, minus :data:`NOT_OUTPUT_CODE` (CLI,
  scheduler, cache, kernel pool, index: they cannot change a report's content).

So adding a helper module for one report changes only that report's key. Found by
reading the source (``ast``), never by importing it: planning a build stays cheap.
"""
from __future__ import annotations

import ast
import json
import os
from pathlib import Path

from esep.core.fsutil import sha256_file

ESEP_DIR = Path(__file__).resolve().parents[1]
KIT_DIR = ESEP_DIR / "kit"
ENGINE_PARTS = ("core", "data", "notebook", "publish")
OUTPUT_SHAPING_PIPELINE = ("pipeline/run.py", "pipeline/rerender.py", "pipeline/publish.py")
NOT_OUTPUT_CODE = {"notebook/kernels.py", "publish/index.py", "publish/templates/index.html.j2"}
CODE_SUFFIXES = (".py", ".j2", ".css", ".typ")


def _label(path: Path, src_dir: Path) -> str:
    try:
        return "esep/" + path.relative_to(ESEP_DIR).as_posix()
    except ValueError:
        pass
    try:
        return path.relative_to(src_dir).as_posix()
    except ValueError:
        return path.as_posix()


def engine_files() -> list[Path]:
    out = []
    for part in ENGINE_PARTS:
        for dirpath, dirnames, filenames in os.walk(ESEP_DIR / part):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                p = Path(dirpath) / name
                if p.suffix in CODE_SUFFIXES and p.relative_to(ESEP_DIR).as_posix() not in NOT_OUTPUT_CODE:
                    out.append(p)
    out += [ESEP_DIR / p for p in OUTPUT_SHAPING_PIPELINE if (ESEP_DIR / p).is_file()]
    out.append(ESEP_DIR / "__init__.py")
    return out


def notebook_imports(notebook: Path) -> set[str]:
    """Dotted names of the modules imported by the code cells of ``notebook``."""
    try:
        nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    names: set[str] = set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = "".join(cell.get("source", [])) if isinstance(cell.get("source"), list) else cell.get("source", "")
        src = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        names |= _imports(tree, package=None)
    return names


def _imports(tree: ast.AST, package: str | None) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if not package:
                    continue
                parent = package.split(".")
                parent = parent[: len(parent) - (node.level - 1)] if node.level > 1 else parent
                base = ".".join(parent + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names if a.name != "*"}
    return out


def _resolve(name: str, src_dir: Path) -> Path | None:
    """File of module ``name`` (helpers.* or esep.*), or None (third party, not a module)."""
    parts = name.split(".")
    if parts[0] == "helpers":
        roots = [src_dir / "helpers", KIT_DIR]
        rest = parts[1:]
    elif parts[0] == "esep":
        roots = [ESEP_DIR]
        rest = parts[1:]
    else:
        return None
    for r in roots:
        cand = r.joinpath(*rest) if rest else r
        if cand.with_suffix(".py").is_file() and rest:
            return cand.with_suffix(".py")
        if (cand / "__init__.py").is_file():
            return cand / "__init__.py"
    return None


def helper_files(notebook: Path, src_dir: Path) -> list[Path]:
    """Every helper module the notebook imports, transitively (project's and kit's)."""
    todo = sorted(notebook_imports(notebook))
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        path = _resolve(name, src_dir)
        if path is None or name in seen:
            continue
        seen[name] = path
        pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
        if name.split(".")[0] == "helpers" and path.is_relative_to(KIT_DIR):
            pkg = "helpers" if path.parent == KIT_DIR else pkg
        found = _file_imports(path, pkg)
        if found is None:
            continue
        # every parent package's __init__ runs too
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += sorted(found - set(seen))
    return sorted(set(seen.values()))


_imports_memo: dict[tuple, frozenset] = {}   # (path, package, mtime, size) -> imported names


def _file_imports(path: Path, pkg: str) -> frozenset | None:
    """The names a module imports (None: unreadable or not Python), parsed once per
    process and file version: every report type's key walks the same kit modules."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (str(path), pkg, st.st_mtime_ns, st.st_size)
    hit = _imports_memo.get(key)
    if hit is None:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            return None
        hit = _imports_memo[key] = frozenset(_imports(tree, pkg))
    return hit


_files_memo: dict[tuple, tuple] = {}   # (notebook, src_dir) -> (stat signature, files, hashes)


def _stat_sig(paths) -> tuple:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)


def code_hashes(notebook: Path, src_dir: Path, memo: dict | None = None) -> dict[str, str]:
    """{label: sha256} of the code that shapes the outputs of ``notebook``'s units.
    Without ``memo``: kept per process while the notebook and every file found are
    unchanged (same size and mtime), so each unit's manifest does not parse the helpers'
    imports and hash them again (~0.3 s CPU per report)."""
    if memo is None:
        mkey = (str(notebook), str(src_dir))
        dirs = [notebook, src_dir / "helpers", KIT_DIR, *(ESEP_DIR / part for part in ENGINE_PARTS)]
        hit = _files_memo.get(mkey)
        if hit is not None and _stat_sig([*dirs, *hit[1]]) == hit[0]:   # a new file changes its folder's mtime
            return dict(hit[2])
        files = helper_files(notebook, src_dir) + engine_files()
        sig = _stat_sig([*dirs, *files])
        out = code_hashes(notebook, src_dir, {})
        if _stat_sig([*dirs, *files]) == sig:
            _files_memo[mkey] = (sig, files, dict(out))
        return out
    out = {}
    for p in helper_files(notebook, src_dir) + engine_files():
        key = str(p)
        if key not in memo:
            memo[key] = sha256_file(p)
        out[_label(p, src_dir)] = memo[key]
    return dict(sorted(out.items()))
