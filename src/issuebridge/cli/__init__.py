"""The ``issuebridge`` command: serve the dashboard, push boards from a terminal, check a set-up.

Exit codes: 0 success; 1 a check or a sync failed (the message says why); 2 a usage or
configuration error (bad arguments, a bad ISSUEBRIDGE_*/GITHUB_* variable).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from issuebridge import __version__
from issuebridge.records.base import InvalidRepository, parse_repository

EPILOG = "Exit codes: 0 done; 1 a sync or check failed; 2 bad arguments or settings."


def repository_argument(value: str) -> str:
    """argparse type for ``owner/repo``: GitHub's naming rules, with their message."""
    try:
        return parse_repository(value)
    except InvalidRepository as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="issuebridge",
        description="A live GitHub dashboard that AI assistants fill over MCP.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"issuebridge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the server (dashboard, MCP at /sse and /mcp)",
        description="Run the server with the settings from the environment (ISSUEBRIDGE_*, GITHUB_*).",
        epilog="MCP sessions live in the worker that opened them, so with --workers N an MCP client may "
        "reach a worker that does not know its session; for MCP behind several processes, run one per "
        "port behind a proxy that keeps a client on one process (docs/workers.md). " + EPILOG,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default: 1); more than one needs ISSUEBRIDGE_REDIS_URL",
    )
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development)")

    push = commands.add_parser(
        "push",
        help="fetch a repository's boards from GitHub onto the dashboard, without an assistant",
        description="Fetch a repository's issues (and optionally pull requests and commits) onto the "
        "dashboard. Through a running server when --server or ISSUEBRIDGE_SERVER is given (its MCP "
        "tools, so open pages update at once), else directly into the store from the environment "
        "(ISSUEBRIDGE_DB or ISSUEBRIDGE_REDIS_URL). With SQLite, a server running on the same file "
        "shows a direct push only after a restart: push through the server instead.",
        epilog=EPILOG,
    )
    push.add_argument("repository", type=repository_argument, nargs="?", help="owner/repo (optional with --search)")
    push.add_argument(
        "--search",
        metavar="QUERY",
        help='also (or only) a view of a GitHub issue search, e.g. "is:open label:bug org:vercel"',
    )
    push.add_argument("--state", choices=["open", "closed", "all"], default="open", help="issues and pull requests")
    push.add_argument("--prs", action="store_true", help="also the pull-request board")
    push.add_argument("--commits", action="store_true", help="also the commit timeline (last 30 days)")
    push.add_argument(
        "--server",
        default=os.environ.get("ISSUEBRIDGE_SERVER") or None,
        help="a running server, e.g. http://127.0.0.1:8000 (default: ISSUEBRIDGE_SERVER)",
    )
    push.add_argument(
        "--token",
        help="the server's ISSUEBRIDGE_TOKEN (default: the ISSUEBRIDGE_TOKEN variable, which unlike "
        "this option does not show in the process list)",
    )
    push.add_argument("--direct", action="store_true", help="write the store directly even if a server is given")

    doctor = commands.add_parser(
        "doctor",
        help="check settings, GitHub access, the store and a server; print client configs",
        description="Check the settings, GitHub API and token, rate limit, the store and (with "
        "--server) a running server, then print the configs to paste into MCP clients.",
        epilog="Exit codes: 0 no check failed; 1 a check failed.",
    )
    doctor.add_argument(
        "--server",
        default=os.environ.get("ISSUEBRIDGE_SERVER") or None,
        help="also check this running server's /healthz (default: ISSUEBRIDGE_SERVER)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``issuebridge`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        if args.workers < 1:
            parser.error("--workers must be at least 1")
        if args.reload and args.workers > 1:
            parser.error("--reload runs one worker; leave out --workers")
        from issuebridge.cli.serve import serve

        return serve(args.host, args.port, args.workers, args.reload)
    if args.command == "push":
        from issuebridge.cli.push import push

        token = args.token or os.environ.get("ISSUEBRIDGE_TOKEN", "").strip() or None
        server = None if args.direct else args.server
        if args.repository is None and not args.search:
            parser.error("give a repository (owner/repo), --search QUERY, or both")
        return push(args.repository, args.state, args.prs, args.commits, server, token, search=args.search)
    from issuebridge.cli.doctor import doctor

    return doctor(args.server)


def print_error(message: str) -> None:
    """One clean line on stderr, as every failure of the command is reported."""
    print(f"issuebridge: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
