"""``esep init DIR`` and ``esep new-report NAME``: a new project, a new report type.

The files come from the templates next to this module (package data, so an installed esep
has them): ``project/`` is the skeleton of a department's project, ``report/`` one report
type (spec, notebook, params, raw data with its schema and data dictionary, helper
module, test). ``__report__`` / ``__period__`` in a path and ``__REPORT__``,
``__PERIOD__``, ... in a file's text are filled in; the ``.tmpl`` suffix is dropped.

A new project holds no copy of esep's code: its ``src/helpers/__init__.py`` extends the
``helpers`` package with the installed esep's kit (:mod:`esep.kit`), and the Makefile runs
the Python that has esep installed. ``esep init`` = the skeleton + one example report
made by :func:`new_report`, so the example is exactly what ``esep new-report`` writes.

Above :mod:`esep.core` only (paths, periods, report specs); nothing imports it but the CLI.
"""
from __future__ import annotations

import json
import keyword
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from esep import __version__
from esep.core import config, periods
from esep.core.errors import EsepError

HERE = Path(__file__).resolve().parent
PROJECT_TEMPLATES = HERE / "project"
REPORT_TEMPLATES = HERE / "report"
SUFFIX = ".tmpl"
RENAMED = {"gitignore": ".gitignore"}          # dotfiles are not package data: renamed here
KEEP = ("output", "data/processed")             # empty folders kept in git with a .gitkeep
EXAMPLE = "example"
DEFAULT_TITLE = "Мектептер, оқушылар және педагогтар"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# a report's helper module is src/helpers/<name>.py: it must not hide esep's kit modules
KIT_DIR = HERE.parent / "kit"
RESERVED = {"helpers", "esep", "test", "tests"}


class ScaffoldError(EsepError):
    pass


@dataclass
class Created:
    root: Path
    files: list[Path] = field(default_factory=list)

    def rel(self) -> list[str]:
        return [p.relative_to(self.root).as_posix() for p in self.files]


def default_period(today: date | None = None) -> str:
    """The school year under way (it starts in September): 2026-12-01 -> 2026-2027."""
    today = today or date.today()
    y = today.year if today.month >= 9 else today.year - 1
    return f"{y}-{y + 1}"


def kit_modules() -> set[str]:
    return {p.stem for p in KIT_DIR.glob("*.py") if not p.stem.startswith("_")}


def check_name(name: str) -> str | None:
    """Why ``name`` cannot be a report type's name, or None."""
    if not NAME_RE.match(name or ""):
        return (f"report name {name!r}: use a Python identifier in lowercase snake_case "
                f"(letters a-z, digits, '_', starting with a letter), e.g. school_meals")
    if keyword.iskeyword(name):
        return f"report name {name!r} is a Python keyword"
    if name in kit_modules() or name in RESERVED:
        return (f"report name {name!r} would hide esep's helpers.{name} (src/helpers/{name}.py); "
                f"choose another name (taken: {', '.join(sorted(kit_modules() | RESERVED))})")
    return None


def _esep_requirement() -> str:
    """How environment.yml installs esep: as this esep was installed (a local folder,
    editable or not, or a VCS URL), else by version."""
    try:
        from importlib.metadata import distribution

        dist = distribution("esep")
        info = json.loads(dist.read_text("direct_url.json") or "null")
    except Exception:  # noqa: BLE001 - not installed as a distribution
        info = None
    if isinstance(info, dict) and info.get("url"):
        url = info["url"]
        if "vcs_info" in info:
            vcs = info["vcs_info"]
            ref = vcs.get("commit_id")
            return f"esep @ {vcs.get('vcs', 'git')}+{url}" + (f"@{ref}" if ref else "")
        if url.startswith("file://") and info.get("dir_info", {}).get("editable"):
            return f"-e {url[len('file://'):]}"
        return f"esep @ {url}"
    return f"esep=={__version__}"


def _render(text: str, values: dict[str, str]) -> str:
    for token, value in values.items():
        text = text.replace(token, value)
    return text


def _target(rel: Path, paths: dict[str, str]) -> Path:
    parts = []
    for part in rel.parts:
        if part.endswith(SUFFIX):
            part = part[: -len(SUFFIX)]
        part = RENAMED.get(part, part)
        for token, value in paths.items():
            part = part.replace(token, value)
        parts.append(part)
    return Path(*parts)


def _templates(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix != ".pyc")


