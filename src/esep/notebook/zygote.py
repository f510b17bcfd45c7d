"""A "zygote": a warm parent process that forks a fresh Python kernel per notebook.

Starting a kernel the usual way costs a new interpreter plus ~1.8 CPU-seconds of imports
(IPython, ipykernel, pandas, matplotlib, seaborn, pyarrow, the project's helpers) for
every report. The zygote pays them once: it imports those modules (and nothing else: no
notebook code ever runs in it, no thread, no ZMQ socket exists in it), then waits on a
Unix socket. For each kernel jupyter_client wants, it ``fork()``s: the child is a copy of
that pristine, just-imported state (copy-on-write), sets the environment and working
folder jupyter_client asked for, and only then starts ipykernel with the usual command
line (``-f <connection file>`` ...), so the kernel's sockets, threads and IPython shell
are created after the fork, in the child. Every notebook thus still runs in a fresh
interpreter state (tests/test_isolation.py compares it with a plain kernel's).

Wiring: :class:`ZygoteKernelManager` is an ``AsyncKernelManager`` whose provisioner
launches through the zygote instead of ``subprocess.Popen``; the rest of
jupyter_client/nbclient/papermill is unchanged (interrupt, kill, shutdown work on the
forked kernel: it leads its own process group). If the zygote is missing or refuses,
the kernel is started the usual way.

Lifetime: the zygote exits within half a second of its parent process's death (it polls
``getppid``), killing its kernels; every kernel it forked also gets ``PR_SET_PDEATHSIG`` = SIGKILL, so killing a build (or the zygote)
never leaves a kernel behind.
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time

# What a report kernel imports; a module that fails to import is skipped.
PRELOAD = ("numpy", "pandas", "pyarrow", "pyarrow.parquet", "matplotlib", "matplotlib.pyplot",
           "seaborn", "scrapbook", "yaml", "IPython", "IPython.display", "ipykernel.kernelapp",
           "ipykernel.ipkernel", "ipykernel.zmqshell",
           # what every kernel imports after start-up when the zygote has not (py-spy on a
           # 100-report build: ~0.13 s CPU per kernel for the debugger's debugpy alone).
           # Not matplotlib_inline: importing its backend in a kernel is what hooks the
           # inline display of figures into that kernel's shell
           "ipykernel.debugger", "IPython.core.oinspect", "IPython.core.completerlib",
           "IPython.core.debugger", "IPython.extensions.storemagic", "sqlite3", "psutil",
           "tornado.platform.asyncio", "matplotlib.backends.backend_svg", "pyarrow.dataset",
           "pandas.core.arrays.arrow.extension_types",
           "esep.core.config", "esep.data.prepare", "esep.data.forms", "helpers")
INLINE = "module://matplotlib_inline.backend_inline"


def _pdeathsig() -> None:
    """Die (SIGKILL) when the parent process exits (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort (not Linux)
        pass


def preload() -> list[str]:
    """Import the heavy modules; return the ones that failed."""
    import importlib
    import pkgutil

    # ipykernel sets this before the notebook's first import of matplotlib; do the same
    # so that importing matplotlib here resolves the same backend a plain kernel gets.
    os.environ.setdefault("MPLBACKEND", INLINE)
    # A kernel's sys.stdout is ipykernel's OutStream (encoding "UTF-8"); modules that look
    # at it on import (pandas' display.encoding) must see the same as in a plain kernel.
    import io

    # Likewise modules that ask "am I in a Jupyter kernel?" on import (pandas sets
    # display.max_columns to 20 in a kernel, 0 in a terminal) must get the kernel's answer.
    import builtins

    class _KernelShell:
        kernel = True

    saved = sys.stdout, sys.stderr
    sys.stdout = io.TextIOWrapper(io.BytesIO(), encoding="UTF-8")
    sys.stderr = io.TextIOWrapper(io.BytesIO(), encoding="UTF-8")
    builtins.get_ipython = lambda: _KernelShell()
    try:
        failed = _import_all()
        _warm_fonts()
        return failed
    finally:
        sys.stdout, sys.stderr = saved
        del builtins.get_ipython


def _warm_fonts() -> None:
    """Find and open the chart font once here (matplotlib caches both by process; a fork
    inherits them), not in every notebook's first chart. No rcParams, no figure, no
    pyplot state is touched."""
    try:
        from matplotlib import font_manager

        for weight in ("normal", "bold"):
            path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans", weight=weight),
                                         fallback_to_default=True)
            font_manager.get_font(path)
    except Exception:  # noqa: BLE001 - only a cache
        pass


