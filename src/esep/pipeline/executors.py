"""Where a build's units run: the local process pool (default) or a Dask cluster
(:mod:`esep.pipeline.dask_executor`). Both run the same task, :func:`run_task`, on a small
:class:`Task` record (the report spec, the unit, its formats and cache key, paths) and
return a small result record; workers read inputs and write outputs on the project tree.

Interrupting (Ctrl-C, SIGINT, once or twice): the pool workers ignore SIGINT (the terminal
sends it to the whole process group) and leave only when the build says so: on SIGTERM a
worker kills its kernels and its temp folder and exits, except while it commits a unit's
outputs (the few renames of :func:`esep.pipeline.run.commit`), which it finishes first.
The build then ends the stragglers (SIGKILL after 2 s, at once on a second Ctrl-C) and the
zygote, and raises :class:`Interrupted` with one line: what finished, what did not.
Locks are ``flock``s: they go with their process.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

from esep.core import config
from esep.core.errors import EsepError

RUN_KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]  # as execute.execute passes them
RETRIES = 2  # a unit whose worker or kernel crashed is tried this many more times


class Interrupted(Exception):
    """The build was interrupted (Ctrl-C); ``str()`` is the one line to print."""


class Crash(Exception):
    """A unit failed for a reason that is not its own (kernel died, worker lost...): retry."""


@dataclass
class Task:
    idx: int
    spec: object
    unit: object
    formats: tuple
    key: object  # cache.Key
    force: bool = False
    spare_after: bool = False
    wait: bool = False
    prepare_key: str | None = None
    zygote: str | None = None
    root: str = ""
    attempt: int = 0
    zygote_sig: tuple | None = None  # the environment the zygote serves (kernels.zygote_sig)


from esep.pipeline.interrupt import _crit, _on_sigterm  # noqa: E402


def pdeathsig() -> None:
    """This process gets SIGTERM when its parent dies (Linux): no orphaned worker."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except Exception:  # noqa: BLE001
        pass


def init_worker(formats, spares: bool) -> None:
    """Pool worker start-up: signals, a kernel booted first, then the imports, once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    _crit["worker"] = True
    pdeathsig()
    from multiprocessing import util

    from esep.notebook import kernels

    kernels.activate(spares=spares)
    util.Finalize(None, kernels.stop_spare, exitpriority=10)
    warm(formats)  # meanwhile the zygote does its imports
    if spares:
        try:
            from esep.notebook.execute import kernel_env

            with kernel_env():  # the same environment execute() gives a kernel
                kernels.start_spare("python3", str(config.ROOT), RUN_KERNEL_ARGS)
        except Exception:  # noqa: BLE001 - the unit will start its kernel itself
            pass


def warm(formats) -> None:
    import papermill  # noqa: F401

    from esep.pipeline import run  # noqa: F401
    from esep.publish import render

    render._exporter()
    if any(f != "html" for f in formats):
        try:
            from esep.publish import formats as fmts

            fmts.warm(formats)  # PDF engine, pandoc reference.docx
        except Exception:  # noqa: BLE001
            pass


# --- one unit ------------------------------------------------------------------------------

KERNEL_START_ERRORS = ("Kernel died before replying", "Address already in use",
                       "Kernel didn't respond", "kernel died")


def _kernel_start_failed(exc: BaseException) -> bool:
    """A kernel that died while starting (before any cell ran), e.g. a TCP port race."""
    text = f"{type(exc).__name__}: {exc}"
    return isinstance(exc, (RuntimeError, TimeoutError)) and any(m in text for m in KERNEL_START_ERRORS)


def run_task(task: Task):
    """Build one unit under its lock. Returns the Result; None when another esep process
    holds the unit's lock and ``task.wait`` is false (the caller comes back later with
    ``wait=True``). Raises :class:`Crash` for a failure that is not the unit's own (the
    executor retries it); a unit's own error (bad data, a failing cell) is a failed Result."""
    from filelock import Timeout

    from esep.notebook import kernels
    from esep.pipeline import cache, shared
    from esep.pipeline.run import Result

    if task.root and os.environ.get("ESEP_ROOT") != task.root:
        config.use_project(task.root)  # a Dask worker started anywhere
    spec, unit, formats = task.spec, task.unit, task.formats
    t0 = time.perf_counter()
    lk = cache.lock(f"unit-{unit.key}")
    try:
        lk.acquire(timeout=-1 if task.wait else 0)
    except Timeout:
        return None
    try:
        if not task.force and cache.check(spec, unit, formats, task.key).fresh:
            return Result(unit, "skipped", time.perf_counter() - t0,
                          "up to date (built meanwhile by another esep process)")
        from esep.pipeline.run import run_unit

        kernels.activate(spares=task.spare_after)
        kernels.use_zygote(task.zygote, task.zygote_sig)
        try:
            quality = shared.unit_findings(spec, unit, task.prepare_key)
        except EsepError:
            quality = None  # the run reports the data error itself
        try:
            res = run_unit(spec, unit, formats, quality=quality)
        except Exception as exc:  # noqa: BLE001
            if not _kernel_start_failed(exc):
                raise
            # Two kernels started at the same moment can pick the same free TCP port
            # (the kernel binds it a moment later): it dies at start-up. Try once more.
            kernels.stop_spare()
            res = run_unit(spec, unit, formats, quality=quality)
        if res.status == "ok":
            cache.save(unit, task.key, res.outputs, res.seconds)
        return res
    except EsepError as exc:
        return Result(unit, "failed", time.perf_counter() - t0, str(exc))
    except Exception as exc:  # noqa: BLE001 - a crash: the executor retries, then reports it
        raise Crash(f"{type(exc).__name__}: {exc}") from None
    finally:
        lk.release(force=True)  # an exception's traceback must not keep the lock held


