"""What every benchmark needs: the machine it ran on, a fake GitHub in its own process, server memory."""

from __future__ import annotations

import multiprocessing
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from testkit.fake_github import FakeGitHub
from testkit.servers import ServerProcess


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.machine(),
    )
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}"


def _serve(repos: dict[str, list[dict[str, Any]]], latency: float, url: Any, stop: Any) -> None:
    with FakeGitHub() as fake:
        for name, items in repos.items():
            fake.add_repo(name, items)
        fake.latency = latency
        url.send(fake.url)
        stop.recv()


@contextmanager
def fake_github_process(repos: dict[str, list[dict[str, Any]]], latency: float) -> Iterator[str]:
    """The tests' fake GitHub serving ``repos``, each answer ``latency`` seconds late, in its own
    process: its JSON encoding must not compete with the benchmark's client for one GIL."""
    context = multiprocessing.get_context("fork")
    url_out, url_in = context.Pipe()
    stop_out, stop_in = context.Pipe()
    process = context.Process(target=_serve, args=(repos, latency, url_in, stop_out), daemon=True)
    process.start()
    try:
        if not url_out.poll(30):
            raise RuntimeError("the fake GitHub did not start")
        yield str(url_out.recv())
    finally:
        stop_in.send(None)
        process.join(5)
        if process.is_alive():
            process.kill()


def rss_kib(server: ServerProcess) -> int:
    """The server process's resident memory."""
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")
