"""The credentials kvmd reads from every request and every WebSocket upgrade."""

from __future__ import annotations

from .._exceptions import InvalidInputError
from ..protocol import totp
from ..protocol.credentials import passwd_problem, user_problem


class Credentials:
    """A user, a password and an optional TOTP secret; never shows the secrets.

    With a TOTP secret, a fresh code is appended to the password each time the headers
    are built: a code computed once at start-up would expire within ~90 seconds.
    """

    __slots__ = ("_passwd", "_totp_secret", "user")

    def __init__(self, user: str, passwd: str, totp_secret: str | None = None) -> None:
        if not isinstance(user, str) or (problem := user_problem(user)):
            raise InvalidInputError(f"invalid user name {user!r}: {problem or 'not a string'}")
        if not isinstance(passwd, str) or (problem := passwd_problem(passwd)):
            raise InvalidInputError(f"invalid password: {problem or 'not a string'}")
        if totp_secret is not None:
            totp.decode_secret(totp_secret)  # fail now, not on the first request
        self.user = user
        self._passwd = passwd
        self._totp_secret = totp_secret

    def password(self) -> str:
        """The password to send now: with two-factor, followed by the current code."""
        if self._totp_secret is None:
            return self._passwd
        return self._passwd + totp.totp(self._totp_secret)

    def headers(self) -> dict[str, str]:
        return {"X-KVMD-User": self.user, "X-KVMD-Passwd": self.password()}

    def __repr__(self) -> str:
        two_factor = ", totp=True" if self._totp_secret else ""
        return f"Credentials(user={self.user!r}, passwd='***'{two_factor})"
