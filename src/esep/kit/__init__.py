"""esep's generic notebook helpers (formatting, tables, charts, captions, data loading, glue).

A project's notebooks import them as ``helpers.<module>``: the project's own
``src/helpers/__init__.py`` calls :func:`extend`, so ``helpers`` is the project's package
first and this kit second (a project module of the same name wins). A project made by
``esep init`` therefore holds only its own report helpers, never a copy of these.
"""
from __future__ import annotations

from pathlib import Path

KIT_DIR = str(Path(__file__).resolve().parent)
# holds a stand-in ``helpers`` package (= this kit) for projects without src/helpers;
# esep puts it on the kernel's path after the project's src/
FALLBACK_DIR = str(Path(__file__).resolve().parent / "_path")


def extend(path: list[str]) -> list[str]:
    """``helpers.__path__`` with esep's kit after the project's own folder."""
    out = [p for p in path if p != KIT_DIR]
    return out + [KIT_DIR]
