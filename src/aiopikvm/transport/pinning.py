"""Certificate pinning: trust exactly the certificate whose SHA-256 the user gave.

A PiKVM's certificate is self-signed and names ``localhost``, so neither the system CAs
nor its own file as a CA pass the usual checks against the device's real address. Pinning
is the sound way to trust it. The pin is checked before any credentials leave: an
unauthenticated TLS handshake fetches the device's certificate, its SHA-256 is compared to
the pin, and only then does the shared SSL context trust that one certificate (as its own
anchor, host name not checked). Every later connection, HTTP or WebSocket, must present it
and prove it holds its key, or the handshake fails.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import ssl
from typing import Final
from urllib.parse import urlsplit

from ..errors import (
    InvalidInputError,
    PiKVMConnectionError,
    PiKVMTimeoutError,
    RequestInfo,
    TLSError,
)

_HEX_DIGITS: Final = re.compile(r"[0-9a-f]{64}")


class CertificateFingerprint:
    """A certificate pinned by the SHA-256 of its DER form, for ``verify_ssl=``.

    Accepts what ``openssl x509 -noout -fingerprint -sha256`` prints (``AB:CD:...``, the
    ``sha256 Fingerprint=`` prefix may stay), or the 64 hex digits alone, in any case.
    """

    __slots__ = ("hex",)

    def __init__(self, fingerprint: str) -> None:
        if not isinstance(fingerprint, str):
            raise InvalidInputError(f"a fingerprint is a string, got {fingerprint!r}")
        text = fingerprint.strip().lower()
        if "=" in text and text.split("=", 1)[0].strip() in ("sha256 fingerprint", "sha256"):
            text = text.split("=", 1)[1]
        digits = text.strip().replace(":", "")
        if not _HEX_DIGITS.fullmatch(digits):
            raise InvalidInputError(
                f"not a SHA-256 fingerprint: {fingerprint[:120]!r} (expected 64 hex digits, "
                "as `openssl x509 -noout -fingerprint -sha256` prints)"
            )
        self.hex: str = digits

    @classmethod
    def of(cls, certificate_der: bytes) -> CertificateFingerprint:
        """The fingerprint of a DER-encoded certificate."""
        return cls(hashlib.sha256(certificate_der).hexdigest())

    def __str__(self) -> str:
        return ":".join(self.hex[i : i + 2] for i in range(0, 64, 2)).upper()

    def __repr__(self) -> str:
        return f"CertificateFingerprint({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CertificateFingerprint) and other.hex == self.hex

    def __hash__(self) -> int:
        return hash(self.hex)


class PinnedSSLContext(ssl.SSLContext):
    """An SSL context that trusts nothing until :meth:`verify_peer` found the pinned
    certificate at the device's address, and then that certificate only."""

    fingerprint: CertificateFingerprint
    _verified: set[tuple[str, int]]

    @classmethod
    def create(cls, fingerprint: CertificateFingerprint) -> PinnedSSLContext:
        context = cls(ssl.PROTOCOL_TLS_CLIENT)
        # The pin identifies the device, whatever name it is reached by; its certificate
        # is its own trust anchor, whether self-signed or issued by a CA we do not have.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_REQUIRED
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        context.fingerprint = fingerprint
        context._verified = set()
        return context

    async def verify_peer(self, url: str, *, timeout: float | None, request: RequestInfo) -> None:
        """Fetch the certificate at ``url``'s host and port without sending anything, and
        trust it if it is the pinned one; :class:`TLSError` naming both if not."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or 443
        if (host, port) in self._verified:
            return
        certificate = await _fetch_certificate(host, port, timeout=timeout, request=request)
        found = CertificateFingerprint.of(certificate)
        if found != self.fingerprint:
            raise TLSError(
                f"{request}: the device's certificate has SHA-256 fingerprint {found}, not the "
                f"pinned {self.fingerprint}; nothing was sent",
                request=request,
            )
        self.load_verify_locations(cadata=certificate)
        self._verified.add((host, port))


async def _fetch_certificate(
    host: str, port: int, *, timeout: float | None, request: RequestInfo
) -> bytes:
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE  # only to read the certificate; nothing is sent
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port, ssl=probe, server_hostname=host)
    except TimeoutError:
        raise PiKVMTimeoutError(
            f"{request}: no TLS handshake within {timeout} s", request=request
        ) from None
    except ssl.SSLError as exc:
        raise TLSError(f"{request}: TLS handshake failed: {exc}", request=request) from None
    except OSError as exc:
        reason = str(exc) or type(exc).__name__
        raise PiKVMConnectionError(
            f"{request}: cannot reach the device: {reason}", request=request
        ) from None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        certificate = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    finally:
        writer.transport.abort()
    if not certificate:
        raise TLSError(f"{request}: the device sent no certificate", request=request)
    return bytes(certificate)
