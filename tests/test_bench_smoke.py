"""The benchmarks still run: each of ``python -m bench --smoke``'s (small sizes, no timing assertions).

One test per benchmark, each in a process of its own as ``python -m bench`` runs it, so that
pytest-xdist spreads them over the workers instead of one test running them all in a row.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS

ROOT = Path(__file__).resolve().parent.parent
# What each benchmark's report must hold.
REPORTS = {
    "bench.sync": ("## Sync", "warm re-sync"),
    "bench.page": ("## Page",),
    "bench.page_browser": ("## Page in Chromium", "interactive"),
    "bench.fanout": ("## Fan-out",),
    "bench.workers": (),
    "bench.trust": ("## Trust",),
    "bench.bodies": ("## Bodies", "bytes per issue held"),
    "bench.views": ("## Search views", "concurrent pages"),
}


def test_every_benchmark_is_smoke_tested() -> None:
    assert set(REPORTS) == set(BENCHMARKS)


def smoke(code: str) -> str:
    """Run ``code`` as ``python -m bench`` would, from the checkout; what it printed."""
    # Not measured for coverage (make test measures the processes the tests start): the servers
    # a benchmark starts run what the other tests cover, and measuring them doubled these tests.
    env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_the_benchmark_runs_in_smoke_mode(benchmark: str) -> None:
    printed = smoke(f"import asyncio, importlib; asyncio.run(importlib.import_module({benchmark!r}).run(True))")
    for expected in REPORTS[benchmark]:
        assert expected in printed, printed


def test_the_fan_out_ablation_runs_in_smoke_mode() -> None:
    """``python -m bench.fanout --ablation`` starts the delivery variants as their own servers."""
    printed = smoke("import asyncio; from bench import fanout; asyncio.run(fanout.run(True, ablation=True))")
    assert "## Fan-out" in printed and "queued" in printed and "plain" in printed, printed
