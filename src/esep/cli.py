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


def _os_msg(exc: OSError) -> str:
    from esep.core.fsutil import os_error_message

    return os_error_message(exc)


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
    except OSError as exc:
        _fail(_os_msg(exc))


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
    except OSError as exc:  # read-only or full output/, unreadable raw file: one line, the fix
        _fail(_os_msg(exc))
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
    from rich.markup import escape

    for line in skipped_before_run(report, period):  # nothing is blanked silently (issue 17)
        err.print(f"[yellow]note:[/yellow] {escape(line)}", soft_wrap=True, markup=True, highlight=False)
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
    except OSError as exc:
        _fail(_os_msg(exc))
    console.print(status_table(rows))
    stale = sum(1 for _, fresh, _ in rows if not fresh)
    console.print(f"{len(rows) - stale} fresh, {stale} stale" + (": `esep build` rebuilds them" if stale else ""))
    if report in (None, "school_project") and _has_forms():  # school forms: who sent a valid form, an invalid one, nothing (issue 14)
        from esep.data import forms

        _print_tracking(forms.tracking())

    from esep.publish.index import stale_formats

    old = [(p, d) for p, d in stale_formats() if not report or d.get("report") == report]
    for path, doc in old:
        console.print(f"[yellow]stale format[/yellow] {path.relative_to(config.ROOT).as_posix()}: older than "
                      f"the report's latest run ({(doc.get('finished') or '')[:16]}); the index does not "
                      f"link it (`esep render {doc.get('report')} --period {doc.get('period')}"
                      f"{' --only ' + doc['variant'] if doc.get('variant') else ''} --to {path.suffix[1:]}` renews it)")



