"""The one request path: credentials, kvmd's envelope, and the deadline every call is
done within. What bounds an answer's body is in :mod:`aiopikvm.transport.body`, how
failures map to our errors in :mod:`aiopikvm.transport.http_errors`.

Time. A call has one total deadline, its ``timeout``: connecting, the pinned certificate's
check, sending, and the whole answer must be done within it (per attempt, with retries).
Transfers instead have an idle timeout: see :meth:`HTTPTransport.stream`, and an upload's
answer is due within ``timeout`` of its last byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any, Literal, TypeAlias

import httpx

from ..errors import (
    ConnectionClosedError,
    InvalidInputError,
    PiKVMError,
    PiKVMTimeoutError,
    ProtocolError,
    RequestInfo,
    TLSError,
)
from .auth import Credentials
from .body import ANSWER_LIMITS, IDENTITY, error_body, read_body
from .deadlines import deadline_after, within
from .http_errors import (
    auth_hint,
    error_from_response,
    loads,
    seconds_text,
    timeout_message,
    transport_error,
    unwrap_envelope,
)
from .params import Params, encode_params
from .pinning import PinnedSSLContext
from .redaction import redact_httpcore_logs, redact_url, redact_userinfo
from .retry import RetryPolicy
from .tls import is_not_tls, not_tls_hint, shared_context

Expect: TypeAlias = Literal["json", "text", "bytes"]
Content: TypeAlias = bytes | str | AsyncIterable[bytes]
Timeout: TypeAlias = float | httpx.Timeout | Literal["default"] | None

redact_httpcore_logs()  # httpcore's DEBUG log shows kvmd's session cookie, httpx's INFO URLs


class RootPath(str):
    """A path from the device's root, not under ``/api``: nginx's other locations, such as
    ustreamer's ``/streamer/stream``, behind the same authentication."""

    __slots__ = ()


