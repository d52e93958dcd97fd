"""The device's address, checked once for both the HTTP client and the WebSocket."""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import SplitResult, urlsplit

from .._checks import check_str, show
from ..errors import InvalidInputError


def split_device_url(url: str, schemes: Collection[str]) -> SplitResult:
    """``url`` split, once checked to be a device's address: one of ``schemes``, a host, a
    port that is a port, and no credentials, query or fragment."""
    if not isinstance(url, str):
        raise InvalidInputError(f"the device URL must be a str, got {type(url).__name__}")
    # Checked first, and on the raw string: every message below shows the URL.
    if "@" in re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0]:
        raise InvalidInputError("credentials go in user= and passwd=, not in the device URL")
    check_str(url, "url", printable=True, expected="a device URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port that is not a number, or above 65535; a broken IPv6
        raise InvalidInputError(f"not a device URL: {show(url)} ({exc})") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise InvalidInputError(f"not a device URL: {show(url)} (expected https://host)")
    if port == 0:
        raise InvalidInputError(f"not a device URL: {show(url)} (port 0)")
    if parts.query or parts.fragment:
        raise InvalidInputError(f"the device URL must not have a query or fragment: {show(url)}")
    return parts