def _plan(folder: Path, root: Path, paths: dict[str, str]) -> list[tuple[Path, Path]]:
    return [(src, root / _target(src.relative_to(folder), paths)) for src in _templates(folder)]


def _write(plan, values: dict[str, str], json_values: dict[str, str]) -> list[Path]:
    written = []
    for src, dst in plan:
        text = src.read_text(encoding="utf-8")
        # inside a notebook (JSON) a value is written JSON-escaped
        text = _render(text, json_values if dst.suffix == ".ipynb" else values)
        dst.parent.mkdir(parents=True, exist_ok=True)
        with open(dst, "x", encoding="utf-8", newline="\n") as fh:  # never overwrite
            fh.write(text)
        written.append(dst)
    return written


# --- esep init DIR ---------------------------------------------------------------------

def init_project(directory: str | os.PathLike, example: str = EXAMPLE, period: str | None = None,
                 title: str = DEFAULT_TITLE) -> Created:
    """A new project in ``directory`` (absent or empty) with one example report."""
    root = Path(directory).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise ScaffoldError(f"{directory}: exists and is not a folder")
    if root.is_dir() and any(root.iterdir()):
        raise ScaffoldError(f"{directory}: folder is not empty; `esep init` creates a project "
                            f"in a new or empty folder only")
    msg = check_name(example)
    if msg:
        raise ScaffoldError(msg)
    period = period or default_period()
    _check_period(period)
    name = root.name
    values = {
        "__PROJECT__": name,
        "__ENV_NAME__": re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "esep-project",
        "__ESEP_VERSION__": __version__,
        "__ESEP_REQUIREMENT__": _esep_requirement(),
        "__PYTHON__": sys.executable,
        "__EXAMPLE__": example,
        "__PERIOD__": period,
        "__NEXT_PERIOD__": periods.shift(period, 1),
    }
    root.mkdir(parents=True, exist_ok=True)
    created = Created(root)
    created.files += _write(_plan(PROJECT_TEMPLATES, root, {}), values, values)
    for sub in KEEP:
        keep = root / sub / ".gitkeep"
        keep.parent.mkdir(parents=True, exist_ok=True)
        keep.touch()
        created.files.append(keep)
    (root / "tests").mkdir(exist_ok=True)
    created.files += new_report(example, root=root, period=period, title=title).files
    return created


# --- esep new-report NAME -----------------------------------------------------------------

def report_files(name: str, root: Path, period: str) -> list[Path]:
    """Where ``new_report`` would write (to refuse a name in use)."""
    return [dst for _, dst in _plan(REPORT_TEMPLATES, root, {"__report__": name, "__period__": period})]


def new_report(name: str, root: Path | None = None, period: str | None = None,
               title: str = DEFAULT_TITLE) -> Created:
    """Scaffold report type ``name`` in the project ``root`` (default: the current one)."""
    msg = check_name(name)
    if msg:
        raise ScaffoldError(msg)
    root = Path(root) if root is not None else config.ROOT
    period = period or default_period()
    _check_period(period)
    taken = [p for p in (root / "notebooks" / f"{name}.report.yaml", root / "notebooks" / f"{name}.ipynb",
                         root / "params" / name, root / "data" / "raw" / name,
                         root / "src" / "helpers" / f"{name}.py", root / "tests" / f"test_{name}.py")
             if p.exists()]
    if taken:
        raise ScaffoldError(f"report {name!r} exists already in {root}: "
                            + ", ".join(p.relative_to(root).as_posix() for p in taken))
    prev = periods.shift(period, -1)
    values = {"__REPORT__": name, "__PERIOD__": period, "__PREV_PERIOD__": prev,
              "__TITLE_YAML__": json.dumps(title, ensure_ascii=False)}
    json_values = {k: json.dumps(v, ensure_ascii=False)[1:-1] for k, v in values.items()}
    created = Created(root)
    init = root / "src" / "helpers" / "__init__.py"
    if not init.exists():  # a project without its own helpers package yet
        created.files += _write([(PROJECT_TEMPLATES / "src" / "helpers" / "__init__.py.tmpl", init)], {}, {})
    created.files += _write(_plan(REPORT_TEMPLATES, root, {"__report__": name, "__period__": period}),
                            values, json_values)
    return created


def _check_period(period: str) -> None:
    msg = periods.check(period)
    if msg:
        raise ScaffoldError(f"--period: {msg}")
