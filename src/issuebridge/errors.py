"""The one root of issuebridge's errors: a message safe to show, and the HTTP status it means.

::

    IssuebridgeError                      (500)
    ├── InvalidInput                      (400)  bad arguments, names, bodies; also a ValueError
    │   ├── records.base.InvalidRepository
    │   ├── github.webhook_events.BadPayload        (422)
    │   └── dashboard.panels.InvalidPanel           (422)
    ├── github.errors.GitHubError         (502)  what GitHub answered, and what to do
    │   ├── RepositoryNotFound (404), RateLimited (429), GitHubUnavailable (503), ...
    └── store.base.StoreError             (503)  the store cannot be read or written
        ├── NotSaved, MaybeSaved, Conflict, ...

``str(error)`` never holds a secret (a token, a password) or a traceback: it is what a tool
result, an HTTP answer or a terminal shows. Each adapter maps these once: ``mcp/tools.py`` to
tool errors, ``web/errors.py`` to JSON answers.
"""

from __future__ import annotations


class IssuebridgeError(Exception):
    """Something the caller should be told about, in words fit to show them."""

    status = 500

    def about(self, subject: str) -> str:
        """This error as one sentence about ``subject`` ("the board", "the panel")."""
        return str(self)


class InvalidInput(IssuebridgeError, ValueError):
    """Input that cannot be used as given; the message says what is wrong with it."""

    status = 400
