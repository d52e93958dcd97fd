"""``pikvm mcp``: the MCP server for AI agents (see :mod:`aiopikvm.mcp`), on the device(s)
the global flags name, over stdio (what MCP clients start) or streamable HTTP."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from ._connect import client, targets
from ._exit import CliError, ExitCode
from ._keys import chord
from ._run import options

if TYPE_CHECKING:
    from ..mcp import Device


def register(cli: click.Group) -> None:
    cli.add_command(mcp)


@click.command()
@click.option("--http", "http", is_flag=True, help="Serve streamable HTTP, not stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="--http: the address.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option(
    "--token-env",
    metavar="VAR",
    default="PIKVM_MCP_TOKEN",
    show_default=True,
    help="--http: the variable holding the bearer token clients must send.",
)
@click.option("--allow-remote", is_flag=True, help="--http: allow a non-loopback --host.")
@click.option(
    "--read-only",
    is_flag=True,
    help="Only the screen tools (and list_devices): no input, power, media or status.",
)
@click.option("--allow-power", is_flag=True, help="Allow the power tool (still with confirm).")
@click.option("--allow-media", is_flag=True, help="Allow media_mount/unmount (with confirm).")
@click.option(
    "--human-idle",
    type=click.FloatRange(0, 86400),
    default=120.0,
    show_default=True,
    help="Seconds a human must be idle before input goes on without force.",
)
@click.option(
    "--rate",
    type=click.FloatRange(0.01, 1000),
    default=5.0,
    show_default=True,
    help="Input calls per second (bursts of 20).",
)
@click.option("--layout", metavar="NAME", help="The host's keyboard layout [profile's; en-us].")
@click.option(
    "--screenshot-size",
    type=click.IntRange(64, 8192),
    default=1280,
    show_default=True,
    help="Longest side of a screenshot, in pixels.",
)
@click.option("--audit-log", metavar="FILE", help="Append the audit log here [stderr].")
@click.pass_context
def mcp(
    ctx: click.Context,
    http: bool,
    host: str,
    port: int,
    token_env: str,
    allow_remote: bool,
    read_only: bool,
    allow_power: bool,
    allow_media: bool,
    human_idle: float,
    rate: float,
    layout: str | None,
    screenshot_size: int,
    audit_log: str | None,
) -> None:
    """Serve the device(s) to AI agents over MCP (Model Context Protocol).

    Tools: screenshot, read_screen, find_text, wait_for_text, wait_for_screen, click,
    double_click, move, drag, scroll, type_text, press_keys, power_status, power,
    media_list, media_mount, media_unmount, device_info, list_devices. Input stops while a
    human uses the device; power and media need --allow-power / --allow-media and
    confirm: true.
    """
    try:
        from .. import mcp as server
        from ..mcp._http import check_listen, serve_http
    except ImportError as exc:
        raise CliError(
            f"pikvm mcp needs the mcp extra: pip install 'aiopikvm[mcp]' ({exc})"
        ) from None
    from ..protocol.layout import load_layout
    from ..transport.redaction import hidden

    token = None
    if http:
        # '***' in a traceback's locals, as the device's password is
        token = check_listen(host, hidden(os.environ.get(token_env)), allow_remote)
    opts = options(ctx)
    safety = server.Safety(
        read_only=read_only,
        allow_power=allow_power,
        allow_media=allow_media,
        human_idle=human_idle,
        rate=rate,
    )
    devices: list[Device] = []
    for target in targets(opts):
        chosen = layout or target.profile.get("layout") or "en-us"
        load_layout(chosen)  # an unknown layout: refused now, not at the first type_text
        devices.append(
            server.Device(
                target.name,
                client(opts, target),
                layout=chosen,
                safety=safety,
                max_side=screenshot_size,
            )
        )
    audit = server.Audit(path=audit_log) if audit_log not in (None, "-") else server.Audit()
    app = server.build(devices, safety, audit, chord)

    async def run() -> None:
        try:
            if token is not None:
                await serve_http(app, host, port, token)
            else:
                await app.run_stdio_async()
        finally:
            for device in devices:
                await _quietly(device.aclose())
            audit.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        print("pikvm mcp: stopped", file=sys.stderr)
        ctx.exit(ExitCode.INTERRUPTED)


async def _quietly(closing: Any) -> None:
    try:
        await closing
    except Exception as exc:  # closing is best effort: the server is going away
        print(f"pikvm mcp: closing: {exc}", file=sys.stderr)
