"""Batch orchestration: plan units, prepare data when raw files changed, run what is
stale (in parallel), summarise.

- **Incremental**: a unit whose inputs are unchanged since its last successful build
  (content hashes, see :mod:`esep.cache`) is skipped and reported as up to date;
  ``force=True`` rebuilds everything (and re-prepares the data).
- **Parallel**: stale units run in a pool of ``jobs`` worker processes (default: the
  number of CPU cores). A worker imports papermill/nbconvert once and handles many units;
  it starts the next unit's kernel while the current one runs (:mod:`esep.kernels`).
  Each unit runs under its own lock, so two ``esep build`` processes share the work
  instead of clobbering each other's files. A failing unit does not stop the others.
- **Progress**: one line per finished unit (status, seconds). The results also go to
  ``output/.esep/last_build.json`` (used by the benchmark and handy for scripts).

Nothing heavy (pandas, nbformat, papermill) is imported unless something has to run.
"""
from __future__ import annotations

import os
import time
from typing import Callable, Iterable

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from esep.pipeline import cache
from esep.core import config
from esep.core import params
from esep.core import reports
from esep.core.errors import EsepError

RUN_KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]  # as run.execute passes them

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class BuildResults(list):
    """The list of results (one per unit) plus the wall time and the job count."""

    seconds: float = 0.0
    jobs: int = 1
    force: bool = False


def _result(unit, status, seconds=0.0, message=""):
    from esep.pipeline.run import Result

    return Result(unit, status, seconds, message)


class _LightResult:
    """A cheap stand-in for :class:`esep.run.Result` (same fields): building a skip
    result must not import the runner (nbformat & co.)."""

    __slots__ = ("unit", "status", "seconds", "message", "outputs")

    def __init__(self, unit, status, seconds=0.0, message="", outputs=None):
        self.unit, self.status, self.seconds = unit, status, seconds
        self.message, self.outputs = message, outputs or []

    def __repr__(self):
        return f"Result({self.unit.label!r}, {self.status!r}, {self.seconds:.1f}, {self.message!r})"


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def plan(report: str | None = None, period: str | None = None,
         variant: str | None = None) -> tuple[list[tuple[reports.ReportSpec, params.RunUnit]], list]:
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
                bad.append(_LightResult(params.RunUnit(spec.name, p, {}), "failed", 0.0, str(exc)))
    return units, bad


def prepare_all(specs: Iterable[reports.ReportSpec], force: bool = False) -> dict[str, str]:
    """Prepare each report's data unless it is up to date (raw files, code and processed
    files unchanged); map report name -> error message for failures."""
    errors = {}
    for spec in specs:
        key = cache.prepare_key(spec)
        if not force and cache.prepare_fresh(spec, key):
            continue
        try:
            with cache.lock(f"prepare-{spec.name}"):
                if not force and cache.prepare_fresh(spec, key):
                    continue  # another esep process just did it
                from esep.data import prepare

                prepare.prepare_report(spec)
                cache.save_prepare(spec, key)
        except EsepError as exc:
            errors[spec.name] = str(exc)
    return errors


# --- running stale units ---------------------------------------------------------------

