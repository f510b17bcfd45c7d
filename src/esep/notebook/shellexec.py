"""papermill's default engine in esep builds: each notebook runs in an IPython shell forked
from the warm zygote, with no ZMQ kernel in between ("fork shell").

Why: a school report is ~30 small cells. Through a Jupyter kernel each costs a kernel
start-up after the fork (traitlets, ZMQ sockets, threads), every display serialised as a
signed ZMQ message, and nbclient's asyncio loop in the build worker polling them:
measured at 0.84 CPU s in the kernel plus 0.21 s in the worker per school report, of which
the cells' own work is ~0.55 s (docs/performance.md «Engine»). Here a fresh fork of the
zygote's just-imported state (the same state a forked kernel starts from) creates one
``ZMQInteractiveShell`` subclass — the shell class ipykernel uses, so magics, the user
namespace, ``%matplotlib inline``, the environment and pandas' "in a notebook?" checks see
what they see in a kernel — runs the cells with ``run_cell`` and sends each cell's outputs
back as one JSON line over the zygote's Unix socket. The build worker fills them into the
notebook through papermill's ``NotebookExecutionManager`` (cell start/end/exception, as
papermill's own nbclient engine does), so papermill still parameterises, executes (via
this engine: papermill's engine plug-in API), records and writes the notebook, and raises
``PapermillExecutionError`` for a failing cell.

Same as a kernel: a fresh process per notebook (tests/test_isolation.py compares it with a
plain kernel), outputs in order (streams, display data, execute results, errors with
IPython's traceback), execution counts, ``language_info``, stop at the first error unless
the cell is tagged ``raises-exception``, ``skip-execution`` honoured, a dead process is a
:class:`~esep.notebook.execute.KernelDied` (the build retries the unit).
Not supported (no kernel): widgets and comms, ``input()``, GUI event loops, updating an
earlier output by display id (``update_display_data`` is dropped). Set
``ESEP_ENGINE=kernel`` to run every notebook through a Jupyter kernel instead (also the
fallback when no zygote runs).
"""
from __future__ import annotations

import json
import os
import sys
import time

SKIP_TAG = "skip-execution"
ERROR_TAG = "raises-exception"

_live: set[int] = set()  # forked shells this process is waiting on (kernels.kill_all)


def enabled() -> bool:
    return os.environ.get("ESEP_ENGINE", "shell").strip().lower() != "kernel"


# --- in the forked child ------------------------------------------------------------------

def _json_default(obj):
    from jupyter_client.jsonutil import json_default

    return json_default(obj)


def _shell_class():
    """A ``ZMQInteractiveShell`` that keeps its outputs instead of sending them."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.error import UsageError
    from ipykernel.zmqshell import ZMQInteractiveShell
    from traitlets import Type

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw):
            self.shell.esep_flush_streams()
            out = {"output_type": "update_display_data" if update else "display_data",
                   "data": data, "metadata": metadata or {}}
            if transient:
                out["transient"] = transient
            self.shell.esep_emit(out)

        def clear_output(self, wait=False):
            self.shell.esep_flush_streams()
            self.shell.esep_emit({"output_type": "clear_output", "wait": bool(wait)})

    class Hook(DisplayHook):
        """The value of a cell's last expression -> an ``execute_result``."""

        def start_displayhook(self):
            self._esep = {}

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            self._esep = {"data": format_dict, "metadata": md_dict or {}}

        def finish_displayhook(self):
            sys.stdout.flush()
            sys.stderr.flush()
            if self._esep:
                self.shell.esep_flush_streams()
                self.shell.esep_emit({"output_type": "execute_result", "data": self._esep["data"],
                                      "metadata": self._esep["metadata"],
                                      "execution_count": self.prompt_count})
            self._esep = {}

    class ForkShell(ZMQInteractiveShell):
        displayhook_class = Type(Hook)
        display_pub_class = Type(Publisher)

        def init_io(self):  # the streams are set up by serve()
            pass

        def enable_gui(self, gui=None):
            if gui not in (None, "inline"):
                raise UsageError(f"no GUI event loop ({gui!r}) in esep's notebook executor")
            self.active_eventloop = gui

        def _showtraceback(self, etype, evalue, stb):
            sys.stdout.flush()
            sys.stderr.flush()
            self.esep_flush_streams()
            self.esep_emit({"output_type": "error", "ename": str(etype.__name__),
                            "evalue": str(evalue), "traceback": stb})
            self._last_traceback = stb

        # set by serve()
        def esep_emit(self, out):
            self._esep_outputs.append(out)

        def esep_flush_streams(self):
            for s in (sys.stdout, sys.stderr):
                if isinstance(s, _Stream):
                    s.flush()

    return ForkShell


