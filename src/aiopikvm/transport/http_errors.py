"""kvmd's answers and httpx's failures as :mod:`aiopikvm.errors`: the envelope, an error
status (kvmd's JSON, nginx's text or HTML), a connection that failed.

No httpx exception is chained as a cause: its frames hold the request, and with it the
credentials; what it said is in the message instead, with any userinfo redacted.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import httpx

from ..errors import (
    PiKVMConnectionError,
    PiKVMError,
    ProtocolError,
    RequestInfo,
    TLSError,
    api_error_for,
)
from .redaction import redact_url, redact_userinfo
from .tls import TLS_HINT, is_certificate_error, is_not_tls, not_tls_hint, plain_http_hint

if TYPE_CHECKING:
    from .auth import Credentials

_PLAIN_HTTP_TO_TLS: Final = "plain HTTP request was sent to HTTPS port"  # nginx's 400 page


def loads(content: bytes | str) -> Any:
    """``json.loads``; JSON nested past the interpreter's recursion limit is refused with
    ``ValueError`` like any other JSON it cannot read, not ``RecursionError``."""
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("JSON nested too deep to read") from None


def request_info(request: httpx.Request) -> RequestInfo:
    return RequestInfo(request.method, redact_url(str(request.url)))


def seconds_text(value: float | None) -> str:
    return "no" if value is None else f"{value:g}"


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


def timeout_message(exc: httpx.TimeoutException, limits: httpx.Timeout) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {seconds_text(limits.connect)} s"
    if isinstance(exc, httpx.WriteTimeout):
        return f"could not send for {seconds_text(limits.write)} s"
    if isinstance(exc, httpx.PoolTimeout):
        return f"no free connection within {seconds_text(limits.pool)} s"
    return f"no data for {seconds_text(limits.read)} s"


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


def auth_hint(
    status: int, authenticate: bool, sent_cookie: bool, credentials: Credentials
) -> str | None:
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
    return credentials.refused_hint()
