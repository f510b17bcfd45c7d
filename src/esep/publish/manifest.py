"""Provenance: what went into an output, recorded next to it as ``<name>.manifest.json``."""
from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from esep.core import config

KEY_PACKAGES = ("esep", "papermill", "nbconvert", "nbformat", "ipykernel", "pandas", "pyarrow",
                "matplotlib", "seaborn", "scrapbook", "great-tables", "weasyprint", "typst",
                "pypandoc-binary", "pandera")


from esep.core.fsutil import rel, sha256_file  # noqa: E402,F401  (re-exported: run/rerender use manifest.rel)


@lru_cache(maxsize=1)
def _versions() -> tuple:
    out = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return tuple(out.items())


def package_versions() -> dict[str, str]:
    """The versions of the packages that shape an output (read once per process: each
    lookup scans the installed distributions)."""
    return dict(_versions())


@lru_cache(maxsize=1)
def git_state() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=config.ROOT, capture_output=True,
                                text=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=config.ROOT, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def input_hashes(paths: list[Path]) -> dict[str, str]:
    return {rel(p): sha256_file(p) for p in paths if Path(p).is_file()}


def fingerprint(hashes: dict[str, str]) -> str:
    """Short, order-independent digest of the input files' hashes."""
    h = hashlib.sha256()
    for k in sorted(hashes):
        h.update(f"{k}\0{hashes[k]}\n".encode())
    return h.hexdigest()


def data_fingerprint(hashes: dict[str, str]) -> str:
    """The fingerprint shown in every page's footer: over the raw input files only (the
    processed parquet is derived from them), so footer and manifest always agree."""
    raw = rel(config.RAW_DIR).rstrip("/") + "/"
    return fingerprint({k: v for k, v in hashes.items() if k.startswith(raw)} or hashes)


def code_hashes(spec) -> dict[str, str]:
    """Digests of the code that shaped the outputs: the helper modules the notebook
    imports (transitively) and the engine's output-shaping code (esep.core.code)."""
    from esep.core import code

    return code.code_hashes(spec.notebook, config.SRC_DIR)


def build_manifest(*, unit, spec, params_file: Path | None, inputs: list[Path], started: str,
                   finished: str, outputs: list[Path], extra: dict | None = None) -> dict:
    ins = input_hashes(inputs)
    spec_path = getattr(spec, "spec_path", None)
    doc = {
        "report": unit.report,
        "title": spec.title,
        "period": unit.period,
        "variant": unit.variant,
        "parameters": unit.params,
        "template": {rel(spec.notebook): sha256_file(spec.notebook)},
        "params_file": {rel(params_file): sha256_file(params_file)} if params_file and Path(params_file).is_file() else {},
        "spec": {rel(spec_path): sha256_file(spec_path)} if spec_path and Path(spec_path).is_file() else {},
        "inputs": ins,
        "data_fingerprint": data_fingerprint(ins)[:12],
        "code": code_hashes(spec),
        "versions": package_versions(),
        "git": git_state(),
        "started": started,
        "finished": finished,
        "outputs": [rel(p) for p in outputs],
        "argv": sys.argv,
    }
    if extra:
        doc.update(extra)
    return doc


def read(path: Path) -> dict:
    """An output's manifest as a dict; {} when it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def dumps(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n"
