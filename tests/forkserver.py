"""`deployer` subprocesses without the interpreter's start-up: a fork server for support.cli.

A fresh `python -m deployer.cli` spends about a third of a second importing psycopg, jinja2,
typer and rich before it reads its arguments, and the suite runs it some hundreds of times.
Here one server process per pytest process imports them once; each call is then a fork of it
that becomes `python -m deployer.cli ARGS` as a new interpreter would: its own process, the
call's arguments, environment, working directory, standard input, output and error (the
caller's pipes, passed over a Unix socket), `deployer` itself imported anew in it (nothing
of the package is kept in the server), and its exit status as the kernel reports it (a
signal as a negative code, as subprocess has it). It ends as `python -m` ends: SystemExit's
code, a traceback and 1 for an uncaught exception, atexit handlers and non-daemon threads
run.

What is the server's and not the call's: the third-party modules, imported (they read their
environment then, so a call whose environment differs from the server's in anything but
what is read while the command runs, DATABASE_URL, DEPLOYER_*, libpq's PG*, the tests'
JOBSET_* and pytest's PYTEST_CURRENT_TEST, runs as a plain subprocess instead), and the
string hash seed (as if PYTHONHASHSEED were set). JOBSET_TEST_FORKSERVER=0 makes every call
a plain subprocess.

Run as `python forkserver.py SOCKET`: the server, until its standard input closes (its
pytest process has ended).
"""

from __future__ import annotations

import json
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time

RUNTIME_KEYS = ("DATABASE_URL", "DEPLOYER_", "PG", "JOBSET_", "PYTEST_")
MESSAGE = 1 << 20


# --- the caller's side -------------------------------------------------------------------

class _Server:
    def __init__(self, environ: dict[str, str]):
        import tempfile

        self.environ = dict(environ)
        self.home = tempfile.mkdtemp(prefix="jobset-forkserver-")
        self.path = os.path.join(self.home, "socket")
        self.process = subprocess.Popen([sys.executable, __file__, self.path], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=self.environ, cwd=os.getcwd())
        if self.process.stdout.readline() != b"ready\n":
            raise RuntimeError("the fork server did not start")

    def serves(self, environ: dict[str, str]) -> bool:
        keys = set(environ) | set(self.environ)
        return self.process.poll() is None and all(
            environ.get(k) == self.environ.get(k) for k in keys if not k.startswith(RUNTIME_KEYS))

    def close(self) -> None:
        import shutil

        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.home, ignore_errors=True)


_server: _Server | None = None
_lock = threading.Lock()


def _get_server(environ: dict[str, str]) -> _Server | None:
    global _server
    if os.environ.get("JOBSET_TEST_FORKSERVER") == "0":
        return None
    with _lock:
        if _server is None:
            import atexit

            base = {k: v for k, v in environ.items() if not k.startswith(RUNTIME_KEYS)}
            base.update({k: v for k, v in os.environ.items() if k.startswith(RUNTIME_KEYS)})
            _server = _Server(base)
            atexit.register(_server.close)
    return _server if _server.serves(environ) else None


def _text(data: bytes) -> str:
    """As subprocess's text mode decodes: the locale's encoding, universal newlines."""
    import locale

    return data.decode(locale.getpreferredencoding(False)).replace("\r\n", "\n").replace("\r", "\n")


