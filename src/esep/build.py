"""Batch orchestration: plan units, prepare data once per report, run, summarise.

A batch keeps going past a failed unit; the caller turns any failure into a non-zero
exit. Progress is printed one line per unit as it finishes.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable

from rich.console import Console
from rich.table import Table

from . import index, params, prepare, reports
from .errors import EsepError
from .run import DEFAULT_FORMATS, Result, run_unit

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def plan(report: str | None = None, period: str | None = None,
         variant: str | None = None) -> tuple[list[tuple[reports.ReportSpec, params.RunUnit]], list[Result]]:
    """Every unit to run, plus 'failed' results for params files that did not validate."""
    specs = reports.all_reports()
    if report:
        specs = {report: reports.get(report)}
    units, bad = [], []
    for spec in specs.values():
        periods = [period] if period else spec.periods()
        for p in periods:
            try:
                for u in params.units_for(spec, p, variant):
                    units.append((spec, u))
            except EsepError as exc:
                bad.append(Result(params.RunUnit(spec.name, p, {}), "failed", 0.0, str(exc)))
    return units, bad


def prepare_all(specs: Iterable[reports.ReportSpec]) -> dict[str, str]:
    """Prepare each report's data; map report name -> error message for failures."""
    errors = {}
    for spec in specs:
        try:
            prepare.prepare_report(spec)
        except EsepError as exc:
            errors[spec.name] = str(exc)
    return errors


def build(report: str | None = None, period: str | None = None, variant: str | None = None,
          formats=DEFAULT_FORMATS, on_result: Callable[[Result, int, int], None] | None = None,
          ) -> list[Result]:
    units, results = plan(report, period, variant)
    for r in results:
        _report(r, 0, 0, on_result)
    specs = {spec.name: spec for spec, _ in units}
    data_errors = prepare_all(specs.values())
    total = len(units)
    for i, (spec, unit) in enumerate(units, 1):
        if spec.name in data_errors:
            res = Result(unit, "failed", 0.0, "data check failed:\n" + data_errors[spec.name])
        else:
            console.print(f"[dim][{i}/{total}][/dim] running {unit.label} …")
            res = run_unit(spec, unit, formats)
        results.append(res)
        _report(res, i, total, on_result)
    if any(r.status == "ok" for r in results):
        index.write_index()
    return results


def _report(res: Result, i: int, total: int, cb) -> None:
    if cb:
        cb(res, i, total)
        return
    mark = {"ok": "[green]ok[/green]", "failed": "[red]FAILED[/red]", "skipped": "[cyan]up to date[/cyan]"}
    prefix = f"[dim][{i}/{total}][/dim] " if total else ""
    console.print(f"{prefix}{res.unit.label}: {mark.get(res.status, res.status)} ({res.seconds:.1f} s)")
    if res.status == "failed":
        err_console.print(f"[red]error[/red] {res.message}", soft_wrap=True)


def summary(results: list[Result]) -> Table:
    t = Table(title="esep build summary", show_lines=False)
    for col in ("report", "period", "variant", "status", "seconds", "detail"):
        t.add_column(col, justify="right" if col == "seconds" else "left")
    for r in results:
        status = {"ok": "[green]ok[/green]", "failed": "[red]failed[/red]",
                  "skipped": "[cyan]skipped (up to date)[/cyan]"}.get(r.status, r.status)
        detail = r.message.splitlines()[0][:90] if r.message else ""
        t.add_row(r.unit.report, r.unit.period, r.unit.variant or "-", status, f"{r.seconds:.1f}", detail)
    return t
