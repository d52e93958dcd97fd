from __future__ import annotations

from .._checks import KVMD_INT_MAX, check_int, check_passwd, check_user
from ..errors import InvalidInputError
from ..transport.redaction import hidden
from ._base import Resource

_COOKIE = "auth_token"


class Auth(Resource):
    """Checking credentials, and kvmd's session cookie (``/api/auth``).

    After :meth:`login`, HTTP requests carry the session cookie instead of the password
    (WebSocket sessions keep using the credentials). kvmd drops the session on
    :meth:`logout`, when ``expire`` runs out, and when *any* client logs the same user out;
    from then on requests raise :class:`~aiopikvm.AuthError` (403) until you log in again
    or call :meth:`logout`, which always returns the client to its credentials.
    """

    async def check(self) -> None:
        """Returns if the device accepts the credentials (or the session cookie); raises
        :class:`~aiopikvm.AuthError` (401 or 403) if not."""
        await self._http.request("GET", "auth/check")

    async def login(
        self, user: str | None = None, passwd: str | None = None, *, expire: int | None = None
    ) -> None:
        """Open a session: kvmd answers with a cookie that authenticates every later HTTP
        request of this client in place of the credentials.

        ``user`` and ``passwd`` default to the client's own (with a fresh two-factor code
        when the client has a TOTP secret); a ``passwd`` given here is sent as it is, so on
        a two-factor device it must end with the current code. ``expire`` is the session's
        lifetime in seconds (``0`` or ``None``: as long as the device allows).
        """
        credentials = self._http.credentials
        user = credentials.user if user is None else check_user(user)
        # '***' in a traceback's locals (here, and in the form the request path holds)
        passwd = hidden(credentials.password() if passwd is None else check_passwd(passwd))
        form = {"user": user, "passwd": passwd}
        if expire is not None:
            form["expire"] = str(check_int(expire, "expire", low=0, high=KVMD_INT_MAX))
        # kvmd reads only the form here. With its auth disabled it answers without a
        # cookie, and the client simply goes on without one.
        await self._http.request("POST", "auth/login", data=form, authenticate=False)

    async def logout(self) -> None:
        """End the session opened by :meth:`login`. kvmd ends **every** session of that
        user, other clients' included. The client goes back to its credentials even if the
        device refuses (a session that had already ended answers 403)."""
        cookies = self._http.cookies
        if _COOKIE not in cookies:
            raise InvalidInputError("no session to end: logout() needs a login() first")
        try:
            await self._http.request("POST", "auth/logout")
        finally:
            cookies.pop(_COOKIE, None)