class _Stream:
    """``sys.stdout``/``sys.stderr`` of the forked shell: text goes into the current cell's
    outputs as one ``stream`` output per run of writes (as ipykernel's buffered OutStream)."""

    encoding = "UTF-8"
    errors = "strict"

    def __init__(self, name: str, shell_outputs):
        self.name = name
        self._outputs = shell_outputs   # callable -> the current cell's output list
        self._buf: list[str] = []

    def write(self, text) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            self._buf.append(text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self._buf:
            return
        text, self._buf = "".join(self._buf), []
        outs = self._outputs()
        if outs and outs[-1].get("output_type") == "stream" and outs[-1].get("name") == self.name:
            outs[-1]["text"] += text
        else:
            outs.append({"output_type": "stream", "name": self.name, "text": text})

    def isatty(self) -> bool:
        return False

    def fileno(self):
        import io

        raise io.UnsupportedOperation("the notebook's output stream has no file descriptor")

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return False


class _Kernel:
    """``get_ipython().kernel`` in a forked shell: there is a notebook being executed
    (scrapbook's ``glue`` and others look for a kernel), but no ZMQ kernel behind it: no
    session, comms or event loop."""

    session = None
    comm_manager = None
    eventloop = None
    iopub_socket = None

    def __init__(self, shell, language_info: dict):
        self.shell = shell
        self.language_info = language_info


def _send(conn, doc) -> None:
    conn.sendall(json.dumps(doc, default=_json_default, ensure_ascii=False).encode("utf-8") + b"\n")


def _recv_line(conn) -> dict:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the build worker closed the connection")
        buf += chunk
    return json.loads(buf)


def serve(conn, argv: list[str]) -> int:
    """In the forked child (environment, folder and rounding already set by the zygote): read
    the cells, run them one by one, send each one's outputs; return the exit code."""
    import resource

    conn.settimeout(None)
    job = _recv_line(conn)          # {"cells": [[index, source, allow_error], ...], "config": {...}}
    from traitlets.config import Config

    cfg = Config()
    cfg.HistoryManager.hist_file = ":memory:"
    for section, values in (job.get("config") or {}).items():
        for k, v in values.items():
            cfg[section][k] = v
    current: list = []
    sys.stdout = _Stream("stdout", lambda: current)
    sys.stderr = _Stream("stderr", lambda: current)
    sys.argv = argv
    from ipykernel.compiler import XCachingCompiler
    from ipykernel.ipkernel import IPythonKernel

    # as ipykernel creates its shell: cells compiled to files named like a kernel's
    shell = _shell_class().instance(config=cfg, compiler_class=XCachingCompiler)
    shell._esep_outputs = current
    shell.kernel = _Kernel(shell, IPythonKernel.language_info)

    profile = None
    if os.environ.get("ESEP_PROFILE_CELLS"):  # a folder: each notebook's cells profiled into it
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    for index, source, allow_error in job["cells"]:
        current.clear()
        result = shell.run_cell(source, store_history=True)
        sys.stdout.flush()
        sys.stderr.flush()
        failed = not result.success
        _send(conn, {"index": index, "outputs": current, "execution_count": result.execution_count,
                     "failed": failed})
        if failed and not allow_error:
            break
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.path.join(os.environ["ESEP_PROFILE_CELLS"], f"cells-{os.getpid()}.prof"))
    use = resource.getrusage(resource.RUSAGE_SELF)
    _send(conn, {"end": True, "language_info": IPythonKernel.language_info,
                 "cpu": use.ru_utime + use.ru_stime})
    return 0


# --- in the build worker: the papermill engine --------------------------------------------

