"""``PiKVM``: the client, holding credentials, TLS settings and the HTTP connection pool."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

import httpx

from ._checks import (
    check_bool,
    check_choice,
    check_json,
    check_mapping,
    check_str,
    check_timeout,
    check_verify_ssl,
    invalid,
    show,
)
from ._client_actions import ClientActions
from ._client_vision import ClientVision
from .errors import InvalidInputError
from .session.config import DEFAULT_MAX_QUEUE
from .transport.auth import AuthMode, Credentials
from .transport.device_url import split_device_url
from .transport.http import Content, Expect, HTTPTransport, Timeout
from .transport.params import Params
from .transport.redaction import hidden
from .transport.retry import RetryPolicy
from .transport.tls import VerifySSL, make_ssl_context

if TYPE_CHECKING:
    from .resources.atx import Atx
    from .resources.auth import Auth
    from .resources.gpio import Gpio
    from .resources.hid import Hid
    from .resources.msd import Msd
    from .resources.prometheus import Prometheus
    from .resources.redfish import Redfish
    from .resources.streamer import Streamer
    from .resources.switch import Switch
    from .resources.system import System
    from .session.websocket import PiKVMWebSocket


class PiKVM(ClientActions, ClientVision):
    """An async client for one PiKVM.

    ``url`` is the device's address (``https://pikvm.local``); requests go to
    ``<url>/api/...``. With ``totp_secret`` (the base32 secret of the device's two-factor
    authentication), a fresh code is appended to the password on every request and every
    WebSocket connect. ``verify_ssl`` is ``True`` (system CAs), ``False`` (no check), a CA
    file path, an ``ssl.SSLContext``, or a :class:`CertificateFingerprint` pinning the one
    certificate to trust (checked before any credentials are sent). ``retries`` (a
    :class:`RetryPolicy`) retries reads (GET) on 503, connection errors and timeouts; actions
    are never retried. An ``http_client`` of the caller's is used for its
    connections and TLS; the URL, credentials and ``timeout`` are still supplied here, and the
    caller closes it. ``auth`` is how the credentials travel: kvmd's ``X-KVMD-*`` headers, or
    ``"basic"`` (HTTP Basic; kvmd cannot match a password containing ``:`` that way). After
    ``kvm.auth.login()``, HTTP requests carry the session cookie instead. A pinned
    certificate cannot be combined with ``http_client`` (the pin could not be enforced on
    its connections): that raises :class:`InvalidInputError`.

    ``timeout`` (seconds; None: none) is each call's total deadline: connecting, sending
    and reading the whole answer must be done within it, or :class:`PiKVMTimeoutError`.
    Transfers (``msd.upload``, ``msd.download``, ``msd.upload_remote``,
    ``system.stream_log``) take as long as they take while they move: for them it bounds
    connecting and each wait for the next piece (see each method). Answers are size-bounded
    (see :mod:`aiopikvm.transport.body`): past the bound, :class:`ProtocolError`.

    Once closed (:meth:`aclose`, or the end of ``async with``), the client refuses every
    call with :class:`ConnectionClosedError`: make a new one.

    Subsystems are namespaces: ``kvm.atx``, ``kvm.auth``, ``kvm.gpio``, ``kvm.hid``,
    ``kvm.msd``, ``kvm.prometheus``, ``kvm.redfish``, ``kvm.streamer``, ``kvm.switch``,
    ``kvm.system``; input and live events go through :meth:`ws`.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str = "admin",
        passwd: str = "",
        totp_secret: str | None = None,
        verify_ssl: VerifySSL = True,
        timeout: float | None = 10.0,
        http_client: httpx.AsyncClient | None = None,
        auth: AuthMode = "headers",
        retries: RetryPolicy | None = None,
    ) -> None:
        # Shown as '***' in a traceback's locals from here on (a bad setting raises below).
        passwd, totp_secret = hidden(passwd), hidden(totp_secret)
        parts = split_device_url(url, ("http", "https"))
        check_verify_ssl(verify_ssl)
        check_timeout(timeout, none_ok=True)
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise invalid("http_client", "an httpx.AsyncClient or None", http_client)
        if retries is not None and not isinstance(retries, RetryPolicy):
            raise invalid("retries", "a RetryPolicy or None", retries)
        self.url = url.rstrip("/")
        self._credentials = Credentials(user, passwd, totp_secret, mode=auth)
        self._ssl = make_ssl_context(verify_ssl) if parts.scheme == "https" else None
        self._transport = HTTPTransport(
            self.url,
            self._credentials,
            ssl_context=self._ssl,
            timeout=timeout,
            http_client=http_client,
            retries=retries,
        )

    # The subsystems load on first use, not with the client: each resource module (and the
    # models it parses into) costs import time a script that uses two of them need not pay.
    @functools.cached_property
    def atx(self) -> Atx:
        from .resources.atx import Atx

        return Atx(self._transport)

    @functools.cached_property
    def auth(self) -> Auth:
        from .resources.auth import Auth

        return Auth(self._transport)

    @functools.cached_property
    def gpio(self) -> Gpio:
        from .resources.gpio import Gpio

        return Gpio(self._transport)

    @functools.cached_property
    def hid(self) -> Hid:
        from .resources.hid import Hid

        return Hid(self._transport)

    @functools.cached_property
    def msd(self) -> Msd:
        from .resources.msd import Msd

        return Msd(self._transport)

    @functools.cached_property
    def prometheus(self) -> Prometheus:
        from .resources.prometheus import Prometheus

        return Prometheus(self._transport)

    @functools.cached_property
    def redfish(self) -> Redfish:
        from .resources.redfish import Redfish

        return Redfish(self._transport)

    @functools.cached_property
    def streamer(self) -> Streamer:
        from .resources.streamer import Streamer

        return Streamer(self._transport)

    @functools.cached_property
    def switch(self) -> Switch:
        from .resources.switch import Switch

        return Switch(self._transport)

    @functools.cached_property
    def system(self) -> System:
        from .resources.system import System

        return System(self._transport)

    def __repr__(self) -> str:
        return f"PiKVM(url={self.url!r}, user={self._credentials.user!r})"

    async def __aenter__(self) -> Self:
        self._transport.check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (not a caller's ``http_client``). The client is done
        then: any later call raises :class:`~aiopikvm.ConnectionClosedError`."""
        await self._transport.aclose()

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
    ) -> Any:
        """Call any kvmd endpoint: ``path`` is relative to ``/api`` (``"hid"``,
        ``"atx/power"``). Parameters go in the query string, booleans as 1/0 and lists
        comma-joined, as kvmd reads them. Returns the envelope's ``result`` (the text or
        bytes with ``expect``; the bare JSON with ``envelope=False``; None for a 204); any
        failure raises one of aiopikvm's errors."""
        _check_request(method, path, params, content, headers, timeout)
        if data is not None:
            check_mapping(data, "data", values=str)
        if json is not None:
            check_json(json, "json")
        check_choice(expect, "expect", ("json", "text", "bytes"))
        check_bool(envelope, "envelope")
        check_bool(authenticate, "authenticate")
        return await self._transport.request(
            method,
            path,
            params=params,
            content=content,
            data=data,
            json=json,
            headers=headers,
            expect=expect,
            envelope=envelope,
            authenticate=authenticate,
            timeout=timeout,
        )

    def stream(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        content: Content | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = "default",
    ) -> contextlib.AbstractAsyncContextManager[httpx.Response]:
        """Like :meth:`request`, for a body read in pieces (downloads, logs, NDJSON): an
        async context manager giving the response before its body is read. An error status
        has already raised by then."""
        _check_request(method, path, params, content, headers, timeout)
        return self._transport.stream(
            method, path, params=params, content=content, headers=headers, timeout=timeout
        )

    def ws(
        self,
        *,
        stream: bool | int = False,
        open_timeout: float | None = 10.0,
        close_timeout: float | None = 10.0,
        binary: bool = True,
        max_queue: int = DEFAULT_MAX_QUEUE,
        reconnect: bool | RetryPolicy = False,
    ) -> PiKVMWebSocket:
        """A WebSocket session with this client's credentials and TLS settings; use it as
        ``async with kvm.ws() as ws:``. ``stream=True`` makes the session count as a video
        viewer (kvmd keeps the streamer running); input-only sessions leave it off.
        ``reconnect=True`` (or a :class:`RetryPolicy`) opens the connection again when it
        drops: see :class:`PiKVMWebSocket`."""
        from .session.websocket import PiKVMWebSocket

        self._transport.check_open()
        return PiKVMWebSocket._for_client(
            self.url,
            self._credentials,
            self._ssl,
            stream=stream,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            binary=binary,
            max_queue=max_queue,
            reconnect=reconnect,
        )