def _import_all() -> list[str]:
    import importlib
    import pkgutil

    failed = []
    for name in PRELOAD:
        try:
            mod = importlib.import_module(name)
        except Exception:  # noqa: BLE001
            failed.append(name)
            continue
        if name == "helpers":  # the project's helper modules too (esep.kit's via __path__)
            for info in pkgutil.iter_modules(getattr(mod, "__path__", [])):
                try:
                    importlib.import_module(f"helpers.{info.name}")
                except Exception:  # noqa: BLE001
                    failed.append(f"helpers.{info.name}")
    return failed


def _become(req: dict) -> None:
    """In a forked child: its own process group, signals, the requested environment,
    rounding rule and folder."""
    os.setsid()  # its own process group: jupyter_client signals the group
    _pdeathsig()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(req["env"])
    # a module preloaded above read ESEP_ROUNDING at import (the zygote's environment):
    # the report's own rule comes with the fork request
    numbers = sys.modules.get("esep.core.numbers")
    if numbers is not None:
        numbers.set_rounding(os.environ.get("ESEP_ROUNDING") if os.environ.get("ESEP_ROUNDING")
                             in numbers.ROUNDING_MODES else "half_up")
    if req.get("cwd"):
        os.chdir(req["cwd"])


def _shell_child(conn: socket.socket, server: socket.socket, req: dict) -> None:
    """In the forked child: run one notebook's cells in an IPython shell, talking to the
    build worker over ``conn`` (:mod:`esep.notebook.shellexec`)."""
    code = 1
    try:
        server.close()
        _become(req)
        from esep.notebook import shellexec

        import ipykernel_launcher  # noqa: F401 - sys.argv[0] as in a kernel

        code = shellexec.serve(conn, [ipykernel_launcher.__file__])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001
        import traceback

        try:
            sys.__stderr__.write(traceback.format_exc())
        except Exception:  # noqa: BLE001
            pass
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass
        os._exit(code)


