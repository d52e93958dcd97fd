"""Fetching a URL as an installer does (a preseed, a kickstart, a cloud-init seed): for
real, over HTTP, bounded in time and size; every failure is an answer to show, never an
exception."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aiohttp
from yarl import URL

FETCH_LIMIT: Final = 1 << 20
"""Bytes of an answer read at most: a preseed or kickstart file is a few kilobytes."""
_MAX_REDIRECTS: Final = 5


@dataclass(frozen=True, slots=True, repr=False)
class Fetch:
    """One URL the installer asked for: the HTTP ``status`` (``None`` without an answer)
    and why it failed (``error``, ``None`` on success), ``size`` the bytes read."""

    url: str
    status: int | None
    error: str | None = None
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:  # no URL credential in a repr
        return f"Fetch(url={_without_credentials(self.url)!r}, status={self.status!r})"


async def fetch_url(url: str, seconds: float) -> tuple[Fetch, bytes]:
    """GET ``url`` as the installer does: http(s) only, within ``seconds``, at most
    :data:`FETCH_LIMIT` bytes; any failure is an answer, never an exception."""
    try:
        parsed = URL(url)
    except ValueError:
        return Fetch(url, None, "not a valid URL"), b""
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return Fetch(url, None, "not an http or https URL"), b""
    timeout = aiohttp.ClientTimeout(total=seconds)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(parsed, max_redirects=_MAX_REDIRECTS) as response,
        ):
            if response.status != 200:
                return Fetch(url, response.status, f"HTTP {response.status}"), b""
            body = bytearray()
            while len(body) <= FETCH_LIMIT:
                chunk = await response.content.read(FETCH_LIMIT + 1 - len(body))
                if not chunk:
                    break
                body += chunk
            if len(body) > FETCH_LIMIT:
                return Fetch(url, response.status, f"larger than {FETCH_LIMIT} bytes"), b""
            return Fetch(url, response.status, None, len(body)), bytes(body)
    except TimeoutError:
        return Fetch(url, None, f"no answer within {seconds:g} s"), b""
    except (aiohttp.ClientError, ValueError) as exc:
        return Fetch(url, None, _reason(exc)), b""


def _reason(exc: Exception) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "cannot connect: connection refused"
        return f"cannot connect: {exc.os_error.strerror or type(exc.os_error).__name__}"
    return type(exc).__name__


def _without_credentials(url: str) -> str:
    try:
        return str(URL(url).with_user(None))
    except ValueError:
        return "<not a URL>"
