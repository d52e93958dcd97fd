"""The server over streamable HTTP: loopback by default, every request with the bearer
token or a 401 before the MCP app sees it."""

from __future__ import annotations

import hmac
import ipaddress
import socket
import sys
from typing import Any, Final

from mcp.server.mcpserver import MCPServer

from ..errors import InvalidInputError

PATH: Final = "/mcp"
MIN_TOKEN: Final = 16
"""Characters a token has at least: a guessable one protects nothing."""

Scope = dict[str, Any]


class BearerAuth:
    """ASGI middleware: HTTP requests without ``Authorization: Bearer <token>`` get 401
    (compared in constant time); the lifespan and everything else pass through."""

    def __init__(self, app: Any, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    def __repr__(self) -> str:
        return "<BearerAuth token=***>"

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or ()).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b'Bearer realm="pikvm-mcp"'),
                        ],
                    }
                )
                body = b'{"error": "unauthorized: send Authorization: Bearer <token>"}'
                await send({"type": "http.response.body", "body": body})
                return
        await self._app(scope, receive, send)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen(host: str, token: str | None, allow_remote: bool) -> str:
    """The token, once the settings are safe; else why not."""
    if not token:
        raise InvalidInputError(
            "--http needs a bearer token: set PIKVM_MCP_TOKEN (or --token-env VAR), e.g. to "
            "the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    if len(token) < MIN_TOKEN:
        raise InvalidInputError(f"the bearer token is too short: use {MIN_TOKEN}+ characters")
    if not is_loopback(host) and not allow_remote:
        raise InvalidInputError(
            f"--host {host} is not a loopback address: anyone who can reach it could drive "
            "the machine. Add --allow-remote if you mean it (and put TLS in front)"
        )
    return token


async def serve_http(app: MCPServer, host: str, port: int, token: str) -> None:
    import uvicorn

    asgi = BearerAuth(app.streamable_http_app(streamable_http_path=PATH, host=host), token)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"pikvm mcp: serving http://{shown}:{bound}{PATH}", file=sys.stderr, flush=True)
    config = uvicorn.Config(asgi, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])
