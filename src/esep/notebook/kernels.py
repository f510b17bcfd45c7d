"""A papermill engine that hands out a kernel started ahead of time ("spare" kernel).

Starting a Python kernel (process start, ipykernel imports, ZMQ handshake) takes ~1 s of
which the worker would otherwise just wait. In a build worker, :func:`activate` (called
with ``spares=True``) starts one kernel right away; each notebook then runs on the spare
while the next spare boots in the background. Each notebook still gets its own fresh
kernel process (nothing is shared between reports), started in the same way papermill
would start it (same kernel spec, working directory and arguments); it is shut down
immediately (not "gracefully") once the notebook is done.

The engine is registered under papermill's default name (``None``) only in processes that
call :func:`activate` (esep's build, in-process or in pool workers), so
``run.execute``'s ``papermill.execute_notebook`` call is unchanged. A spare is used only
if it matches the requested kernel name and working directory; otherwise a kernel is
started on demand as usual.
"""
from __future__ import annotations

import os

KERNEL_ARGS = ["--HistoryManager.hist_file=:memory:"]

_state = {"spares": False, "spare": None, "extra": None}


def _sig(kernel_name: str, cwd: str, extra_arguments) -> tuple:
    """What makes a kernel fit a notebook: spec, folder, arguments, project and import path."""
    return (kernel_name, cwd, tuple(extra_arguments), os.environ.get("ESEP_ROOT"), os.environ.get("PYTHONPATH"),
            os.environ.get("ESEP_ROUNDING"))


def _start(kernel_name: str, cwd: str, extra_arguments: list[str]):
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    km = AsyncKernelManager(kernel_name=kernel_name)
    run_sync(km.start_kernel)(extra_arguments=list(extra_arguments) + KERNEL_ARGS, cwd=cwd)
    km._esep_sig = _sig(kernel_name, cwd, extra_arguments)
    return km


def _stop(km) -> None:
    from jupyter_core.utils import run_sync

    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - best effort: the kernel also exits with its parent
        pass


def start_spare(kernel_name: str, cwd: str, extra_arguments: list[str]) -> None:
    if _state["spare"] is None:
        _state["spare"] = _start(kernel_name, cwd, extra_arguments)


def stop_spare() -> None:
    km, _state["spare"] = _state["spare"], None
    if km is not None:
        _stop(km)


def _take(kernel_name: str, cwd: str, extra_arguments: list[str]):
    km, _state["spare"] = _state["spare"], None
    sig = _sig(kernel_name, cwd, extra_arguments or ())
    if km is not None and getattr(km, "_esep_sig", None) != sig:
        _stop(km)
        km = None
    if _state["spares"]:  # boot the next one while this notebook runs
        _state["spare"] = _start(kernel_name, cwd, extra_arguments or [])
    return km


def _engine():
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, logger
    from papermill.utils import merge_kwargs, remove_args

    class SpareKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None,
                                     **kwargs):
            kwargs = remove_args(["input_path"], **kwargs)
            safe = remove_args(["timeout", "startup_timeout"], **kwargs)
            km = _take(kernel_name, os.getcwd(), safe.get("extra_arguments") or [])
            final = merge_kwargs(
                safe, timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                shutdown_kernel="immediate",
            )
            if km is None:
                return PapermillNotebookClient(nb_man, **final).execute()
            client = PapermillNotebookClient(nb_man, km=km, **final)
            try:
                return client.execute()
            finally:
                try:
                    client._cleanup_kernel()
                except Exception:  # noqa: BLE001
                    _stop(km)

    return SpareKernelEngine


def activate(spares: bool = False) -> None:
    """Use the spare-kernel engine for papermill in this process (idempotent)."""
    from papermill.engines import papermill_engines

    if _state["extra"] is None:
        _state["extra"] = _engine()
        papermill_engines.register(None, _state["extra"])
        papermill_engines.register("esep", _state["extra"])
    _state["spares"] = spares