def crash_result(task: Task, message: str):
    from esep.pipeline.run import Result

    return Result(task.unit, "failed", 0.0, message)


# --- the local process pool ------------------------------------------------------------------

class LocalExecutor:
    """A fork ``ProcessPoolExecutor`` of ``jobs`` workers (one worker for one unit)."""

    name = "local"

    def __init__(self, jobs: int):
        self.jobs = jobs

    def describe(self, n: int) -> str:
        return f"{max(1, min(self.jobs, n))} job(s)"

    def run(self, tasks: list[Task], formats, spares: bool, done_cb) -> None:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        workers = max(1, min(self.jobs, len(tasks)))
        ctx = multiprocessing.get_context("fork")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                                   initargs=(tuple(formats), spares))
        self.pool = pool
        futures = {}
        try:
            for t in tasks:
                futures[pool.submit(run_task, t)] = t
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in finished:
                    t = futures.pop(fut)
                    try:
                        res = fut.result()
                    except (Crash, BrokenProcessPool) as exc:
                        if t.attempt < RETRIES and not isinstance(exc, BrokenProcessPool):
                            t.attempt += 1
                            again = pool.submit(run_task, t)
                            futures[again] = t
                            pending.add(again)
                            continue
                        what = "worker process died" if isinstance(exc, BrokenProcessPool) else "crashed"
                        res = crash_result(t, f"{what} (after {t.attempt + 1} attempt(s)): {exc}")
                    except Exception as exc:  # noqa: BLE001
                        res = crash_result(t, f"{type(exc).__name__}: {exc}")
                    if res is None:  # locked by another esep process: queue again, then wait
                        t.wait = True
                        again = pool.submit(run_task, t)
                        futures[again] = t
                        pending.add(again)
                        continue
                    done_cb(t.idx, res)
        except BaseException:
            stop_pool(pool)
            raise
        pool.shutdown(wait=True)

    def stop(self) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None:
            stop_pool(pool)


def stop_pool(pool, grace: float = 2.0) -> None:
    """End every worker now: SIGTERM (a worker finishes a commit in progress, kills its
    kernels and temp folder), SIGKILL after ``grace`` seconds or on a second Ctrl-C."""
    procs = [p for p in list(getattr(pool, "_processes", {}) .values()) if p.is_alive()]
    for p in procs:
        try:
            os.kill(p.pid, signal.SIGTERM)
        except OSError:
            pass
    end = time.monotonic() + grace
    hurry = {"now": False}

    def again(signum, frame):  # a second Ctrl-C: no more waiting
        hurry["now"] = True

    try:
        old = signal.signal(signal.SIGINT, again)
    except ValueError:  # not the main thread
        old = None
    try:
        while any(p.is_alive() for p in procs) and time.monotonic() < end and not hurry["now"]:
            time.sleep(0.05)
        for p in procs:
            if p.is_alive():
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        for p in procs:
            p.join(1)
    finally:
        if old is not None:  # the build is ending: a further Ctrl-C must not cut its last line
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    pool.shutdown(wait=False, cancel_futures=True)
