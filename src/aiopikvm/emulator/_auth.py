"""Users, session cookies, two-factor codes, and kvmd's order of credential sources.

kvmd looks at one credential source per request, the first one present: the
``X-KVMD-User``/``X-KVMD-Passwd`` headers, then the ``auth_token`` cookie, then HTTP Basic.
Whatever that source says is final — a wrong header password is a 403 even when a valid
cookie came along — and only a request with none of them gets a 401.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from ..protocol import totp
from ._errors import ForbiddenError, UnauthorizedError
from ._log import AUTH_INFO, Journal
from ._server import Route, json_response, unhandled_error
from ._validators import valid_auth_token, valid_expire, valid_passwd, valid_user

logger = logging.getLogger("aiopikvm.emulator.auth")

COOKIE: Final = "auth_token"


@dataclass(frozen=True, slots=True)
class _Session:
    user: str
    expires_at: int  # monotonic seconds; 0 = never


class Auth:
    def __init__(
        self, users: Mapping[str, str], totp_secret: str | None = None, *, journal: Journal
    ) -> None:
        self._users = dict(users)
        self._journal = journal
        self._totp_secret = totp_secret or None
        if self._totp_secret is not None:
            totp.decode_secret(self._totp_secret)  # fail at construction, not on a login
        self._sessions: dict[str, _Session] = {}

    # ----- the auth manager -----------------------------------------------------------

    def authorize(self, user: str, passwd: str) -> bool:
        if self._totp_secret is not None:
            code, passwd = passwd[-6:], passwd[:-6]
            if not totp.verify(self._totp_secret, code):
                logger.info("Access denied for user %r by TOTP", user)
                self._log(f"Got access denied for user {user!r} by TOTP", level="ERROR")
                return False
        expected = self._users.get(user)
        ok = expected is not None and hmac.compare_digest(expected.encode(), passwd.encode())
        if ok:
            self._log(f"Authorized user {user!r} via auth service 'htpasswd'")
        else:
            logger.info("Access denied for user %r", user)
            self._log(
                f"Got access denied for user {user!r} from auth service 'htpasswd'", level="ERROR"
            )
        return ok

    def login(self, user: str, passwd: str, expire: int) -> str | None:
        if not self.authorize(user, passwd):
            return None
        token = secrets.token_hex(32)
        expires_at = _now() + expire if expire > 0 else 0
        self._sessions[token] = _Session(user, expires_at)
        shown = f"[{datetime.timedelta(seconds=expire)}]" if expire > 0 else "INF"
        self._log(f"Logged in user {user!r}; expire={shown}, sessions_now={self._count(user)}")
        return token

    def check(self, token: str) -> str | None:
        session = self._sessions.get(token)
        if session is None:
            return None
        if session.expires_at and _now() >= session.expires_at:
            del self._sessions[token]
            self._log(
                f"The session of user {session.user!r} is expired;"
                f" sessions_left={self._count(session.user)}"
            )
            return None
        return session.user

    def logout(self, token: str) -> None:
        session = self._sessions.get(token)
        if session is None:
            return
        # kvmd ends every session of that user, not only the one whose cookie was sent.
        closed = self._count(session.user)
        for key, other in list(self._sessions.items()):
            if other.user == session.user:
                del self._sessions[key]
        self._log(f"Logged out user {session.user!r}; sessions_closed={closed}")

    def _count(self, user: str) -> int:
        return sum(session.user == user for session in self._sessions.values())

    def _log(self, message: str, *, level: str = "INFO") -> None:
        self._journal.write("kvmd.apps.kvmd.auth", message, level=level)

    def forget_sessions(self) -> None:
        """kvmd keeps session tokens in memory only: a restart logs everyone out."""
        self._sessions.clear()

    # ----- the request check ----------------------------------------------------------

    async def check_request(self, request: web.Request) -> None:
        user = request.headers.get("X-KVMD-User", "")
        if user:
            user = valid_user(user)
            request[AUTH_INFO] = f"{user} (xhdr)"
            passwd = valid_passwd(request.headers.get("X-KVMD-Passwd", ""))
            if self.authorize(user, passwd):
                return
            raise ForbiddenError()

        token = request.cookies.get(COOKIE, "")
        if token:
            owner = self.check(valid_auth_token(token))
            request[AUTH_INFO] = f"{owner or '-'} (token)"
            if owner:
                return
            raise ForbiddenError()

        basic = request.headers.get("Authorization", "")
        if basic and basic[:6].lower() == "basic ":
            try:
                user, passwd = base64.b64decode(basic[6:]).decode("utf-8").split(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                # Includes a password with a colon: kvmd splits on every one of them.
                raise UnauthorizedError() from None
            user = valid_user(user)
            request[AUTH_INFO] = f"{user} (basic)"
            if self.authorize(user, valid_passwd(passwd)):
                return
            raise ForbiddenError()

        raise UnauthorizedError()

    # ----- endpoints ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/auth/login", self._login, auth_required=False),
            Route("POST", "/auth/logout", self._logout),
            Route("GET", "/auth/check", self._check),
        ]

    async def _login(self, request: web.Request) -> web.StreamResponse:
        # Form fields only: any other body (JSON, say) reads as no fields at all.
        try:
            form = await request.post()
        except web.HTTPException:
            raise  # a body too large: aiohttp's own answer, on kvmd too
        except Exception:  # a form aiohttp cannot read; kvmd does not catch it either
            return unhandled_error()
        user = valid_user(form.get("user", ""))
        passwd = valid_passwd(form.get("passwd", ""))
        expire = valid_expire(form.get("expire", "0"))
        token = self.login(user, passwd, expire)
        if token is None:
            raise ForbiddenError()
        return json_response(cookies={COOKIE: token})

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        self.logout(valid_auth_token(request.cookies.get(COOKIE, "")))
        return json_response()

    async def _check(self, _: web.Request) -> web.StreamResponse:
        return json_response()


def _now() -> int:
    return int(time.monotonic())
