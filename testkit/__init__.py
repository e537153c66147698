"""What the tests and the benchmarks share, and the package does not ship.

A GitHub-shaped fake (``fake_github``), the server and Redis as separate processes
(``servers``), an event-stream reader (``sse``), the MCP SDK's clients (``mcp_clients``). It is
not under ``tests/`` so that ``bench/`` can use it without importing the test suite.
"""
