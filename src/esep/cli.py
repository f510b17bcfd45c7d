"""The ``esep`` command line. Every user mistake ends in one readable message and exit 1."""
from __future__ import annotations

import os
import signal
import sys

_SIGINT = {"reported": False}


def _interrupted_at_start(signum, frame):  # Ctrl-C while esep is still starting up
    sys.stderr.write("interrupted: nothing was done\n")
    os._exit(130)


def _set_sigint(handler) -> None:
    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (e.g. imported by a test runner's worker)
        pass


_set_sigint(_interrupted_at_start)


def _noop_build_fast_path() -> None:
    """``esep build`` with nothing to do answers before typer (and the pydantic it
    imports) and rich are loaded: one plain line, exit 0. Anything else, or anything
    to build, goes the normal way (the command below). Only the ``esep`` script's own
    plain ``build [REPORT] [--to F] [--jobs N] [--executor E]`` call takes this path."""
    argv = sys.argv[1:]
    if os.path.basename(sys.argv[0]) != "esep" or not argv or argv[0] != "build":
        return
    report = to = None
    it = iter(argv[1:])
    for a in it:
        if a in ("--to", "--jobs", "-j", "--executor"):
            val = next(it, None)
            if val is None:
                return
            if a == "--to":
                to = val
        elif a.startswith("--to="):
            to = a[5:]
        elif a.startswith(("--jobs=", "--executor=")):
            continue
        elif a.startswith("-") or report is not None:
            return  # --force, --help, --scheduler, --project ...: the normal path
        else:
            report = a
    fmts = None
    if to:
        fmts = tuple(f.strip().lower() for f in to.split(",") if f.strip())
        if any(f not in ("html", "pdf", "docx") for f in fmts):
            return
        if "html" not in fmts:
            fmts = ("html",) + fmts
    try:
        from esep.pipeline import build as _b

        res = _b.noop(report, fmts)
    except Exception:  # noqa: BLE001 - whatever it is, the normal path reports it properly
        return
    if res is None:
        return
    from esep.core import config as _config

    sys.stdout.write(f"{len(res)} of {len(res)} up to date, skipped (--force rebuilds; "
                     f"`esep status` explains); {res.seconds:.2f} s\nIndex: {_config.OUTPUT_DIR / 'index.html'}\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ != "__main__":
    _noop_build_fast_path()

from typing import Optional  # noqa: E402

import typer  # noqa: E402
from rich.console import Console
from rich.table import Table

from esep.core import config
from esep import lazy_imports
from esep.core.errors import EsepError

lazy_imports.install()  # import jsonschema without its 1.5 s grammar build (esep/lazy_imports.py)
_set_sigint(signal.default_int_handler)  # from here on Ctrl-C is a KeyboardInterrupt

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="esep: build education-analytics reports from data (papermill + nbconvert).")
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


NO_PROJECT_NEEDED = {"init"}


@app.callback()
def _project(ctx: typer.Context,
             project: Optional[str] = typer.Option(
                 None, "--project", metavar="DIR",
                 help="The esep project to act on (default: the folder holding esep.toml, found "
                      "from the working directory upwards; ESEP_ROOT also works).")):
    """esep: build education-analytics reports from data (papermill + nbconvert)."""
    try:
        if project:
            config.use_project(project)
        if ctx.invoked_subcommand not in NO_PROJECT_NEEDED:
            config.root()
    except EsepError as exc:
        _fail(str(exc))


def _fail(msg: str, code: int = 1):
    from rich.markup import escape

    err.print(f"[red]error:[/red] {escape(msg)}", soft_wrap=True)
    raise typer.Exit(code)


def _formats(to: Optional[str]) -> tuple[str, ...] | None:
    """--to as a tuple; None = each report's configured formats (formats.resolve)."""
    if not to:
        return None
    fmts = tuple(f.strip().lower() for f in to.split(",") if f.strip())
    bad = [f for f in fmts if f not in ("html", "pdf", "docx")]
    if bad:
        _fail(f"--to: unknown format(s) {', '.join(bad)} (choose from html, pdf, docx)")
    if "html" not in fmts:
        fmts = ("html",) + fmts  # HTML is the base of every other format
    return fmts


@app.command("list")
def list_cmd():
    """Show report types and the periods available for each."""
    from esep.core import reports

    try:
        specs = reports.all_reports()
    except EsepError as exc:
        _fail(str(exc))
    t = Table(title="esep reports")
    t.add_column("report")
    t.add_column("title")
    t.add_column("periods (params files)")
    t.add_column("per")
    for spec in specs.values():
        t.add_row(spec.name, spec.title, ", ".join(spec.periods()) or "-",
                  spec.expand.param if spec.expand else "-")
    console.print(t)


@app.command()
def prepare(report: Optional[str] = typer.Argument(None, help="Report type (default: all).")):
    """Validate raw data and (re)write data/processed/ for one or every report."""
    from esep.data import prepare as prep
    from esep.core import reports

    try:
        specs = [reports.get(report)] if report else list(reports.all_reports().values())
        for spec in specs:
            written = prep.prepare_report(spec)
            console.print(f"{spec.name}: {len(written)} processed file(s) written")
    except EsepError as exc:
        _fail(str(exc))


def _run_batch(report, period, variant, to, **kw):
    from esep.pipeline.build import build, summary
    from esep.pipeline.executors import Interrupted

    try:
        results = build(report, period, variant, formats=_formats(to), **kw)
    except EsepError as exc:
        _fail(str(exc))
    except Interrupted as exc:  # Ctrl-C: one line, exit 130 (workers and kernels are gone)
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        _SIGINT["reported"] = True
        raise typer.Exit(130)
    if not results:
        _fail("nothing to build: no params files found under params/<report>/<period>.yaml")
    console.print(summary(results))
    failed = [r for r in results if r.status == "failed"]
    idx = config.OUTPUT_DIR / "index.html"
    if idx.exists():
        console.print(f"Index: {idx}")
    if failed:
        err.print(f"[red]{len(failed)} of {len(results)} failed[/red]")
        raise typer.Exit(1)


@app.command()
def run(report: str = typer.Argument(..., help="Report type, e.g. city_innovation."),
        period: str = typer.Option(..., "--period", "-p", help="Period, e.g. 2023-2024-S2."),
        variant: Optional[str] = typer.Option(None, "--only", help="Only this region/district slug (or 'all')."),
        to: Optional[str] = typer.Option(None, "--to", help="Formats: html,pdf,docx."),
        jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Parallel jobs (default: CPU cores).")):
    """Execute one report for one period (every region/district its params file asks for).
    Always executes, even when up to date (`esep build` skips what is up to date)."""
    from esep.core.params import check_period

    msg = check_period(period)
    if msg:
        _fail(f"--period: {msg}")
    _run_batch(report, period, variant, to, force=True, jobs=jobs)


@app.command()
def build(report: Optional[str] = typer.Argument(None, help="Only this report type."),
          to: Optional[str] = typer.Option(None, "--to", help="Formats: html,pdf,docx."),
          force: bool = typer.Option(False, "--force", help="Rebuild even what is up to date."),
          jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Parallel jobs (default: CPU cores)."),
          executor: str = typer.Option("local", "--executor", help="local (process pool) or dask."),
          scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="ADDRESS",
                                                  help="Dask scheduler (default: a LocalCluster sized to this machine).")):
    """Run every (report, period) whose inputs changed since its last build (all with
    --force), in parallel, then write output/index.html."""
    if executor not in ("local", "dask"):
        _fail(f"--executor: unknown executor {executor!r} (choose local or dask)")
    if scheduler and executor != "dask":
        _fail("--scheduler needs --executor dask")
    _run_batch(report, None, None, to, force=force, jobs=jobs, executor=executor, scheduler=scheduler)


@app.command()
def status(report: Optional[str] = typer.Argument(None, help="Only this report type."),
           to: Optional[str] = typer.Option(None, "--to", help="Formats: html,pdf,docx.")):
    """List every output as fresh or stale, with the input that changed."""
    from esep.pipeline.build import status as build_status, status_table

    try:
        rows = build_status(report, None, None, formats=_formats(to))
    except EsepError as exc:
        _fail(str(exc))
    console.print(status_table(rows))
    stale = sum(1 for _, fresh, _ in rows if not fresh)
    console.print(f"{len(rows) - stale} fresh, {stale} stale" + (": `esep build` rebuilds them" if stale else ""))


@app.command()
def index():
    """Rewrite output/index.html from what is in output/."""
    from esep.publish.index import write_index

    console.print(f"Index: {write_index()}")


@app.command()
def render(report: str = typer.Argument(..., help="Report type, e.g. city_innovation."),
           period: str = typer.Option(..., "--period", "-p", help="Period, e.g. 2023-2024-S2."),
           variant: Optional[str] = typer.Option(None, "--only", help="Only this region/district slug (or 'all')."),
           to: Optional[str] = typer.Option(None, "--to", help="Formats: html,pdf,docx.")):
    """Render HTML/PDF/DOCX from the executed notebook in output/ (nothing is executed)."""
    from esep.core import params
    from esep.core import reports
    from esep.pipeline.rerender import render_unit

    msg = params.check_period(period)
    if msg:
        _fail(f"--period: {msg}")
    fmts = _formats(to)
    try:
        spec = reports.get(report)
        units = params.units_for(spec, period, variant)
    except EsepError as exc:
        _fail(str(exc))
    failed = 0
    for unit in units:
        try:
            from esep.publish.formats import resolve

            res = render_unit(spec, unit, fmts or resolve(spec))
        except EsepError as exc:
            err.print(f"[red]error:[/red] {exc}", soft_wrap=True, markup=False)
            failed += 1
            continue
        console.print(f"{unit.label}: rendered " + ", ".join(str(p) for p in res.outputs if p.suffix != ".json")
                      + f" ({res.seconds['all']:.1f} s)", markup=False, soft_wrap=True)
    if failed < len(units):
        from esep.publish.index import write_index

        write_index()
    if failed:
        raise typer.Exit(1)


@app.command()
def publish(report: str = typer.Argument(..., help="Report type, e.g. city_innovation."),
            period: str = typer.Option(..., "--period", "-p", help="Period, e.g. 2023-2024-S2."),
            variant: Optional[str] = typer.Option(None, "--only", help="Only this region/district slug."),
            to: Optional[str] = typer.Option(None, "--to", help="Formats: html,pdf,docx."),
            strict: bool = typer.Option(False, "--strict", help="Fail if the prose has numbers matching no figure.")):
    """Record the narrative edits made in the executed notebook and render it (no code is run)."""
    from rich.markup import escape

    from esep.notebook import edits
    from esep.pipeline.publish import publish as publish_unit

    fmts = _formats(to)
    failed = 0
    try:
        spec, units = edits.units(report, period, variant)
    except EsepError as exc:
        _fail(str(exc))
    if fmts is None:
        from esep.publish.formats import resolve

        fmts = resolve(spec)
    for unit in units:
        try:
            res = publish_unit(spec, unit, fmts, strict=strict)
        except EsepError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            failed += 1
            continue
        for line in res.recorded:
            console.print(f"{unit.label}: recorded {line}", markup=False)
        for line in res.resolved:
            console.print(f"{unit.label}: conflict confirmed: {line}", markup=False)
        for line in res.stale:
            err.print(f"[yellow]warning:[/yellow] {escape(unit.label)}: stale number? {escape(line)}", soft_wrap=True)
        console.print(f"{unit.label}: published " + ", ".join(str(p) for p in res.outputs if p.suffix != ".json"),
                      markup=False, soft_wrap=True)
    if failed < len(units):
        from esep.publish.index import write_index

        write_index()
    if failed:
        raise typer.Exit(1)


@app.command("check-narrative")
def check_narrative(report: str = typer.Argument(..., help="Report type, e.g. city_innovation."),
                    period: str = typer.Option(..., "--period", "-p", help="Period, e.g. 2023-2024-S2."),
                    variant: Optional[str] = typer.Option(None, "--only", help="Only this region/district slug."),
                    strict: bool = typer.Option(False, "--strict", help="Exit 1 on stale numbers too.")):
    """List unknown placeholders and hand-typed numbers that match no current figure."""
    from rich.markup import escape

    from esep.notebook import edits

    bad = 0
    try:
        _, units = edits.units(report, period, variant)
        for unit in units:
            errors, stale = edits.check(unit)
            for line in errors:
                err.print(f"[red]error:[/red] {escape(unit.label)}: {escape(line)}", soft_wrap=True)
            for line in stale:
                err.print(f"[yellow]warning:[/yellow] {escape(unit.label)}: stale number? {escape(line)}",
                          soft_wrap=True)
            if not errors and not stale:
                console.print(f"{unit.label}: narrative ok (every number is a placeholder or matches a figure)",
                              markup=False)
            bad += len(errors) + (len(stale) if strict else 0)
    except EsepError as exc:
        _fail(str(exc))
    if bad:
        raise typer.Exit(1)


@app.command()
def edit(report: str = typer.Argument(..., help="Report type, e.g. city_innovation."),
         period: str = typer.Option(..., "--period", "-p", help="Period, e.g. 2023-2024-S2."),
         variant: Optional[str] = typer.Option(None, "--only", help="Only this region/district slug."),
         no_browser: bool = typer.Option(False, "--print-only", help="Only print the path and the figures.")):
    """Open the executed notebook in JupyterLab to edit its narrative cells."""
    import os
    import subprocess
    from pathlib import Path

    import nbformat

    from esep.notebook import edits

    try:
        _, units = edits.units(report, period, variant)
    except EsepError as exc:
        _fail(str(exc))
    unit = units[0]
    nb_path = unit.output_base().with_suffix(".ipynb")
    if not nb_path.exists():
        _fail(f"{unit.label}: no executed notebook at {nb_path}; run `esep run {report} --period {period}` first")
    t = Table(title="placeholders you can use in the text")
    t.add_column("write", overflow="fold")
    t.add_column("shows now", overflow="fold")
    for name, value in edits.figures_table(nbformat.read(str(nb_path), as_version=4)):
        t.add_row(name, value)
    console.print(t)
    console.print(f"Edit the text cells of {nb_path}, save, then run: "
                  f"esep publish {report} --period {period}" + (f" --only {unit.variant}" if unit.variant else ""),
                  markup=False, soft_wrap=True)
    if no_browser:
        return
    jupyter = Path(sys.executable).parent / "jupyter"
    raise typer.Exit(subprocess.call([str(jupyter) if jupyter.exists() else "jupyter", "lab", str(nb_path)],
                                     cwd=str(config.ROOT), env=dict(os.environ)))


@app.command("validate")
def validate_cmd(report: Optional[str] = typer.Argument(None, help="Report type (default: all)."),
                 period: Optional[str] = typer.Option(None, "--period", "-p",
                                                      help="Findings a report for this period shows "
                                                           "(+ rows waiting in incoming/<period>/)."),
                 fmt: str = typer.Option("text", "--format", help="text or json (JSON lines)."),
                 strict: bool = typer.Option(False, "--strict", help="Warnings are failures too (exit 1).")):
    """Check raw data: errors (exit 1) and data-quality warnings (declared vs computed...)."""
    from esep.data import findings
    from esep.core import reports

    if fmt not in ("text", "json"):
        _fail(f"--format: {fmt!r} (choose text or json)")
    if period:
        from esep.core.params import check_period

        msg = check_period(period)
        if msg:
            _fail(f"--period: {msg}")
    try:
        specs = [reports.get(report)] if report else list(reports.all_reports().values())
        bad, warned = 0, 0
        for spec in specs:
            found, loaded = findings.findings_for(spec, period, incoming=period)
            for note in loaded.notes:
                err.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True, markup=True)
            if loaded.problems:
                bad += 1
                err.print(loaded.error_text(), soft_wrap=True, markup=False, highlight=False)
                continue
            warned += len(found)
            if fmt == "json":
                if found:
                    print(findings.format_json(found))
            else:
                for f in found:
                    console.print(f.text(), soft_wrap=True, markup=False)
                console.print(f"{spec.name}: {len(found)} warning(s)", markup=False)
    except EsepError as exc:
        _fail(str(exc))
    if bad or (strict and warned):
        raise typer.Exit(1)


