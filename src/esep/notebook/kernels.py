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
import time

KERNEL_ARGS = ["--HistoryManager.hist_file=:memory:"]

_state = {"spares": False, "spare": None, "extra": None, "zygote": None, "zygote_owned": False,
          "kernel_engine": None}

# Per-notebook measurements of the last execution (read by esep.pipeline.run):
# kernel = wall seconds from asking for a kernel to its being ready (0 for a warm spare),
# kernel_cpu = CPU seconds the kernel process used (its own work: imports + cells).
# via = "zygote" (forked from the warm zygote) or "process" (a new interpreter).
last = {"kernel": 0.0, "kernel_cpu": 0.0, "via": ""}


def _env_sig() -> tuple:
    return (os.environ.get("ESEP_ROOT"), os.environ.get("PYTHONPATH"))


def zygotes_enabled() -> bool:
    return os.environ.get("ESEP_ZYGOTE", "1") not in ("0", "no", "false")


def start_zygote(cwd: str, sock_dir: str | None = None) -> str | None:
    """Start (once per environment) a warm zygote (:mod:`esep.notebook.zygote`) that this
    process and its forked pool workers use; return its socket path. Call it inside
    ``execute.kernel_env()`` so the zygote has the kernels' environment."""
    if not zygotes_enabled():
        return None
    z = _state["zygote"]
    if z is not None and z._esep_sig == _env_sig() and z.alive():
        return z.path
    stop_zygote()
    import tempfile

    from esep.notebook.zygote import Zygote

    z = Zygote(sock_dir or tempfile.gettempdir(), cwd)
    z._esep_sig, z._esep_owner = _env_sig(), os.getpid()
    _state["zygote"] = z
    return z.path


def zygote_sig() -> tuple | None:
    """The environment (ESEP_ROOT, PYTHONPATH) the current zygote serves."""
    z = _state["zygote"]
    return tuple(z._esep_sig) if z is not None else None


def use_zygote(path: str | None, sig: tuple | None = None) -> None:
    """Use a zygote another process started (a Dask task gets its path and the
    environment it serves: ``sig``, as :func:`zygote_sig` gave it)."""
    if not path or not os.path.exists(path):
        return
    z = _state["zygote"]
    if z is not None and z.path == path:
        if sig:
            z._esep_sig = tuple(sig)
        return
    from esep.notebook.zygote import Zygote

    z = Zygote.__new__(Zygote)
    z.path, z.dir, z.proc, z.owner = path, None, None, -1
    z._esep_sig, z._esep_owner = tuple(sig) if sig else _env_sig(), -1
    _state["zygote"] = z


def stop_zygote(fast: bool = False) -> None:
    """Stop this process's zygote (``fast``: SIGKILL, its kernels die with it)."""
    z, _state["zygote"] = _state["zygote"], None
    if z is not None and z._esep_owner == os.getpid():
        z.stop(fast)


def _zygote_for(sig: tuple):
    z = _state["zygote"]
    # the zygote serves one project and import path (ESEP_ROOT, PYTHONPATH); the rest of the
    # environment (ESEP_ROUNDING, ...) travels with each fork request
    if z is None or tuple(sig[3:5]) != tuple(z._esep_sig):
        return None
    return z if z.alive() else None


def zygote_for_kernel(kernel_name: str, cwd: str, extra_arguments):
    """The zygote that may fork this notebook's process, or None (start a kernel as usual)."""
    return _zygote_for(_sig(kernel_name, cwd, extra_arguments or ()))


def kernel_engine():
    """papermill's engine that runs a notebook on a Jupyter kernel (spare or forked)."""
    if _state.get("kernel_engine") is None:
        _state["kernel_engine"] = _engine()
    return _state["kernel_engine"]


def kernel_cpu(km) -> float:
    """CPU seconds (user + system) the kernel process has used so far (Linux /proc)."""
    try:
        pid = km.provisioner.pid
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except Exception:  # noqa: BLE001
        return 0.0