def run(args: list[str], environ: dict[str, str], cwd, timeout: float) -> subprocess.CompletedProcess:
    """`python -m deployer.cli ARGS` with standard input from /dev/null, output and error
    captured as text: through the fork server, else as a plain subprocess."""
    command = [sys.executable, "-m", "deployer.cli", *args]
    server = _get_server(environ) if cwd is None or os.path.isdir(cwd) else None
    if server is None:
        return subprocess.run(command, capture_output=True, text=True, env=environ, cwd=cwd,
                              stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    null = os.open(os.devnull, os.O_RDWR)
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
        conn.connect(server.path)
        request = {"args": list(args), "env": environ, "cwd": os.path.abspath(cwd or os.getcwd())}
        try:
            socket.send_fds(conn, [json.dumps(request).encode()], [null, out_w, err_w])
        finally:
            for fd in (null, out_w, err_w):
                os.close(fd)
        pid = json.loads(conn.recv(MESSAGE))["pid"]
        chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as pipes:
            for fd in chunks:
                pipes.register(fd, selectors.EVENT_READ)
            while pipes.get_map():
                left = deadline - time.monotonic()
                ready = pipes.select(left) if left > 0 else []
                if not ready:
                    os.kill(pid, signal.SIGKILL)
                    for fd in chunks:
                        os.close(fd)
                    raise subprocess.TimeoutExpired(command, timeout)
                for key, _ in ready:
                    data = os.read(key.fd, 65536)
                    if data:
                        chunks[key.fd].append(data)
                    else:
                        pipes.unregister(key.fd)
                        os.close(key.fd)
        returncode = json.loads(conn.recv(MESSAGE))["returncode"]
    return subprocess.CompletedProcess(command, returncode, _text(b"".join(chunks[out_r])),
                                       _text(b"".join(chunks[err_r])))


# --- the server ----------------------------------------------------------------------------

def _serve(path: str) -> tuple[dict, list[int], socket.socket]:
    """Fork a handler for every connection; return only in a handler's child, the command."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # handlers are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the tests; the server ends with them
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1):
            os._exit(0)  # the pytest process has ended
        if listener not in readable:
            continue
        conn, _ = listener.accept()
        if os.fork() == 0:  # the handler: forks the command, reports its pid and exit status
            pid = -1
            try:
                listener.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                message, fds, _, _ = socket.recv_fds(conn, MESSAGE, 3)
                request = json.loads(message)
                pid = os.fork()
                if pid == 0:
                    return request, fds, conn
                for fd in fds:
                    os.close(fd)
                conn.send(json.dumps({"pid": pid}).encode())
                _, status = os.waitpid(pid, 0)
                conn.send(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}).encode())
            except BrokenPipeError:  # the caller stopped waiting (its timeout) and killed the command
                pass
            except BaseException:  # noqa: BLE001 - a handler never returns to the loop
                if pid != 0:
                    import traceback

                    traceback.print_exc()
            if pid != 0:
                os._exit(0)
        conn.close()


def _become(request: dict, fds: list[int], conn: socket.socket) -> None:
    """Turn this fork into `python -m deployer.cli ARGS` as started with the request."""
    conn.close()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as a new interpreter has it
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # as subprocess's close_fds
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[0] = request["cwd"]  # as `python -m` has it
    sys.argv = ["-m", *request["args"]]


def _warm_up() -> None:
    """Import what `deployer` imports, and what its libraries import only when first used
    (typer's pydantic adapters parsing options, jinja2's compiler): two commands that need
    no database, their output dropped; then forget the package itself."""
    import contextlib
    import io

    warm_ups = [["--help"], ["db", "url", "--dsn", "postgresql://warm-up@localhost/warm_up"],
                ["run", "no_such_job", "--dry-run", "--limit", "1", "--now", "2026-01-01T00:00:00Z"]]
    for args in warm_ups:
        try:
            import deployer.cli

            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                deployer.cli.app(args, standalone_mode=False)
        except BaseException:  # noqa: BLE001, S110 - a call meets the same error, as a new interpreter would
            pass
    for name in [n for n in sys.modules if n == "deployer" or n.startswith("deployer.")]:
        del sys.modules[name]


def _run_as_main() -> None:
    """deployer.cli as `python -m` runs it, and the exit `python -m` makes: SystemExit's code
    (None 0, a number itself, anything else printed and 1), a traceback and 1 for any other
    exception; then non-daemon threads are waited for, atexit handlers run and the standard
    streams flushed (120 when that fails), as the interpreter's finalization does. Not its
    teardown of every module: that would touch every object of the server's heap, copying
    its pages into this fork, for nothing anyone sees."""
    import atexit
    import runpy

    try:
        runpy.run_module("deployer.cli", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    except KeyboardInterrupt:
        sys.excepthook(*sys.exc_info())
        code = -signal.SIGINT
    except BaseException:  # noqa: BLE001 - as the interpreter reports an uncaught exception
        sys.excepthook(*sys.exc_info())
        code = 1
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            code = 120
    if code == -signal.SIGINT:  # killed by SIGINT, as Python exits on an uncaught KeyboardInterrupt
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(code & 0xFF)


if __name__ == "__main__":
    sys.path[0] = os.getcwd()
    _warm_up()
    command = _serve(sys.argv[1])
    try:
        _become(*command)
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        os._exit(127)
    del command
    _run_as_main()
