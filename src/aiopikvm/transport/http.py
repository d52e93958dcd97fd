"""The one request path: query encoding, credentials, kvmd's envelope, error mapping, and
the bounds every answer is read within.

Sizes. An answer is read in pieces and counted; past its limit it is refused with
:class:`ProtocolError` (a ``Content-Length`` past it is refused before reading):
:data:`MAX_ANSWER_SIZE` for JSON and text, :data:`MAX_LOG_SIZE` for kvmd's whole log,
:data:`MAX_SNAPSHOT_SIZE` for a JPEG. Of an error answer only the first
:data:`MAX_ERROR_BODY` bytes are read: they are all its message needs. A line of a line
stream (kvmd's log, ``msd/write_remote`` progress) is at most :data:`MAX_LINE_SIZE`.

Compression. Every request asks for ``Accept-Encoding: identity``, and an answer that comes
compressed anyway is refused unread. Neither kvmd nor the nginx in front of it compresses
(kvmd/htserver.py, configs/nginx: no ``gzip``), so nothing is lost; a decoder would let a
1 MB answer inflate to gigabytes in one step, before anything could count it.

Time. A call has one total deadline, its ``timeout``: connecting, the pinned certificate's
check, sending, and the whole answer must be done within it (per attempt, with retries).
Transfers instead have an idle timeout: see :meth:`HTTPTransport.stream`, and an upload's
answer is due within ``timeout`` of its last byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
)
from typing import Any, Final, Literal, TypeAlias, TypeVar

import httpx

from ..errors import (
    ConnectionClosedError,
    InvalidInputError,
    PiKVMConnectionError,
    PiKVMError,
    PiKVMTimeoutError,
    ProtocolError,
    RequestInfo,
    TLSError,
    api_error_for,
)
from .auth import Credentials
from .pinning import PinnedSSLContext
from .redaction import redact_httpcore_logs, redact_url, redact_userinfo
from .retry import RetryPolicy
from .tls import (
    TLS_HINT,
    is_certificate_error,
    is_not_tls,
    not_tls_hint,
    plain_http_hint,
    shared_context,
)

ParamValue: TypeAlias = str | int | float | bool | list[str] | tuple[str, ...] | None
Params: TypeAlias = Mapping[str, ParamValue]
Expect: TypeAlias = Literal["json", "text", "bytes"]
Content: TypeAlias = bytes | str | AsyncIterable[bytes]
Timeout: TypeAlias = float | httpx.Timeout | Literal["default"] | None
T = TypeVar("T")

KiB: Final = 1024
MiB: Final = 1024 * KiB

MAX_ANSWER_SIZE: Final = 4 * MiB
"""A JSON or text answer: kvmd's largest (``/api/info``, ``gpio`` with a big scheme, the
keymaps) are tens of KiB, the largest captured 22 KiB."""
MAX_LOG_SIZE: Final = 64 * MiB
"""kvmd's log as one text (``system.get_log``): its services' journal since boot, which
journald keeps in RAM on a PiKVM. ``seek=`` or ``stream_log`` read more."""
MAX_SNAPSHOT_SIZE: Final = 32 * MiB
"""A JPEG snapshot: a 1920x1200 screen at quality 100 is a few MiB."""
MAX_ERROR_BODY: Final = 64 * KiB
"""What is read of an error answer (kvmd's envelope is a few hundred bytes, nginx's page
under one KiB); the rest is never read."""
MAX_LINE_SIZE: Final = 1 * MiB
"""A line of kvmd's log (journald cuts a line at 48 KiB) or an NDJSON progress record
(about 100 bytes)."""

_ANSWER_LIMITS: Final[dict[str, int]] = {
    "json": MAX_ANSWER_SIZE,
    "text": MAX_ANSWER_SIZE,
    "bytes": MAX_SNAPSHOT_SIZE,
}
_IDENTITY: Final = ("", "identity")
_PLAIN_HTTP_TO_TLS: Final = "plain HTTP request was sent to HTTPS port"  # nginx's 400 page

redact_httpcore_logs()  # httpcore's DEBUG log shows kvmd's session cookie, httpx's INFO URLs


def loads(content: bytes | str) -> Any:
    """``json.loads``; JSON nested past the interpreter's recursion limit is refused with
    ``ValueError`` like any other JSON it cannot read, not ``RecursionError``."""
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("JSON nested too deep to read") from None


def request_info(request: httpx.Request) -> RequestInfo:
    return RequestInfo(request.method, redact_url(str(request.url)))


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit % MiB == 0 else f"{limit // KiB} KiB"


def _seconds(value: float | None) -> str:
    return "no" if value is None else f"{value:g}"


# ----- reading bodies -------------------------------------------------------------------


async def body_chunks(
    response: httpx.Response, *, what: str = "data"
) -> AsyncGenerator[bytes, None]:
    """The body of a streamed response in pieces as they arrive; a failure meanwhile is our
    error (``what`` names the pieces in a timeout's message: "no data for 10 s")."""
    info = request_info(response.request)
    chunks = response.aiter_bytes()
    while True:
        failure: PiKVMError | None = None
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except httpx.TimeoutException:
            read = response.request.extensions.get("timeout", {}).get("read")
            failure = PiKVMTimeoutError(f"{info}: no {what} for {_seconds(read)} s", request=info)
        except httpx.HTTPError as exc:
            failure = transport_error(exc, info)
        # Raised here, not in the except clause: the httpx error (whose frames hold the
        # request) does not ride along as __context__.
        if failure is not None:
            raise failure
        yield chunk


async def body_lines(
    response: httpx.Response, *, limit: int = MAX_LINE_SIZE, what: str = "data"
) -> AsyncGenerator[str, None]:
    """The body's lines without their ends (``\\n`` or ``\\r\\n``), each at most ``limit``
    bytes: a longer one is refused with :class:`ProtocolError` before more is read."""
    info = request_info(response.request)
    buffer = bytearray()
    async with contextlib.aclosing(body_chunks(response, what=what)) as chunks:
        async for chunk in chunks:
            buffer += chunk
            start = 0
            while (end := buffer.find(b"\n", start)) >= 0:
                yield _line(buffer[start:end])
                start = end + 1
            del buffer[:start]
            if len(buffer) > limit:
                raise ProtocolError(
                    f"{info}: a line longer than {_size(limit)}: not kvmd's", request=info
                )
    if buffer:
        yield _line(buffer)


def _line(raw: bytes | bytearray) -> str:
    return bytes(raw).rstrip(b"\r").decode("utf-8", "replace")


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes; more is refused with :class:`ProtocolError`."""
    info = request_info(response.request)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ProtocolError(_too_large(info, limit, f"it announces {declared} bytes"), request=info)
    pieces: list[bytes] = []
    size = 0
    async with contextlib.aclosing(body_chunks(response)) as chunks:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise ProtocolError(_too_large(info, limit, "read so far"), request=info)
            pieces.append(chunk)
    return b"".join(pieces)


def _too_large(info: RequestInfo, limit: int, seen: str) -> str:
    return f"{info}: the answer is larger than {_size(limit)} ({seen}), more than kvmd sends"


async def _error_body(response: httpx.Response) -> bytes | None:
    """The start of an error answer (None if it came compressed); never all of it."""
    if response.headers.get("content-encoding", "").strip().lower() not in _IDENTITY:
        return None
    pieces: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            pieces.append(chunk)
            size += len(chunk)
            if size >= MAX_ERROR_BODY:
                break
    except (httpx.HTTPError, httpx.StreamError):
        # The message makes do with what came (StreamClosed: a caller's event hook
        # raised for the status, and httpx closed the body unread).
        pass
    return b"".join(pieces)[:MAX_ERROR_BODY]


# ----- kvmd's conventions ---------------------------------------------------------------


def encode_params(params: Params | None) -> dict[str, str]:
    """kvmd's query conventions: booleans as 1/0, lists comma-joined into one value
    (a repeated key reaches kvmd as its first value only), ``None`` left out. A ``str``
    is kept as it is, so a :class:`~aiopikvm.transport.redaction.Secret` stays one."""
    if not params:
        return {}
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[key] = "1" if value else "0"
        elif isinstance(value, list | tuple):
            encoded[key] = ",".join(value)
        elif isinstance(value, str):
            encoded[key] = value
        else:
            encoded[key] = str(value)
    return encoded


def unwrap_envelope(body: Any, request: RequestInfo) -> Any:
    """The ``result`` of a successful ``{"ok": true, "result": ...}`` envelope."""
    if not isinstance(body, dict) or "ok" not in body:
        raise ProtocolError(f"{request}: the answer is not kvmd's envelope", request=request)
    if body["ok"] is not True:
        raise ProtocolError(f"{request}: the envelope says ok={body['ok']!r}", request=request)
    return body.get("result")


def error_from_response(
    status_code: int,
    content: bytes | None,
    request: RequestInfo,
    *,
    location: str | None = None,
    hint: str | None = None,
) -> PiKVMError:
    """An APIError from an error response, whether kvmd's JSON or nginx's text or HTML
    (``content`` None: it came compressed, and was not read)."""
    error = error_msg = None
    detail: str | None = None
    try:
        body = loads(content) if content else None
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("result"), dict):
        result = body["result"]
        error = result.get("error") if isinstance(result.get("error"), str) else None
        if isinstance(result.get("error_msg"), str):
            # kvmd quotes what it was given, a download URL with its credentials included
            error_msg = redact_userinfo(result["error_msg"])
    if error is None:
        text = "a compressed body, not read" if content is None else _text_detail(content)
        detail = redact_userinfo(text)
        if _PLAIN_HTTP_TO_TLS in detail and hint is None:
            hint = "the port speaks HTTPS: use an https:// URL"
    if location is not None and 300 <= status_code < 400:
        hint = _redirect_hint(location, request, hint)
    return api_error_for(
        status_code, error=error, error_msg=error_msg, request=request, detail=detail, hint=hint
    )


def _redirect_hint(location: str, request: RequestInfo, hint: str | None) -> str:
    target = redact_userinfo(location)
    advice = f"the device redirects to {target} (redirects are never followed: "
    advice += "credentials stay with the device they were meant for)"
    if target.lower().startswith("https://") and request.url.lower().startswith("http://"):
        netloc = httpx.URL(target).netloc.decode("ascii", "replace")
        advice += f"; it wants HTTPS: use https://{netloc}"
    return f"{hint}; {advice}" if hint else advice


def _text_detail(content: bytes) -> str:
    text = content.decode("utf-8", "replace").strip()
    if text.lstrip().startswith("<"):
        # nginx's HTML error page: its <title> says all there is ("502 Bad Gateway")
        start, end = text.find("<title>"), text.find("</title>")
        text = text[start + 7 : end].strip() if 0 <= start < end else "HTML error page"
    return " ".join(text.split())[:200] or "empty body"


# ----- deadlines ------------------------------------------------------------------------


async def _within(
    seconds: float | None,
    info: RequestInfo,
    message: str,
    call: Callable[[asyncio.Timeout], Awaitable[T]],
) -> T:
    """``call(scope)`` within a total deadline; its expiry is :class:`PiKVMTimeoutError`."""
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            return await call(scope)
    except TimeoutError as exc:
        if isinstance(exc, PiKVMError) or not scope.expired():
            raise
    raise PiKVMTimeoutError(f"{info}: {message}", request=info)  # no httpx __context__


async def _deadline_after(
    chunks: AsyncIterable[bytes], scope: asyncio.Timeout, seconds: float | None
) -> AsyncIterator[bytes]:
    """An upload's body, which starts the answer's deadline once it is all sent: the
    upload itself takes as long as it takes, as long as each write moves."""
    async for chunk in chunks:
        yield chunk
    if seconds is not None:
        scope.reschedule(asyncio.get_running_loop().time() + seconds)


def _timeout_message(exc: httpx.TimeoutException, limits: httpx.Timeout) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {_seconds(limits.connect)} s"
    if isinstance(exc, httpx.WriteTimeout):
        return f"could not send for {_seconds(limits.write)} s"
    if isinstance(exc, httpx.PoolTimeout):
        return f"no free connection within {_seconds(limits.pool)} s"
    return f"no data for {_seconds(limits.read)} s"


# ----- the transport --------------------------------------------------------------------


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
        self.timeout = timeout
        self.retries = retries
        self._owns_client = http_client is None
        self._client = http_client or _new_client(ssl_context, timeout)
        self._closed = False
        self.cookies: dict[str, str] = {}

    def url(self, path: str) -> str:
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
        limit = max_size if max_size is not None else _ANSWER_LIMITS[expect]
        total, limits = self._limits(timeout)
        streamed = isinstance(content, AsyncIterable)

        async def exchange(scope: asyncio.Timeout) -> tuple[httpx.Response, bytes]:
            body: Content | None = content
            if isinstance(content, AsyncIterable):
                body = _deadline_after(content, scope, total)
            response = await self._send(
                method, path, query, info, limits, body, data, json, headers, authenticate
            )
            try:
                return response, await read_body(response, limit)
            finally:
                await response.aclose()

        async def attempt() -> tuple[httpx.Response, bytes]:
            if streamed:
                message = f"no answer within {_seconds(total)} s of the upload's last byte"
                return await _within(None, info, message, exchange)
            message = f"no complete answer within {_seconds(total)} s"
            return await _within(total, info, message, exchange)

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
            return await _within(
                total,
                info,
                f"no answer within {_seconds(total)} s",
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
            return PiKVMTimeoutError(f"{info}: {_timeout_message(exc, limits)}", request=info)
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
                body = await _error_body(response)
            finally:
                await response.aclose()
            return error_from_response(
                response.status_code,
                body,
                info,
                location=response.headers.get("location"),
                hint=self._auth_hint(response.status_code, authenticate, sent_cookie),
            )
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding not in _IDENTITY:
            await response.aclose()
            return ProtocolError(
                f"{info}: the answer came with Content-Encoding {encoding} though identity "
                "was asked for; refused unread (kvmd never compresses)",
                request=info,
            )
        return response

    def _auth_hint(self, status: int, authenticate: bool, sent_cookie: bool) -> str | None:
        """Which credential to check, from what was sent (kvmd's 403 does not say)."""
        if status == 401:
            if not authenticate:
                return "this endpoint needs credentials"
            return (
                "the device saw no credentials: a proxy between may drop the X-KVMD-* "
                "headers (try auth='basic')"
            )
        if status != 403:
            return None
        if sent_cookie:
            return (
                "the session cookie of auth.login() is no longer valid (a logout, its expiry "
                "or a kvmd restart): log in again, or auth.logout() to use the password"
            )
        if not authenticate:
            return (
                "the user name or password was refused (on a two-factor device the password "
                "ends with the current code)"
            )
        return self.credentials.refused_hint()

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


def transport_error(exc: BaseException, info: RequestInfo) -> PiKVMConnectionError:
    """A connection-level failure as our error, saying how to fix what can be fixed: an
    untrusted certificate, https:// for a plain-HTTP port, http:// for a TLS one."""
    if isinstance(exc, PiKVMConnectionError):
        return exc  # ours already (a pinned certificate's check, say)
    if is_certificate_error(exc):
        return TLSError(f"{info}: TLS certificate verification failed: {TLS_HINT}", request=info)
    secure = info.url.lower().startswith("https://")
    if secure and is_not_tls(exc):
        return TLSError(f"{info}: {not_tls_hint(info.url)}", request=info)
    reason = redact_userinfo(str(exc)) or type(exc).__name__
    message = f"{info}: cannot reach the device: {reason}"
    if not secure and isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        # A TLS server given plain HTTP hangs up, resets, or answers with a TLS alert
        message += f" ({plain_http_hint(info.url)})"
    return PiKVMConnectionError(message, request=info)
