from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from issuebridge.github.mapping import commit_from_github, is_pull_request, issue_from_github, pull_from_github
from issuebridge.github.webhook_events import read_event
from issuebridge.records.base import (
    DEFAULT_LABEL_COLOUR,
    InvalidRepository,
    Label,
    parse_repository,
    readable_text_colour,
    relative_luminance,
    repository_name,
)
from issuebridge.records.commits import TIMELINE_DAYS, Commit, CommitsBoard
from issuebridge.records.issues import Issue, SyncIssuesRequest, diff_issues, summarize
from issuebridge.records.panels import Panel
from issuebridge.records.tracked import RowChange
from testkit.fake_github import make_commit, make_issue, make_pull, make_pull_request, make_webhook
from tests.unvalidated import hostile_colours

HOSTILE_COLOURS = [*hostile_colours("https://evil.example/"), "", "d73a4", "gggggg", 0xD73A4A, None, ["d73a4a"]]


@pytest.mark.parametrize(
    "value", ["facebook/react", "a/b", "my-org/repo.name_2", "  octo-cat/hello-world  ", "A1/.github"]
)
def test_valid_repository_names(value: str) -> None:
    assert parse_repository(value) == value.strip()


@pytest.mark.parametrize(
    "value",
    [
        "react",
        "facebook/",
        "/react",
        "-facebook/react",
        "face book/react",
        "facebook/re act",
        "facebook/..",
        "facebook/react/extra",
        "x" * 40 + "/react",
        "facebook/" + "r" * 101,
        "<script>/x",
        "facebook/react?x=1",
        "../../etc/passwd",
    ],
)
def test_invalid_repository_names_are_rejected_with_a_reason(value: str) -> None:
    with pytest.raises(InvalidRepository, match="not"):
        parse_repository(value)


def test_repository_name_says_which_part_is_wrong() -> None:
    with pytest.raises(InvalidRepository, match="owner"):
        repository_name("bad owner", "react")
    with pytest.raises(InvalidRepository, match="repository name"):
        repository_name("facebook", "bad/repo")


def test_github_item_maps_to_a_compact_record() -> None:
    item = make_issue(
        "octo/app",
        7,
        title="Crash on start",
        labels=[("bug", "D73A4A")],
        user="mona",
        assignees=["hubot", "mona"],
        comments=3,
    )
    issue = issue_from_github(item)
    assert issue.number == 7
    assert issue.title == "Crash on start"
    assert issue.state == "open"
    assert [(label.name, label.color) for label in issue.labels] == [("bug", "d73a4a")]
    assert issue.author == "mona"
    assert issue.assignees == ["hubot", "mona"]
    assert issue.comments == 3
    assert issue.html_url == "https://github.com/octo/app/issues/7"
    assert issue.created_at is not None and issue.created_at.tzinfo is not None
    assert set(TypeAdapter(Issue).dump_python(issue)) == {
        "number",
        "title",
        "state",
        "labels",
        "author",
        "assignees",
        "comments",
        "created_at",
        "updated_at",
        "html_url",
        "body",  # kept for the preview, trimmed (records/bodies.py); "" for GitHub's null
        "body_trimmed",
    }
    assert (issue.body, issue.body_trimmed) == ("", False)


def test_pull_requests_are_recognised() -> None:
    assert is_pull_request(make_pull_request("octo/app", 1))
    assert not is_pull_request(make_issue("octo/app", 2))


def test_hostile_label_colour_from_github_falls_back_to_grey() -> None:
    item: dict[str, Any] = make_issue("octo/app", 1, labels=[("x", "ff0000")])
    item["labels"][0]["color"] = "red;background:url(javascript:alert(1))"
    item["labels"].append("plain-name")
    issue = issue_from_github(item)
    assert [(label.name, label.color) for label in issue.labels] == [
        ("x", "ededed"),
        ("plain-name", "ededed"),
    ]


