"""TLS settings: verified by default; a CA file, an ``ssl.SSLContext``, a pinned certificate,
or an explicit opt-out."""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Iterator
from typing import Final, TypeAlias
from urllib.parse import urlsplit, urlunsplit

from ..errors import InvalidInputError
from .pinning import CertificateFingerprint, PinnedSSLContext

VerifySSL: TypeAlias = bool | str | os.PathLike[str] | ssl.SSLContext | CertificateFingerprint
"""``True`` (system CAs), ``False`` (no verification), a CA bundle path, a ready context, or
the SHA-256 fingerprint of the one certificate to trust."""

TLS_HINT = (
    "the device's certificate is not trusted (a PiKVM ships a self-signed one): pin it with "
    "verify_ssl=CertificateFingerprint('<its SHA-256>'), pass verify_ssl='/path/to/ca.pem' or "
    "an ssl.SSLContext to trust it, or verify_ssl=False to skip verification"
)


@functools.cache
def shared_context(verify: bool) -> ssl.SSLContext:
    """The process's one context for ``verify_ssl=True`` (the system CAs) or ``False``.

    Loading the CA bundle costs ~20 ms of CPU and ~800 KiB per context: a fleet of
    clients shares one (an ``SSLContext`` is safe to share; nobody here changes it but
    for httpcore's ALPN, set to the same ``http/1.1`` by every client)."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def make_ssl_context(verify_ssl: VerifySSL) -> ssl.SSLContext:
    """One context for both HTTP and the WebSocket, so they trust the same certificates."""
    if isinstance(verify_ssl, ssl.SSLContext):
        return verify_ssl
    if isinstance(verify_ssl, CertificateFingerprint):
        return PinnedSSLContext.create(verify_ssl)
    if verify_ssl is True or verify_ssl is False:
        return shared_context(verify_ssl)
    if isinstance(verify_ssl, str | os.PathLike):
        path = os.fspath(verify_ssl)
        try:
            return ssl.create_default_context(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            hint = ""
            if len(path.replace(":", "")) == 64 and not os.path.exists(path):
                hint = " (a fingerprint? pass verify_ssl=CertificateFingerprint(...))"
            raise InvalidInputError(f"cannot load CA file {path!r}: {exc}{hint}") from None
    raise InvalidInputError(
        "verify_ssl must be a bool, a CA file path, an SSLContext or a CertificateFingerprint, "
        f"got {verify_ssl!r}"
    )


_NOT_TLS: Final = (
    "WRONG_VERSION_NUMBER",
    "RECORD_LAYER_FAILURE",
    "HTTP_REQUEST",
    "UNKNOWN_PROTOCOL",
)
"""What OpenSSL says when the other end answers a handshake with something that is not TLS
(a plain-HTTP server's ``HTTP/1.1 400``): 1.1 and 3.0 say the first, 3.2 on the second."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def is_certificate_error(exc: BaseException) -> bool:
    """Whether ``exc`` or anything in its cause chain is a failed certificate check."""
    return any(
        isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen)
        for seen in _chain(exc)
    )


def is_not_tls(exc: BaseException) -> bool:
    """Whether ``exc`` or anything in its cause chain is a handshake answered by something
    that does not speak TLS: an ``https://`` URL for a plain-HTTP port."""
    return any(name in str(seen) for seen in _chain(exc) for name in _NOT_TLS)


def not_tls_hint(url: str) -> str:
    """What to do when ``url`` (``https://``) reached a port that does not speak TLS."""
    parts = urlsplit(url)
    plain = urlunsplit(("http", parts.netloc, "", "", ""))
    return (
        f"the port does not speak TLS: use {plain} if it serves plain HTTP, or the "
        "device's https port"
    )


def plain_http_hint(url: str) -> str:
    """What to do when ``url`` (``http://``) may have reached a port that speaks TLS."""
    parts = urlsplit(url)
    secure = urlunsplit(("https", parts.netloc, "", "", ""))
    return f"if this port serves HTTPS, use {secure}"
