"""Execute one report for one period (a RunUnit) and write its outputs atomically.

Order of work for a unit:
1. papermill executes the template with the unit's parameters into a temp notebook
   (in-process API, kernel ``python3`` of the running interpreter);
2. on error the failed notebook is kept in ``output/.esep/failed/`` and a RunError names
   the failing cell and its error; the last good outputs are left untouched;
3. on success the executed notebook, the rendered formats and the manifest are written
   to temp files first, then renamed into ``output/<period>/`` together.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from esep.core import config  # nbformat/render are imported where used: `esep build`
from esep.notebook import edits
from esep.notebook.execute import execute
from esep.publish import manifest
# with nothing to do must not pay for them (see esep/cache.py)
from esep.core.errors import EsepError
from esep.core.params import RunUnit
from esep.core.reports import ReportSpec



@dataclass
class Result:
    unit: RunUnit
    status: str  # ok | failed | skipped
    seconds: float = 0.0
    message: str = ""
    outputs: list[Path] = field(default_factory=list)
    # where the time went: {phase: [wall s, cpu s]} for kernel, execute, findings, html,
    # pdf, docx, write (cpu of execute = the kernel process's own CPU)
    phases: dict = field(default_factory=dict)


class _Clock:
    """Wall and CPU (this process) per phase; ``extra_cpu`` adds a child's CPU."""

    def __init__(self):
        self.phases: dict[str, list[float]] = {}
        self._mark = (time.perf_counter(), time.process_time())

    def lap(self, phase: str, extra_cpu: float = 0.0, wall: float | None = None) -> None:
        now = (time.perf_counter(), time.process_time())
        w = now[0] - self._mark[0] if wall is None else wall
        c = now[1] - self._mark[1] + extra_cpu
        old = self.phases.get(phase, [0.0, 0.0])
        self.phases[phase] = [round(old[0] + w, 3), round(old[1] + c, 3)]
        self._mark = now


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def output_paths(unit: RunUnit, formats=("html",)) -> dict[str, Path]:
    base = unit.output_base()
    paths = {"ipynb": base.with_suffix(".ipynb"), "manifest": base.with_suffix(".manifest.json")}
    for fmt in formats:
        paths[fmt] = base.with_suffix(f".{fmt}")
    return paths


def place_of(spec: ReportSpec, unit: RunUnit, scraps: dict) -> str | None:
    """The report's place for its title block: glued ``report_place``, else the first of
    the spec's ``place_params`` with a value (not the expand default)."""
    if scraps.get("report_place"):
        return str(scraps["report_place"])
    default = spec.expand.default if spec.expand else "all"
    for key in spec.place_params:
        v = unit.params.get(key)
        if isinstance(v, str) and v != default:
            return v
    return None


def render_outputs(spec: ReportSpec, unit: RunUnit, nb, formats, fingerprint: str,
                   built: datetime, clock: _Clock | None = None) -> dict[str, bytes | str]:
    """Produce every requested format in memory (nothing written yet)."""
    from esep.publish import render
    from esep.notebook.scraps import read_scraps

    from esep.core import numbers

    scraps = read_scraps(nb)
    with numbers.rounding(spec.rounding):  # the report's one rounding rule, as in its kernel
        page = render.render_html(nb, title=spec.title, period=unit.period,
                                  place=place_of(spec, unit, scraps), fingerprint=fingerprint, built=built)
    out: dict[str, bytes | str] = {"html": page}
    if clock:
        clock.lap("html")
    extra = [f for f in formats if f != "html"]
    if extra:
        from esep.publish import formats as fmts

        for f in extra:
            out[f] = fmts.convert(page, f, title=spec.title, period=unit.period)
            if clock:
                clock.lap(f)
    return {k: v for k, v in out.items() if k in formats}


