"""The safety model of ``pikvm mcp``, through the MCP SDK's client over stdio and HTTP:
power needs the server's flag and the call's confirm, read-only has no input, a second
session on the device stops input until forced, the audit log keeps what was typed out,
and HTTP refuses a request without the bearer token."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp")

import httpx
from mcp.client import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from aiopikvm import PiKVM
from aiopikvm.emulator import ThreadedEmulator

from .cli_helpers import run_subprocess, threaded
from .emulator_helpers import eventually, read_bundle, ws_connect
from .mcp_helpers import call, data_of, mcp_session, server_env, text_of

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    yield from threaded()


async def test_power_and_media_need_the_flag_then_confirm(emu: ThreadedEmulator) -> None:
    async with mcp_session(emu) as session:
        refused = await call(session, "power", action="off_hard", confirm=True)
        assert refused.is_error and "--allow-power" in text_of(refused)
        media = await call(session, "media_unmount", confirm=True)
        assert media.is_error and "--allow-media" in text_of(media)
    assert emu.target.powered
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.msd.upload("boot.iso", b"\0" * 4096)
        await kvm.msd.wait_for_image("boot.iso")
    async with mcp_session(emu, "--allow-power", "--allow-media") as session:
        listed = data_of(await call(session, "media_list"))
        assert [image["name"] for image in listed["images"]] == ["boot.iso"]
        unmounted = await call(session, "media_mount", image="boot.iso")
        assert unmounted.is_error and "confirm: true" in text_of(unmounted)
        mounted = data_of(await call(session, "media_mount", image="boot.iso", confirm=True))
        assert mounted["drive"] == {"image": "boot.iso", "connected": True, "cdrom": True}
        out = data_of(await call(session, "media_unmount", confirm=True))
        assert out["drive"]["connected"] is False
        unconfirmed = await call(session, "power", action="off_hard")
        assert unconfirmed.is_error and "confirm: true" in text_of(unconfirmed)
        assert emu.target.powered
        assert data_of(await call(session, "power_status"))["power"] == "on"
        done = data_of(await call(session, "power", action="off_hard", confirm=True))
        assert done["done"] == "off_hard"
        await eventually(lambda: not emu.target.powered)
        assert data_of(await call(session, "power_status"))["power"] == "off"


async def test_read_only_has_no_input(emu: ThreadedEmulator) -> None:
    async with mcp_session(emu, "--read-only") as session:
        names = {tool.name for tool in (await session.list_tools()).tools}
        assert names == {
            "screenshot",
            "read_screen",
            "find_text",
            "wait_for_text",
            "wait_for_screen",
            "list_devices",
        }
        for tool, arguments in (
            ("click", {"x": 1, "y": 1}),
            ("type_text", {"text": "x"}),
            ("power_status", {}),
            ("device_info", {}),
        ):
            refused = await session.call_tool(tool, arguments)
            assert refused.is_error and "Unknown tool" in text_of(refused), text_of(refused)
        assert not (await call(session, "screenshot")).is_error
    assert emu.target.events == []


async def test_a_second_session_stops_input_until_forced(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with mcp_session(emu, "--audit-log", str(audit)) as session:
        assert not (await call(session, "type_text", text="mine ")).is_error
        async with ws_connect(emu) as human:
            bundle = await read_bundle(human)  # the device has counted it: ours and this
            assert {e["event"]["count"] for e in bundle if e["event_type"] == "clients"} == {2}
            refused = await call(session, "type_text", text="hunter2")
            assert refused.is_error
            assert "1 other session open on the device" in text_of(refused)
            assert "force: true" in text_of(refused)
            moved = await call(session, "move", x=10, y=10)
            assert moved.is_error and "human" in text_of(moved)
            forced = await call(session, "type_text", text="forced", force=True)
            assert not forced.is_error, text_of(forced)
        await eventually(lambda: emu.target.screen_text == "mine forced")
    lines = [json.loads(line) for line in audit.read_text("utf-8").splitlines()]
    assert [(e["tool"], e["outcome"]) for e in lines] == [
        ("type_text", "ok"),
        ("type_text", "refused"),
        ("move", "refused"),
        ("type_text", "ok"),
    ]
    assert lines[1]["arguments"]["text"] == {"redacted": True, "chars": 7}
    assert "hunter2" not in audit.read_text("utf-8")


async def test_one_session_for_every_call_and_it_reconnects(emu: ThreadedEmulator) -> None:
    async with mcp_session(emu) as session:
        for tool, arguments in (
            ("screenshot", {}),
            ("click", {"x": 5, "y": 5}),
            ("read_screen", {}),
            ("type_text", {"text": "a"}),
            ("press_keys", {"keys": ["shift"]}),
        ):
            assert not (await call(session, tool, **arguments)).is_error
        assert emu.emulator.faults.count("ws") == 1  # one session shared by all the calls
        emu.emulator.faults.drop_ws()  # the link dies at the session's next frame
        typed = await call(session, "type_text", text="bc")
        assert not typed.is_error, text_of(typed)
        await eventually(lambda: emu.target.screen_text == "abc")
        assert emu.emulator.faults.count("ws") == 2  # reconnected once, not a session per call


def test_http_refuses_to_start_unsafely(emu: ThreadedEmulator) -> None:
    env = {"PIKVM_URL": emu.url, "PIKVM_PASSWD": "admin"}
    no_token = run_subprocess(["mcp", "--http"], env)
    assert no_token.returncode != 0 and "PIKVM_MCP_TOKEN" in no_token.stderr
    remote = run_subprocess(
        ["mcp", "--http", "--host", "0.0.0.0"], {**env, "PIKVM_MCP_TOKEN": TOKEN}
    )
    assert remote.returncode != 0 and "--allow-remote" in remote.stderr
    assert TOKEN not in remote.stderr


async def test_http_needs_the_bearer_token(emu: ThreadedEmulator) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiopikvm",
        "mcp",
        "--http",
        "--port",
        "0",
        env=server_env(emu, PIKVM_MCP_TOKEN=TOKEN),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stderr is not None
        line = (await asyncio.wait_for(server.stderr.readline(), 30)).decode()
        found = re.search(r"serving (http://\S+)", line)
        assert found, line
        url = found.group(1)
        hello = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        async with httpx.AsyncClient(timeout=10) as plain:
            bare = await plain.post(url, json=hello)
            wrong = await plain.post(url, json=hello, headers={"Authorization": "Bearer nope"})
        assert bare.status_code == 401 and wrong.status_code == 401
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            create_mcp_http_client(headers=headers) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            names = {tool.name for tool in (await session.list_tools()).tools}
            assert "click" in names
            clicked = await call(session, "click", x=0, y=0)
            assert not clicked.is_error, text_of(clicked)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 10)
    await eventually(lambda: ("mouse_button", "left", False) in emu.target.events)
