"""The ``esep`` command line. Every user mistake ends in one readable message and exit 1."""
from __future__ import annotations

import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from . import config
from .errors import EsepError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="esep: build education-analytics reports from data (papermill + nbconvert).")
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _fail(msg: str, code: int = 1):
    err.print(f"[red]error:[/red] {msg}", soft_wrap=True)
    raise typer.Exit(code)


def _formats(to: Optional[str]) -> tuple[str, ...]:
    if not to:
        from .formats import default_formats

        return default_formats()
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
    from . import reports

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
    from . import prepare as prep
    from . import reports

    try:
        specs = [reports.get(report)] if report else list(reports.all_reports().values())
        for spec in specs:
            written = prep.prepare_report(spec)
            console.print(f"{spec.name}: {len(written)} processed file(s) written")
    except EsepError as exc:
        _fail(str(exc))


def _run_batch(report, period, variant, to, **kw):
    from .build import build, summary

    try:
        results = build(report, period, variant, formats=_formats(to), **kw)
    except EsepError as exc:
        _fail(str(exc))
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
        to: Optional[str] = typer.Option(None, "--to", help="Formats: html,pdf,docx.")):
    """Execute one report for one period (every region/district its params file asks for)."""
    from .params import check_period

    msg = check_period(period)
    if msg:
        _fail(f"--period: {msg}")
    _run_batch(report, period, variant, to)


@app.command()
def build(report: Optional[str] = typer.Argument(None, help="Only this report type."),
          to: Optional[str] = typer.Option(None, "--to", help="Formats: html,pdf,docx.")):
    """Run every (report, period) that has a params file, then write output/index.html."""
    _run_batch(report, None, None, to)


@app.command()
def index():
    """Rewrite output/index.html from what is in output/."""
    from .index import write_index

    console.print(f"Index: {write_index()}")


def main():  # pragma: no cover
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
