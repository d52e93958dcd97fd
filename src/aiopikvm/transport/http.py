"""The one request path: query encoding, credentials, kvmd's envelope, and error mapping."""

from __future__ import annotations

import contextlib
import json
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping
from typing import Any, Literal, TypeAlias

import httpx

from .._exceptions import (
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
from .tls import TLS_HINT, is_certificate_error

ParamValue: TypeAlias = str | int | float | bool | list[str] | tuple[str, ...] | None
Params: TypeAlias = Mapping[str, ParamValue]
Expect: TypeAlias = Literal["json", "text", "bytes"]
Content: TypeAlias = bytes | str | AsyncIterable[bytes]
Timeout: TypeAlias = float | httpx.Timeout | Literal["default"] | None

redact_httpcore_logs()  # its DEBUG log would show kvmd's session cookie


def loads(content: bytes | str) -> Any:
    """``json.loads``; JSON nested past the interpreter's recursion limit is refused with
    ``ValueError`` like any other JSON it cannot read, not ``RecursionError``."""
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("JSON nested too deep to read") from None


def request_info(request: httpx.Request) -> RequestInfo:
    return RequestInfo(request.method, redact_url(str(request.url)))


@contextlib.contextmanager
def reading_body(response: httpx.Response) -> Iterator[RequestInfo]:
    """Around reading a streamed body: a failure meanwhile becomes our error. Gives the
    request's description for the caller's own errors."""
    info = request_info(response.request)
    try:
        yield info
    except httpx.TimeoutException:
        raise PiKVMTimeoutError(f"{info}: timed out reading", request=info) from None
    except httpx.HTTPError as exc:
        raise transport_error(exc, info) from None


def encode_params(params: Params | None) -> dict[str, str]:
    """kvmd's query conventions: booleans as 1/0, lists comma-joined into one value
    (a repeated key reaches kvmd as its first value only), ``None`` left out."""
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


def error_from_response(status_code: int, content: bytes, request: RequestInfo) -> PiKVMError:
    """An APIError from an error response, whether kvmd's JSON or nginx's text or HTML."""
    error = error_msg = None
    detail: str | None = None
    try:
        body = loads(content)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("result"), dict):
        result = body["result"]
        error = result.get("error") if isinstance(result.get("error"), str) else None
        if isinstance(result.get("error_msg"), str):
            # kvmd quotes what it was given, a download URL with its credentials included
            error_msg = redact_userinfo(result["error_msg"])
    if error is None:
        detail = redact_userinfo(_text_detail(content))
    return api_error_for(
        status_code, error=error, error_msg=error_msg, request=request, detail=detail
    )


