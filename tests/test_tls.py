"""TLS over real TLS: the emulator's self-signed certificate against every ``verify_ssl`` the
client takes, for HTTP and the WebSocket alike, and a pinned certificate checked before any
credentials leave."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiopikvm import (
    CertificateFingerprint,
    InvalidInputError,
    PiKVM,
    PiKVMWebSocket,
    TLSError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.transport.tls import VerifySSL

OTHER = "AB:" * 31 + "AB"


@pytest.fixture
async def tls_emu() -> AsyncIterator[Emulator]:
    async with Emulator(tls=True) as emulator:
        yield emulator


async def _http_and_ws(url: str, verify: VerifySSL) -> None:
    async with PiKVM(url, passwd="admin", verify_ssl=verify) as kvm:
        assert (await kvm.hid.get_state()).online
        async with kvm.ws() as ws:
            await ws.ping()


async def test_the_emulator_serves_its_own_certificate(tls_emu: Emulator) -> None:
    assert tls_emu.url.startswith("https://")
    der = ssl.PEM_cert_to_DER_cert(tls_emu.certificate_pem.decode())
    assert CertificateFingerprint(tls_emu.cert_fingerprint).hex == hashlib.sha256(der).hexdigest()
    assert Path(tls_emu.ca_file).read_bytes() == tls_emu.certificate_pem  # noqa: ASYNC240
    with pytest.raises(RuntimeError, match="tls=True"):
        _ = Emulator().cert_fingerprint


async def test_default_verification_fails_with_a_one_line_hint(tls_emu: Emulator) -> None:
    async with PiKVM(tls_emu.url, passwd="admin") as kvm:
        with pytest.raises(TLSError) as http:
            await kvm.hid.get_state()
        with pytest.raises(TLSError) as ws:
            async with kvm.ws():
                pass
    for caught in (http, ws):
        message = str(caught.value)
        assert "\n" not in message and "CertificateFingerprint(" in message, message
    assert tls_emu.faults.requests == []


async def test_trusting_the_certificate_as_a_ca_file_or_a_context(tls_emu: Emulator) -> None:
    await _http_and_ws(tls_emu.url, tls_emu.ca_file)
    await _http_and_ws(tls_emu.url, ssl.create_default_context(cafile=tls_emu.ca_file))


async def test_opting_out_is_explicit_and_works(tls_emu: Emulator) -> None:
    await _http_and_ws(tls_emu.url, False)


@pytest.mark.parametrize("spelling", ["as printed", "lower, no colons", "openssl line"])
async def test_a_pinned_certificate_is_trusted(tls_emu: Emulator, spelling: str) -> None:
    printed = tls_emu.cert_fingerprint
    text = {
        "as printed": printed,
        "lower, no colons": printed.replace(":", "").lower(),
        "openssl line": f"sha256 Fingerprint={printed}",
    }[spelling]
    await _http_and_ws(tls_emu.url, CertificateFingerprint(text))


async def test_a_standalone_session_takes_a_pin(tls_emu: Emulator) -> None:
    pin = CertificateFingerprint(tls_emu.cert_fingerprint)
    async with PiKVMWebSocket(tls_emu.url, passwd="admin", verify_ssl=pin) as ws:
        await ws.ping()


async def test_a_wrong_pin_fails_before_anything_is_sent(tls_emu: Emulator) -> None:
    async with PiKVM(tls_emu.url, passwd="admin", verify_ssl=CertificateFingerprint(OTHER)) as kvm:
        with pytest.raises(TLSError) as http:
            await kvm.hid.get_state()
        with pytest.raises(TLSError) as ws:
            async with kvm.ws():
                pass
    for caught in (http, ws):
        message = str(caught.value)
        assert OTHER in message and tls_emu.cert_fingerprint in message, message
    assert tls_emu.faults.requests == []  # no request, no handshake: the password stayed home


async def test_a_pin_holds_when_another_certificate_appears_later() -> None:
    # Pinned and verified once; then a different device answers at the same address.
    async with Emulator(tls=True) as first:
        port = first.port
        kvm = PiKVM(
            first.url, passwd="admin", verify_ssl=CertificateFingerprint(first.cert_fingerprint)
        )
        assert (await kvm.hid.get_state()).online
    async with Emulator(tls=True, port=port) as impostor:
        with pytest.raises(TLSError):
            await kvm.hid.get_state()
        with pytest.raises(TLSError):
            async with kvm.ws():
                pass
        assert impostor.faults.requests == []
    await kvm.aclose()


def test_fingerprints_are_parsed_strictly() -> None:
    pin = CertificateFingerprint(OTHER.lower())
    assert str(pin) == OTHER and pin == CertificateFingerprint(OTHER.replace(":", ""))
    assert repr(pin) == f"CertificateFingerprint({OTHER!r})"
    for bad in ("AB:CD", "ZZ" * 32, OTHER + ":00", ""):
        with pytest.raises(InvalidInputError, match="SHA-256"):
            CertificateFingerprint(bad)
    with pytest.raises(InvalidInputError, match="CertificateFingerprint"):
        PiKVM("https://pikvm.local", verify_ssl=OTHER)  # a string is a CA file's path


def test_a_url_with_credentials_is_refused_without_echoing_them() -> None:
    with pytest.raises(InvalidInputError) as caught:
        PiKVM("https://admin:hunter2@pikvm.local")
    assert "hunter2" not in str(caught.value)
