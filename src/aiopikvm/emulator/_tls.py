"""The emulator's HTTPS certificate: self-signed and made at start-up, like a PiKVM's.

kvmd-gencert gives a device one self-signed ECDSA P-256 certificate (``O=PiKVM``,
``CN=localhost``, ten years) and nginx serves it. The emulator makes the same kind, and
adds its own address as a subjectAltName so that a client given the certificate as its CA
file can also pass the host name check (a stock device's certificate has no
subjectAltName, so only pinning or an opt-out work against it by name).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl
import tempfile
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY: Final = datetime.timedelta(days=3650)


class ServerCertificate:
    """A fresh key and self-signed certificate for ``host``, and a server context for them."""

    def __init__(self, host: str) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PiKVM"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "PiKVM"),
                x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
            ]
        )
        now = datetime.datetime.now(datetime.UTC)
        subject_key = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.SubjectAlternativeName(_alt_names(host)), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(subject_key, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(subject_key),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        self.certificate_pem: bytes = certificate.public_bytes(serialization.Encoding.PEM)
        der = certificate.public_bytes(serialization.Encoding.DER)
        self.fingerprint: str = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        self._key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._files: tempfile.TemporaryDirectory[str] | None = None

    @property
    def ca_file(self) -> str:
        """The certificate in a PEM file (it is its own CA), written on first use."""
        if self._files is None:
            self._files = tempfile.TemporaryDirectory(prefix="pikvm-emulator-")
            (Path(self._files.name) / "server.crt").write_bytes(self.certificate_pem)
        return str(Path(self._files.name) / "server.crt")

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        # load_cert_chain reads only files; the key is on disk just for this call.
        with tempfile.TemporaryDirectory(prefix="pikvm-emulator-") as directory:
            cert_file, key_file = Path(directory) / "server.crt", Path(directory) / "server.key"
            cert_file.write_bytes(self.certificate_pem)
            key_file.touch(mode=0o600)
            key_file.write_bytes(self._key_pem)
            context.load_cert_chain(cert_file, key_file)
        return context


def _alt_names(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            names.append(x509.DNSName(host))
    else:
        if not address.is_unspecified and x509.IPAddress(address) not in names:
            names.append(x509.IPAddress(address))
    return names
