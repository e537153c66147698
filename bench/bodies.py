"""Bodies kept with their records (issue 16's preview): what they cost a board's memory, its store
write and load, and one preview; and that the whole-board JSON does not grow.

``python -m bench.bodies [--smoke]``. Bodies of realistic size: lengths drawn (seeded) from a
log-normal distribution with a median of 700 bytes, as GitHub issue bodies run (a short report,
an issue template filled in, now and then a long log pasted in), cut at GitHub's 65,536
characters, then trimmed by the board to 8 KB; and the worst case, every body 8 KB or more.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine
from bench.sync import REPO, memory_per_issue
from issuebridge.github.mapping import issue_from_github
from issuebridge.live.json_format import entry_json
from issuebridge.records.base import now
from issuebridge.records.bodies import BODY_BYTES
from issuebridge.records.issues import IssuesBoard
from issuebridge.records.registry import read_stored
from issuebridge.settings import Settings
from issuebridge.store import store_for
from issuebridge.web.markdown import render_markdown
from testkit.fake_github import make_issue

PARAGRAPH = (
    "When I run `make test` with **two** jobs the build fails on the second step. "
    "See [the log](https://example.com/log) and the table below.\n\n"
    "| step | result |\n|:--|--:|\n| build | ok |\n| test | crash |\n\n"
    '```\nTraceback (most recent call last):\n  File "app.py", line 12, in <module>\n```\n\n'
    "- [ ] reproduced on main\n- [x] reproduced on the release\n\n> It worked last week.\n\n"
)


def body_of(length: int) -> str:
    return (PARAGRAPH * (length // len(PARAGRAPH) + 1))[:length]


def realistic_lengths(count: int) -> list[int]:
    rng = random.Random(16)  # noqa: S311 - a repeatable sample, not a secret
    return [min(65_536, int(rng.lognormvariate(6.55, 1.2))) for _ in range(count)]  # median e^6.55 = 700


def board_of(items: list[dict[str, Any]]) -> IssuesBoard:
    issues = [issue_from_github(item) for item in items]
    return IssuesBoard(repository=REPO, state="open", source="mcp", issues=issues, last_updated=now())


def best_ms(samples: list[float]) -> float:
    return min(samples) * 1000


async def store_times(board: IssuesBoard, runs: int) -> tuple[float, float]:
    """Best-of-``runs`` milliseconds to save the board to SQLite, and to read it back as a store does."""
    saves, loads = [], []
    with tempfile.TemporaryDirectory() as tmp:
        store = store_for(Settings(db_path=Path(tmp) / "bench.db"))
        await store.open()
        try:
            for _ in range(runs):
                started = time.perf_counter()
                await store.save(board)
                saves.append(time.perf_counter() - started)
            body = board.model_dump_json()
            for _ in range(runs):
                started = time.perf_counter()
                read_stored(body)
                loads.append(time.perf_counter() - started)
        finally:
            await store.close()
    return best_ms(saves), best_ms(loads)


async def run(smoke: bool = False) -> None:
    count, runs = (200, 1) if smoke else (5000, 5)
    labels = [("bug", "d73a4a")]
    lengths = realistic_lengths(count)
    cases = {
        "no bodies (as before)": [make_issue(REPO, n, labels=labels) for n in range(1, count + 1)],
        "realistic bodies": [
            make_issue(REPO, n, labels=labels, body=body_of(lengths[n - 1])) for n in range(1, count + 1)
        ],
        "every body 8 KB or more": [
            make_issue(REPO, n, labels=labels, body=body_of(12_000)) for n in range(1, count + 1)
        ],
    }
    kept = [min(length, BODY_BYTES) for length in lengths]
    print(f"## Bodies on a board: {count:,} issues")
    print(f"machine: {machine()}; times best of {runs}")
    print(
        f"realistic bodies: median {statistics.median(lengths):,.0f} bytes, mean {statistics.mean(lengths):,.0f}; "
        f"kept: mean {statistics.mean(kept):,.0f} bytes, {sum(n > BODY_BYTES for n in lengths) / count:.1%} trimmed"
    )
    print()
    print("| board | bytes per issue held | SQLite save | load (validate) | whole-board JSON |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, items in cases.items():
        held, _ = memory_per_issue(items)
        board = board_of(items)
        save_ms, load_ms = await store_times(board, runs)
        print(f"| {name} | {held:,.0f} | {save_ms:,.1f} ms | {load_ms:,.1f} ms | {len(entry_json(board)):,} bytes |")
    renders = []
    for _ in range(runs * 4):
        started = time.perf_counter()
        render_markdown(body_of(BODY_BYTES))
        renders.append(time.perf_counter() - started)
    print()
    print(f"- one preview's body rendered and sanitised (8 KB of Markdown): {best_ms(renders):.2f} ms")


if __name__ == "__main__":
    asyncio.run(run("--smoke" in sys.argv))
