"""Issue 17's "done when", as one chat: the assistant puts a cross-repository search view on the
page, the user ticks rows of it in Chromium, the assistant reads the selected items in full and
publishes a panel about them; a second search shows the view's trend. One MCP session (the SDK's
client), the server in this process, the fake GitHub."""

from __future__ import annotations

from typing import Any

from mcp import Client
from playwright.async_api import Page, expect

from testkit.fake_github import FakeGitHub, make_comment, make_issue, make_pull, make_pull_request, make_review
from tests.browser import BROWSER_TESTS
from tests.inprocess import AppServer

pytestmark = BROWSER_TESTS
QUERY = "is:open label:bug repo:octo/app repo:octo/lib"


def seed(fake: FakeGitHub) -> None:
    bug = [("bug", "d73a4a")]
    fake.add_repo(
        "octo/app",
        [
            make_issue("octo/app", 1, title="Crash on start", labels=bug, body="Start the app: it **crashes**."),
            make_issue("octo/app", 2, title="Typo in the docs"),
            make_pull_request("octo/app", 3, title="Fix the crash", labels=bug, body="Fixes #1."),
        ],
    )
    fake.add_pulls("octo/app", [make_pull("octo/app", 3, title="Fix the crash", labels=bug, head="fix-crash")])
    fake.add_reviews("octo/app", 3, [make_review("octo/app", 3, 1, user="alice", state="APPROVED")])
    fake.add_repo("octo/lib", [make_issue("octo/lib", 1, title="Lib leaks memory", labels=bug, body="RSS grows.")])
    fake.add_comments("octo/lib", 1, [make_comment("octo/lib", 1, n, body=f"Seen on v{n}") for n in range(1, 8)])


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    answer: dict[str, Any] | None = result.structured_content
    assert answer is not None
    return answer


async def test_search_select_read_and_publish_in_one_chat(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    seed(fake_github)
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")

    async with Client(f"{server.url}/mcp") as chat:
        sent = await call(chat, "send_search_to_dashboard", query=QUERY, title="Open bugs")
        assert (sent["item_count"], sent["issue_count"], sent["pull_request_count"]) == (3, 2, 1)

        # The view appears live, rows of both repositories in it; the user ticks two of them.
        view = page.locator(f'section.view[data-id="{sent["board_id"]}"]')
        await expect(view.locator(".view-title")).to_have_text("Open bugs")
        await expect(view.locator("tbody tr")).to_have_count(3)
        await view.get_by_role("checkbox", name="Select octo/lib#1").check()
        await view.get_by_role("checkbox", name="Select octo/app#3").check()
        await expect(view.locator(".selection-status")).to_have_text("2 selected Clear")

        # "Summarise the ones I picked": the selection, then each item in full.
        board = await call(chat, "get_dashboard")
        picked = [(s["repository"], s["number"]) for s in board["selected"]]
        assert picked == [("octo/lib", 1), ("octo/app", 3)]
        assert "get_issue_details" in board["read_more"]
        read = [
            await call(chat, "get_issue_details", owner=repo.split("/")[0], repo=repo.split("/")[1], number=number)
            for repo, number in picked
        ]
        lib, pull = read
        assert (lib["title"], lib["body"], lib["comment_count"]) == ("Lib leaks memory", "RSS grows.", 7)
        assert [c["body"] for c in lib["comments"]] == [f"Seen on v{n}" for n in range(3, 8)]
        assert pull["kind"] == "pull_request" and pull["pull_request"]["review_state"] == "approved"
        assert pull["pull_request"]["head"] == "fix-crash"

        published = await call(
            chat,
            "publish_to_dashboard",
            title="The two you picked",
            summary_markdown=f"**{lib['title']}** has {lib['comment_count']} comments; "
            f"**{pull['title']}** is {pull['pull_request']['review_state']}.",
            items=[{"title": item["title"], "url": item["url"], "note": f"{item['repository']}#{item['number']}"}
                   for item in read],
        )  # fmt: skip
        panel = page.locator(f'section.entry.panel[data-id="panel:{published["panel_id"]}"]')
        await expect(panel.locator("h2")).to_have_text("The two you picked")
        await expect(panel.locator(".markdown")).to_contain_text("Lib leaks memory has 7 comments")
        await expect(panel.locator("tr.item")).to_have_count(2)
        await expect(panel.locator("tr.item").first).to_contain_text("octo/lib#1")

        # GitHub moves on; the same search again updates the view and shows its trend.
        fake_github.add_repo(
            "octo/lib",
            [
                make_issue("octo/lib", 1, title="Lib leaks memory", labels=[("bug", "d73a4a")], state="closed"),
                make_issue("octo/lib", 2, title="Lib hangs", labels=[("bug", "d73a4a")]),
            ],
        )
        again = await call(chat, "send_search_to_dashboard", query=QUERY)
        assert again["board_id"] == sent["board_id"] and again["changed"] is True
    trend = view.locator(".trend")
    await expect(trend).to_contain_text("+1 opened, \u22121 closed")
    await expect(view.locator('tr[data-item="octo/lib#2"]')).to_have_count(1)
    # The selection is per item: the closed one stays picked though it left the view.
    await expect(view.locator(".selection-status")).to_contain_text("selected")