@app.command()
def proof(only: Optional[str] = typer.Option(None, "--only", help="Only reports whose path contains this."),
          no_html: bool = typer.Option(False, "--no-html", help="PDF pages only (no browser).")):
    """Contact sheets of every built report (PDF pages, HTML at 1280 and 390 px) in output/proof/."""
    from esep.publish import proof as proofs

    try:
        summary = proofs.build(config.OUTPUT_DIR, html=not no_html, only=only)
    except (OSError, RuntimeError) as exc:
        _fail(f"proof: {exc}")
    if summary["missing_chromium"]:
        console.print(f"[yellow]HTML sheets skipped[/yellow]: {summary['missing_chromium']}")
    for line in summary["overflow"]:
        console.print(f"[red]page scrolls sideways[/red] {line}")
    console.print(f"{len(summary['reports'])} reports: {config.OUTPUT_DIR / 'proof' / 'index.html'}")
    if summary["overflow"]:
        raise typer.Exit(1)


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
        except (EsepError, OSError) as exc:
            msg = _os_msg(exc) if isinstance(exc, OSError) else str(exc)
            err.print(f"error: {msg}", soft_wrap=True, markup=False)
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
        except (EsepError, OSError) as exc:
            msg = _os_msg(exc) if isinstance(exc, OSError) else str(exc)
            err.print(f"[red]error:[/red] {escape(msg)}", soft_wrap=True)
            failed += 1
            continue
        for line in res.recorded:
            console.print(f"{unit.label}: recorded {line}", markup=False)
        for line in res.resolved:
            console.print(f"{unit.label}: conflict confirmed: {line}", markup=False)
        for line in res.notes:
            err.print(f"[yellow]note:[/yellow] {escape(unit.label)}: {escape(line)}", soft_wrap=True)
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
         no_browser: bool = typer.Option(False, "--print-only",
                                         help="Only write the edit view and print its path and the figures."),
         port: Optional[int] = typer.Option(None, "--port", help="JupyterLab's port (default: a free one).")):
    """Open the report's text for editing in JupyterLab (code hidden, numbers shown).
    Every save is recorded in narrative/ at once; `esep publish` then writes the report."""
    import secrets
    import subprocess

    from esep.notebook import edits
    from esep.pipeline import editdesk

    try:
        _, units = edits.units(report, period, variant)
        unit = units[0]
        desk = editdesk.prepare(unit)
    except EsepError as exc:
        _fail(str(exc))
    for line in desk.notes:
        err.print(line, markup=False, soft_wrap=True)
    only = f" --only {unit.variant}" if unit.variant else ""
    if no_browser:
        import nbformat

        t = Table(title="placeholders you can use in the text")
        t.add_column("write", overflow="fold")
        t.add_column("shows now", overflow="fold")
        for name, value in edits.figures_table(nbformat.read(str(unit.output_base().with_suffix(".ipynb")),
                                                             as_version=4)):
            t.add_row(name, value)
        console.print(t)
        console.print(f"Edit view: {desk.view}\nAfter editing it in JupyterLab (`esep edit {report} --period "
                      f"{period}{only}`), run: esep publish {report} --period {period}{only}",
                      markup=False, soft_wrap=True)
        return
    port = port or editdesk.free_port()
    token = secrets.token_urlsafe(16)
    argv, env = editdesk.lab_command(desk, port, token, open_browser=True)
    console.print(f"Opening the text of {unit.label} in your browser. If it does not open, go to:\n"
                  f"  {editdesk.view_url(desk, port, token)}\n"
                  f"Double-click a text cell (green bar) to change it; the grey box below it shows the numbers "
                  f"the reader will see. Ctrl+S saves: each save is recorded in {edits._rel(edits.record_path(unit))}.\n"
                  f"When done: close the tab, press Ctrl+C here, then run: esep publish {report} --period {period}{only}",
                  markup=False, soft_wrap=True)
    try:
        code = subprocess.call(argv, cwd=str(desk.view.parent), env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


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
                console.print(f"{spec.name}: {len(found)} warning(s)"
                              + (f" about {period} (and what its report compares with)" if period else ""),
                              markup=False)
                if period:
                    _print_completeness(spec, loaded, period)
    except EsepError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(_os_msg(exc))
    if bad or (strict and warned):
        raise typer.Exit(1)


def _print_completeness(spec, loaded, period: str) -> None:
    """`validate --period`: rows read per table for the period, and sections it will skip."""
    from esep.data import completeness

    reads = completeness.rows_read(loaded, period)
    for r in reads:
        if r.period is None and not r.incoming:
            continue  # a table not kept per period (e.g. the list of districts)
        inc = f", {r.incoming} from incoming/{period}/" if r.incoming else ""
        console.print(f"{spec.name}: {r.table}: {r.rows} row(s) for {r.period or period}{inc}",
                      markup=False, soft_wrap=True)
    from rich.markup import escape

    for name, why, title in completeness.skipped_sections(loaded, period):
        err.print("[yellow]skipped:[/yellow] " + escape(f"{spec.name} {period}: section «{title}» ({name}) "
                                                        f"will be skipped: {why}"),
                  soft_wrap=True, markup=True, highlight=False)


def skipped_before_run(report: str, period: str) -> list[str]:
    """Lines naming the sections a run of ``report`` for ``period`` will skip (no data)."""
    from esep.core import reports
    from esep.data import completeness, validate

    try:
        spec = reports.get(report)
        loaded = validate.load_report(spec)
        if loaded.problems:
            return []  # prepare reports them
        return [f"{report} {period}: section «{title}» ({name}) will be skipped: {why}"
                for name, why, title in completeness.skipped_sections(loaded, period)]
    except (EsepError, OSError):
        return []


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
    except OSError as exc:
        _fail(_os_msg(exc))
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
    except OSError as exc:
        _fail(_os_msg(exc))
    for stem, n in counts.items():
        console.print(f"{report}/{stem}.csv: {n} row(s) appended", markup=False)
    console.print(f"Next: esep run {report} --period {period}", markup=False)


@app.command("init")
def init_cmd(directory: str = typer.Argument(..., metavar="DIR", help="New (or empty) folder for the project."),
             example: str = typer.Option("example", "--example", help="Name of the example report type."),
             period: Optional[str] = typer.Option(None, "--period", "-p",
                                                  help="Period of the example's data and params "
                                                       "(default: the current school year).")):
    """Create a new esep project in DIR: layout, Makefile, environment.yml, README and one
    small working example report (no copy of esep's code: it uses the installed esep)."""
    from esep.scaffold import init_project

    try:
        res = init_project(directory, example=example, period=period)
    except EsepError as exc:
        _fail(str(exc))
    console.print(f"Created an esep project in {res.root} ({len(res.files)} files), "
                  f"with the example report '{example}'.", markup=False, soft_wrap=True)
    console.print(f"Next:\n  cd {directory}\n  esep build      # or: make report\n  make test",
                  markup=False, soft_wrap=True)


@app.command("new-report")
def new_report_cmd(name: str = typer.Argument(..., help="Name of the report type (lowercase snake_case)."),
                   period: Optional[str] = typer.Option(None, "--period", "-p",
                                                        help="Period of its first params file and sample data "
                                                             "(default: the current school year)."),
                   title: Optional[str] = typer.Option(None, "--title", help="The report's title (Kazakh).")):
    """Scaffold a report type in this project: spec, notebook, params, raw data with
    schema.yaml and data dictionary, helper module and test. It builds right away."""
    from esep.scaffold import DEFAULT_TITLE, new_report

    try:
        res = new_report(name, period=period, title=title or DEFAULT_TITLE)
    except EsepError as exc:
        _fail(str(exc))
    for rel in res.rel():
        console.print(f"  created {rel}", markup=False)
    console.print(f"Next: esep build {name}   (then replace data/raw/{name}/ with your data: "
                  "rules in esep's docs/adding-a-report.md)", markup=False, soft_wrap=True)


# --- school forms (issue 14) -------------------------------------------------------------

@app.command("forms")
def forms_cmd(report: str = typer.Argument("school_project", help="Report type the forms feed (school_project)."),
              period: str = typer.Option(..., "--period", "-p", help="School year of the forms, e.g. 2024-2025."),
              project: Optional[str] = typer.Option(None, "--project", help="Only this project's member schools."),
              check: bool = typer.Option(False, "--check", help="Do not write forms: check the returned ones "
                                                                  "and list every problem.")):
    """One pre-filled Excel form per member school and project -> output/forms/<period>/
    (--check: validate the forms returned to data/raw/<report>/forms/<period>/)."""
    from esep.core.fsutil import rel as _rel
    from esep.core.params import check_period
    from esep.data import forms

    msg = check_period(period)
    if msg:
        _fail(f"--period: {msg}")
    if report != forms.REPORT:
        _fail(f"'{report}' has no school forms (forms exist for: {forms.REPORT})")
    try:
        if check:
            returned = forms.read_forms(period)
            for f in returned:
                if f.valid:
                    console.print(f"ok: {f.path.name}", markup=False)
                else:
                    err.print(f.error_text(), markup=False, soft_wrap=True, highlight=False)
            _print_tracking(forms.tracking(period))
            if any(not f.valid for f in returned):
                raise typer.Exit(1)
            return
        paths = forms.generate(period, project=project)
        made = forms.ensure_params(period)
    except EsepError as exc:
        _fail(str(exc))
    if made:
        console.print(f"Created {_rel(made)} (one report per returned form)", markup=False)
    roster = forms.members(period)
    console.print(f"{len(paths)} form(s) written to {_rel(paths[0].parent) if paths else '-'}/ "
                  f"(member list of {roster['list_period'].iloc[0] if len(roster) else '-'}: "
                  f"{roster['project_key'].nunique()} project(s))", markup=False, soft_wrap=True)
    console.print(f"Send each school its file; put the returned files in "
                  f"data/raw/{report}/forms/{period}/, then: esep forms {report} --period {period} --check; "
                  "esep build", markup=False, soft_wrap=True)


def _print_tracking(table) -> None:
    """Per period and project: how many member schools sent a valid form, an invalid one, nothing."""
    from esep.data import forms

    if table.empty:
        return
    t = Table(title="school forms")
    for col in ("period", "project", "members", "valid", "invalid", "missing"):
        t.add_column(col)
    for r in forms.tracking_summary(table).itertuples():
        t.add_row(r.period, r.project_name, str(r.members), str(r.valid), str(r.invalid), str(r.missing))
    console.print(t)
    for (period, project), g in table[table["state"] != "unknown"].groupby(["period", "project_name"], sort=False):
        for state in ("valid", "missing"):
            names = g.loc[g["state"] == state, "member_name"].tolist()
            if names and len(names) < len(g):
                console.print(f"{period} {project}: {state}: {', '.join(names)}", markup=False, soft_wrap=True)
    for r in table[table["state"].isin(["invalid", "unknown"])].itertuples():
        err.print(f"{r.state}: {r.error}", soft_wrap=True, markup=False, highlight=False)


def _has_forms() -> bool:
    from esep.core.reports import FORMS_DIR

    return any((config.RAW_DIR / d / FORMS_DIR).is_dir() for d in ("school_project",)) or \
        (config.OUTPUT_DIR / "forms").is_dir()


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
    except OSError as exc:  # a file system that refuses (read-only, full, permissions)
        err.print(f"error: {_os_msg(exc)}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
