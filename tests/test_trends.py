"""A board's trend (records/trends.py): the arithmetic of one sync against the one before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from issuebridge.records.base import Label
from issuebridge.records.issues import Issue, IssuesBoard
from issuebridge.records.trends import MAX_LABELS, MAX_POINTS, with_trend

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def chips(names: list[str]) -> list[Label]:
    return [Label(name=name, color="d73a4a") for name in names]


def board(rows: dict[int, Any], *, state: str = "open", labels: dict[int, list[str]] | None = None) -> IssuesBoard:
    issues = [Issue(number=n, title=f"#{n}", state=s, labels=chips((labels or {}).get(n, []))) for n, s in rows.items()]
    return IssuesBoard(repository="octo/app", state=state, issues=issues, source="api", last_updated=T0)  # type: ignore[arg-type]


def synced(previous: Any, new: IssuesBoard, minutes: int = 0) -> IssuesBoard:
    result: IssuesBoard = with_trend(previous, new, T0 + timedelta(minutes=minutes))
    return result


def test_the_first_sync_counts_and_compares_with_nothing() -> None:
    first = synced(None, board({1: "open", 2: "open"}, labels={1: ["bug"], 2: ["bug", "docs"]}))
    [point] = first.trend
    assert (point.count, point.opened, point.closed, point.labels) == (2, None, None, {"bug": 2, "docs": 1})


def test_opened_and_closed_by_item_on_an_open_board_and_on_a_board_of_every_state() -> None:
    first = synced(None, board({1: "open", 2: "open", 3: "open"}))
    # An open board: 3 left (closed), 4 and 5 are new.
    second = synced(first, board({1: "open", 2: "open", 4: "open", 5: "open"}), 10)
    last = second.trend[-1]
    assert (last.count, last.opened, last.closed) == (4, 2, 1)
    assert (last.opened_items, last.closed_items) == (["4", "5"], ["3"])
    # A board of every state: 1 closed in place, 2 reopened after being closed, 3 gone (deleted,
    # transferred: not closed), 4 new but already closed (not opened).
    every = synced(None, board({1: "open", 2: "closed", 3: "open"}, state="all"))
    after = synced(every, board({1: "closed", 2: "open", 4: "closed"}, state="all"), 5).trend[-1]
    assert (after.opened_items, after.closed_items) == (["2"], ["1"])
    # Only the newest point names its items; older points keep their counts.
    third = synced(second, board({1: "open", 2: "open", 4: "open"}), 20)
    assert [p.count for p in third.trend] == [3, 4, 3]
    assert third.trend[1].opened == 2 and third.trend[1].opened_items == []
    assert third.trend[-1].closed_items == ["5"]


def test_a_sync_that_moves_nothing_a_trend_shows_adds_no_point() -> None:
    first = synced(None, board({1: "open"}, labels={1: ["bug"]}))
    retitled = Issue(number=1, title="New title", state="open", labels=chips(["bug"]))
    renamed = board({1: "open"}).model_copy(update={"issues": [retitled]})
    assert synced(first, renamed, 5).trend == first.trend
    relabelled = synced(first, board({1: "open"}, labels={1: ["docs"]}), 6)  # same count, other labels
    assert [p.labels for p in relabelled.trend] == [{"bug": 1}, {"docs": 1}]


def test_the_trend_is_bounded() -> None:
    current = synced(None, board({}))
    for minute in range(1, MAX_POINTS + 20):
        current = synced(current, board({n: "open" for n in range(1, minute % 7 + 2)}), minute)
    assert len(current.trend) == MAX_POINTS
    many = synced(None, board({1: "open"}, labels={1: [f"label-{i}" for i in range(MAX_LABELS + 30)]}))
    assert len(many.trend[0].labels) == MAX_LABELS


def test_a_stored_board_without_a_trend_still_loads_and_starts_one() -> None:
    from issuebridge.records.registry import read_stored

    stored = board({1: "open"}).model_dump_json(exclude={"trend"})
    old = read_stored(stored)
    assert isinstance(old, IssuesBoard) and old.trend == []
    assert len(synced(old, board({1: "open", 2: "open"}), 3).trend) == 1
