"""Servers as separate processes, for the tests and benchmarks whose point is the process.

``uvicorn issuebridge.app:app`` as a user starts it (:func:`start_server`), and a real
``redis-server`` (:class:`RedisServer`).
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
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``uvicorn issuebridge.app:app`` as a user starts it, in its own process and working directory."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> float:
        """SIGTERM, as a service manager or Ctrl+C would; returns the seconds until the process exited."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"the server did not stop within {timeout}s:\n{self.log}") from None
        return time.monotonic() - started


def uvicorn_command(port: int) -> list[str]:
    """``uvicorn issuebridge.app:app`` on 127.0.0.1:``port``, as a user starts it."""
    return [sys.executable, "-m", "uvicorn", "issuebridge.app:app", "--host", "127.0.0.1", "--port", str(port)]


def start_server(
    workdir: Path,
    env: dict[str, str],
    *,
    port: int | None = None,
    command: Callable[[int], list[str]] = uvicorn_command,
) -> ServerProcess:
    """Start the server from ``workdir`` (not the repo), so templates must come from the installed package.

    ``command`` gives the command line for a port (the page benchmark starts a variant of the app).
    """
    port = port or free_port()
    log_path = workdir / f"server-{port}.log"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ISSUEBRIDGE_"))}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command(port), cwd=workdir, env={**clean_env, **env}, stdout=log, stderr=log)
    server = ServerProcess(process, port, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{server.log}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError(f"the server did not answer /healthz within 30s:\n{server.log}")


class RedisServer:
    """A real ``redis-server`` on a free loopback port, without persistence; one database per test."""

    DATABASES = 4096

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self._workdir = workdir
        self._databases = itertools.count(1)
        self._start()

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
                raise AssertionError("redis-server did not start")
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