@app.command("new-period")
def new_period_cmd(report: str = typer.Argument(..., help="Report type, e.g. city_innovation."),
                   src: str = typer.Option(..., "--from", help="Period whose params are copied."),
                   dst: str = typer.Option(..., "--to", help="The new period, e.g. 2024-2025-S1.")):
    """Set up a new period: params copy + empty input templates (CSV and .xlsx)."""
    from esep.data import newperiod
    from esep.core import reports

    try:
        res = newperiod.new_period(reports.get(report), src, dst)
    except EsepError as exc:
        _fail(str(exc))
    console.print(res.next_steps(report, dst), markup=False, soft_wrap=True)


@app.command()
def merge(report: str = typer.Argument(..., help="Report type."),
          period: str = typer.Option(..., "--period", "-p", help="The period in incoming/<period>/.")):
    """Check the filled-in templates of a new period and append their rows to data/raw/."""
    from esep.data import newperiod
    from esep.core import reports

    try:
        counts = newperiod.merge(reports.get(report), period)
    except EsepError as exc:
        _fail(str(exc))
    for stem, n in counts.items():
        console.print(f"{report}/{stem}.csv: {n} row(s) appended", markup=False)
    console.print(f"Next: esep run {report} --period {period}", markup=False)


def main():  # pragma: no cover - the `esep` entry point (pyproject [project.scripts])
    """Run the CLI; Ctrl-C and any user mistake that escaped a command end in one line."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted", highlight=False)
        sys.exit(130)
    except SystemExit as exc:  # typer turns Ctrl-C into a silent exit 130: say so, once
        if exc.code == 130 and not _SIGINT["reported"]:
            err.print("interrupted: nothing was changed", highlight=False)
        raise
    except EsepError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
