"""How long Redis has left a command unanswered: what ``/healthz`` says while Redis stalls.

A paused or stopped Redis (``CLIENT PAUSE``, SIGSTOP, a slow disk under ``appendfsync always``)
keeps its connections open and simply does not answer, so nothing fails until a timeout; and
an idle worker sends nothing but its blocking read of the change log. Each command is timed
here against the moment its answer is due, so that a stall shows while it lasts.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterator

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError


class Silence:
    """Commands sent to Redis and not answered yet, and since when Redis has been silent.

    Redis is silent from the moment a command's answer was due and none came, until any command
    gets an answer (an error reply is an answer too); a command that timed out keeps the silence
    on record after it is gone. A lost connection is not silence: the store reports it itself.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._waiting: dict[int, tuple[float, float]] = {}  # id -> (sent, due)
        self._ids = itertools.count()
        self._unanswered_since: float | None = None  # when a command that timed out was sent

    @contextlib.contextmanager
    def awaiting(self, within: float) -> Iterator[None]:
        """Around one command, whose answer is due ``within`` seconds from now."""
        key = next(self._ids)
        sent = self._clock()
        self._waiting[key] = (sent, sent + within)
        try:
            yield
        except (RedisTimeoutError, TimeoutError):  # before OSError: the builtin TimeoutError is one
            if self._unanswered_since is None or sent < self._unanswered_since:
                self._unanswered_since = sent
            raise
        except (ResponseError, RedisConnectionError, OSError):
            self._unanswered_since = None
            raise
        else:
            self._unanswered_since = None
        finally:
            del self._waiting[key]

    def silent_for(self) -> float | None:
        """Seconds since the oldest command still without its overdue answer was sent, or None
        while every answer comes in time."""
        now = self._clock()
        sent = [sent for sent, due in self._waiting.values() if due <= now]
        if self._unanswered_since is not None:
            sent.append(self._unanswered_since)
        return now - min(sent) if sent else None