class HTTPTransport:
    """Sends requests to ``<url>/api/<path>`` through an httpx client, ours or the user's.

    The user's client is used as it is for connections and TLS; the URL, credentials and
    timeouts are supplied on each request, so nothing is assumed about how it was built.
    Redirects are never followed: kvmd does not redirect an API call that is right, and
    following one would carry the credentials to wherever it points.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        ssl_context: ssl.SSLContext | None,
        timeout: float | None,
        http_client: httpx.AsyncClient | None = None,
        retries: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        try:  # checked by split_device_url; what httpx alone refuses (a bad IDNA host) too
            httpx.URL(self.base_url)
        except httpx.InvalidURL as exc:
            raise InvalidInputError(f"not a device URL: {base_url!r} ({exc})") from None
        self._pinned = ssl_context if isinstance(ssl_context, PinnedSSLContext) else None
        if self._pinned is not None and http_client is not None:
            # The pin is checked on a connection of our own; the caller's client would then
            # send the credentials over its own TLS settings, to whoever answers there.
            raise InvalidInputError(
                "a pinned certificate (verify_ssl=CertificateFingerprint(...)) cannot be "
                "enforced on the connections of your http_client: leave http_client out, "
                "or build your client with verify= an ssl.SSLContext that trusts the device "
                "(e.g. ssl.create_default_context(cafile=...)) and leave verify_ssl out"
            )
        self.credentials = credentials
        self.ssl_context = ssl_context  # for the WebSockets opened beside it (/api/media/ws)
        self.timeout = timeout
        self.retries = retries
        self._owns_client = http_client is None
        self._client = http_client or _new_client(ssl_context, timeout)
        self._closed = False
        self.cookies: dict[str, str] = {}

    def url(self, path: str) -> str:
        if isinstance(path, RootPath):
            return f"{self.base_url}/{path.lstrip('/')}"
        return f"{self.base_url}/api/{path.lstrip('/')}"

    def auth_headers(self) -> dict[str, str]:
        if "auth_token" in self.cookies:
            return {"Cookie": f"auth_token={self.cookies['auth_token']}"}
        return self.credentials.headers()

    def check_open(self) -> None:
        """Refuse use after :meth:`aclose` (or after the caller closed its client)."""
        if self._closed:
            raise ConnectionClosedError(
                f"this PiKVM client for {self.base_url} is closed (aclose(), or its "
                "`async with` ended): make a new PiKVM"
            )
        if self._client.is_closed:
            raise ConnectionClosedError(
                f"the http_client given to PiKVM for {self.base_url} is closed: keep it open "
                "while the PiKVM is in use"
            )

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
    ) -> Any:
        """Send one request; the unwrapped result (or text, or bytes) or one of our errors.

        ``envelope=False`` returns the JSON body as it is (Redfish); a 204 returns None.
        The answer is at most ``max_size`` bytes (by default :data:`MAX_ANSWER_SIZE`, or
        :data:`MAX_SNAPSHOT_SIZE` for bytes). ``timeout`` is the call's total deadline;
        with a streamed ``content`` (an upload), each write must move within it and the
        answer must be complete within it of the last byte.
        """
        self.check_open()
        query, info = self._prepare(method, path, params)
        limit = max_size if max_size is not None else ANSWER_LIMITS[expect]
        total, limits = self._limits(timeout)
        streamed = isinstance(content, AsyncIterable)

        async def exchange(scope: asyncio.Timeout) -> tuple[httpx.Response, bytes]:
            body: Content | None = content
            if isinstance(content, AsyncIterable):
                body = deadline_after(content, scope, total)
            response = await self._send(
                method, path, query, info, limits, body, data, json, headers, authenticate
            )
            try:
                return response, await read_body(response, limit)
            finally:
                await response.aclose()

        async def attempt() -> tuple[httpx.Response, bytes]:
            if streamed:
                message = f"no answer within {seconds_text(total)} s of the upload's last byte"
                return await within(None, info, message, exchange)
            message = f"no complete answer within {seconds_text(total)} s"
            return await within(total, info, message, exchange)

        # A streamed body cannot be sent twice.
        if self.retries is None or streamed:
            response, raw = await attempt()
        else:
            response, raw = await self.retries.run(method, info, attempt)
        if response.status_code == 204:
            return None
        if expect == "bytes":
            return raw
        if expect == "text":
            return _decode(raw, response.charset_encoding)
        try:
            body = loads(raw)
        except ValueError as exc:
            problem = str(exc)
        else:
            return unwrap_envelope(body, info) if envelope else body
        content_type = response.headers.get("content-type", "no content type")
        raise ProtocolError(f"{info}: expected JSON, got {content_type} ({problem})", request=info)

    @contextlib.asynccontextmanager
    async def stream(
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
    ) -> AsyncIterator[httpx.Response]:
        """A response whose body is not read yet (downloads, logs, NDJSON progress).

        ``timeout`` is the deadline for the answer's status and headers; then each read of
        the body must bring something within ``idle_timeout`` (by default ``timeout``
        again; None: wait as long as it takes). An error status is raised as our error
        before the body is handed over; read the body with :func:`body_chunks` or
        :func:`body_lines` to have its failures mapped too.
        """
        self.check_open()
        query, info = self._prepare(method, path, params)
        total, limits = self._limits(timeout)
        if not isinstance(timeout, httpx.Timeout):
            idle = total if idle_timeout == "default" else idle_timeout
            limits = httpx.Timeout(total, read=idle, write=idle)

        async def attempt() -> httpx.Response:
            return await within(
                total,
                info,
                f"no answer within {seconds_text(total)} s",
                lambda _: self._send(
                    method, path, query, info, limits, content, data, json, headers, authenticate
                ),
            )

        if self.retries is None or isinstance(content, AsyncIterable):
            response = await attempt()
        else:
            response = await self.retries.run(method, info, attempt)
        try:
            yield response
        finally:
            await response.aclose()

    def _prepare(
        self, method: str, path: str, params: Params | None
    ) -> tuple[dict[str, str], RequestInfo]:
        """The query, and the request's description for errors (no credentials in it)."""
        query = encode_params(params)
        try:
            full_url = httpx.URL(self.url(path), params=query)
        except httpx.InvalidURL as exc:
            problem = str(exc)
        else:
            return query, RequestInfo(method, redact_url(str(full_url)))
        raise InvalidInputError(f"{method} {path!r}: not a valid request path: {problem}")

    def _limits(self, timeout: Timeout) -> tuple[float | None, httpx.Timeout]:
        """The total deadline and httpx's per-operation timeouts for ``timeout``: a number
        is both; an ``httpx.Timeout`` is httpx's own, with no total deadline."""
        if isinstance(timeout, httpx.Timeout):
            return None, timeout
        total = self.timeout if timeout == "default" else timeout
        return total, httpx.Timeout(total)

    async def _send(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        info: RequestInfo,
        limits: httpx.Timeout,
        content: Content | None,
        data: Mapping[str, str] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        authenticate: bool,
    ) -> httpx.Response:
        """The response, its status a success; any failure raised as our error, from this
        frame: the request and its headers live only in :meth:`_exchange`'s, gone by then."""
        result = await self._exchange(
            method, path, query, info, limits, content, data, json, headers, authenticate
        )
        if isinstance(result, PiKVMError):
            raise result
        return result

    async def _exchange(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        info: RequestInfo,
        limits: httpx.Timeout,
        content: Content | None,
        data: Mapping[str, str] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        authenticate: bool,
    ) -> httpx.Response | PiKVMError:
        """One exchange; its failure is returned, never raised (see :meth:`_send`)."""
        url = self.url(path)
        if self._pinned is not None:  # before any credentials leave
            try:
                await self._pinned.verify_peer(url, timeout=limits.connect, request=info)
            except PiKVMError as exc:
                if isinstance(exc, TLSError) and is_not_tls(exc):
                    return TLSError(f"{info}: {not_tls_hint(url)}", request=info)
                return exc
        sent_cookie = authenticate and "auth_token" in self.cookies
        all_headers = {**(headers or {}), **(self.auth_headers() if authenticate else {})}
        all_headers["Accept-Encoding"] = "identity"  # see the module's docstring
        try:
            request = self._client.build_request(
                method,
                httpx.URL(url, params=query),
                content=content,
                data=data,
                json=json,
                headers=all_headers,
                timeout=limits,
            )
        except (UnicodeEncodeError, TypeError) as exc:
            # a header value outside Latin-1, a body of the wrong type: ours to refuse
            return InvalidInputError(f"{info}: cannot send this request: {exc}")
        try:
            response = await self._client.send(request, stream=True, follow_redirects=False)
        except httpx.HTTPStatusError as exc:
            # A caller's client whose event hook calls raise_for_status(): the status
            # is still kvmd's answer and maps as one. httpx has closed the response,
            # so its body is there only if the hook read it.
            response = exc.response
        except httpx.TimeoutException as exc:
            return PiKVMTimeoutError(f"{info}: {timeout_message(exc, limits)}", request=info)
        except httpx.HTTPError as exc:
            return transport_error(exc, info)
        except PiKVMError as exc:  # from the body as it was sent: a source breaking its size
            return exc.with_traceback(None)
        if "auth_token" in response.cookies:
            self.cookies["auth_token"] = response.cookies["auth_token"]
            # Kept only here: left in httpx's jar, it would ride along with every later
            # request, and after a logout kvmd reads a dead cookie before HTTP Basic.
            self._client.cookies.delete("auth_token")
        if response.status_code >= 300:
            try:
                body = await error_body(response)
            finally:
                await response.aclose()
            return error_from_response(
                response.status_code,
                body,
                info,
                location=response.headers.get("location"),
                hint=auth_hint(response.status_code, authenticate, sent_cookie, self.credentials),
            )
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding not in IDENTITY:
            await response.aclose()
            return ProtocolError(
                f"{info}: the answer came with Content-Encoding {encoding} though identity "
                "was asked for; refused unread (kvmd never compresses)",
                request=info,
            )
        return response

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_client:
            await self._client.aclose()


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", "replace")


def _new_client(ssl_context: ssl.SSLContext | None, timeout: float | None) -> httpx.AsyncClient:
    try:
        # Never verify=True: httpx would load a CA bundle for each client. An http:// device
        # needs TLS only for an https:// proxy: the process's shared default context then.
        return httpx.AsyncClient(
            verify=ssl_context if ssl_context is not None else shared_context(True),
            timeout=timeout,
            follow_redirects=False,
        )
    except (httpx.InvalidURL, ValueError) as exc:
        # httpx reads HTTP_PROXY, HTTPS_PROXY and ALL_PROXY here and refuses a bad one
        problem = redact_userinfo(str(exc))
    raise InvalidInputError(
        f"the proxy set in the environment is not usable: {problem}; "
        "fix or unset HTTP_PROXY, HTTPS_PROXY and ALL_PROXY, or pass http_client="
    )
