"""The API token never reaches uvicorn's access log, however a request spells it.

Through a real uvicorn (in this process, its access logger formatting lines as it does for a
service) and raw request lines, so that nothing re-encodes what the attacker or a careless
link sends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote, unquote_plus

import pytest
from uvicorn.logging import AccessFormatter

from issuebridge.app import create_app
from issuebridge.settings import Settings
from issuebridge.web.access_log import ACCESS_LOGGER, RedactTokens
from tests.inprocess import raw_request, serving

# Characters a URL spells in more than one way: '+' (a space in a query), '/', '=' and '&'.
TOKEN = "Zx9+q/Ab=cd&ef-0123456789"


def everywhere(token: str) -> str:
    """Every character percent-encoded, in mixed-case hex."""
    return "".join(f"%{byte:02X}" if i % 2 else f"%{byte:02x}" for i, byte in enumerate(token.encode()))


# Request targets that carry the token; the comment says which lock catches each.
TARGETS = [
    f"/?token={quote(TOKEN, safe='')}",  # 1: the sign-in link
    f"/?%74oken={quote(TOKEN, safe='')}",  # 1: the name decodes to "token" (and signs in)
    f"/?t%6Fk%65n={quote(TOKEN, safe='')}",
    f"/?TOKEN={quote(TOKEN, safe='')}",  # 1: any case
    f"/?a=1&%74oken={quote(TOKEN, safe='')}&b=2",
    f"/?tok%65n+={quote(TOKEN, safe='')}",  # 1: "token " once decoded and stripped
    f"/?next={everywhere(TOKEN)}",  # 2: the token itself, encoded in full
    f"/?next={quote(quote(TOKEN, safe=''), safe='')}",  # 2: encoded twice
    f"/files/{quote(TOKEN, safe='')}/x",  # 2: in the path
    f"/?q=before{quote(TOKEN, safe='')}after",  # 2: inside a longer value
    f"/?q={TOKEN}",  # 2: raw, '&' and '=' included
]


def decodings(text: str) -> set[str]:
    seen, frontier = {text}, [text]
    for _ in range(6):
        frontier = [d for t in frontier for d in (unquote(t), unquote_plus(t)) if d not in seen]
        seen.update(frontier)
    return seen


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def access_lines() -> Iterator[Lines]:
    logger = logging.getLogger(ACCESS_LOGGER)
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_the_token_never_reaches_the_access_log(tmp_path: Path, access_lines: Lines) -> None:
    app = create_app(Settings(db_path=tmp_path / "b.db", api_token=TOKEN, github_api_url="http://127.0.0.1:9"))
    async with serving(app) as running:
        answers = {}
        for target in TARGETS:
            request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            answers[target] = (await raw_request(running.port, request)).split(b"\r\n", 1)[0]
    assert answers[TARGETS[1]] == b"HTTP/1.1 303 See Other"  # %74oken= really signs in
    logged = [line for line in access_lines.lines if '"GET ' in line]
    assert len(logged) == len(TARGETS)
    for line in logged:
        assert not any(TOKEN in decoded for decoded in decodings(line)), line
        assert "[redacted]" in line, line
    assert '"GET /?a=1&%74oken=[redacted]&b=2 HTTP/1.1" 303' in logged[4]  # the rest stays readable


def test_a_line_without_the_token_is_left_alone() -> None:
    redact = RedactTokens()
    redact.tokens.add(TOKEN)
    line = "/api/dashboard/issues?repository=octo/app&state=open"
    assert redact.redact(line) == line
    assert redact.redact("/?tokens=1&my_token=2") == "/?tokens=1&my_token=2"
