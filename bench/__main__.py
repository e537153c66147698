"""``python -m bench [--smoke]``: every benchmark, one after another (``make bench``).

``--smoke`` runs each at a small size, in seconds, to prove it still works (CI and the tests do
this); its timings mean nothing.
"""

from __future__ import annotations

import asyncio
import importlib
import sys

BENCHMARKS = (
    "bench.sync",
    "bench.page",
    "bench.page_browser",
    "bench.fanout",
    "bench.workers",
    "bench.trust",
    "bench.bodies",
    "bench.views",
)


async def main(smoke: bool) -> None:
    for name in BENCHMARKS:
        await importlib.import_module(name).run(smoke)
        print()


if __name__ == "__main__":
    asyncio.run(main("--smoke" in sys.argv))
