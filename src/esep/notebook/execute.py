"""Execute one unit's template with papermill (in-process) into a notebook file.

On a failing cell the failed notebook is kept in ``output/.esep/failed/`` and a
:class:`RunError` names the template cell (papermill's injected cell not counted) and
the error. The kernel runs in the project folder with the project's ``src/`` first on
its import path, so ``import helpers`` finds the project's own helpers (and, through
``helpers.__path__``, esep's generic kit).
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from esep.core import config
from esep.core.errors import RunError
from esep.core.fsutil import rel


# esep.kit's stand-in ``helpers`` for projects without src/helpers (a path, not an import:
# the engine never imports the kit)
FALLBACK_DIR = str(Path(__file__).resolve().parents[1] / "kit" / "_path")


class KernelDied(RuntimeError):
    """The kernel process died mid-notebook (not a failing cell)."""


def failed_path(unit) -> Path:
    return config.STATE_DIR / "failed" / (unit.key.replace("/", "__") + ".ipynb")


@contextmanager
def kernel_env(spec=None):
    """While executing: the environment kernels inherit names the project (ESEP_ROOT) and
    puts its src/ first on PYTHONPATH; restored afterwards (tests run many projects)."""
    saved = {k: os.environ.get(k) for k in ("ESEP_ROOT", "PYTHONPATH", "ESEP_ROUNDING")}
    os.environ["ESEP_ROOT"] = str(config.ROOT)
    os.environ["ESEP_ROUNDING"] = spec.rounding if spec is not None else "half_up"
    first = [str(config.SRC_DIR), FALLBACK_DIR]
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p not in first]
    os.environ["PYTHONPATH"] = os.pathsep.join(first + parts)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _describe_failure(exc, nb_path: Path) -> str:
    """'cell 7 (first line...): KeyError: 'x'' from a papermill execution error."""
    idx = getattr(exc, "cell_index", None)
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    src = getattr(exc, "source", "") or ""
    first = next((ln.strip() for ln in src.splitlines() if ln.strip()), "")
    if isinstance(idx, int):
        # papermill inserts an 'injected-parameters' cell: report the template's numbering
        try:
            import nbformat

            cells = nbformat.read(str(nb_path), as_version=4).cells[:idx]
            idx -= sum("injected-parameters" in c.get("metadata", {}).get("tags", []) for c in cells)
        except Exception:  # noqa: BLE001 - numbering is best effort
            pass
    where = f"cell {idx + 1} of the template" if isinstance(idx, int) else "a cell"
    if first:
        where += f" ({first[:60]!r})"
    return f"{where} failed: {ename}: {evalue}\n  the failed notebook is kept at {rel(nb_path)}"


_kept: dict[str, object] = {}   # output path -> the notebook papermill would have written


def _keep_in_memory() -> None:
    """papermill writes its output notebook when it starts, after every cell and when it
    completes (each time a deep copy, a schema validation and an indented JSON dump of the
    growing notebook), and once more at the end; esep's output notebook is a temp file
    nobody watches and that the build would read straight back. For the paths
    :func:`execute` names, papermill's saves are skipped and its final write keeps the
    notebook object in memory instead (the same object it returns); the failed notebook
    of an error is written by :func:`execute`. Other paths are written as usual. Patched
    once per process."""
    from papermill import engines
    from papermill import execute as pm_execute

    base = engines.NotebookExecutionManager
    if getattr(base, "esep_keep_in_memory", False):
        return

    class Manager(base):
        esep_keep_in_memory = True

        def save(self, **kwargs):
            if self.output_path is not None and str(self.output_path) in _kept:
                self.last_save_time = self.now()
                return None
            return super().save(**kwargs)

    engines.NotebookExecutionManager = Manager
    write = pm_execute.write_ipynb

    def write_ipynb(nb, path):
        if str(path) in _kept:
            _kept[str(path)] = nb
            return None
        return write(nb, path)

    pm_execute.write_ipynb = write_ipynb


def execute(spec, unit, out_nb: Path):
    """Run the template with papermill; return the executed notebook (a NotebookNode; not
    written: ``out_nb`` only names it). RunError on a failing cell (the failed notebook is
    kept in ``output/.esep/failed/``), KernelDied when its process died."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    _keep_in_memory()
    key = str(out_nb)
    _kept[key] = None
    try:
        with kernel_env(spec):
            return pm.execute_notebook(
                str(spec.notebook), key, parameters=dict(unit.params), kernel_name="python3",
                progress_bar=False, log_output=False, cwd=str(config.ROOT), report_mode=False,
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
    except PapermillExecutionError as exc:
        if getattr(exc, "ename", "") == "DeadKernelError":
            # the kernel process died (killed, out of memory): not the report's error;
            # the build retries the unit (esep.pipeline.executors.Crash)
            raise KernelDied(f"{unit.label}: the kernel died while executing "
                             f"({getattr(exc, 'evalue', '')})") from None
        failed = failed_path(unit)
        failed.parent.mkdir(parents=True, exist_ok=True)
        if _kept.get(key) is not None:
            nbformat.write(_kept[key], str(failed))
        raise RunError(f"{unit.label}: {_describe_failure(exc, failed)}") from None
    finally:
        _kept.pop(key, None)
