"""The HID's HTTP endpoints, as kvmd's kvmd/apps/kvmd/api/hid.py answers them: each
request is validated, then handed to the :class:`~._hid.Hid` queue like WebSocket input."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Final

from aiohttp import web

from ._hid import Hid
from ._server import Route, json_response
from ._validators import (
    valid_bool,
    valid_hid_key,
    valid_keyboard_output,
    valid_mouse_button,
    valid_mouse_delta,
    valid_mouse_move,
    valid_mouse_output,
    valid_string_list,
)

SHORTCUT_DELAY: Final = 0.05
"""kvmd waits this long before each press and release of ``send_shortcut``."""


class HidApi:
    def __init__(self, hid: Hid) -> None:
        self._hid = hid

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/hid", self._h_state),
            Route("POST", "/hid/set_params", self._h_set_params),
            Route("POST", "/hid/set_connected", self._h_set_connected),
            Route("POST", "/hid/reset", self._h_reset),
            Route("GET", "/hid/inactivity", self._h_inactivity),
            Route("GET", "/hid/keymaps", self._h_keymaps),
            Route("POST", "/hid/events/send_key", self._h_send_key),
            Route("POST", "/hid/events/send_shortcut", self._h_send_shortcut),
            Route("POST", "/hid/events/send_mouse_button", self._h_send_mouse_button),
            Route("POST", "/hid/events/send_mouse_move", self._h_send_mouse_move),
            Route("POST", "/hid/events/send_mouse_relative", self._h_send_mouse_relative),
            Route("POST", "/hid/events/send_mouse_wheel", self._h_send_mouse_wheel),
        ]

    async def _h_state(self, _: web.Request) -> web.StreamResponse:
        return json_response(self._hid.get_state())

    async def _h_set_params(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        # Everything is validated before anything is applied, in kvmd's order.
        keyboard = query.get("keyboard_output")
        if keyboard is not None:
            valid_keyboard_output(keyboard)  # the OTG keyboard has no outputs to switch
        mouse = query.get("mouse_output")
        mouse_output = valid_mouse_output(mouse) if mouse is not None else None
        jiggler = query.get("jiggler")
        jiggler_active = valid_bool(jiggler) if jiggler is not None else None
        self._hid.set_params(mouse_output=mouse_output, jiggler_active=jiggler_active)
        return json_response()

    async def _h_set_connected(self, request: web.Request) -> web.StreamResponse:
        valid_bool(request.query.get("connected"))  # accepted; an OTG HID is always attached
        return json_response()

    async def _h_reset(self, _: web.Request) -> web.StreamResponse:
        self._hid.clear_events()
        return json_response()

    async def _h_inactivity(self, _: web.Request) -> web.StreamResponse:
        return json_response({"inactivity": self._hid.inactivity()})

    async def _h_keymaps(self, _: web.Request) -> web.StreamResponse:
        return json_response(self._hid.get_keymaps())

    async def _h_send_key(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        key = valid_hid_key(query.get("key"))
        if "state" in query:
            state = valid_bool(query["state"])
            finish = valid_bool(query.get("finish", False))
            self._hid.send_key(key, state, finish)
        else:
            # A press with finish, as kvmd does: so a modifier stays down.
            self._hid.send_key(key, True, True)
        return json_response()

    async def _h_send_shortcut(self, request: web.Request) -> web.StreamResponse:
        keys = valid_string_list(request.query.get("keys"), "string list", valid_hid_key)
        for key, state in _shortcut(keys):
            await asyncio.sleep(SHORTCUT_DELAY)
            self._hid.send_key(key, state, False)
        return json_response()

    async def _h_send_mouse_button(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        button = valid_mouse_button(query.get("button"))
        if "state" in query:
            self._hid.send_mouse_button(button, valid_bool(query["state"]))
        else:
            self._hid.send_mouse_button(button, True)
            self._hid.send_mouse_button(button, False)
        return json_response()

    async def _h_send_mouse_move(self, request: web.Request) -> web.StreamResponse:
        to_x = valid_mouse_move(request.query.get("to_x"))
        to_y = valid_mouse_move(request.query.get("to_y"))
        self._hid.send_mouse_move(to_x, to_y)
        return json_response()

    async def _h_send_mouse_relative(self, request: web.Request) -> web.StreamResponse:
        delta = self._delta(request)
        self._hid.send_mouse_relative((delta,), False)
        return json_response()

    async def _h_send_mouse_wheel(self, request: web.Request) -> web.StreamResponse:
        delta = self._delta(request)
        self._hid.send_mouse_wheel((delta,), False)
        return json_response()

    @staticmethod
    def _delta(request: web.Request) -> tuple[int, int]:
        return (
            valid_mouse_delta(request.query.get("delta_x")),
            valid_mouse_delta(request.query.get("delta_y")),
        )


def _shortcut(keys: list[str]) -> Iterator[tuple[str, bool]]:
    for key in keys:
        yield key, True
    for key in reversed(keys):
        yield key, False
