"""The HTTP under the GitHub source: requests go only to the configured API, the token only with
them, and no answer is read past a size limit, however GitHub (or whatever answers in its place)
behaves.

githubkit builds its httpx client with :class:`ApiTransport` (its ``async_transport`` option) and
:class:`BearerToken`. Every request passes the transport, the first of a fetch as much as the
pages its ``Link`` headers name and the targets of redirects, so one check covers them all; the
token is attached only where that check would let the request through, so that neither alone
guards it.
"""

from __future__ import annotations

import urllib.request
import zlib
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from ssl import SSLContext

import httpx
from githubkit import GitHubCore
from githubkit.auth.base import BaseAuthStrategy

INFLATE_STEP = 64 * 1024  # a compressed answer grows by at most this much at a time while it is read


class Refused(Exception):
    """A request the transport would not send, or an answer it would not read; ``str()`` says
    why in words safe to show (no token, no body)."""


class OutsideApi(Refused):
    pass


class TooLarge(Refused):
    pass


class Unreadable(Refused):
    pass


@dataclass(frozen=True, slots=True)
class ApiOrigin:
    """Where the GitHub API is: scheme, host and port, and its path prefix (``/api/v3`` on
    GitHub Enterprise Server, nothing on github.com)."""

    scheme: str
    host: str
    port: int
    prefix: str

    @classmethod
    def of(cls, api_url: str) -> ApiOrigin:
        url = httpx.URL(api_url)
        return cls(url.scheme, url.host, _port(url), url.path.rstrip("/"))

    def allows(self, url: httpx.URL) -> bool:
        """Whether ``url`` is on the API: same origin, under the prefix, no ``..`` (as the server
        would decode it) and no user name or password."""
        segments = url.path.split("/")
        return (
            (url.scheme, url.host, _port(url)) == (self.scheme, self.host, self.port)
            and not url.userinfo
            and (url.path == self.prefix or url.path.startswith(self.prefix + "/"))
            and "." not in segments
            and ".." not in segments
        )

    def __str__(self) -> str:
        default = {"http": 80, "https": 443}.get(self.scheme)
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{self.prefix}"


def _port(url: httpx.URL) -> int:
    return url.port or {"http": 80, "https": 443}.get(url.scheme, 0)


def _origin(url: httpx.URL) -> str:
    """``scheme://host:port`` of a URL someone else chose, shortened: enough to say where, never a path or query."""
    return f"{url.scheme}://{url.host}:{_port(url)}"[:100]


class BearerToken(BaseAuthStrategy, httpx.Auth):
    """Sends the token as ``Authorization: Bearer`` (githubkit's own strategy sends ``token``),
    and only to the API.

    Unlike githubkit's dataclass strategy, its ``repr`` never shows the token.
    """

    def __init__(self, token: str, api: ApiOrigin) -> None:
        self._token = token
        self._api = api

    def __repr__(self) -> str:
        return "BearerToken(***)"

    def get_auth_flow(self, github: GitHubCore[BaseAuthStrategy]) -> httpx.Auth:
        return self

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._api.allows(request.url):  # the transport refuses any other request as well
            request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class ApiTransport(httpx.AsyncBaseTransport):
    """Sends requests that stay on the API, and hands back bodies read (and, if gzip-compressed,
    inflated) up to ``max_bytes`` and no further.

    A proxy named by ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` (and not excluded by
    ``NO_PROXY``) is used from here: httpx reads those only for clients without a transport of
    their own, and would otherwise send requests around this one.
    """

    def __init__(self, api: ApiOrigin, max_bytes: int, ssl_context: SSLContext) -> None:
        self._api = api
        self._max_bytes = max_bytes
        self._refusal = (
            f"GitHub sent an answer larger than {_size(max_bytes)} (ISSUEBRIDGE_MAX_RESPONSE_BYTES), so "
            "issuebridge stopped reading it. Raise the limit only if that repository's pages really are that large."
        )
        self._inner = httpx.AsyncHTTPTransport(verify=ssl_context, proxy=_environment_proxy(api))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self._api.allows(request.url):
            raise OutsideApi(
                f"GitHub's answer pointed at {_origin(request.url)}, outside GITHUB_API_URL ({self._api}). "
                "issuebridge sends requests, and its token, only there, so it stopped this fetch."
            )
        response = await self._inner.handle_async_request(request)
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        declared = response.headers.get("content-length", "")
        try:
            if encoding not in ("identity", "gzip"):
                raise Unreadable(f"GitHub answered in an encoding issuebridge did not ask for ({encoding[:40]!r}).")
            if declared.isdigit() and int(declared) > self._max_bytes:
                raise TooLarge(self._refusal)
        except Refused:
            await response.aclose()
            raise
        headers = response.headers
        if encoding == "gzip":  # inflated here, within the limit; httpx gets the JSON itself
            headers = httpx.Headers(
                [(k, v) for k, v in headers.multi_items() if k.lower() not in ("content-encoding", "content-length")]
            )
        assert isinstance(response.stream, httpx.AsyncByteStream)
        body = _BoundedBody(response.stream, self._max_bytes, self._refusal, inflate=encoding == "gzip")
        return httpx.Response(response.status_code, headers=headers, stream=body, extensions=response.extensions)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _BoundedBody(httpx.AsyncByteStream):
    """A body that raises :class:`TooLarge` (saying ``refusal``) once more than ``limit`` bytes of
    it, inflated, have come."""

    def __init__(self, raw: httpx.AsyncByteStream, limit: int, refusal: str, *, inflate: bool) -> None:
        self._raw = raw
        self._limit = limit
        self._refusal = refusal
        self._inflate = inflate

    async def __aiter__(self) -> AsyncIterator[bytes]:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if self._inflate else None
        size = 0
        async for chunk in self._raw:
            for piece in [chunk] if inflater is None else _inflated(inflater, chunk):
                size += len(piece)
                if size > self._limit:
                    raise TooLarge(self._refusal)
                yield piece
        if inflater is not None and not inflater.eof:
            raise Unreadable("GitHub's compressed answer ended early.")

    async def aclose(self) -> None:
        await self._raw.aclose()


def _inflated(inflater: zlib._Decompress, data: bytes) -> Iterator[bytes]:
    """``data`` inflated at most :data:`INFLATE_STEP` bytes at a time: a "gzip bomb" (a small
    download that inflates to gigabytes) is refused by the size limit before it is ever in memory."""
    try:
        while data:
            yield inflater.decompress(data, INFLATE_STEP)
            data = inflater.unconsumed_tail
    except zlib.error:
        raise Unreadable("GitHub sent a compressed answer that does not inflate.") from None


def _environment_proxy(api: ApiOrigin) -> str | None:
    proxies = urllib.request.getproxies()
    proxy = proxies.get(api.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(api.host):
        return None
    return proxy


def _size(count: int) -> str:
    return f"{count / 2**20:g} MiB" if count >= 2**20 else f"{count:,} bytes"