def _sig(kernel_name: str, cwd: str, extra_arguments) -> tuple:
    """What makes a kernel fit a notebook: spec, folder, arguments, project and import path."""
    return (kernel_name, cwd, tuple(extra_arguments), os.environ.get("ESEP_ROOT"), os.environ.get("PYTHONPATH"),
            os.environ.get("ESEP_ROUNDING"))


def _start(kernel_name: str, cwd: str, extra_arguments: list[str]):
    from jupyter_core.utils import run_sync

    from esep.notebook.zygote import kernel_manager_class

    sig = _sig(kernel_name, cwd, extra_arguments)
    km = kernel_manager_class()(kernel_name=kernel_name)
    km.zygote = _zygote_for(sig)
    _live.add(km)
    run_sync(km.start_kernel)(extra_arguments=list(extra_arguments) + KERNEL_ARGS, cwd=cwd)
    km._esep_sig = sig
    return km


_live: set = set()  # kernel managers whose kernel may still run (kill_all)


def kill_all() -> None:
    """SIGKILL every kernel this process started (interrupt path: no asyncio, no waiting)."""
    import signal

    from esep.notebook import shellexec

    shellexec.kill_all()
    for km in list(_live) + [_state.get("spare")]:
        pid = getattr(getattr(km, "provisioner", None), "pid", None)
        if pid:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                    break
                except OSError:
                    continue
    _live.clear()


def _stop(km) -> None:
    from jupyter_core.utils import run_sync

    _live.discard(km)
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
            t0 = time.perf_counter()
            last["kernel"], last["kernel_cpu"] = 0.0, 0.0
            km = _take(kernel_name, os.getcwd(), safe.get("extra_arguments") or [])
            final = merge_kwargs(
                safe, timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                shutdown_kernel="immediate",
            )
            if km is None:  # no spare: start one now, as papermill would (but via the zygote)
                km = _start(kernel_name, os.getcwd(), safe.get("extra_arguments") or [])
            last["kernel"] = time.perf_counter() - t0
            last["via"] = "zygote" if type(km.provisioner.process).__name__ == "ForkedProcess" else "process"
            client = PapermillNotebookClient(nb_man, km=km, **final)
            try:
                return client.execute()
            finally:
                last["kernel_cpu"] = kernel_cpu(km)
                try:
                    client._cleanup_kernel()
                    _live.discard(km)
                except Exception:  # noqa: BLE001
                    _stop(km)

    return SpareKernelEngine


def _fork_shell_engine():
    """papermill's default engine in esep: the notebook in a shell forked from the zygote
    (:mod:`esep.notebook.shellexec`), else on a kernel (:func:`kernel_engine`)."""
    from papermill.engines import Engine

    from esep.notebook import shellexec

    class ForkShellEngine(Engine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            extra = list(kwargs.get("extra_arguments") or [])
            zyg = zygote_for_kernel(kernel_name, os.getcwd(), extra)

            def on_kernel():
                return kernel_engine().execute_managed_notebook(nb_man, kernel_name, **kwargs)

            if zyg is None or not shellexec.enabled() or kernel_name != "python3":
                return on_kernel()
            return shellexec.run(nb_man, zyg, extra, last, on_kernel)

    return ForkShellEngine


def activate(spares: bool = False) -> None:
    """Make esep's engine papermill's default in this process (idempotent): a notebook runs
    in a shell forked from the zygote (:mod:`esep.notebook.shellexec`), else (no zygote, or
    ``ESEP_ENGINE=kernel``) on a Jupyter kernel: a spare one when ``spares``, else one
    started for it (forked from the zygote when there is one)."""
    from papermill.engines import papermill_engines

    from esep.notebook import shellexec

    if _state["extra"] is None:
        _state["extra"] = _fork_shell_engine()
        papermill_engines.register(None, _state["extra"])
        papermill_engines.register("esep", _state["extra"])
        papermill_engines.register("esep-kernel", kernel_engine())
    _state["spares"] = spares


def spares_useful() -> bool:
    """Spare kernels help only notebooks that run on a kernel (no fork shell)."""
    from esep.notebook import shellexec

    return not (shellexec.enabled() and zygotes_enabled())