def test_issue_rejects_script_urls_and_bad_colours() -> None:
    with pytest.raises(ValidationError, match="html_url"):
        Issue(number=1, title="x", state="open", html_url="javascript:alert(1)")
    with pytest.raises(ValidationError, match="color"):
        TypeAdapter(Issue).validate_python(
            {"number": 1, "title": "x", "state": "open", "labels": [{"name": "a", "color": "#fff"}]}
        )


@pytest.mark.parametrize("colour", HOSTILE_COLOURS, ids=repr)
def test_a_label_colour_must_be_exactly_six_hex_digits(colour: object) -> None:
    with pytest.raises(ValidationError) as refused:
        Label(name="bug", color=colour)  # type: ignore[arg-type]
    assert [error["loc"] for error in refused.value.errors()] == [("color",)]
    body = {
        "repository": "a/b",
        "issues": [{"number": 1, "title": "t", "state": "open", "labels": [{"name": "x", "color": colour}]}],
    }
    with pytest.raises(ValidationError) as refused:
        SyncIssuesRequest.model_validate(body)
    assert [error["loc"] for error in refused.value.errors()] == [("issues", 0, "labels", 0, "color")]
    assert "six hex digits" in refused.value.errors()[0]["msg"]


def test_a_valid_label_colour_is_kept_in_lowercase() -> None:
    assert Label(name="bug", color="D73A4A").color == "d73a4a"
    assert Label(name="bug").color == DEFAULT_LABEL_COLOUR


@pytest.mark.parametrize("colour", HOSTILE_COLOURS, ids=repr)
def test_colours_from_github_lists_and_webhooks_that_are_not_six_hex_digits_become_grey(colour: object) -> None:
    issue: dict[str, Any] = make_issue("octo/app", 1, labels=[("bug", "d73a4a")])
    issue["labels"][0]["color"] = colour
    pull: dict[str, Any] = make_pull("octo/app", 2, labels=[("bug", "d73a4a")])
    pull["labels"][0]["color"] = colour
    listed = [issue_from_github(issue).labels[0], pull_from_github(pull).labels[0]]
    delivered = [
        read_event("issues", make_webhook("issues", "labeled", "octo/app", issue=issue)),
        read_event("pull_request", make_webhook("pull_request", "labeled", "octo/app", pull_request=pull)),
    ]
    for change in delivered:
        assert isinstance(change, RowChange) and change.row is not None
        listed.append(change.row.labels[0])
    assert [(label.name, label.color) for label in listed] == [("bug", DEFAULT_LABEL_COLOUR)] * 4


@pytest.mark.parametrize(
    ("build", "value"),
    [
        (lambda value: Commit(sha=value, message="m"), "abc1234"),
        (lambda value: Panel(panel_id=value, title="t", source="mcp", last_updated=datetime.now(UTC)), "weekly-triage"),
    ],
    ids=["commit sha", "panel id"],
)
def test_every_pattern_rule_matches_the_whole_value(build: Any, value: str) -> None:
    assert build(value) is not None
    for around in (
        f"<{value}",
        f"{value}>",
        f"{value}\n<b>",
        f"<b>\n{value}",
        f'{value}"><script>',
        f"{value} {value}",
    ):
        with pytest.raises(ValidationError, match="must be"):
            build(around)


def test_sync_request_rejects_unknown_fields_and_names_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        SyncIssuesRequest.model_validate({"repository": "a/b", "issues": [], "surprise": 1})
    assert info.value.errors()[0]["loc"] == ("surprise",)
    with pytest.raises(ValidationError) as info:
        SyncIssuesRequest.model_validate(
            {"repository": "a/b", "issues": [{"number": "x", "title": "t", "state": "open"}]}
        )
    assert info.value.errors()[0]["loc"] == ("issues", 0, "number")


