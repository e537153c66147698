"""The docs' screenshots of the dashboard: ``python -m testkit.screenshots`` (a few seconds).

Starts the server as a user does (``uvicorn issuebridge.app:app``, in a temporary directory)
against the fake GitHub, fills it with every kind of entry (:mod:`testkit.showcase`) and
photographs the page in Debian's Chromium at desktop width (``docs/dashboard.png``, 1280 px)
and at the width of a window beside the editor (``docs/dashboard-narrow.png``, 760 px), in the
light theme. Run it again after a visible change to the page.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright, expect

from testkit import showcase
from testkit.chromium import CHROMIUM, CHROMIUM_ARGS
from testkit.fake_github import FakeGitHub
from testkit.servers import start_server

DOCS = Path(__file__).resolve().parents[1] / "docs"
SHOTS = {"dashboard.png": (1280, 1100), "dashboard-narrow.png": (760, 1100)}


async def photograph(url: str, out: Path) -> list[Path]:
    written = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, (width, height) in SHOTS.items():
            context = await browser.new_context(viewport={"width": width, "height": height}, color_scheme="light")
            page = await context.new_page()
            await page.goto(url)
            await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
            # The issues board, where a reader spends the time: its top at the top of the picture.
            await page.locator(f'section.entry[data-id="issues:{showcase.REPO}"]').evaluate("el => el.scrollIntoView()")
            await page.screenshot(path=str(out / name))
            written.append(out / name)
            await context.close()
        await browser.close()
    return written


async def main(out: Path = DOCS) -> None:
    with FakeGitHub() as fake, tempfile.TemporaryDirectory() as workdir:
        showcase.seed(fake)
        server = start_server(Path(workdir), {"GITHUB_API_URL": fake.url, "ISSUEBRIDGE_DB": f"{workdir}/shots.db"})
        try:
            await showcase.send(server.url)
            for path in await photograph(server.url, out):
                print(path)
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS))
