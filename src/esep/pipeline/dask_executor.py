"""``esep build --executor dask [--scheduler ADDRESS]``: one unit = one Dask task.

Without an address a ``LocalCluster`` sized to the machine is started (one single-thread
worker process per core, or ``--jobs``) and closed at the end. Only small records cross
the scheduler: the :class:`~esep.pipeline.executors.Task` (report spec, unit, formats,
cache key, paths) and the unit's result (status, seconds, message, output paths, phase
times). Workers read the inputs and write the outputs on the project tree itself, so on a
real cluster every worker must see the project at the same path (a shared filesystem)
and have esep and the report's packages installed (same versions: they are part of the
cache key). Outputs are committed by the worker as locally (temp files, then renames,
under the unit's lock), so a worker that dies mid-unit leaves the last good outputs.

Failures: a task that crashed (its kernel or worker died: :class:`Crash`) is retried
``RETRIES`` times by Dask (a lost worker's tasks are rescheduled by Dask itself); a unit's
own error (bad data, a failing cell) is a failed result at once, as locally. Progress and
the summary are the build's own, fed by ``as_completed``.
"""
from __future__ import annotations

import os

from esep.core.errors import EsepError
from esep.pipeline.executors import RETRIES, Crash, Task, crash_result

_worker_state = {"warm": False}


def dask_task(task: Task):
    """What a Dask worker runs for one unit."""
    from esep.notebook import kernels
    from esep.notebook.execute import kernel_env
    from esep.pipeline import executors

    if task.root and os.environ.get("ESEP_ROOT") != task.root:
        from esep.core import config

        config.use_project(task.root)
    if not _worker_state["warm"]:
        executors.warm(task.formats)
        _worker_state["warm"] = True
    if not (task.zygote and os.path.exists(task.zygote)):  # a remote worker: its own zygote
        with kernel_env():
            task.zygote = kernels.start_zygote(task.root)
            task.zygote_sig = kernels.zygote_sig()
    return executors.run_task(task)


class DaskExecutor:
    name = "dask"

    def __init__(self, jobs: int, scheduler: str | None = None):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise EsepError("--executor dask needs dask and distributed: "
                            "pip install 'esep[dask]' (or pip install dask distributed)") from None
        self.jobs, self.scheduler = jobs, scheduler
        self.client = self.cluster = None

    def describe(self, n: int) -> str:
        where = self.scheduler or f"a LocalCluster of {max(1, min(self.jobs, n))} worker(s)"
        return f"Dask ({where})"

    def _connect(self, n: int):
        import logging

        from distributed import Client, LocalCluster

        for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker"):
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            if self.scheduler:
                self.client = Client(self.scheduler, timeout="20s")
            else:
                import dask

                # A worker samples its task thread's stack every 10 ms for the dashboard's
                # profile (and its system monitor every 0.5 s): CPU taken from the reports
                # on a busy machine, for a dashboard esep does not start. On a cluster of
                # your own, the same settings go in the workers' dask config.
                dask.config.set({"distributed.worker.profile.enabled": False,
                                 "distributed.admin.system-monitor.interval": "5s"})
                self.cluster = LocalCluster(n_workers=max(1, min(self.jobs, n)), threads_per_worker=1,
                                            processes=True, dashboard_address=None,
                                            silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
        except OSError as exc:
            raise EsepError(f"--scheduler {self.scheduler}: cannot reach the Dask scheduler ({exc})") from None

    def run(self, tasks: list[Task], formats, spares: bool, done_cb) -> None:
        import uuid

        from distributed import as_completed

        self._connect(len(tasks))
        client = self.client
        tag = uuid.uuid4().hex[:8]
        byfut = {}

        def submit(t: Task):
            fut = client.submit(dask_task, t, key=f"esep-{t.unit.key}-{tag}-{t.attempt}-{int(t.wait)}",
                                retries=RETRIES, pure=False)
            byfut[fut] = t
            return fut

        try:
            ac = as_completed([submit(t) for t in tasks])
            for fut in ac:
                t = byfut.pop(fut)
                try:
                    res = fut.result()
                except Crash as exc:
                    res = crash_result(t, f"crashed (after {RETRIES + 1} attempts): {exc}")
                except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker
                    res = crash_result(t, f"{type(exc).__name__}: {exc}")
                if res is None:  # locked by another esep process: queue again, then wait
                    t.wait = True
                    ac.add(submit(t))
                    continue
                done_cb(t.idx, res)
        except BaseException:
            self.stop(list(byfut))
            raise
        self.stop()

    def stop(self, futures=()) -> None:
        try:
            if futures and self.client is not None:
                self.client.cancel(futures, force=True)
        except Exception:  # noqa: BLE001
            pass
        for obj in (self.client, self.cluster):
            if obj is not None:
                try:
                    obj.close(timeout=3) if obj is self.client else obj.close(timeout=3)
                except Exception:  # noqa: BLE001
                    pass
        self.client = self.cluster = None