def run_unit(spec: ReportSpec, unit: RunUnit, formats=("html",), quality: list | None = None) -> Result:
    """Execute, add the findings appendix, render, commit. ``quality``: the unit's
    data-quality findings when the build computed them once for the whole report
    (esep.pipeline.shared); None = compute them here."""
    import nbformat

    from esep.notebook import kernels

    clock = _Clock()
    t0 = time.perf_counter()
    started = now_iso()
    paths = output_paths(unit, formats)
    config.STATE_DIR.mkdir(parents=True, exist_ok=True)
    from esep.pipeline import interrupt

    tmpdir = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=config.STATE_DIR))
    interrupt.track_tmp(tmpdir)  # removed also when the build is interrupted
    try:
        tmp_nb = tmpdir / "executed.ipynb"
        from esep.data import forms  # a school's invalid form fails its own report only (issue 14)

        forms.check_unit(spec, unit)
        edits.record_pending(unit)  # unpublished prose edits in the old notebook: record first
        nb = execute(spec, unit, tmp_nb)
        clock.lap("execute", extra_cpu=kernels.last.get("kernel_cpu", 0.0))
        kwall = min(kernels.last.get("kernel", 0.0), clock.phases["execute"][0])
        clock.phases["kernel"] = [round(kwall, 3), 0.0]  # waiting for a kernel (its CPU: under execute)
        clock.phases["execute"][0] = round(clock.phases["execute"][0] - kwall, 3)
        from esep.data.validate import input_files

        from esep.pipeline.cache import unit_scope, used_specs

        scope = unit_scope(spec, unit)  # one school's report: its own form, not every school's
        # the files that hold the raw data: CSV, a table's .xlsx or the report's workbook
        inputs = input_files(spec, forms=scope is None)
        if scope is not None:
            inputs += [config.ROOT / label for label in sorted(scope["own"])]

        for used in used_specs(spec):  # reports it rolls up (spec key `uses`): their raw files too
            inputs += [p for p in input_files(used) if p not in inputs]
        hashes = manifest.input_hashes(inputs)
        fp = manifest.fingerprint(hashes)
        built = datetime.now()
        nb.metadata["esep"] = {"report": unit.report, "period": unit.period, "variant": unit.variant,
                               "parameters": unit.params, "data_fingerprint": fp[:12],
                               "built": built.isoformat(timespec="seconds")}
        from esep.data import findings  # data-quality warnings -> "Деректер сапасы" appendix (issue 7)

        if quality is None:
            quality = findings.for_variant(findings.for_unit(spec, unit.period), spec, unit.variant)
        from esep.core import numbers
        from esep.notebook.scraps import read_scraps as _scraps

        table_numbers = _scraps(nb).get("esep_table_numbers")  # raw table -> the report's "N-кесте"
        with numbers.rounding(spec.rounding):
            nb.cells.append(findings.appendix_cell(quality, spec.name,
                                                   table_numbers if isinstance(table_numbers, dict) else None))
        clock.lap("findings")
        narr = edits.apply_recorded(unit, nb)
        for msg in narr.conflicts:
            edits.warn(msg)  # editor prose from narrative/ (after every generated cell)
        rendered = render_outputs(spec, unit, nb, formats, fp, built, clock)
        finished = now_iso()
        doc = manifest.build_manifest(
            unit=unit, spec=spec, params_file=unit.params_file,
            inputs=inputs + [spec.processed_path(r) for r in spec.inputs],
            started=started, finished=finished,
            outputs=[paths["ipynb"]] + [paths[f] for f in formats],
        )
        doc["narrative"] = narr.manifest()
        doc["warnings_count"] = len(quality)
        from esep.notebook.scraps import read_scraps

        doc["place"] = place_of(spec, unit, read_scraps(nb))  # shown in output/index.html
        staged = {paths["ipynb"]: nbformat.writes(nb)}
        for f, content in rendered.items():
            staged[paths[f]] = content
        staged[paths["manifest"]] = manifest.dumps(doc)
        commit(staged)
        clock.lap("write")
        return Result(unit, "ok", time.perf_counter() - t0, "", list(staged), clock.phases)
    except EsepError as exc:
        return Result(unit, "failed", time.perf_counter() - t0, str(exc), phases=clock.phases)
    except OSError as exc:  # a full or read-only output/: the folder and the fix (issue 17)
        from esep.core.fsutil import os_error_message

        return Result(unit, "failed", time.perf_counter() - t0, os_error_message(exc), phases=clock.phases)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
        interrupt.untrack_tmp(tmpdir)


def commit(staged: dict[Path, str | bytes]) -> None:
    """Write all files to temp names, then rename them into place as one journaled step
    (a kill between two renames is finished by the next command: esep.core.fsutil)."""
    from esep.core.fsutil import commit_files
    from esep.pipeline.interrupt import critical

    with critical():  # an interrupted build finishes a commit it started
        commit_files(staged)
