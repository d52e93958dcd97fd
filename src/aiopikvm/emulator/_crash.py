"""What a device answers when a kvmd handler raises something kvmd does not catch.

kvmd's request wrapper turns only its own errors into the JSON envelope. Anything else —
aiohttp failing to read a form or to decode a body, say — reaches aiohttp, which logs it
and answers with its bare 500 page, closing the connection. Where kvmd crashes on input
like that, the emulator answers the same on purpose, without logging a crash of its own.
"""

from __future__ import annotations

from aiohttp import web

from ._server import INTERNAL_ERROR_TEXT


def unhandled_error() -> web.Response:
    response = web.Response(status=500, text=INTERNAL_ERROR_TEXT, content_type="text/plain")
    response.force_close()
    return response
