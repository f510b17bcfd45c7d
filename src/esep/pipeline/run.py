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
                   built: datetime) -> dict[str, bytes | str]:
    """Produce every requested format in memory (nothing written yet)."""
    from esep.publish import render
    from esep.notebook.scraps import read_scraps

    from esep.core import numbers

    scraps = read_scraps(nb)
    with numbers.rounding(spec.rounding):  # the report's one rounding rule, as in its kernel
        page = render.render_html(nb, title=spec.title, period=unit.period,
                                  place=place_of(spec, unit, scraps), fingerprint=fingerprint, built=built)
    out: dict[str, bytes | str] = {"html": page}
    extra = [f for f in formats if f != "html"]
    if extra:
        from esep.publish import formats as fmts

        for f in extra:
            out[f] = fmts.convert(page, f, title=spec.title, period=unit.period)
    return {k: v for k, v in out.items() if k in formats}


def run_unit(spec: ReportSpec, unit: RunUnit, formats=("html",)) -> Result:
    import nbformat

    t0 = time.perf_counter()
    started = now_iso()
    paths = output_paths(unit, formats)
    config.STATE_DIR.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix="run-", dir=config.STATE_DIR))
    try:
        tmp_nb = tmpdir / "executed.ipynb"
        from esep.data import forms  # a school's invalid form fails its own report only (issue 14)

        forms.check_unit(spec, unit)
        edits.record_pending(unit)  # unpublished prose edits in the old notebook: record first
        execute(spec, unit, tmp_nb)
        nb = nbformat.read(str(tmp_nb), as_version=4)
        from esep.data.validate import input_files

        inputs = input_files(spec)  # the files that hold the raw data: CSV, a table's .xlsx or the report's workbook
        from esep.pipeline.cache import used_specs

        for used in used_specs(spec):  # reports it rolls up (spec key `uses`): their raw files too
            inputs += [p for p in input_files(used) if p not in inputs]
        hashes = manifest.input_hashes(inputs)
        fp = manifest.fingerprint(hashes)
        built = datetime.now()
        nb.metadata["esep"] = {"report": unit.report, "period": unit.period, "variant": unit.variant,
                               "parameters": unit.params, "data_fingerprint": fp[:12],
                               "built": built.isoformat(timespec="seconds")}
        from esep.data import findings  # data-quality warnings -> "Деректер сапасы" appendix (issue 7)

        quality = findings.for_variant(findings.for_unit(spec, unit.period), spec, unit.variant)
        from esep.core import numbers

        with numbers.rounding(spec.rounding):
            from esep.notebook.scraps import read_scraps as _scraps

            numbers = _scraps(nb).get("esep_table_numbers")  # raw table -> the report's "N-кесте"
            nb.cells.append(findings.appendix_cell(quality, spec.name,
                                                   numbers if isinstance(numbers, dict) else None))
        narr = edits.apply_recorded(unit, nb)
        for msg in narr.conflicts:
            edits.warn(msg)  # editor prose from narrative/ (after every generated cell)
        rendered = render_outputs(spec, unit, nb, formats, fp, built)
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
        return Result(unit, "ok", time.perf_counter() - t0, "", list(staged))
    except EsepError as exc:
        return Result(unit, "failed", time.perf_counter() - t0, str(exc))
    except OSError as exc:  # a full or read-only output/: the folder and the fix (issue 17)
        from esep.core.fsutil import os_error_message

        return Result(unit, "failed", time.perf_counter() - t0, os_error_message(exc))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def commit(staged: dict[Path, str | bytes]) -> None:
    """Write all files to temp names, then rename them into place as one journaled step
    (a kill between two renames is finished by the next command: esep.core.fsutil)."""
    from esep.core.fsutil import commit_files

    commit_files(staged)