def _child(conn: socket.socket, server: socket.socket, req: dict) -> None:
    """In the forked child: become the kernel jupyter_client asked for."""
    code = 1
    try:
        server.close()
        conn.close()
        _become(req)
        import ipykernel_launcher  # noqa: F401 - what `python -m ipykernel_launcher` runs
        from ipykernel.kernelapp import IPKernelApp

        args = req["argv"]
        sys.argv = [ipykernel_launcher.__file__] + args
        IPKernelApp.launch_instance(argv=args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        os._exit(code)


def serve(path: str) -> None:
    """The zygote's main loop: one JSON request per connection, answered with the pid."""
    parent = os.getppid()  # no PDEATHSIG here: the parent may be a thread (dask); polled below
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build decides when we stop
    preload()
    import threading

    if threading.active_count() != 1:  # pragma: no cover - a preloaded module started one
        sys.stderr.write("esep zygote: a preloaded module started a thread; not forking\n")
        return
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path + ".tmp"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    server.bind(tmp)
    server.listen(16)
    os.replace(tmp, path)  # the socket appears only once it accepts connections
    children: set[int] = set()
    try:
        while True:
            r, _, _ = select.select([server], [], [], 0.5)
            while children:  # reap finished kernels
                try:
                    pid, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    children.clear()
                    break
                if pid == 0:
                    break
                children.discard(pid)
            if os.getppid() != parent:
                break
            if not r:
                continue
            conn, _ = server.accept()
            with conn:
                conn.settimeout(10)
                buf = b""
                while not buf.endswith(b"\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                if not buf.strip():
                    continue
                req = json.loads(buf)
                if req.get("op") == "ping":
                    conn.sendall(b'{"pid": 0}\n')
                    continue
                if req.get("op") == "stop":
                    conn.sendall(b'{"pid": 0}\n')
                    break
                pid = os.fork()
                if pid == 0:
                    if req.get("op") == "shell":  # run a notebook's cells (esep.notebook.shellexec)
                        _shell_child(conn, server, req)
                    _child(conn, server, req)
                children.add(pid)
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    finally:
        server.close()
        try:
            os.unlink(path)
        except OSError:
            pass
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in children:  # reap them (their CPU time is then accounted to our parent)
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass


# --- the client side (in the build worker) ---------------------------------------------------

class ForkedProcess:
    """What jupyter_client's LocalProvisioner needs of a ``Popen``, for a kernel forked by
    the zygote (not our child: watched through a pidfd)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None
        try:
            self._fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._fd = None

    def poll(self):
        if self.returncode is not None:
            return self.returncode
        if self._fd is not None:
            r, _, _ = select.select([self._fd], [], [], 0)
            alive = not r
        else:
            try:
                os.kill(self.pid, 0)
                alive = True
            except OSError:
                alive = False
        if not alive:
            self.returncode = 0
            self._close()
        return self.returncode

    def wait(self, timeout=None):
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                import subprocess

                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, sig):
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def _close(self):
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def __del__(self):
        self._close()


def kernel_args(cmd: list[str]) -> list[str] | None:
    """ipykernel's arguments in ``[python, (-X opt)..., -m, ipykernel_launcher, args...]``
    if ``python`` is this interpreter; else None (such a kernel is started as usual)."""
    try:
        i = cmd.index("-m")
    except ValueError:
        return None
    if cmd[i + 1:i + 2] != ["ipykernel_launcher"] or any(not a.startswith("-X") for a in cmd[1:i]):
        return None
    if os.path.realpath(cmd[0]) != os.path.realpath(sys.executable):
        return None
    return cmd[i + 2:]


def _ask(path: str, doc: dict, timeout: float) -> tuple[socket.socket, dict]:
    """Send one request line to the zygote; (the open socket, its one-line answer). The
    zygote writes nothing after that line until it is sent more (a forked shell waits for
    its cells), so nothing of what follows is read here."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(json.dumps(doc).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("zygote closed the connection")
            buf += chunk
        return s, json.loads(buf)
    except BaseException:
        s.close()
        raise


def request(path: str, doc: dict, timeout: float = 10.0) -> dict:
    s, answer = _ask(path, doc, timeout)
    s.close()
    return answer


class Zygote:
    """A zygote process started for one environment (project root, PYTHONPATH)."""

    def __init__(self, sock_dir: str, cwd: str, env: dict | None = None):
        import subprocess
        import tempfile

        self.dir = tempfile.mkdtemp(prefix=f"esep-zygote-{os.getpid()}-", dir=sock_dir)
        self.path = os.path.join(self.dir, "sock")
        self.env = dict(os.environ if env is None else env)
        self.owner = os.getpid()  # only the owner may poll/kill the process (not our child elsewhere)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "esep.notebook.zygote", self.path], cwd=cwd, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)

    def alive(self) -> bool:
        if self.proc is not None and getattr(self, "owner", None) == os.getpid():
            return self.proc.poll() is None
        return True  # another process's zygote: its socket tells (ready)

    def ready(self, timeout: float = 0.0) -> bool:
        end = time.monotonic() + timeout
        while True:
            if os.path.exists(self.path):
                return True
            if not self.alive() or time.monotonic() >= end:
                return False
            time.sleep(0.02)

    def launch(self, cmd: list[str], env: dict, cwd: str | None, timeout: float = 30.0) -> ForkedProcess | None:
        """Fork a kernel running ``cmd`` (``python -m ipykernel_launcher ...``), or None."""
        args = kernel_args(cmd)
        if args is None:
            return None
        if not self.ready(timeout):
            return None
        try:
            pid = request(self.path, {"argv": args, "env": env, "cwd": cwd})["pid"]
        except (OSError, ValueError, KeyError):
            return None
        return ForkedProcess(pid) if pid else None

    def open_shell(self, env: dict, cwd: str | None, timeout: float = 30.0):
        """Fork a notebook shell (:mod:`esep.notebook.shellexec`): (connected socket, pid),
        or (None, 0) when the zygote is not there."""
        if not self.ready(timeout):
            return None, 0
        try:
            s, answer = _ask(self.path, {"op": "shell", "env": env, "cwd": cwd}, timeout)
        except (OSError, ValueError):
            return None, 0
        pid = answer.get("pid") if isinstance(answer, dict) else None
        if not pid:
            s.close()
            return None, 0
        s.settimeout(None)
        return s, pid

    def stop(self, fast: bool = False) -> None:
        if self.proc is not None and self.owner == os.getpid() and self.proc.poll() is None:
            try:
                if fast:
                    raise TimeoutError
                request(self.path, {"op": "stop"}, timeout=1.0)
                self.proc.wait(2)
            except Exception:  # noqa: BLE001
                try:
                    self.proc.kill()
                    self.proc.wait(5)
                except Exception:  # noqa: BLE001
                    pass
        import shutil

        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def kernel_manager_class():
    """``AsyncKernelManager`` that launches through a :class:`Zygote` (``km.zygote``)."""
    from jupyter_client.manager import AsyncKernelManager

    class ZygoteKernelManager(AsyncKernelManager):
        zygote: Zygote | None = None

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            prov = self.provisioner
            zyg = self.zygote
            if zyg is not None and type(prov).__name__ == "LocalProvisioner":
                env = kw.get("env") or dict(os.environ)
                proc = zyg.launch(list(kernel_cmd), {str(k): str(v) for k, v in env.items()},
                                  str(kw.get("cwd") or os.getcwd()))
                if proc is not None:
                    prov.process = proc
                    prov.pid = prov.pgid = proc.pid
                    prov.cwd = kw.get("cwd")
                    self._reconcile_connection_info(prov.connection_info)
                    return
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return ZygoteKernelManager


if __name__ == "__main__":
    serve(sys.argv[1])
