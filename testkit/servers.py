"""Servers as separate processes, for the tests and benchmarks whose point is the process.

``uvicorn issuebridge.app:app`` as a user starts it (:func:`start_server`), and a real
``redis-server`` (:class:`RedisServer`). Everything else the tests serve runs in the test's own
process (``tests/inprocess.py``). A server process listens on a socket bound here and handed
over (``uvicorn --fd``, a :class:`Listener`): its address is known before it starts, stays the
test's across a restart, and no other process can take it in between.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

START_SECONDS = 30.0  # a bound on start-up, far above the second or so it takes


def free_port() -> int:
    """A port nothing listened on a moment ago, for a server that binds its own (redis-server,
    the benchmarks' baselines): another process may take it before that server binds it, so a
    caller retries. Anything that can take a socket gets a :class:`Listener` instead."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Listener:
    """A listening socket on a free loopback port, bound once and kept as long as the test needs it.

    Each server started on it serves a duplicate (:meth:`handoff`, or the descriptor a process
    inherits), so the port stays the test's while one server stops and the next starts (a
    restart on the same address): connections made in between wait in the backlog for the next.
    ``send_buffer`` sets ``SO_SNDBUF``, which accepted connections inherit: a client that stops
    reading then fills the kernel's buffers after a few KB, not 4 MB.
    """

    def __init__(self, *, host: str = "127.0.0.1", send_buffer: int | None = None, backlog: int = 2048) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it. asyncio sets it on each connection only for a socket
        # it knows as IPPROTO_TCP (uvicorn --fd rebuilds the socket as protocol 0): without it a
        # kept-alive connection's every response after the first waits 40 ms for a delayed ACK.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if send_buffer is not None:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        self.socket.bind((host, 0))
        self.socket.listen(backlog)
        self.port: int = self.socket.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handoff(self) -> socket.socket:
        """A duplicate for one server in this process, which closes it when it stops."""
        return self.socket.dup()

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ClosedPort:
    """A loopback port held bound and never listened on: a connection to it is refused, for as
    long as this is open, and no other process can start listening there meanwhile."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> ClosedPort:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class ServerProcess:
    """``uvicorn issuebridge.app:app`` as a user starts it, in its own process and working directory."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    listener: Listener | None = field(default=None, repr=False)  # its own, closed by stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> float:
        """SIGTERM, as a service manager or Ctrl+C would; returns the seconds until the process exited."""
        started = time.monotonic()
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
                    raise AssertionError(f"the server did not stop within {timeout}s:\n{self.log}") from None
            return time.monotonic() - started
        finally:
            if self.listener is not None:
                self.listener.close()


def clean_environment(env: dict[str, str]) -> dict[str, str]:
    """This process's environment without its GITHUB_*/ISSUEBRIDGE_* variables, plus ``env``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ISSUEBRIDGE_"))}
    return {**kept, **env}


def uvicorn_command(fd: int) -> list[str]:
    """``uvicorn issuebridge.app:app`` serving the listening socket it inherits as descriptor ``fd``."""
    return [sys.executable, "-m", "uvicorn", "issuebridge.app:app", "--fd", str(fd)]


_logs = itertools.count(1)


def start_server(
    workdir: Path,
    env: dict[str, str],
    *,
    listener: Listener | None = None,
    command: Callable[[int], list[str]] = uvicorn_command,
) -> ServerProcess:
    """Start the server from ``workdir`` (not the repo), so templates must come from the installed package.

    It serves ``listener`` (a restart on the same address passes the test's own, which the test
    closes) or one of its own, closed by :meth:`ServerProcess.stop`. ``command`` gives the
    command line for the inherited descriptor (the page benchmark starts a variant of the app).
    Returns once ``/healthz`` answers.
    """
    return _answering(_spawn(workdir, env, listener, command))


def start_servers(workdir: Path, *envs: dict[str, str]) -> list[ServerProcess]:
    """Several servers (workers), one per environment, started side by side; returns once each answers."""
    spawned = [_spawn(workdir, env, None, uvicorn_command) for env in envs]
    try:
        return [_answering(server) for server in spawned]
    except BaseException:
        for server in spawned:
            server.stop()
        raise


def _spawn(
    workdir: Path, env: dict[str, str], listener: Listener | None, command: Callable[[int], list[str]]
) -> ServerProcess:
    own = Listener() if listener is None else None
    listening = listener or own
    assert listening is not None
    log_path = workdir / f"server-{listening.port}-{next(_logs)}.log"
    fd = listening.socket.fileno()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command(fd), cwd=workdir, env=clean_environment(env), stdout=log, stderr=log, pass_fds=[fd]
        )
    return ServerProcess(process, listening.port, log_path, own)


def _answering(server: ServerProcess) -> ServerProcess:
    deadline = time.monotonic() + START_SECONDS
    # The socket listens already: a request waits in its backlog until the app has started, so
    # each try is bounded only to notice a process that exited instead.
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            server.stop()
            raise AssertionError(f"the server exited with {server.process.returncode}:\n{server.log}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=0.5).status_code == 200:
                return server
        except httpx.TimeoutException:
            continue
        except httpx.TransportError:
            time.sleep(0.05)
    server.stop()
    raise AssertionError(f"the server did not answer /healthz within {START_SECONDS:.0f}s:\n{server.log}")


class RedisDidNotStart(AssertionError):
    pass


class RedisServer:
    """A real ``redis-server`` on a free loopback port, without persistence; one database per test."""

    DATABASES = 4096

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._databases = itertools.count(1)
        # redis-server binds its own port (it takes no socket): if another process took the
        # free port first, it exits, and another port is tried.
        for attempt in range(5):
            self.port = free_port()
            try:
                self._start()
                break
            except RedisDidNotStart:
                if attempt == 4:
                    raise

    def _start(self) -> None:
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        options |= {"databases": str(self.DATABASES), "dir": str(self._workdir)}
        self._process = subprocess.Popen(
            ["redis-server", *(part for name, value in options.items() for part in (f"--{name}", value))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while self.command("PING") != "PONG":
            if time.monotonic() > deadline or self._process.poll() is not None:
                self._process.kill()
                self._process.wait()
                raise RedisDidNotStart(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and nothing is answered, until :meth:`thaw`."""
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._process.send_signal(signal.SIGCONT)

    def restart(self, down_seconds: float = 0) -> None:
        """Stop redis-server, leave it down for ``down_seconds``, and start it again on the same
        port, empty (nothing is persisted); returns once it answers."""
        self.stop()
        time.sleep(down_seconds)
        self._start()

    def fresh_url(self) -> str:
        """The URL of a database no other test has used."""
        database = next(self._databases)
        assert database < self.DATABASES, "more tests than Redis databases: raise RedisServer.DATABASES"
        return f"redis://127.0.0.1:{self.port}/{database}"

    def command(self, *args: str, database: int = 0) -> str:
        """One command through ``redis-cli``, a client other than the one under test."""
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), "-n", str(database), *args], capture_output=True, text=True
        )
        return result.stdout.strip()

    def stop(self) -> None:
        self.thaw()  # a stopped process would not act on SIGTERM
        self._process.terminate()
        self._process.wait(10)