def _outputs(items: list) -> list:
    """JSON outputs -> notebook outputs, applying ``clear_output`` like nbclient."""
    from nbformat import from_dict

    outs: list = []
    clear_next = False
    for o in items:
        kind = o.get("output_type")
        if kind == "clear_output":
            if o.get("wait"):
                clear_next = True
            else:
                outs.clear()
            continue
        if kind == "update_display_data":
            continue  # no display ids are tracked (updates of earlier displays are dropped)
        if clear_next:
            outs.clear()
            clear_next = False
        o = {k: v for k, v in o.items() if k != "transient"}
        if kind in ("display_data", "execute_result"):
            o.setdefault("metadata", {})
        outs.append(from_dict(o))  # as nbformat.v4.new_output builds it, without validating each
    return outs


def _config_from_args(extra: list[str]) -> dict:
    """``--Section.key=value`` kernel arguments -> traitlets config for the shell (the kernel
    app's own log level is irrelevant here)."""
    cfg: dict = {}
    for a in extra:
        if a.startswith("--") and "=" in a and "." in a.split("=", 1)[0]:
            name, value = a[2:].split("=", 1)
            section, key = name.rsplit(".", 1)
            if section in ("IPKernelApp", "Kernel", "IPythonKernel"):
                continue
            cfg.setdefault(section, {})[key] = value
    return cfg


def run(nb_man, zyg, extra: list[str], last: dict, fallback):
    """Execute ``nb_man``'s notebook in a shell forked by ``zyg`` (papermill's
    ``execute_managed_notebook``); ``last``: the per-notebook measurements (the kernels
    module's ``last``); ``fallback()``: run it on a kernel instead (the zygote did not
    fork)."""
    from esep.notebook.execute import KernelDied

    nb = nb_man.nb
    t0 = time.perf_counter()
    last.update(kernel=0.0, kernel_cpu=0.0, via="shell")
    env = {str(k): str(v) for k, v in os.environ.items()}
    sock, pid = zyg.open_shell(env, os.getcwd())
    if sock is None:
        return fallback()
    _live.add(pid)
    last["kernel"] = time.perf_counter() - t0
    runnable = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.source.strip() and SKIP_TAG not in cell.metadata.get("tags", []):
            runnable[i] = ERROR_TAG in cell.metadata.get("tags", [])
    reader = sock.makefile("rb")
    finished = False
    try:
        _send(sock, {"cells": [[i, nb.cells[i].source, runnable[i]] for i in runnable],
                     "config": _config_from_args(extra)})
        stopped = False
        for i, cell in enumerate(nb.cells):
            if stopped:
                break
            nb_man.cell_start(cell, i)
            try:
                if i not in runnable:
                    continue
                line = reader.readline()
                if not line:
                    raise KernelDied(f"the notebook's process (pid {pid}) died while executing "
                                     f"cell {i + 1}")
                msg = json.loads(line)
                cell.outputs = _outputs(msg["outputs"])
                cell.execution_count = msg["execution_count"]
                if msg["failed"] and not runnable[i]:
                    from nbclient.exceptions import CellExecutionError

                    err = next((o for o in msg["outputs"] if o.get("output_type") == "error"), {})
                    nb_man.cell_exception(cell, cell_index=i, exception=CellExecutionError(
                        "\n".join(err.get("traceback") or []), err.get("ename", ""), err.get("evalue", "")))
                    stopped = True
            finally:
                nb_man.cell_complete(cell, cell_index=i)
        line = reader.readline()
        end = json.loads(line) if line else {}
        if end.get("end"):
            nb.metadata["language_info"] = end.get("language_info") or {}
            last["kernel_cpu"] = float(end.get("cpu") or 0.0)
        elif not stopped:
            raise KernelDied(f"the notebook's process (pid {pid}) died before it finished")
        finished = True
    finally:
        reader.close()
        sock.close()
        _live.discard(pid)
        if not finished:
            _kill(pid)  # stopped midway (an error here, an interrupt): it must not run on
    return nb


def _kill(pid: int) -> None:
    """SIGKILL a forked shell (the zygote, its parent, reaps it)."""
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def kill_all() -> None:
    for pid in list(_live):
        _kill(pid)
    _live.clear()