def test_diff_reports_added_changed_and_removed() -> None:
    old = [Issue(number=n, title=f"t{n}", state="open") for n in (1, 2, 3, 4)]
    new = [
        Issue(number=1, title="t1", state="open"),
        Issue(number=2, title="renamed", state="open"),
        Issue(number=4, title="t4", state="closed"),
        Issue(number=5, title="t5", state="open"),
    ]
    diff = diff_issues(old, new)
    assert [i.number for i in diff.added] == [5]
    assert [i.number for i in diff.changed] == [2, 4]
    assert diff.removed == [3]
    unchanged = diff_issues(new, list(new))
    assert (unchanged.added, unchanged.changed, unchanged.removed) == ([], [], [])


def test_summary_counts_labels_and_ages() -> None:
    at = datetime(2026, 1, 31, tzinfo=UTC)

    def made(days_ago: int, *labels: str) -> Issue:
        return Issue(
            number=days_ago + 1,
            title="x",
            state="open",
            created_at=at - timedelta(days=days_ago),
            labels=[Label(name=name, color="d73a4a") for name in labels],
        )

    issues = [made(1, "bug"), made(10, "bug", "ui"), made(40), made(200, "ui"), made(800, "bug")]
    issues += [made(3, f"l{n}") for n in range(9)]  # nine labels used once each
    summary = summarize(issues, at)
    assert [(label.name, label.count) for label in summary.labels[:2]] == [("bug", 3), ("ui", 2)]
    assert len(summary.labels) == 8 and summary.other_labels == 3
    assert summary.unlabelled == 1
    assert summary.ages == [
        ("< 1 week", 10),
        ("1-4 weeks", 1),
        ("1-3 months", 1),
        ("3-12 months", 1),
        ("> 1 year", 1),
    ]
    assert summary.largest_label_count == 3 and summary.largest_age_count == 10


@pytest.mark.parametrize(
    ("background", "text"),
    [("ffffff", "000000"), ("000000", "ffffff"), ("d73a4a", "ffffff"), ("fef2c0", "000000")],
)
def test_label_text_colour_is_readable(background: str, text: str) -> None:
    assert readable_text_colour(background) == text


@pytest.mark.parametrize(("background", "text"), [("00a000", "000000"), ("ff0000", "000000"), ("3fb950", "000000")])
def test_label_text_colour_leaves_githubs_rule_where_it_reads_below_4_5(background: str, text: str) -> None:
    assert readable_text_colour(background) == text  # GitHub's rule picks white here, at 3.5-4:1


def test_label_text_colour_reaches_4_5_on_every_colour() -> None:
    steps = range(0, 256, 15)
    for colour in (f"{r:02x}{g:02x}{b:02x}" for r in steps for g in steps for b in steps):
        text, background = relative_luminance(readable_text_colour(colour)), relative_luminance(colour)
        lighter, darker = max(text, background), min(text, background)
        assert (lighter + 0.05) / (darker + 0.05) >= 4.5, colour


def test_hostile_link_from_github_is_dropped_not_fatal() -> None:
    item = make_issue("octo/app", 1)
    item["html_url"] = "javascript:alert(document.cookie)"
    assert issue_from_github(item).html_url is None


def test_a_commit_timeline_spans_a_year_at_most_whatever_dates_github_sends() -> None:
    dates = ["0001-01-01T00:00:00Z", "2026-11-20T10:00:00Z", "2026-11-30T10:00:00Z", "9999-12-31T00:00:00Z"]
    commits = [commit_from_github(make_commit("octo/app", n, date=when)) for n, when in enumerate(dates, 1)]
    board = CommitsBoard(repository="octo/app", source="mcp", commits=commits, last_updated=datetime.now(UTC))
    days = board.per_day
    assert len(days) == TIMELINE_DAYS and days[-1] == (datetime(9999, 12, 31).date(), 1)
    recent = CommitsBoard(repository="octo/app", source="mcp", commits=commits[1:3], last_updated=datetime.now(UTC))
    assert len(recent.per_day) == 11 and sum(count for _, count in recent.per_day) == 2
