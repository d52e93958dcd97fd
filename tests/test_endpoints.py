"""Every kvmd endpoint (the table of the protocol notes, §3), walked through the public
client against the emulator.

Each step is a client call and the endpoint it is meant to reach; the step passes when the
emulator's handler for that endpoint answered it with success. Together the steps must reach
every route the emulator serves, so a route without a client method, or a client method that
misses its route, fails here. What each call does is tested in the file of its subsystem
(``tests/test_<subsystem>.py``); this walk keeps the three lists (the notes' endpoints, the
client's methods, the emulator's handlers) from drifting apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
from typing import Any

from aiopikvm import PiKVM, UnavailableError
from aiopikvm.emulator import Emulator

SHORT_EDID = "00ffffffffffff00" + "00" * 120  # a 128-byte base block: kvmd checks the size
Step = tuple[str, str, Callable[[PiKVM], Awaitable[Any]]]


def steps(tmp_path: Path, emu: Emulator) -> list[Step]:
    """``(method, route, call)``, in an order where each call's preconditions hold."""
    edid: dict[str, str] = {}

    async def create_edid(kvm: PiKVM) -> None:
        edid["id"] = await kvm.switch.create_edid("walk", SHORT_EDID)

    async def select_image(kvm: PiKVM) -> None:
        await kvm.msd.wait_for_image("walk.iso")  # the storage lists new files late
        await kvm.msd.set_params(image="walk.iso")

    async def remove_image(kvm: PiKVM) -> None:
        await kvm.msd.wait_for_image("remote.json")
        await kvm.msd.remove("remote.json")

    return [
        ("POST", "/auth/login", lambda kvm: kvm.auth.login()),
        ("GET", "/auth/check", lambda kvm: kvm.auth.check()),
        ("POST", "/auth/logout", lambda kvm: kvm.auth.logout()),
        ("GET", "/info", lambda kvm: kvm.system.get_info("meta")),
        ("GET", "/log", lambda kvm: kvm.system.get_log(seek=60)),
        ("GET", "/hid", lambda kvm: kvm.hid.get_state()),
        ("POST", "/hid/set_params", lambda kvm: kvm.hid.set_params(jiggler=False)),
        ("POST", "/hid/set_connected", lambda kvm: kvm.hid.set_connected(True)),
        ("POST", "/hid/reset", lambda kvm: kvm.hid.reset()),
        ("GET", "/hid/inactivity", lambda kvm: kvm.hid.get_inactivity()),
        ("GET", "/hid/keymaps", lambda kvm: kvm.hid.get_keymaps()),
        ("POST", "/hid/print", lambda kvm: kvm.hid.type_text("hi")),
        ("POST", "/hid/events/send_key", lambda kvm: kvm.hid.send_key("Enter")),
        (
            "POST",
            "/hid/events/send_shortcut",
            lambda kvm: kvm.hid.send_shortcut("ShiftLeft", "KeyA"),
        ),
        ("POST", "/hid/events/send_mouse_button", lambda kvm: kvm.hid.send_mouse_button("left")),
        ("POST", "/hid/events/send_mouse_move", lambda kvm: kvm.hid.send_mouse_move(100, -100)),
        ("POST", "/hid/events/send_mouse_relative", lambda kvm: kvm.hid.send_mouse_relative(5, 5)),
        ("POST", "/hid/events/send_mouse_wheel", lambda kvm: kvm.hid.send_mouse_wheel(0, -1)),
        ("GET", "/atx", lambda kvm: kvm.atx.get_state()),
        ("POST", "/atx/power", lambda kvm: kvm.atx.power_on(wait=True)),
        ("POST", "/atx/click", lambda kvm: kvm.atx.click_reset(wait=True)),
        ("GET", "/msd", lambda kvm: kvm.msd.get_state()),
        ("POST", "/msd/write", lambda kvm: kvm.msd.upload("walk.iso", b"\x01" * 4096)),
        ("POST", "/msd/set_params", select_image),
        ("POST", "/msd/set_connected", lambda kvm: kvm.msd.set_connected(True)),
        ("POST", "/msd/set_connected", lambda kvm: kvm.msd.set_connected(False)),
        ("GET", "/msd/read", lambda kvm: kvm.msd.download("walk.iso", tmp_path / "walk.iso")),
        # the device downloads from a URL; the emulator's own Redfish root will do
        (
            "POST",
            "/msd/write_remote",
            lambda kvm: kvm.msd.upload_remote(f"{emu.url}/redfish/v1", image="remote.json"),
        ),
        ("POST", "/msd/remove", remove_image),
        ("POST", "/msd/reset", lambda kvm: kvm.msd.reset()),
        ("GET", "/streamer", lambda kvm: kvm.streamer.get_state()),
        ("POST", "/streamer/set_params", lambda kvm: kvm.streamer.set_params(quality=70)),
        ("POST", "/streamer/reset", lambda kvm: kvm.streamer.reset()),
        ("GET", "/streamer/ocr", lambda kvm: kvm.streamer.get_ocr_info()),
        ("DELETE", "/streamer/snapshot", lambda kvm: kvm.streamer.delete_snapshot()),
        ("GET", "/gpio", lambda kvm: kvm.gpio.get_state()),
        ("POST", "/gpio/switch", lambda kvm: kvm.gpio.switch("relay", True, wait=True)),
        ("POST", "/gpio/pulse", lambda kvm: kvm.gpio.pulse("relay", wait=True)),
        ("GET", "/switch", lambda kvm: kvm.switch.get_state()),
        ("POST", "/switch/set_active", lambda kvm: kvm.switch.set_active(0)),
        ("POST", "/switch/set_active_prev", lambda kvm: kvm.switch.set_active_prev()),
        ("POST", "/switch/set_active_next", lambda kvm: kvm.switch.set_active_next()),
        ("POST", "/switch/set_beacon", lambda kvm: kvm.switch.set_beacon(True, port=0)),
        ("POST", "/switch/set_port_params", lambda kvm: kvm.switch.set_port_params(0, name="a")),
        ("POST", "/switch/set_colors", lambda kvm: kvm.switch.set_colors(active="ff0000:ff:0000")),
        ("POST", "/switch/reset", lambda kvm: kvm.switch.reset(0)),
        ("POST", "/switch/edids/create", create_edid),
        ("POST", "/switch/edids/change", lambda kvm: kvm.switch.change_edid(edid["id"], name="b")),
        ("POST", "/switch/edids/remove", lambda kvm: kvm.switch.remove_edid(edid["id"])),
        ("POST", "/switch/atx/power", lambda kvm: kvm.switch.atx_power(0, "off")),
        ("POST", "/switch/atx/click", lambda kvm: kvm.switch.atx_click(0, "reset")),
        ("GET", "/export/prometheus/metrics", lambda kvm: kvm.prometheus.get_samples()),
        ("GET", "/redfish/v1", lambda kvm: kvm.redfish.get_root()),
        ("GET", "/redfish/v1/Systems", lambda kvm: kvm.redfish.get_systems()),
        ("GET", "/redfish/v1/Systems/{sid}", lambda kvm: kvm.redfish.get_system("0")),
        ("PATCH", "/redfish/v1/Systems/{sid}", lambda kvm: kvm.redfish.patch_system("0")),
        (
            "POST",
            "/redfish/v1/Systems/{sid}/Actions/ComputerSystem.Reset",
            lambda kvm: kvm.redfish.reset_system("On"),
        ),
        ("GET", "/redfish/v1/Managers", lambda kvm: kvm.redfish.get_managers()),
        ("GET", "/redfish/v1/Managers/BMC", lambda kvm: kvm.redfish.get_manager()),
        (
            "GET",
            "/redfish/v1/Managers/BMC/VirtualMedia",
            lambda kvm: kvm.redfish.get_virtual_media_collection(),
        ),
        (
            "GET",
            "/redfish/v1/Managers/BMC/VirtualMedia/MSD",
            lambda kvm: kvm.redfish.get_virtual_media(),
        ),
        (
            "POST",
            "/redfish/v1/Managers/BMC/VirtualMedia/MSD/Actions/VirtualMedia.InsertMedia",
            lambda kvm: kvm.redfish.insert_media("walk.iso"),
        ),
        (
            "POST",
            "/redfish/v1/Managers/BMC/VirtualMedia/MSD/Actions/VirtualMedia.EjectMedia",
            lambda kvm: kvm.redfish.eject_media(),
        ),
        # a stream=1 session starts the video that snapshots (and OCR) need
        ("GET", "/ws", video_session),
        ("GET", "/streamer/stream", lambda kvm: live_frame(kvm, kvm.streamer.mjpeg())),
        ("GET", "/media/ws", lambda kvm: live_frame(kvm, kvm.streamer.h264())),
        ("GET", "/media", lambda kvm: kvm.request("GET", "media")),  # no method of its own
    ]