def _work(spec, unit, formats, key: cache.Key, force: bool, spare_after: bool, wait: bool = False):
    """Build one unit under its lock (runs in a pool worker or in-process). Returns None
    when another esep process holds the unit's lock and ``wait`` is false: the caller
    does the other units first and comes back with ``wait=True``."""
    from filelock import Timeout

    from esep.notebook import kernels

    t0 = time.perf_counter()
    lk = cache.lock(f"unit-{unit.key}")
    try:
        lk.acquire(timeout=-1 if wait else 0)
    except Timeout:
        return None
    try:
        with lk:
            if not force and cache.check(spec, unit, formats, key).fresh:
                return _result(unit, "skipped", time.perf_counter() - t0,
                               "up to date (built meanwhile by another esep process)")
            from esep.pipeline.run import run_unit

            kernels.activate(spares=spare_after)
            try:
                res = run_unit(spec, unit, formats)
            except Exception as exc:  # noqa: BLE001
                if not _kernel_start_failed(exc):
                    raise
                # Two kernels started at the same moment by two workers can pick the same
                # free TCP port (jupyter_client finds free ports, the kernel binds them a
                # moment later): the kernel dies at start-up. Nothing ran yet; try once more.
                kernels.stop_spare()
                res = run_unit(spec, unit, formats)
            if res.status == "ok":
                cache.save(unit, key, res.outputs, res.seconds)
            return res
    except Exception as exc:  # noqa: BLE001 - one unit's crash must not stop the batch
        return _result(unit, "failed", time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")


KERNEL_START_ERRORS = ("Kernel died before replying", "Address already in use",
                       "Kernel didn't respond", "kernel died")


def _kernel_start_failed(exc: BaseException) -> bool:
    """A kernel that died while starting (before any cell ran), e.g. a TCP port race."""
    text = f"{type(exc).__name__}: {exc}"
    return isinstance(exc, (RuntimeError, TimeoutError)) and any(m in text for m in KERNEL_START_ERRORS)


def _init_worker(formats, spares: bool) -> None:
    """Pool worker start-up: boot a kernel first, then pay the imports once, meanwhile."""
    from multiprocessing import util

    from esep.notebook import kernels

    kernels.activate(spares=spares)
    if spares:
        try:
            from esep.notebook.execute import kernel_env

            with kernel_env():  # the same environment execute() gives a kernel
                kernels.start_spare("python3", str(config.ROOT), RUN_KERNEL_ARGS)
        except Exception:  # noqa: BLE001 - the unit will start its kernel itself
            pass
    util.Finalize(None, kernels.stop_spare, exitpriority=10)
    import papermill  # noqa: F401

    from esep.publish import render  # noqa: F401
    from esep.pipeline import run

    render._exporter()
    if any(f != "html" for f in formats):
        try:
            from esep.publish import formats as fmts

            fmts.warm(formats)  # WeasyPrint import + font config, pandoc reference.docx
        except Exception:  # noqa: BLE001
            pass


def _spares_enabled() -> bool:
    return os.environ.get("ESEP_SPARE_KERNELS", "1") not in ("0", "no", "false")


def _run_stale(todo, formats, force, jobs, done_cb) -> None:
    """Run ``todo`` [(index, spec, unit, key, formats)], calling ``done_cb(index, result)``;
    ``formats`` is the union of all units' formats (what pool workers warm up)."""
    spares = _spares_enabled()
    n = len(todo)
    workers = max(1, min(jobs, n))
    if workers == 1:
        from esep.notebook import kernels

        try:
            busy = []
            for i, (idx, spec, unit, key, ufmts) in enumerate(todo):
                res = _work(spec, unit, ufmts, key, force, spares and i < n - 1)
                if res is None:
                    busy.append((idx, spec, unit, key, ufmts))
                else:
                    done_cb(idx, res)
            for idx, spec, unit, key, ufmts in busy:  # built by another esep process: wait
                done_cb(idx, _work(spec, unit, ufmts, key, force, False, wait=True))
        finally:
            kernels.stop_spare()
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(tuple(formats), spares))
    futures = {}
    try:
        for i, (idx, spec, unit, key, ufmts) in enumerate(todo):
            # the last `workers` units need no kernel booted after them
            fut = pool.submit(_work, spec, unit, ufmts, key, force, spares and i < n - workers)
            futures[fut] = (idx, unit)
        pending = set(futures)
        while pending:
            fut = next(as_completed(pending))
            pending.discard(fut)
            idx, unit = futures[fut]
            try:
                res = fut.result()
            except BrokenProcessPool as exc:
                res = _result(unit, "failed", 0.0, f"worker process died: {exc}")
            except Exception as exc:  # noqa: BLE001
                res = _result(unit, "failed", 0.0, f"{type(exc).__name__}: {exc}")
            if res is None:  # locked by another esep process: queue again, then wait for it
                spec, key, ufmts = next((s, k, f) for i, s, u, k, f in todo if i == idx)
                again = pool.submit(_work, spec, unit, ufmts, key, force, False, True)
                futures[again] = (idx, unit)
                pending.add(again)
                continue
            done_cb(idx, res)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def build(report: str | None = None, period: str | None = None, variant: str | None = None,
          formats=("html",), on_result: Callable | None = None, *, force: bool = False,
          jobs: int | None = None) -> BuildResults:
    """Build every stale unit (all units with ``force``); return one result per unit."""
    t0 = time.perf_counter()
    jobs = jobs or default_jobs()
    from esep.publish import formats as fmts

    requested = tuple(formats) if formats else None
    cache.reset_memo()
    units, bad = plan(report, period, variant)
    results: list = [None] * len(units)
    out = BuildResults()
    for r in bad:
        _report(r, 0, 0, on_result)
    specs = {spec.name: spec for spec, _ in units}
    used = {u.name: u for s in specs.values() for u in cache.used_specs(s) if u.name not in specs}
    data_errors = prepare_all([*used.values(), *specs.values()], force=force)  # rolled-up reports first
    for name in used:
        data_errors.pop(name, None)  # reported by their own units, not by the report rolling them up
    spec_formats = {}  # --to > ESEP_FORMATS > the spec's `formats:` key > HTML + PDF
    for name, spec in specs.items():
        try:
            spec_formats[name] = fmts.resolve(spec, requested)
        except EsepError as exc:
            data_errors.setdefault(name, str(exc))
    all_formats = tuple(sorted({f for fs in spec_formats.values() for f in fs}))

    todo, skipped = [], []
    for idx, (spec, unit) in enumerate(units):
        if spec.name in data_errors:
            results[idx] = _LightResult(unit, "failed", 0.0, "data check failed:\n" + data_errors[spec.name])
            continue
        formats = spec_formats[spec.name]
        key = cache.unit_key(spec, unit, formats)
        fr = cache.check(spec, unit, formats, key)
        if fr.fresh and not force:
            results[idx] = _LightResult(unit, "skipped", 0.0, "up to date")
            skipped.append(unit)
        else:
            todo.append((idx, spec, unit, key, "forced" if force else fr.reason))
    if skipped and on_result is None:
        console.print(f"{len(skipped)} of {len(units)} up to date, skipped"
                      + (" (--force rebuilds; `esep status` explains)" if not todo else ""))
    for idx, res in enumerate(results):
        if res is not None and res.status == "failed":
            _report(res, 0, 0, on_result)
    if todo and on_result is None:
        console.print(f"building {len(todo)} unit(s) with {min(jobs, len(todo))} job(s)")

    reasons = {idx: reason for idx, _, _, _, reason in todo}
    finished = [0]

    def done(idx, res):
        if res.status == "ok" and not res.message:
            res.message = f"rebuilt: {reasons[idx]}"
        results[idx] = res
        finished[0] += 1
        _report(res, finished[0], len(todo), on_result)

    if todo:
        _run_stale([t[:3] + (t[3], spec_formats[t[1].name]) for t in todo], all_formats,
                   force, jobs, done)
    out.extend(bad)
    out.extend(r for r in results if r is not None)
    index_path = config.OUTPUT_DIR / "index.html"
    if any(r.status == "ok" for r in out) or (out and not index_path.exists()
                                               and any(r.status == "skipped" for r in out)):
        from esep.publish import index

        index.write_index()
    out.seconds, out.jobs, out.force = time.perf_counter() - t0, jobs, force
    _write_last_build(out, all_formats)
    return out


