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

from esep.pipeline import cache
from esep.core import config
from esep.core import params
from esep.core import reports
from esep.core.errors import EsepError

class _LazyConsole:
    """rich's Console, imported on first use: a no-op build prints one plain line."""

    def __init__(self, **kw):
        self._kw, self._c = kw, None

    def __getattr__(self, name):
        if self._c is None:
            from rich.console import Console

            self._c = Console(**self._kw)
        return getattr(self._c, name)


console = _LazyConsole(highlight=False)
err_console = _LazyConsole(stderr=True, highlight=False)


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
                _prepare(spec)
                cache.save_prepare(spec, key)
        except EsepError as exc:
            errors[spec.name] = str(exc)
    return errors


IN_CHILD_FROM = 100   # returned school forms from which a report is prepared in a forked child


def _prepare(spec) -> None:
    """``prepare.prepare_report(spec)``; a report with many returned school forms is
    prepared in a forked child process, so the build process (and the pool workers forked
    from it) does not keep the memory of reading them (~0.7 GB for 1 000 forms: Python
    keeps freed memory). Errors come back as the same EsepError text."""
    from esep.core.reports import FORMS_DIR

    folder = config.RAW_DIR / spec.name / FORMS_DIR
    many = folder.is_dir() and sum(1 for _ in folder.rglob("*.xlsx")) >= IN_CHILD_FROM
    if not many:
        from esep.data import prepare

        prepare.prepare_report(spec)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_prepare_child, args=(spec, child))
    proc.start()
    child.close()
    try:
        msg = parent.recv()
    except EOFError:
        msg = ("crash", f"preparing {spec.name} stopped (exit code {proc.join() or proc.exitcode})")
    finally:
        proc.join()
    kind, text = msg
    if kind == "error":
        raise EsepError(text)
    if kind == "crash":
        raise EsepError(f"{spec.name}: {text}")


