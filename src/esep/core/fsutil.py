"""Safe file writes, shared by every module that writes: temp file in the same folder,
then ``os.replace`` — readers never see half a file, and a failure leaves the previous
file in place. Files get normal permissions (0644 minus the umask), not mkstemp's 0600.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from esep.core import config


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()


def temp_beside(path: Path) -> str:
    """A new empty temp file next to ``path`` (same filesystem, so the rename is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, _MODE)
    return tmp


def commit_files(staged: dict[Path, str | bytes]) -> None:
    """Write every file to a temp name first, then rename them into place together."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, content in staged.items():
            tmp = temp_beside(path)
            temps.append((tmp, path))
            with open(tmp, "wb") as fh:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def atomic_write(path: Path, data: str | bytes) -> None:
    commit_files({Path(path): data})


def rel(path, base: Path | None = None) -> str:
    """``path`` relative to the project root (or ``base``) when inside it, for messages and
    manifests; otherwise ``path`` as given. Fast path without ``resolve()`` (hashing and
    status call this for every input file)."""
    if path is None:
        return ""
    base_s = str(base or config.ROOT)
    p = str(path)
    if p.startswith(base_s + os.sep) and ".." not in p:
        return p[len(base_s) + 1:].replace(os.sep, "/")
    try:
        return Path(path).resolve().relative_to(Path(base_s).resolve()).as_posix()
    except ValueError:
        return str(path)
