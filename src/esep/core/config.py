"""The one place that knows the project's paths.

An esep project is a folder with an ``esep.toml`` marker file at its root (made by
``esep init``). The project is found from where the user stands, as git, Kedro and dbt
do: the working directory and then each parent, up to the first folder holding
``esep.toml``. Overrides, strongest first:

1. ``ESEP_ROOT`` (the CLI's ``--project DIR`` sets it for the process and its workers);
2. the walk up from the working directory.

Outside any project, :func:`root` raises :class:`NotInProject` (one line, no traceback).
Nothing here depends on where the ``esep`` package is installed, so one environment
serves any number of projects and a ``cp -a`` copy of a project acts on the copy.
"""
from __future__ import annotations

import os
from pathlib import Path

from esep.core.errors import EsepError

MARKER = "esep.toml"


class NotInProject(EsepError):
    pass


def find_project(start: Path | None = None) -> Path | None:
    """First of ``start`` (default: the working directory) and its parents holding ``esep.toml``."""
    here = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder
    return None


def root() -> Path:
    env = os.environ.get("ESEP_ROOT")
    if env:
        p = Path(env).resolve()
        if not p.is_dir():
            raise NotInProject(f"ESEP_ROOT={env} is not a folder")
        return p
    found = find_project()
    if found is None:
        raise NotInProject(f"not inside an esep project: no {MARKER} in {os.getcwd()} or any parent "
                           f"(cd into a project, pass --project DIR, or create one with `esep init DIR`)")
    return found


def use_project(path: str | os.PathLike) -> Path:
    """Point this process (and the workers and kernels it starts) at the project ``path``."""
    p = Path(path).resolve()
    if not (p / MARKER).is_file():
        raise NotInProject(f"{path}: not an esep project (no {MARKER} there; create one with `esep init {path}`)")
    os.environ["ESEP_ROOT"] = str(p)
    return p


class _Paths:
    """Attribute access re-resolves the root, so tests can switch projects at run time."""

    @property
    def ROOT(self) -> Path:  # noqa: N802
        return root()

    @property
    def NOTEBOOKS_DIR(self) -> Path:  # noqa: N802
        return root() / "notebooks"

    @property
    def PARAMS_DIR(self) -> Path:  # noqa: N802
        return root() / "params"

    @property
    def RAW_DIR(self) -> Path:  # noqa: N802
        return root() / "data" / "raw"

    @property
    def PROCESSED_DIR(self) -> Path:  # noqa: N802
        return root() / "data" / "processed"

    @property
    def OUTPUT_DIR(self) -> Path:  # noqa: N802
        return root() / "output"

    @property
    def NARRATIVE_DIR(self) -> Path:  # noqa: N802
        return root() / "narrative"

    @property
    def SRC_DIR(self) -> Path:  # noqa: N802
        """The project's own code (``src/helpers``), put first on every kernel's import path."""
        return root() / "src"

    @property
    def STATE_DIR(self) -> Path:  # noqa: N802
        """Build state (cache, locks, failed runs kept aside); git-ignored."""
        return root() / "output" / ".esep"


paths = _Paths()


def narrative_record(report: str, period: str, variant: str | None = None) -> Path:
    """The one home of the narrative record's path: ``narrative/<report>/<period>[/<variant>].md``."""
    base = paths.NARRATIVE_DIR / report
    return base / period / f"{variant}.md" if variant else base / f"{period}.md"


def __getattr__(name: str):  # module-level attribute access: config.ROOT etc.
    if name.isupper() and hasattr(_Paths, name):
        return getattr(paths, name)
    raise AttributeError(name)
