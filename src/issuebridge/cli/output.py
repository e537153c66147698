"""Rich consoles and the pages progress bar shared by the commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

# Called with (pages done, total pages if known).
PageCallback = Callable[[int, int | None], None]


def console(*, stderr: bool = False) -> Console:
    """A console that does not squeeze tables into 80 columns when the output is a file or a pipe."""
    stream = sys.stderr if stderr else sys.stdout
    wide = None if stream.isatty() or "COLUMNS" in os.environ else 120
    return Console(stderr=stderr, width=wide, highlight=False)


class PagesColumn(ProgressColumn):
    """``3/12 pages``, or ``3 pages`` until GitHub's Link header has told the total."""

    def render(self, task: Task) -> Text:
        done = int(task.completed)
        return Text(f"{done}/{int(task.total)} pages" if task.total else f"{done} pages")


@contextmanager
def page_bars(out: Console) -> Iterator[Callable[[str], PageCallback]]:
    """One bar per board; yields ``add(label)``, which returns that bar's page callback.

    On a terminal the bars move; into a file or pipe rich writes them once, finished.
    """
    progress = Progress(TextColumn("{task.description}"), BarColumn(), PagesColumn(), TimeElapsedColumn(), console=out)

    def add(label: str) -> PageCallback:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        return update

    with progress:
        yield add
