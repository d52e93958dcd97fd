"""The credentials kvmd reads from every request and every WebSocket upgrade."""

from __future__ import annotations

import base64
from typing import Literal, TypeAlias

from .._checks import check_choice, check_passwd, check_totp_secret, check_user
from ..errors import InvalidInputError
from ..protocol import totp
from .redaction import hidden

AuthMode: TypeAlias = Literal["headers", "basic"]
"""How credentials travel: kvmd's ``X-KVMD-User``/``X-KVMD-Passwd`` headers, or HTTP Basic."""


class Credentials:
    """A user, a password and an optional TOTP secret; never shows the secrets.

    With a TOTP secret, a fresh code is appended to the password each time the headers
    are built: a code computed once at start-up would expire within ~90 seconds.
    """

    __slots__ = ("_passwd", "_totp_secret", "mode", "user")

    def __init__(
        self,
        user: str,
        passwd: str,
        totp_secret: str | None = None,
        *,
        mode: AuthMode = "headers",
    ) -> None:
        # Shown as '***' in a traceback's locals: this frame's, and wherever they are kept.
        passwd, totp_secret = hidden(passwd), hidden(totp_secret)
        check_user(user)
        check_passwd(passwd)
        check_choice(mode, "auth", ("headers", "basic"))
        if mode == "basic" and ":" in passwd:
            # kvmd splits the Basic pair on every colon: such a password can never match.
            raise InvalidInputError("a password containing ':' cannot use HTTP Basic on kvmd")
        if totp_secret is not None:
            check_totp_secret(totp_secret)  # fail now, not on the first request
        self.user = user
        self.mode: AuthMode = mode
        self._passwd = passwd
        self._totp_secret = totp_secret

    def password(self) -> str:
        """The password to send now: with two-factor, followed by the current code."""
        if self._totp_secret is None:
            return self._passwd
        return self._passwd + totp.totp(self._totp_secret)

    def headers(self) -> dict[str, str]:
        """The headers that authenticate one request (or one WebSocket upgrade)."""
        if self.mode == "basic":
            pair = f"{self.user}:{self.password()}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        return {"X-KVMD-User": self.user, "X-KVMD-Passwd": self.password()}

    def refused_hint(self) -> str:
        """What to check when the device refused these credentials (kvmd's 403 says
        only "Forbidden", whichever part was wrong)."""
        who = f"user {self.user!r}"
        if self._totp_secret is None:
            return (
                f"check {who} and the password; if the device has two-factor "
                "authentication, pass totp_secret= (its base32 secret) too"
            )
        return (
            f"check {who}, the password and totp_secret (the code comes from this "
            "machine's clock: it must be within 30 s of the device's)"
        )

    def __repr__(self) -> str:
        two_factor = ", totp=True" if self._totp_secret else ""
        mode = ", mode='basic'" if self.mode == "basic" else ""
        return f"Credentials(user={self.user!r}, passwd='***'{two_factor}{mode})"
