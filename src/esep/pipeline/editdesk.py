"""``esep edit``: the editor's desk, JupyterLab showing one report's edit view.

:func:`prepare` records what the last session's view still holds, writes a fresh view from
the latest build (:mod:`esep.notebook.editview`) and a private Jupyter config folder in
``output/.esep/edit/jupyter/`` copied from ``esep/notebook/jupyter/`` (shipped with esep,
so every project gets it): the save hook that records each save in ``narrative/``, no
kernel, no news or update prompts, custom CSS marking the text cells. :func:`lab_command`
is the JupyterLab command line: served folder = the view's folder (one file), the URL
opens the view itself, ``--allow-root`` when run as root.
"""
from __future__ import annotations

import os
import shutil
import socket
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from esep.core import config
from esep.core.errors import EsepError
from esep.core.fsutil import rel
from esep.notebook import editview

JUPYTER_FILES = Path(editview.__file__).parent / "jupyter"


@dataclass
class Desk:
    unit: object
    view: Path
    config_dir: Path
    notes: list[str]
    first_text: str | None = None


def prepare(unit) -> Desk:
    notes: list[str] = []
    old = editview.view_path(unit)
    try:
        res = editview.record_view_file(unit)
        if res is not None:
            notes += res.lines()
    except EsepError as exc:  # not recordable (e.g. unknown placeholder): keep it aside
        keep = config.STATE_DIR / "edited" / f"{old.stem}.{datetime.now():%Y%m%d-%H%M%S}.ipynb"
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(old, keep)
        notes.append(f"warning: the last edit view could not be recorded ({exc}); it is kept at {rel(keep)}")
    view = editview.write_view(unit)
    cfg = lab_config()
    nb = editview.read_view(view)
    first = nb.cells[editview.first_text_index(nb)] if nb is not None and nb.cells else None
    return Desk(unit, view, cfg, notes, first.get("id") if first is not None else None)


def lab_config() -> Path:
    """A fresh, writable copy of esep's Jupyter config (JUPYTER_CONFIG_DIR for JupyterLab:
    server config with the save hook, lab settings, custom CSS; workspaces go there too)."""
    cfg = config.STATE_DIR / "edit" / "jupyter"
    shutil.rmtree(cfg, ignore_errors=True)
    shutil.copytree(JUPYTER_FILES, cfg, ignore=shutil.ignore_patterns("__pycache__"))
    return cfg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def view_url(desk: Desk, port: int, token: str) -> str:
    return f"http://127.0.0.1:{port}{_tree(desk)}?token={token}{_fragment(desk)}"


def _tree(desk: Desk) -> str:
    return f"/doc/tree/{quote(desk.view.name)}"  # simple interface: the one document


def _fragment(desk: Desk) -> str:
    """JupyterLab scrolls to ``#cell-id=<id>``: the first text cell."""
    return f"#cell-id={desk.first_text}" if desk.first_text else ""


def lab_command(desk: Desk, port: int, token: str, open_browser: bool = True) -> tuple[list[str], dict]:
    """(argv, environment) that start JupyterLab on the desk."""
    exe = Path(sys.executable).parent / "jupyter"
    argv = [str(exe) if exe.exists() else "jupyter", "lab",
            f"--ServerApp.root_dir={desk.view.parent}",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--LabApp.default_url={_tree(desk)}",
            f"--ServerApp.open_browser={open_browser}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # JupyterLab refuses root without it
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(desk.config_dir), ESEP_ROOT=str(config.ROOT))
    return argv, env


if __name__ == "__main__":  # pragma: no cover - `make lab`: the folder for JUPYTER_CONFIG_DIR
    print(lab_config())
