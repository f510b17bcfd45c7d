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

from . import config, manifest, narrative  # nbformat/render are imported where used: `esep build`
# with nothing to do must not pay for them (see esep/cache.py)
from .errors import EsepError, RunError
from .params import RunUnit
from .reports import ReportSpec

DEFAULT_FORMATS = ("html",)


@dataclass
class Result:
    unit: RunUnit
    status: str  # ok | failed | skipped
    seconds: float = 0.0
    message: str = ""
    outputs: list[Path] = field(default_factory=list)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def output_paths(unit: RunUnit, formats=DEFAULT_FORMATS) -> dict[str, Path]:
    base = unit.output_base()
    paths = {"ipynb": base.with_suffix(".ipynb"), "manifest": base.with_suffix(".manifest.json")}
    for fmt in formats:
        paths[fmt] = base.with_suffix(f".{fmt}")
    return paths


def _failed_path(unit: RunUnit) -> Path:
    return config.STATE_DIR / "failed" / (unit.key.replace("/", "__") + ".ipynb")


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
    return f"{where} failed: {ename}: {evalue}\n  the failed notebook is kept at {manifest.rel(nb_path)}"


def execute(spec: ReportSpec, unit: RunUnit, out_nb: Path) -> None:
    """Run the template with papermill into ``out_nb``; RunError on a failing cell."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(
            str(spec.notebook), str(out_nb), parameters=dict(unit.params), kernel_name="python3",
            progress_bar=False, log_output=False, cwd=str(config.ROOT), report_mode=False,
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as exc:
        failed = _failed_path(unit)
        failed.parent.mkdir(parents=True, exist_ok=True)
        if out_nb.exists():
            shutil.copyfile(out_nb, failed)
        raise RunError(f"{unit.label}: {_describe_failure(exc, failed)}") from None


def place_of(unit: RunUnit, scraps: dict) -> str | None:
    if scraps.get("report_place"):
        return str(scraps["report_place"])
    for key in ("city", "oblast", "region", "district"):
        v = unit.params.get(key)
        if isinstance(v, str) and v != "all":
            return v
    return None


def render_outputs(spec: ReportSpec, unit: RunUnit, nb, formats, fingerprint: str,
                   built: datetime) -> dict[str, bytes | str]:
    """Produce every requested format in memory (nothing written yet)."""
    from . import render
    from .scraps import read_scraps

    scraps = read_scraps(nb)
    page = render.render_html(nb, title=spec.title, period=unit.period, place=place_of(unit, scraps),
                              fingerprint=fingerprint, built=built)
    out: dict[str, bytes | str] = {"html": page}
    extra = [f for f in formats if f != "html"]
    if extra:
        from . import formats as fmts

        for f in extra:
            out[f] = fmts.convert(page, f, title=spec.title, period=unit.period)
    return {k: v for k, v in out.items() if k in formats}


def run_unit(spec: ReportSpec, unit: RunUnit, formats=DEFAULT_FORMATS) -> Result:
    import nbformat

    t0 = time.perf_counter()
    started = now_iso()
    paths = output_paths(unit, formats)
    config.STATE_DIR.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix="run-", dir=config.STATE_DIR))
    try:
        tmp_nb = tmpdir / "executed.ipynb"
        narrative.record_pending(unit)  # unpublished prose edits in the old notebook: record first
        execute(spec, unit, tmp_nb)
        nb = nbformat.read(str(tmp_nb), as_version=4)
        inputs = [config.RAW_DIR / r for r in spec.inputs]
        hashes = manifest.input_hashes(inputs)
        fp = manifest.fingerprint(hashes)
        built = datetime.now()
        nb.metadata["esep"] = {"report": unit.report, "period": unit.period, "variant": unit.variant,
                               "parameters": unit.params, "data_fingerprint": fp[:12],
                               "built": built.isoformat(timespec="seconds")}
        from . import findings  # data-quality warnings -> "Деректер сапасы" appendix (issue 7)

        quality = findings.for_variant(findings.for_unit(spec, unit.period), spec, unit.variant)
        nb.cells.append(findings.appendix_cell(quality, spec.name))
        narr = narrative.apply_recorded(unit, nb)  # editor prose from narrative/ (after every generated cell)
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
        from .scraps import read_scraps

        doc["place"] = place_of(unit, read_scraps(nb))  # shown in output/index.html
        staged = {paths["ipynb"]: nbformat.writes(nb)}
        for f, content in rendered.items():
            staged[paths[f]] = content
        staged[paths["manifest"]] = manifest.dumps(doc)
        _commit(staged)
        return Result(unit, "ok", time.perf_counter() - t0, "", list(staged))
    except EsepError as exc:
        return Result(unit, "failed", time.perf_counter() - t0, str(exc))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _commit(staged: dict[Path, str | bytes]) -> None:
    """Write all files to temp names, then rename them into place one after another."""
    from .fsutil import commit_files

    commit_files(staged)
