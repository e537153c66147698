"""The benchmarks still run: ``python -m bench --smoke`` (small sizes, no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_runs_in_smoke_mode() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"], cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "## Sync" in done.stdout and "warm re-sync" in done.stdout
    assert "## Page" in done.stdout and "## Fan-out" in done.stdout and "## Trust" in done.stdout
