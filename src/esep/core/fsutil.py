"""Safe file writes, shared by every module that writes: temp file in the same folder,
then ``os.replace`` — readers never see half a file, and a failure leaves the previous
file in place. Files get normal permissions (0644 minus the umask), not mkstemp's 0600.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from esep.core import config
from esep.core.errors import EsepError


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


JOURNAL = "journal"  # output/.esep/journal/<id>.json: a commit's renames still to do


def _journal_dir() -> Path:
    return config.STATE_DIR / JOURNAL


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit_files(staged: dict[Path, str | bytes], *, journal: bool | None = None) -> None:
    """Write every file to a temp name first, then rename them into place as one step.

    A set of several files (a unit's notebook, HTML, PDF, DOCX and manifest) is
    *journaled*: once every temp file is complete, the list of renames is written to
    ``output/.esep/journal/``; then the renames run and the journal is removed. If the
    process dies between two renames (kill -9, power loss), :func:`recover` (called by
    the build cache before it looks at any output) finishes the renames, so nobody
    keeps a set mixed from two builds. Ctrl-C or an error during the renames finishes
    them too before it is raised. Files outside ``output/`` are not journaled.
    """
    temps: list[tuple[str, Path]] = []
    if journal is None:
        journal = len(staged) > 1 and _under_output(staged)
    if journal:
        recover()  # an earlier killed commit first, so it can never land on top of this one
    jpath: Path | None = None
    renaming = False
    try:
        for path, content in staged.items():
            tmp = temp_beside(path)
            temps.append((tmp, path))
            with open(tmp, "wb") as fh:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
                if journal:
                    fh.flush()
                    os.fsync(fh.fileno())
        if journal:
            jpath = _write_journal(temps)
        renaming = True
        _rename_all(temps)
    except BaseException:
        if renaming:  # complete the set rather than leave it mixed, then raise
            try:
                _rename_all(temps)
            except OSError:
                pass
        raise
    finally:
        if renaming and jpath is not None and not any(os.path.exists(t) for t, _ in temps):
            try:
                os.unlink(jpath)
            except OSError:
                pass
        if not renaming:
            for tmp, _ in temps:
                if os.path.exists(tmp):
                    os.unlink(tmp)


def _under_output(staged) -> bool:
    try:
        out = config.OUTPUT_DIR
    except Exception:  # noqa: BLE001 - no project: nothing to journal against
        return False
    return all(str(p).startswith(str(out) + os.sep) for p in staged)


def _rename_all(temps: list[tuple[str, Path]]) -> None:
    for tmp, path in temps:
        try:
            os.replace(tmp, path)
        except FileNotFoundError:
            if os.path.exists(tmp):
                raise
            # already moved (by recover() in another process finishing this very commit)
    for folder in {p.parent for _, p in temps}:
        _fsync_dir(folder)


def _write_journal(temps: list[tuple[str, Path]]) -> Path:
    import json

    folder = _journal_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".j.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump([[t, str(p)] for t, p in temps], fh)
        fh.flush()
        os.fsync(fh.fileno())
    final = folder / (Path(tmp).name[3:-4] + ".json")
    os.replace(tmp, final)
    _fsync_dir(folder)
    return final


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def recover() -> list[Path]:
    """Finish every commit a killed process left half done (see :func:`commit_files`);
    return the files it put in place. Cheap when there is nothing to do (one listdir)."""
    import json

    folder = _journal_dir()
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".json")]
    except OSError:
        return []
    names.sort(key=lambda n: _mtime(folder / n))  # oldest commit first
    done: list[Path] = []
    for name in names:
        j = folder / name
        try:
            pairs = json.loads(j.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        try:
            for tmp, path in pairs:
                if os.path.exists(tmp):
                    os.replace(tmp, path)
                    done.append(Path(path))
            os.unlink(j)
        except FileNotFoundError:
            continue  # the committer itself finished meanwhile
        except OSError:
            continue  # read-only output: the next writable run finishes it
    return done


def sha256_file(path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks (the one file digest: code
    hashes, manifests and the cache's memoized copy use it)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


# --- paths stay in the project ---------------------------------------------------------

class PathError(EsepError):
    """A path from a spec, schema, params file, option or data value that leaves the project."""


def confined(path, what: str = "path", base: Path | None = None) -> Path:
    """``path`` (absolute, or relative to the project root) if it stays inside the project
    (or ``base``) once ``..`` and symlinks are resolved; else a PathError naming it."""
    root = Path(base) if base is not None else config.ROOT
    p = Path(path)
    shown = str(path)
    if not p.is_absolute():
        if ".." in p.parts:
            raise PathError(f"{what} {shown!r} leaves the project (no '..' allowed)")
        p = root / p
    try:
        real = p.resolve()
        real_root = root.resolve()
    except (OSError, RuntimeError) as exc:  # symlink loop
        raise PathError(f"{what} {shown!r}: cannot be resolved ({exc})") from None
    if real != real_root and real_root not in real.parents:
        why = "is a symlink leading" if real != Path(os.path.abspath(p)) else "is"
        raise PathError(f"{what} {rel(p)!r} {why} outside the project ({real}); "
                        f"keep every file inside {real_root}")
    return p


def check_relative(value: str, what: str) -> str | None:
    """Why ``value`` (from a spec, schema or params file) is not a plain relative path
    inside the project, or None."""
    v = str(value).replace("\\", "/")
    if not v.strip():
        return f"{what}: empty path"
    if v.startswith(("/", "~")) or (len(v) > 1 and v[1] == ":") or "\x00" in v:
        return f"{what} {value!r}: absolute paths are not allowed (give it relative to the project)"
    if ".." in v.split("/"):
        return f"{what} {value!r} leaves the project (no '..' allowed)"
    return None


# --- operating-system errors as one readable line -------------------------------------

def os_error_message(exc: OSError) -> str:
    """A read-only, full or unreadable file system, named with the folder and the fix."""
    import errno

    name = getattr(exc, "filename", None)
    where = rel(name) if name else "a file"
    folder = rel(Path(name).parent) if name else "the folder"
    code = getattr(exc, "errno", None)
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        if name and os.path.exists(name) and not os.path.isdir(name) and not os.access(name, os.W_OK | os.R_OK):
            return (f"{where}: permission denied ({exc.strerror}); make it readable and writable "
                    f"by you (e.g. `chmod u+rw {where}`) and run again")
        return (f"{where}: cannot write there ({exc.strerror}): {folder}/ is read-only or not "
                f"yours; make it writable (e.g. `chmod -R u+w {folder}`) or run esep from a copy "
                f"of the project where it is")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return (f"{where}: the disk holding {folder}/ is full ({exc.strerror}); free some space "
                f"(e.g. delete old outputs under output/) and run again — the previous outputs "
                f"were left in place")
    return f"{where}: {exc.strerror or exc}"
