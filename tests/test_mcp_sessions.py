"""The MCP session registry on its own, with a clock of the test's: when a count frees, and what
a refusal says. The transports themselves: ``tests/e2e/test_mcp_sessions.py``."""

from __future__ import annotations

import json

from issuebridge.mcp.sessions import McpSessions


def test_an_idle_streamable_http_session_frees_its_place_when_the_sdk_closes_it() -> None:
    clock = [0.0]
    ended: list[str] = []
    sessions = McpSessions(total=10, per_client=1, idle_seconds=600, clock=lambda: clock[0])
    sessions.on_end.append(ended.append)
    key = sessions.reserve("10.0.0.1")
    sessions.rename(key, "http:abc", expires=True)
    sessions.request_ended("http:abc")  # the opening request's answer is out: idle from now
    clock[0] = 599.0
    refused = sessions.refusal("10.0.0.1")
    assert refused is not None and refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert sessions.request_began("http:abc")  # a request in flight: not idle, however long it takes
    clock[0] = 5000.0
    assert sessions.refusal("10.0.0.1") is not None
    sessions.request_ended("http:abc")
    clock[0] = 5600.0
    assert sessions.refusal("10.0.0.1") is None and ended == ["http:abc"]
    assert len(sessions) == 0 and sessions.open_for("10.0.0.1") == 0


def test_an_sse_session_never_expires_while_its_stream_is_open() -> None:
    clock = [0.0]
    sessions = McpSessions(total=1, per_client=5, idle_seconds=1, clock=lambda: clock[0])
    key = sessions.reserve("10.0.0.1")
    sessions.rename(key, "sse:0123", expires=False)
    clock[0] = 10_000.0
    full = sessions.refusal("10.0.0.2")
    assert full is not None and full.status_code == 503
    message = json.loads(bytes(full.body))["error"]["message"]
    assert "the server has 1 MCP sessions open" in message and "ISSUEBRIDGE_MCP_MAX_SESSIONS" in message
    sessions.end("sse:0123")
    assert sessions.refusal("10.0.0.2") is None


def test_a_session_that_never_got_an_id_is_not_counted_after_its_request() -> None:
    sessions = McpSessions(total=2, per_client=2, idle_seconds=60)
    for _ in range(5):  # opening requests refused by the SDK (bad body, wrong method): each gives its place back
        sessions.end(sessions.reserve("10.0.0.1"))
    assert sessions.open_for("10.0.0.1") == 0 and sessions.refusal("10.0.0.1") is None