_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP method is a token (RFC 9110)."""
_PARAM_TYPES: Final = (str, int, float, bool, list, tuple)


def _check_request(
    method: object,
    path: object,
    params: object,
    content: object,
    headers: object,
    timeout: object,
) -> None:
    """The arguments :meth:`PiKVM.request` and :meth:`PiKVM.stream` share."""
    if not isinstance(method, str) or not _TOKEN.fullmatch(method) or len(method) > 20:
        raise invalid("method", "an HTTP method like 'GET'", method)
    if not isinstance(path, str) or not path.isprintable():
        raise InvalidInputError(
            f"path {show(path)} is not a valid request path (a str under /api, no control "
            "characters)"
        )
    if params is not None:
        for key, value in check_mapping(params, "params").items():
            if value is not None and (
                not isinstance(value, _PARAM_TYPES)
                or (isinstance(value, list | tuple) and not all(isinstance(v, str) for v in value))
            ):
                raise invalid(f"params[{key!r}]", "a str, number, bool, list of str or None", value)
    if content is not None and not isinstance(
        content, bytes | bytearray | memoryview | str | AsyncIterable
    ):
        raise invalid("content", "bytes, a str or an async iterable of bytes", content)
    if headers is not None:
        for key, value in check_mapping(headers, "headers", values=str).items():
            check_str(key, "headers", printable=True, empty_ok=False, expected="a header name")
            check_str(value, f"headers[{key!r}]", printable=True)
    if isinstance(timeout, str):
        if timeout != "default":
            raise invalid("timeout", "seconds, an httpx.Timeout, None or 'default'", timeout)
    elif not isinstance(timeout, httpx.Timeout):
        check_timeout(timeout, none_ok=True)
