"""The aiohttp application: routing, kvmd's envelope, and the last-resort error page.

Each subsystem module lists its own :class:`Route` objects; this module mounts them under
``/api`` the way nginx exposes kvmd on a device (Redfish also at ``/redfish``, where a
device's nginx forwards it too), wraps each in kvmd's request wrapper
(authentication first, then the handler, errors turned into the envelope) and treats
paths as nginx and kvmd do together (see :func:`_device_paths`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler as AiohttpHandler
from aiohttp.typedefs import Middleware
from aiohttp.web_urldispatcher import SystemRoute

from ._errors import KvmdError

logger = logging.getLogger("aiopikvm.emulator")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AuthCheck = Callable[[web.Request], Awaitable[None]]
Broadcast = Callable[[str, dict[str, Any]], None]
"""Sends ``(event_type, event)`` to every open WebSocket session."""

API_PREFIX: Final = "/api"
UNPREFIXED: Final = ("/redfish/",)
"""Routes nginx forwards from outside ``/api`` too (Redfish clients expect ``/redfish/v1``)."""
INTERNAL_ERROR_TEXT: Final = "500 Internal Server Error\n\nServer got itself in trouble"
NGINX_EXACT: Final = ("/ws", "/hid/print", "/msd/read", "/msd/write_remote", "/msd/write", "/log")
"""nginx's own locations under ``/api``, longest first (configs/nginx/kvmd.ctx-server.conf):
each rewrites only its exact path, so a longer one reaches kvmd with ``/api`` still on."""


class InjectedCrash(Exception):
    """Raised by the fault injector to crash a request the way a bug in kvmd would."""


@dataclass(frozen=True, slots=True)
class Route:
    """One kvmd endpoint: ``path`` is relative to ``/api`` (``"/hid/reset"``); with
    ``root``, to the device's root (nginx's other locations: ``/streamer/stream``)."""

    method: str
    path: str
    handler: Handler
    auth_required: bool = True
    root: bool = False


def json_response(
    result: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    cookies: Mapping[str, str] | None = None,
) -> web.Response:
    """kvmd's envelope; ``ok`` is true exactly when the status is 200, keys sorted."""
    body = json.dumps({"ok": status == 200, "result": dict(result or {})}, sort_keys=True, indent=4)
    response = web.Response(text=body, status=status, content_type="application/json")
    for name, value in (cookies or {}).items():
        response.set_cookie(name, value, httponly=True, samesite="Strict")
    return response


def error_response(error: KvmdError) -> web.Response:
    return json_response(
        {"error": type(error).__name__, "error_msg": str(error)}, status=error.status
    )


def crash_response() -> web.Response:
    """What kvmd 4.206 answered when a handler of its crashed (redfish_actions.json)."""
    return json_response({"error": "", "error_msg": ""}, status=500)


def unhandled_error() -> web.Response:
    """aiohttp's answer when a handler raises something kvmd does not catch (aiohttp failing
    to read a form or decode a body, say): its bare 500 page, and the connection closed.
    Where kvmd crashes on input like that, the emulator answers the same on purpose."""
    response = web.Response(status=500, text=INTERNAL_ERROR_TEXT, content_type="text/plain")
    response.force_close()
    return response


def _wrap(route: Route, check_auth: AuthCheck) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            if route.auth_required:
                await check_auth(request)
            return await route.handler(request)
        except KvmdError as error:
            return error_response(error)

    return handler


@web.middleware
async def _no_tracebacks(request: web.Request, handler: AiohttpHandler) -> web.StreamResponse:
    # A bug in the emulator must look like a bug in kvmd: a bare 500, details only in the log.
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except InjectedCrash as crash:
        logger.info("Fault: %s", crash)  # asked for: no traceback to alarm anyone
    except Exception:
        logger.exception("Unexpected error on %s %s", request.method, request.path)
    return unhandled_error()


async def _resolves(request: web.Request, path: str) -> web.Request | None:
    """``request`` moved to ``path`` (with its query) if a route takes it there."""
    _, sep, query = request.raw_path.partition("?")
    moved = request.clone(rel_url=path + sep + query)
    match_info = await request.app.router.resolve(moved)
    if match_info.http_exception is not None:
        return None
    match_info.add_app(request.app)
    match_info.freeze()
    moved._match_info = match_info  # what aiohttp's own normalize_path_middleware does
    return moved


@web.middleware
async def _device_paths(request: web.Request, handler: AiohttpHandler) -> web.StreamResponse:
    """A path no route takes, as a device treats it. Under ``/api`` nginx merges doubled
    slashes (serving the result, no redirect) and strips ``/api``; kvmd (aiohttp's
    normalize_path_middleware, kvmd/htserver.py) then answers a trailing slash with 308 to
    the path without it, *as kvmd sees it*: ``/api/hid/`` -> ``Location: /hid``. Paths
    outside ``/api`` (Redfish) reach kvmd as sent, and kvmd merges slashes with a 308."""
    if not isinstance(request.match_info.route, SystemRoute):
        return await handler(request)
    path, sep, query = request.raw_path.partition("?")
    query = sep + query  # as sent: a Location keeps the query's encoding
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        merged = re.sub("//+", "/", path)
        special = next((loc for loc in NGINX_EXACT if merged.startswith(API_PREFIX + loc)), None)
        if special is not None and merged != API_PREFIX + special:
            return await handler(request)  # kvmd has no /api/... route: 404
        if merged != path and (moved := await _resolves(request, merged)) is not None:
            return await moved.match_info.handler(moved)
        if merged.endswith("/") and await _resolves(request, merged[:-1]) is not None:
            raise web.HTTPPermanentRedirect(merged[len(API_PREFIX) : -1] + query)
        return await handler(request)
    merged = re.sub("//+", "/", path)
    for candidate in (merged, merged[:-1] if merged.endswith("/") else None):
        if candidate and candidate != path and await _resolves(request, candidate) is not None:
            raise web.HTTPPermanentRedirect(candidate + query)
    return await handler(request)


def build_app(
    routes: Iterable[Route],
    check_auth: AuthCheck,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    middlewares: Iterable[Middleware] = (),
) -> web.Application:
    app = web.Application(
        middlewares=[
            _no_tracebacks,
            *middlewares,  # inside _no_tracebacks: a bug there must not show a traceback either
            _device_paths,  # innermost: it may hand the request to another route's handler
        ]
    )
    for route in routes:
        handler = _wrap(route, check_auth)
        # add_route, not add_get: kvmd's routes answer HEAD with 405.
        app.router.add_route(route.method, ("" if route.root else API_PREFIX) + route.path, handler)
        if (route.path + "/").startswith(UNPREFIXED):
            app.router.add_route(route.method, route.path, handler)
    if on_shutdown is not None:
        shutdown = on_shutdown

        async def _shutdown(_: web.Application) -> None:
            await shutdown()

        app.on_shutdown.append(_shutdown)
    return app
