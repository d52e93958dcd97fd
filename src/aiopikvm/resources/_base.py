"""What a resource needs from the client, and nothing more: it never sees :class:`PiKVM`.

The client hands each resource its HTTP transport, which has this shape; a resource reads
the client's timeout (to stretch it for slow operations), its credentials (the login
form) and its cookies (the login session), and sends through ``request`` and ``stream``.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    import httpx

    from ..transport.auth import Credentials
    from ..transport.http import Content, Expect, Timeout
    from ..transport.params import Params

T = TypeVar("T")


class Requester(Protocol):
    """The narrow interface resources use (:class:`~aiopikvm.transport.http.HTTPTransport`
    provides it)."""

    @property
    def timeout(self) -> float | None: ...

    @property
    def credentials(self) -> Credentials: ...

    @property
    def cookies(self) -> MutableMapping[str, str]: ...

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        content: Content | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "json",
        envelope: bool = True,
        authenticate: bool = True,
        timeout: Timeout = "default",
        max_size: int | None = None,
    ) -> Any: ...

    def stream(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        content: Content | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        authenticate: bool = True,
        timeout: Timeout = "default",
        idle_timeout: float | Literal["default"] | None = "default",
    ) -> AbstractAsyncContextManager[httpx.Response]: ...


class Resource:
    __slots__ = ("_http",)

    def __init__(self, http: Requester) -> None:
        self._http = http


def parse(type_: type[T], data: Any, what: str) -> T:
    """:func:`aiopikvm.models._base.parse`, loaded with the first answer a resource parses:
    the models (and pydantic) are not imported with the client (import time, issue 9)."""
    from ..models._base import parse

    return parse(type_, data, what)
