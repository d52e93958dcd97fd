"""Shared helpers for the emulator's tests: raw httpx/websockets against real loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from importlib.resources import files
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from aiopikvm.emulator import Emulator, ThreadedEmulator

CAPTURES = files("aiopikvm.emulator") / "captures"

ADMIN: dict[str, str] = {"X-KVMD-User": "admin", "X-KVMD-Passwd": "admin"}
BUNDLE_LENGTH = 19
"""``loop`` and the 18 full-state events that follow it in ``ws_events.jsonl``."""


def capture(name: str) -> Any:
    """A capture file's JSON; ``.jsonl`` gives the list of its lines."""
    text = (CAPTURES / name).read_text("utf-8")
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def captured_result(name: str) -> Any:
    body = capture(name)
    assert body["ok"] is True
    return body["result"]


def captured_ws_messages() -> list[dict[str, Any]]:
    return [line["msg"] for line in capture("ws_events.jsonl")]


async def request(
    emu: Emulator | ThreadedEmulator,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = ADMIN,
    **kwargs: Any,
) -> httpx.Response:
    """One request on a fresh client, so no cookie is carried over by accident."""
    async with httpx.AsyncClient(base_url=emu.url, timeout=10) as client:
        return await client.request(method, path, headers=dict(headers or {}), **kwargs)


def ws_url(emu: Emulator | ThreadedEmulator, query: str = "stream=0") -> str:
    return emu.url.replace("http://", "ws://") + "/api/ws" + (f"?{query}" if query else "")


def ws_connect(
    emu: Emulator | ThreadedEmulator,
    query: str = "stream=0",
    headers: Mapping[str, str] | None = ADMIN,
) -> connect:
    return connect(ws_url(emu, query), additional_headers=dict(headers or {}), open_timeout=10)


async def recv(ws: ClientConnection, timeout: float = 5.0) -> str | bytes:
    return await asyncio.wait_for(ws.recv(), timeout)


async def recv_event(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    frame = await recv(ws, timeout)
    assert isinstance(frame, str), frame
    message: dict[str, Any] = json.loads(frame)
    return message


async def read_bundle(ws: ClientConnection) -> list[dict[str, Any]]:
    """The ``loop`` event and the full-state burst a fresh session starts with."""
    return [await recv_event(ws) for _ in range(BUNDLE_LENGTH)]


async def recv_until(
    ws: ClientConnection, match: Callable[[str | bytes], bool], timeout: float = 5.0
) -> list[str | bytes]:
    """Frames up to and including the first one ``match`` accepts."""
    frames: list[str | bytes] = []
    deadline = time.monotonic() + timeout
    while True:
        frames.append(await recv(ws, max(deadline - time.monotonic(), 0.01)))
        if match(frames[-1]):
            return frames


async def binary_roundtrip(ws: ClientConnection) -> None:
    """Ping over the binary channel: every frame sent before has been handled."""
    await ws.send(b"\x00")
    await recv_until(ws, lambda frame: frame == b"\xff")


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until ``check()`` holds: the HID applies input from its own queue, later."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


async def inactivity(emu: Emulator | ThreadedEmulator) -> int:
    response = await request(emu, "GET", "/api/hid/inactivity")
    assert response.status_code == 200
    value: int = response.json()["result"]["inactivity"]
    return value


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and types, not the values themselves."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__
