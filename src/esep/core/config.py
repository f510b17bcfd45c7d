"""The one place that knows the project's paths.

Everything is resolved from this file's location (``src/esep/config.py`` -> project
root two levels up), never from the working directory. Tests and scratch copies can
point esep at another project tree with the ``ESEP_ROOT`` environment variable.
"""
from __future__ import annotations

import os
from pathlib import Path


def _default_root() -> Path:
    return Path(__file__).resolve().parents[2]


def root() -> Path:
    env = os.environ.get("ESEP_ROOT")
    return Path(env).resolve() if env else _default_root()


class _Paths:
    """Attribute access re-reads ESEP_ROOT, so tests can switch projects at run time."""

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
    def STATE_DIR(self) -> Path:  # noqa: N802
        """Build state (cache, locks, failed runs kept aside); git-ignored."""
        return root() / "output" / ".esep"


paths = _Paths()


def __getattr__(name: str):  # module-level attribute access: config.ROOT etc.
    if name.isupper() and hasattr(_Paths, name):
        return getattr(paths, name)
    raise AttributeError(name)