def _prepare_child(spec, conn) -> None:
    from esep.data import prepare

    try:
        prepare.prepare_report(spec)
        conn.send(("ok", ""))
    except EsepError as exc:
        conn.send(("error", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent as a data error
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


# --- running stale units ---------------------------------------------------------------

def _spares_enabled() -> bool:
    return os.environ.get("ESEP_SPARE_KERNELS", "1") not in ("0", "no", "false")


def sweep_temp() -> int:
    """Remove temp files an earlier, killed build left: ``output/.esep/run-<pid>-*`` folders
    of processes that no longer run, and ``.<name>.*.tmp`` files beside outputs older than
    a minute (a live commit renames them within milliseconds). Returns how many."""
    import shutil

    n = 0
    state = config.STATE_DIR
    if state.is_dir():
        for d in state.glob("run-*"):
            parts = d.name.split("-")
            pid = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
            if pid is not None and _alive(pid):
                continue
            if pid is None and time.time() - d.stat().st_mtime < 3600:
                continue  # an older esep's folder (no pid in its name): leave it an hour
            shutil.rmtree(d, ignore_errors=True)
            n += 1
    import tempfile
    from pathlib import Path

    for d in Path(tempfile.gettempdir()).glob("esep-zygote-*-*"):  # a killed build's zygote socket
        pid = d.name.split("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)
            n += 1
    out = config.OUTPUT_DIR
    if out.is_dir():
        now = time.time()
        for dirpath, dirnames, filenames in os.walk(out):
            for f in filenames:
                if f.startswith(".") and f.endswith(".tmp"):
                    p = os.path.join(dirpath, f)
                    try:
                        if now - os.stat(p).st_mtime > 60:
                            os.unlink(p)
                            n += 1
                    except OSError:
                        pass
    return n


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def make_executor(name: str, jobs: int, scheduler: str | None = None):
    """``local`` (process pool, the default) or ``dask`` (esep.pipeline.dask_executor)."""
    if name == "local":
        from esep.pipeline.executors import LocalExecutor

        return LocalExecutor(jobs)
    if name == "dask":
        from esep.pipeline.dask_executor import DaskExecutor

        return DaskExecutor(jobs, scheduler)
    raise EsepError(f"--executor: unknown executor {name!r} (choose local or dask)")


def _run_stale(todo, formats, force, jobs, done_cb, executor=None, prepare_keys=None) -> None:
    """Run ``todo`` [(index, spec, unit, key, formats)], calling ``done_cb(index, result)``;
    ``formats`` is the union of all units' formats (what workers warm up)."""
    from esep.notebook import kernels
    from esep.notebook.execute import kernel_env
    from esep.pipeline import executors

    spares = _spares_enabled() and kernels.spares_useful()
    executor = executor or executors.LocalExecutor(jobs)
    n = len(todo)
    workers = max(1, min(jobs, n))
    with kernel_env():  # a warm zygote the workers fork their kernels from
        zpath = kernels.start_zygote(str(config.ROOT))
    tasks = []
    for i, (idx, spec, unit, key, ufmts) in enumerate(todo):
        # the last `workers` units need no kernel booted after them
        tasks.append(executors.Task(idx, spec, unit, tuple(ufmts), key, force,
                                    spares and i < n - workers, False,
                                    (prepare_keys or {}).get(spec.name), zpath, str(config.ROOT),
                                    zygote_sig=kernels.zygote_sig()))
    try:
        executor.run(tasks, formats, spares, done_cb)
    except BaseException:
        kernels.stop_zygote(fast=True)
        raise
    kernels.stop_zygote()
    sweep_temp()  # what a worker that died mid-unit left


def build(report: str | None = None, period: str | None = None, variant: str | None = None,
          formats=("html",), on_result: Callable | None = None, *, force: bool = False,
          jobs: int | None = None, executor: str = "local", scheduler: str | None = None) -> BuildResults:
    """Build every stale unit (all units with ``force``); return one result per unit.
    ``executor``: ``local`` (process pool) or ``dask`` (``scheduler`` address, or a
    LocalCluster). Ctrl-C raises :class:`esep.pipeline.executors.Interrupted`."""
    t0 = time.perf_counter()
    jobs = jobs or default_jobs()
    state = {"results": None, "todo": [], "phase": "planning"}
    try:
        return _build(report, period, variant, formats, on_result, force, jobs, executor,
                      scheduler, t0, state)
    except KeyboardInterrupt:
        import signal

        from esep.pipeline.executors import Interrupted

        try:  # ending: a second Ctrl-C must not cut the last line
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:
            pass

        raise Interrupted(_interrupted_line(state)) from None


def _interrupted_line(state) -> str:
    results, todo = state["results"], state["todo"]
    if state["phase"] != "running" or results is None:
        return (f"interrupted while {state['phase']}: nothing was built; "
                "`esep build` starts again from here")
    idxs = [t[0] for t in todo]
    ok = sum(1 for i in idxs if results[i] is not None and results[i].status == "ok")
    failed = sum(1 for i in idxs if results[i] is not None and results[i].status == "failed")
    left = len(idxs) - ok - failed
    return (f"interrupted: {ok + failed} of {len(idxs)} unit(s) finished ({ok} ok, {failed} failed), "
            f"{left} not built; `esep build` continues from there")


def _build(report, period, variant, formats, on_result, force, jobs, executor, scheduler, t0,
           state) -> BuildResults:
    from esep.publish import formats as fmts

    requested = tuple(formats) if formats else None
    cache.reset_memo()
    units, bad = plan(report, period, variant)
    results: list = [None] * len(units)
    out = BuildResults()
    for r in bad:
        _report(r, 0, 0, on_result)
    specs = {spec.name: spec for spec, _ in units}
    sweep_temp()
    state["phase"] = "preparing data"
    used = {u.name: u for s in specs.values() for u in cache.used_specs(s) if u.name not in specs}
    data_errors = prepare_all([*used.values(), *specs.values()], force=force)  # rolled-up reports first
    for name in used:
        data_errors.pop(name, None)  # reported by their own units, not by the report rolling them up
    state["phase"] = "checking what is up to date"
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
    ex = None
    if todo:
        ex = make_executor(executor, jobs, scheduler)
        if on_result is None:
            console.print(f"building {len(todo)} unit(s) with {ex.describe(len(todo))}")
    state["results"], state["todo"], state["phase"] = results, todo, "running"

    reasons = {idx: reason for idx, _, _, _, reason in todo}
    finished = [0]

    def done(idx, res):
        if res.status == "ok" and not res.message:
            res.message = f"rebuilt: {reasons[idx]}"
        results[idx] = res
        finished[0] += 1
        _report(res, finished[0], len(todo), on_result)

    if todo:
        pkeys = {name: cache.prepare_key(spec) for name, spec in specs.items() if name not in data_errors}
        _run_stale([t[:3] + (t[3], spec_formats[t[1].name]) for t in todo], all_formats,
                   force, jobs, done, ex, pkeys)
    state["phase"] = "writing the index"
    out.extend(bad)
    out.extend(r for r in results if r is not None)
    index_path = config.OUTPUT_DIR / "index.html"
    if any(r.status == "ok" for r in out) or (out and not index_path.exists()
                                               and any(r.status == "skipped" for r in out)):
        from esep.publish import index

        index.write_index()
    out.seconds, out.jobs, out.force = time.perf_counter() - t0, jobs, force
    out.executor = executor
    _write_last_build(out, all_formats)
    return out


def noop(report: str | None = None, formats=None) -> BuildResults | None:
    """The results of ``esep build`` when nothing has to be done (every unit fresh, every
    params file valid, data prepared, index written), computed without importing
    papermill, pandas, typer or rich; None when something has to run."""
    from esep.publish import formats as fmts

    t0 = time.perf_counter()
    cache.reset_memo()
    try:
        units, bad = plan(report)
    except EsepError:
        return None
    if bad or not units or not (config.OUTPUT_DIR / "index.html").exists():
        return None
    specs = {spec.name: spec for spec, _ in units}
    for spec in specs.values():
        if not cache.prepare_fresh(spec, cache.prepare_key(spec)):
            return None
    out = BuildResults()
    used = set()
    for spec, unit in units:
        try:
            ufmts = fmts.resolve(spec, tuple(formats) if formats else None)
        except EsepError:
            return None
        used.update(ufmts)
        if not cache.check(spec, unit, ufmts).fresh:
            return None
        out.append(_LightResult(unit, "skipped", 0.0, "up to date"))
    out.seconds, out.jobs = time.perf_counter() - t0, default_jobs()
    _write_last_build(out, tuple(sorted(used)))
    return out


def _write_last_build(results: BuildResults, formats) -> None:
    doc = {
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(results.seconds, 3),
        "jobs": results.jobs, "force": results.force, "formats": list(formats),
        "counts": {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed")},
        "executor": getattr(results, "executor", "local"),
        "units": [{"unit": r.unit.key, "report": r.unit.report, "status": r.status,
                   "seconds": round(r.seconds, 2),
                   "message": (r.message or "").splitlines()[0][:200] if r.message else "",
                   "phases": getattr(r, "phases", None) or {}}
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
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

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


def status_table(rows: list[tuple]):
    from rich.table import Table
    from rich.text import Text

    t = Table(title="esep status")
    for col in ("report", "period", "variant", "state", "reason"):
        t.add_column(col)
    for unit, fresh, reason in rows:
        state = ("[green]fresh[/green]" if fresh else "[yellow]stale[/yellow]") if fresh is not None \
            else "[red]invalid params[/red]"
        t.add_row(unit.report, unit.period, unit.variant or "-", state, Text(reason))
    return t
