"""Running ``pikvm mcp`` in tests: the real entry point as a subprocess (``python -m
aiopikvm mcp``), driven through the MCP SDK's own client over stdio, against an emulator on
its own thread."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from mcp.client import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import CallToolResult

from aiopikvm.emulator import ThreadedEmulator

from .cli_helpers import SRC


def server_env(emu: ThreadedEmulator, **extra: str) -> dict[str, str]:
    """The environment ``pikvm mcp`` runs in: the emulator's URL and password, nothing of
    the user's ``PIKVM_*``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PIKVM_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), clean.get("PYTHONPATH")]))
    return {**clean, "PIKVM_URL": emu.url, "PIKVM_PASSWD": "admin", **extra}


@contextlib.asynccontextmanager
async def mcp_session(
    emu: ThreadedEmulator, *flags: str, config: Path | None = None, device: str | None = None
) -> AsyncIterator[ClientSession]:
    """A client session on ``pikvm mcp FLAGS`` serving ``emu`` (by its URL, or as the
    profile ``device`` of the profiles file ``config``)."""
    env = server_env(emu)
    root: list[str] = []
    if config is not None:
        env["PIKVM_CONFIG"] = str(config)
        del env["PIKVM_URL"]
    if device is not None:
        root = ["--device", device]
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "aiopikvm", *root, "mcp", *flags], env=env
    )
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def text_of(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def data_of(result: CallToolResult) -> Any:
    """The JSON document of a successful call."""
    assert not result.is_error, text_of(result)
    return json.loads(text_of(result))


def image_of(result: CallToolResult) -> bytes:
    (image,) = [c for c in result.content if c.type == "image"]
    assert image.mime_type == "image/jpeg"
    return base64.b64decode(image.data)


async def call(session: ClientSession, tool: str, **arguments: Any) -> CallToolResult:
    return await session.call_tool(tool, arguments, read_timeout_seconds=60)
