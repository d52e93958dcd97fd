"""The tools on the device itself: power (ATX), virtual media (MSD), what the device is,
and which devices this server drives. Power and media changes need the server's
``--allow-power`` / ``--allow-media`` and a ``confirm: true`` in the call."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from .._version import __version__
from ._context import Context, text_result
from ._device import Device
from ._params import Confirm, DeviceName
from ._safety import need_confirm, need_flag

LOOK: Final = ToolAnnotations(read_only_hint=True, open_world_hint=True)
CHANGE: Final = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=True)
ACTIONS: Final = {
    "on": "switch the host on",
    "off": "ask the host's OS to shut down (a short press of the power button)",
    "off_hard": "cut the host's power at once (a 5 s press; unsaved work is lost)",
    "reset": "reset the host at once (the reset button; unsaved work is lost)",
}


def register(app: MCPServer, ctx: Context, *, read_only: bool) -> None:
    safety = ctx.safety

    async def power_status(device: DeviceName = None) -> CallToolResult:
        """Whether the host is on (its power LED), its disk LED, and whether the ATX board
        is busy pressing a button."""

        async def body(dev: Device) -> CallToolResult:
            return text_result(await _power(dev))

        return await ctx.call("power_status", "look", {"device": device}, body)

    async def media_list(device: DeviceName = None) -> CallToolResult:
        """The images in the device's storage (ISO and disk images), and what its virtual
        drive shows the host now."""

        async def body(dev: Device) -> CallToolResult:
            return text_result(await _media(dev))

        return await ctx.call("media_list", "look", {"device": device}, body)

    async def device_info(device: DeviceName = None) -> CallToolResult:
        """What the device is (kvmd's version, platform, host name), the screen's size,
        the keyboard layout typing assumes, and what this server allows."""

        async def body(dev: Device) -> CallToolResult:
            info = await dev.kvm.system.get_info()
            system = info.system
            kvmd = system.kvmd.version if system is not None and system.kvmd else None
            platform = system.platform.type if system is not None and system.platform else None
            try:
                screen: Any = list(await dev.screen_size())
            except Exception as exc:  # the host is off, or has no video: say why
                screen = f"unknown: {exc}"
            server = (info.meta or {}).get("server")
            host = server.get("host") if isinstance(server, dict) else None
            return text_result(
                {
                    "device": dev.name,
                    "kvmd": kvmd,
                    "platform": platform,
                    "host": host,
                    "screen": screen,
                    "layout": dev.layout,
                    "server": {
                        "aiopikvm": __version__,
                        "read_only": safety.read_only,
                        "allow_power": safety.allow_power,
                        "allow_media": safety.allow_media,
                        "human_idle": safety.human_idle,
                        "screenshot_max_side": dev.max_side,
                    },
                }
            )

        return await ctx.call("device_info", "look", {"device": device}, body)

    async def list_devices() -> CallToolResult:
        """The devices this server drives (their profile names; the first is the default
        for the `device` argument of the other tools)."""

        async def body(_: Device) -> CallToolResult:
            return text_result(
                {"devices": [{"name": d.name, "layout": d.layout} for d in ctx.devices.values()]}
            )

        return await ctx.call("list_devices", "look", {}, body)

    # Read-only serves the screen tools, and list_devices: it reads only this server's
    # configuration, and names what the screen tools' device argument takes.
    app.add_tool(list_devices, annotations=LOOK)
    if read_only:
        return
    for tool in (power_status, media_list, device_info):
        app.add_tool(tool, annotations=LOOK)

    async def power(
        action: Annotated[
            Literal["on", "off", "off_hard", "reset"],
            Field(description="; ".join(f"{name}: {what}" for name, what in ACTIONS.items())),
        ],
        confirm: Confirm = False,
        device: DeviceName = None,
    ) -> CallToolResult:
        """Switch the host on or off, or reset it, through the ATX board. Needs the server
        started with --allow-power, and confirm: true. Returns the power state after."""

        def check(_: Device) -> None:
            need_flag(safety.allow_power, "--allow-power", "power")
            need_confirm("power", confirm, ACTIONS[action])

        async def body(dev: Device) -> CallToolResult:
            atx = dev.kvm.atx
            call = {
                "on": atx.power_on,
                "off": atx.power_off,
                "off_hard": atx.power_off_hard,
                "reset": atx.reset_hard,
            }[action]
            await call(wait=True)
            return text_result({"done": action, **await _power(dev)})

        arguments = {"action": action, "confirm": confirm, "device": device}
        return await ctx.call("power", "power", arguments, body, check=check)

    async def media_mount(
        image: Annotated[
            str, Field(min_length=1, max_length=255, description="An image from media_list.")
        ],
        cdrom: Annotated[
            bool, Field(description="Show it as a CD-ROM (true) or a flash drive (false).")
        ] = True,
        confirm: Confirm = False,
        device: DeviceName = None,
    ) -> CallToolResult:
        """Plug an image from storage into the host as a virtual drive (a drive already
        plugged in is unplugged first). Needs --allow-media and confirm: true."""

        def check(_: Device) -> None:
            need_flag(safety.allow_media, "--allow-media", "media_mount")
            need_confirm("media_mount", confirm, f"plug {image!r} into the host")

        async def body(dev: Device) -> CallToolResult:
            msd = dev.kvm.msd
            state = await msd.get_state()
            if state.drive is not None and state.drive.connected:
                await msd.set_connected(False)
            await msd.set_params(image=image, cdrom=cdrom, rw=False if cdrom else None)
            await msd.set_connected(True)
            return text_result(await _media(dev))

        arguments = {"image": image, "cdrom": cdrom, "confirm": confirm, "device": device}
        return await ctx.call("media_mount", "media", arguments, body, check=check)

    async def media_unmount(confirm: Confirm = False, device: DeviceName = None) -> CallToolResult:
        """Unplug the virtual drive from the host. Needs --allow-media and confirm: true."""

        def check(_: Device) -> None:
            need_flag(safety.allow_media, "--allow-media", "media_unmount")
            need_confirm("media_unmount", confirm, "unplug the virtual drive from the host")

        async def body(dev: Device) -> CallToolResult:
            await dev.kvm.msd.set_connected(False)
            return text_result(await _media(dev))

        arguments = {"confirm": confirm, "device": device}
        return await ctx.call("media_unmount", "media", arguments, body, check=check)

    for change in (power, media_mount, media_unmount):
        app.add_tool(change, annotations=CHANGE)


async def _power(dev: Device) -> dict[str, Any]:
    state = await dev.kvm.atx.get_state()
    return {"power": "on" if state.leds.power else "off", "hdd": state.leds.hdd, "busy": state.busy}


async def _media(dev: Device) -> dict[str, Any]:
    state = await dev.kvm.msd.get_state()
    drive = state.drive
    images = state.storage.images if state.storage is not None else {}
    return {
        "drive": None
        if drive is None
        else {
            "image": drive.image.name if drive.image is not None else None,
            "connected": drive.connected,
            "cdrom": drive.cdrom,
        },
        "images": [
            {"name": name, "size": image.size, "complete": image.complete}
            for name, image in images.items()
        ],
        "busy": state.busy,
    }