def _write_last_build(results: BuildResults, formats) -> None:
    doc = {
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(results.seconds, 3),
        "jobs": results.jobs, "force": results.force, "formats": list(formats),
        "counts": {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed")},
        "units": [{"unit": r.unit.key, "status": r.status, "seconds": round(r.seconds, 2),
                   "message": (r.message or "").splitlines()[0][:200] if r.message else ""}
                  for r in results],
    }
    try:
        cache._atomic_json(config.STATE_DIR / "last_build.json", doc)
    except OSError:  # pragma: no cover - reporting only
        pass


def _report(res, i: int, total: int, cb) -> None:
    if cb:
        cb(res, i, total)
        return
    mark = {"ok": "[green]ok[/green]", "failed": "[red]FAILED[/red]", "skipped": "[cyan]up to date[/cyan]"}
    prefix = f"[dim][{i}/{total}][/dim] " if total else ""
    from rich.markup import escape

    console.print(f"{prefix}{escape(res.unit.label)}: {mark.get(res.status, res.status)} ({res.seconds:.1f} s)")
    if res.status == "failed":
        err_console.print(f"[red]error[/red] {escape(res.message)}", soft_wrap=True)


# --- summary and status --------------------------------------------------------------------

def summary(results: list):
    """Table of what ran and what failed; up-to-date units are grouped per report/period."""
    t = Table(title="esep build summary", show_lines=False)
    for col in ("report", "period", "variant", "status", "seconds", "detail"):
        t.add_column(col, justify="right" if col == "seconds" else "left")
    groups: dict[tuple, list] = {}
    for r in results:
        if r.status == "skipped":
            groups.setdefault((r.unit.report, r.unit.period), []).append(r)
    shown = set()
    for r in results:
        if r.status == "skipped":
            g = (r.unit.report, r.unit.period)
            if g in shown:
                continue
            shown.add(g)
            rs = groups[g]
            variant = (r.unit.variant or "-") if len(rs) == 1 else f"{len(rs)} outputs"
            t.add_row(r.unit.report, r.unit.period, variant, "[cyan]skipped (up to date)[/cyan]",
                      f"{sum(x.seconds for x in rs):.1f}", "")
            continue
        status = {"ok": "[green]ok[/green]", "failed": "[red]failed[/red]"}.get(r.status, r.status)
        detail = r.message.splitlines()[0][:90] if r.message else ""
        t.add_row(r.unit.report, r.unit.period, r.unit.variant or "-", status, f"{r.seconds:.1f}",
                  Text(detail))
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "failed", "skipped")}
    line = (f"ran {counts['ok'] + counts['failed']} ({counts['ok']} ok, {counts['failed']} failed), "
            f"skipped {counts['skipped']} up to date")
    if getattr(results, "seconds", None):
        line += f", {results.seconds:.1f} s with {results.jobs} job(s)"
    return Group(t, Text(line))


def status(report: str | None = None, period: str | None = None, variant: str | None = None,
           formats=("html",)) -> list[tuple]:
    """(unit, fresh: bool | None, reason) for every unit; None = its params file is invalid."""
    from esep.publish import formats as fmts

    cache.reset_memo()
    units, bad = plan(report, period, variant)
    rows = [(r.unit, None, r.message.splitlines()[0]) for r in bad]
    requested = tuple(formats) if formats else None
    for spec, unit in units:
        fr = cache.check(spec, unit, fmts.resolve(spec, requested))
        rows.append((unit, fr.fresh, fr.reason))
    return rows


def status_table(rows: list[tuple]) -> Table:
    t = Table(title="esep status")
    for col in ("report", "period", "variant", "state", "reason"):
        t.add_column(col)
    for unit, fresh, reason in rows:
        state = ("[green]fresh[/green]" if fresh else "[yellow]stale[/yellow]") if fresh is not None \
            else "[red]invalid params[/red]"
        t.add_row(unit.report, unit.period, unit.variant or "-", state, Text(reason))
    return t