async def video_session(kvm: PiKVM) -> None:
    async with kvm.ws(stream=True):
        for _ in range(500):  # until the streamer it starts finds the signal
            with contextlib.suppress(UnavailableError):
                await kvm.streamer.snapshot(preview=True)
                break
            await asyncio.sleep(0.01)
        await kvm.streamer.ocr()


async def live_frame(kvm: PiKVM, frames: AsyncGenerator[Any, None]) -> None:
    async with kvm.ws(stream=True), contextlib.aclosing(frames) as stream:
        await anext(stream)


def routes(emu: Emulator) -> dict[tuple[str, str], re.Pattern[str]]:
    """The routes the emulator serves, each with a pattern for the request paths it takes."""
    served = {}
    for route in emu._routes():  # what the emulator mounts under /api
        prefix = "" if route.root else "/api"  # nginx's locations outside /api
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(prefix + route.path))
        served[route.method, route.path] = re.compile(pattern)
    return served


async def test_every_endpoint_through_the_client(tmp_path: Path) -> None:
    scheme = {"relay": {"mode": "output", "busy_delay": 0.01}}
    fast = {"atx_click_delay": 0.01, "atx_long_click_delay": 0.02, "msd_storage_delay": 0.01}
    async with Emulator(gpio=scheme, **fast) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        served = routes(emu)
        reached: set[tuple[str, str]] = set()
        for method, route, call in steps(tmp_path, emu):
            assert (method, route) in served, f"the emulator has no {method} {route}"
            before = len(emu.faults.requests)
            await call(kvm)
            this_step = {
                key
                for seen in emu.faults.requests[before:]
                for key, pattern in served.items()
                if key[0] == seen.method and pattern.fullmatch(seen.path)
            }
            assert (method, route) in this_step, f"{method} {route} was not reached"
            reached |= this_step
    assert set(served) - reached == set()
