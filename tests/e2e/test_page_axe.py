"""axe-core on the dashboard (#16): no serious or critical violation, light and dark, on a
desktop and on a phone, with every kind of entry on the page (testkit/showcase.py: issues with
white and near-white labels, pull requests with a draft, commits, a panel with Markdown, and an
issues board of both states).

axe-core comes from npm (tests/node, pinned in its lock file; ``make test`` installs it) and is
read from that file, never a CDN. It goes in as an init script (the DevTools protocol's
"evaluate on new document"), which the page's Content-Security-Policy (``script-src 'self'``)
does not apply to: the page is checked exactly as served, CSP on, and the ``page`` fixture
still fails the test if the page trips it.
"""

from __future__ import annotations

from pprint import pformat
from typing import Any, Literal

from playwright.async_api import Page, expect

from testkit import showcase
from testkit.fake_github import FakeGitHub
from tests.browser import BROWSER_TESTS
from tests.e2e.node_clients import NODE_DIR
from tests.e2e.test_stream import push
from tests.inprocess import AppServer

pytestmark = BROWSER_TESTS

AXE = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": 1280, "phone": 390}
SCHEMES: list[Literal["light", "dark"]] = ["light", "dark"]
# What axe says of each violation, kept short enough to read in a failure.
SUMMARY_JS = """results => results.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 5).map(n => [n.target.join(" "), n.failureSummary]), count: v.nodes.length}))"""


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical violations of every rule axe runs by default (WCAG 2.2 A and AA,
    and its best practices)."""
    results = await page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    summary: list[dict[str, Any]] = await page.evaluate(SUMMARY_JS, results)
    return summary


async def test_no_serious_or_critical_axe_violation(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    assert AXE.exists(), f"{AXE} is missing: run `make test` (npm ci in tests/node)"
    showcase.seed(fake_github)
    await showcase.send(server.url)
    await push(
        server.url,
        "octo/both",
        [
            {"number": 1, "title": "Open one", "state": "open", "labels": [{"name": "blank", "color": "ffffff"}]},
            {"number": 2, "title": "Closed one", "state": "closed", "labels": [{"name": "grey", "color": "ededed"}]},
        ],
    )
    await page.add_init_script(path=str(AXE))
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    kinds = await page.locator("section.entry").evaluate_all("els => els.map(e => e.dataset.id.split(':')[0])")
    assert sorted(kinds) == ["commits", "issues", "issues", "panel", "pulls"]
    await expect(page.locator(".draft-badge")).to_have_count(1)
    await expect(page.locator(".markdown blockquote a")).to_have_count(1)

    found = {}
    for scheme in SCHEMES:
        await page.emulate_media(color_scheme=scheme)
        for name, width in WIDTHS.items():
            await page.set_viewport_size({"width": width, "height": 900})
            found[f"{scheme} {name}"] = await axe_violations(page)
    assert not any(found.values()), pformat(found, width=160)
