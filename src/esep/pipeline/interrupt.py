"""Interrupt-safe sections of a build worker (see :mod:`esep.pipeline.executors`): on
SIGTERM a worker kills its kernels, removes its temp folders and exits at once, except
inside :class:`critical` (committing a unit's outputs), which it finishes first."""
from __future__ import annotations

import os

_crit = {"depth": 0, "pending": False, "tmp": set(), "worker": False}


class critical:
    """A section SIGTERM must not cut (committing a unit's outputs); exits right after."""

    def __enter__(self):
        _crit["depth"] += 1

    def __exit__(self, *exc):
        _crit["depth"] -= 1
        if _crit["depth"] == 0 and _crit["pending"]:
            _die()
        return False


def track_tmp(path) -> None:
    _crit["tmp"].add(str(path))


def untrack_tmp(path) -> None:
    _crit["tmp"].discard(str(path))


def _die() -> None:
    import shutil

    from esep.notebook import kernels

    kernels.kill_all()
    for p in list(_crit["tmp"]):
        shutil.rmtree(p, ignore_errors=True)
    os._exit(143)


def _on_sigterm(signum, frame) -> None:
    if _crit["depth"]:
        _crit["pending"] = True
        return
    _die()