def _text_detail(content: bytes) -> str:
    text = content.decode("utf-8", "replace").strip()
    if text.lstrip().startswith("<"):
        # nginx's HTML error page: its <title> says all there is ("502 Bad Gateway")
        start, end = text.find("<title>"), text.find("</title>")
        text = text[start + 7 : end].strip() if 0 <= start < end else "HTML error page"
    return " ".join(text.split())[:200] or "empty body"


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
        self.credentials = credentials
        self.timeout = timeout
        self.retries = retries
        self._pinned = ssl_context if isinstance(ssl_context, PinnedSSLContext) else None
        self._owns_client = http_client is None
        self._client = http_client or _new_client(ssl_context, timeout)
        self.cookies: dict[str, str] = {}

    def url(self, path: str) -> str:
        return f"{self.base_url}/api/{path.lstrip('/')}"

    def auth_headers(self) -> dict[str, str]:
        if "auth_token" in self.cookies:
            return {"Cookie": f"auth_token={self.cookies['auth_token']}"}
        return self.credentials.headers()

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
        """Send one request; the unwrapped result (or text, or bytes) or one of our errors.

        ``envelope=False`` returns the JSON body as it is (Redfish); a 204 returns None.
        """
        async with self.stream(
            method,
            path,
            params=params,
            content=content,
            data=data,
            json=json,
            headers=headers,
            authenticate=authenticate,
            timeout=timeout,
        ) as response:
            with reading_body(response) as info:
                await response.aread()
        if response.status_code == 204:
            return None
        if expect == "bytes":
            return response.content
        if expect == "text":
            return response.text
        try:
            body = loads(response.content)
        except ValueError as exc:
            content_type = response.headers.get("content-type", "no content type")
            raise ProtocolError(
                f"{info}: expected JSON, got {content_type} ({exc})", request=info
            ) from None
        return unwrap_envelope(body, info) if envelope else body

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
    ) -> AsyncIterator[httpx.Response]:
        """A response whose body is not read yet (downloads, logs, NDJSON progress).

        An error status is raised as our error before the body is handed over; errors
        while reading the body are the caller's to map (see :func:`transport_error`).
        """
        url = self.url(path)
        query = encode_params(params)
        try:
            full_url = httpx.URL(url, params=query)
        except httpx.InvalidURL as exc:
            raise InvalidInputError(f"{method} {path!r}: not a valid request path: {exc}") from None
        info = RequestInfo(method, redact_url(str(full_url)))
        request_timeout = self.timeout if timeout == "default" else timeout

        async def attempt() -> httpx.Response:
            if self._pinned is not None:  # before any credentials leave
                probe_timeout = (
                    request_timeout.connect
                    if isinstance(request_timeout, httpx.Timeout)
                    else request_timeout
                )
                await self._pinned.verify_peer(url, timeout=probe_timeout, request=info)
            all_headers = dict(headers or {})
            if authenticate:
                all_headers.update(self.auth_headers())  # per attempt: a fresh TOTP code
            try:
                request = self._client.build_request(
                    method,
                    full_url,
                    content=content,
                    data=data,
                    json=json,
                    headers=all_headers,
                    timeout=request_timeout,
                )
            except (UnicodeEncodeError, TypeError) as exc:
                # a header value outside Latin-1, a body of the wrong type: ours to refuse
                raise InvalidInputError(f"{info}: cannot send this request: {exc}") from None
            try:
                response = await self._client.send(request, stream=True, follow_redirects=False)
            except httpx.HTTPStatusError as exc:
                # A caller's client whose event hook calls raise_for_status(): the status
                # is still kvmd's answer and maps as one. httpx has closed the response,
                # so its body is there only if the hook read it.
                response = exc.response
            except httpx.TimeoutException as exc:
                reason = type(exc).__name__
                raise PiKVMTimeoutError(f"{info}: timed out ({reason})", request=info) from None
            except httpx.HTTPError as exc:
                raise transport_error(exc, info) from None
            if "auth_token" in response.cookies:
                self.cookies["auth_token"] = response.cookies["auth_token"]
                # Kept only here: left in httpx's jar, it would ride along with every later
                # request, and after a logout kvmd reads a dead cookie before HTTP Basic.
                self._client.cookies.delete("auth_token")
            if response.status_code >= 300:
                try:
                    body = await response.aread()
                except (httpx.HTTPError, httpx.StreamError):  # StreamClosed: see above
                    body = b""
                finally:
                    await response.aclose()
                raise error_from_response(response.status_code, body, info)
            return response

        # A streamed body cannot be sent twice.
        if self.retries is None or isinstance(content, AsyncIterable):
            response = await attempt()
        else:
            response = await self.retries.run(method, info, attempt)
        try:
            yield response
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _new_client(ssl_context: ssl.SSLContext | None, timeout: float | None) -> httpx.AsyncClient:
    try:
        return httpx.AsyncClient(
            verify=ssl_context if ssl_context is not None else True,
            timeout=timeout,
            follow_redirects=False,
        )
    except (httpx.InvalidURL, ValueError) as exc:
        # httpx reads HTTP_PROXY, HTTPS_PROXY and ALL_PROXY here and refuses a bad one
        raise InvalidInputError(
            f"the proxy set in the environment is not usable: {redact_userinfo(str(exc))}; "
            "fix or unset HTTP_PROXY, HTTPS_PROXY and ALL_PROXY, or pass http_client="
        ) from None


def transport_error(exc: BaseException, info: RequestInfo) -> PiKVMConnectionError:
    """A connection-level failure as our error; a certificate failure says how to fix it."""
    if isinstance(exc, PiKVMConnectionError):
        return exc  # ours already (a pinned certificate's check, say)
    if is_certificate_error(exc):
        return TLSError(f"{info}: TLS certificate verification failed: {TLS_HINT}", request=info)
    reason = redact_userinfo(str(exc)) or type(exc).__name__
    return PiKVMConnectionError(f"{info}: cannot reach the device: {reason}", request=info)
