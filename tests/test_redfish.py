"""Redfish end to end: ``kvm.redfish`` against the emulator, the recorded refusals replayed,
and the power state and virtual media following the ATX and the MSD."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from aiopikvm import BadRequestError, BusyError, InvalidInputError, PiKVM, ServerError
from aiopikvm.emulator import Emulator
from aiopikvm.models import (
    RedfishCollection,
    RedfishManager,
    RedfishRoot,
    RedfishSystem,
    RedfishVirtualMedia,
)
from aiopikvm.models._base import parse
from aiopikvm.resources.redfish import ResetType

from .captures import load
from .conftest import eventually

FAST_ATX: dict[str, Any] = {"atx_click_delay": 0.01, "atx_long_click_delay": 0.02}
RESET_TYPES = ["On", "ForceOff", "GracefulShutdown", "ForceRestart", "ForceOn", "PushPowerButton"]


def test_models_parse_the_captures() -> None:
    root = parse(RedfishRoot, load("redfish_root.json"), "root")
    assert root.systems is not None and root.systems.id == "Systems"
    systems = parse(RedfishCollection, load("redfish_systems.json"), "systems")
    assert systems.ids == [] and systems.members_count == 0
    system = parse(RedfishSystem, load("redfish_system_0.json"), "system")
    assert system.id == "0" and system.power_state == "Off" and system.host_name == "pikvm"
    assert system.reset_types == RESET_TYPES
    manager = parse(RedfishManager, load("redfish_manager_bmc.json"), "manager")
    assert manager.virtual_media is not None and manager.manager_type == "BMC"
    media = parse(RedfishVirtualMedia, load("redfish_vm_msd.json"), "media")
    assert media.image is None and media.inserted is None
    assert media.oem.pikvm.msd_online is False and media.oem.pikvm.msd_enabled is True
    assert media.model_dump(by_alias=True) == load("redfish_vm_msd.json")


# ----- the recorded answers, replayed -------------------------------------------------


def recorded_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = load("redfish_actions.json")["steps"]
    return steps


@pytest.mark.parametrize("step", recorded_steps(), ids=lambda step: step["name"])
async def test_the_emulator_answers_as_recorded(step: dict[str, Any]) -> None:
    # The recorded device's host was off and its MSD unusable; this one's MSD is disabled,
    # which kvmd refuses with its own error class where the recording's said offline.
    async with (
        Emulator(host_powered=False, msd_enabled=False) as emu,
        httpx.AsyncClient(base_url=emu.url, auth=("admin", "admin")) as client,
    ):
        response = await client.request(step["method"], step["path"], json=step.get("request_body"))
    assert response.status_code == step["status"]
    if "text" in step:
        assert response.text == step["text"]
    elif "body_file" in step:
        assert response.json() == load(step["body_file"])
    elif step["body"] is None:
        assert response.content == b""
    elif step["name"] == "eject_offline_drive":
        assert response.json()["result"]["error"] == "MsdDisabledError"
    else:
        assert response.json() == step["body"]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("redfish_root.json", "/api/redfish/v1"),
        ("redfish_managers.json", "/api/redfish/v1/Managers"),
        ("redfish_manager_bmc.json", "/api/redfish/v1/Managers/BMC"),
        ("redfish_vm.json", "/api/redfish/v1/Managers/BMC/VirtualMedia"),
    ],
)
async def test_fixed_documents_are_the_recorded_ones(emu: Emulator, name: str, path: str) -> None:
    async with httpx.AsyncClient(base_url=emu.url, auth=("admin", "admin")) as client:
        response = await client.get(path)
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == load(name)


async def test_also_served_outside_api_as_on_a_device(emu: Emulator) -> None:
    async with httpx.AsyncClient(base_url=emu.url) as client:
        root = await client.get("/redfish/v1")  # no credentials needed, as under /api
        refused = await client.get("/redfish/v1/Systems/0")
        system = await client.get("/redfish/v1/Systems/0", auth=("admin", "admin"))
        under_api = await client.get("/api/redfish/v1/Systems/0", auth=("admin", "admin"))
        not_kvmd = await client.get("/hid", auth=("admin", "admin"))
    assert root.json() == load("redfish_root.json")
    assert refused.status_code == 401
    assert system.status_code == 200 and system.json() == under_api.json()
    assert not_kvmd.status_code == 404  # only Redfish lives outside /api


async def test_without_atx_system_0_is_not_listed_and_a_reset_does_nothing() -> None:
    async with Emulator(atx_enabled=False) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        systems = await kvm.redfish.get_systems()
        await kvm.redfish.reset_system("ForceOff")  # 204, as kvmd: nothing to press
        system = await kvm.redfish.get_system()
        assert emu.target.powered is True
    assert systems.model_dump(by_alias=True) == load("redfish_systems.json")  # as recorded
    assert system.power_state == "Off"  # the LED of a disabled ATX reads off


# ----- documents through the client ---------------------------------------------------


async def test_the_root_needs_no_credentials(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="wrong") as kvm:
        root = await kvm.redfish.get_root()
    assert root == parse(RedfishRoot, load("redfish_root.json"), "root")


async def test_every_document(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        systems = await kvm.redfish.get_systems()
        system = await kvm.redfish.get_system()
        managers = await kvm.redfish.get_managers()
        manager = await kvm.redfish.get_manager()
        collection = await kvm.redfish.get_virtual_media_collection()
        media = await kvm.redfish.get_virtual_media()
    # The emulator's ATX is enabled (the recorded one's was not), so system 0 is listed.
    assert systems.ids == ["0"] and systems.members_count == 1
    assert system.power_state == "On" and system.reset_types == RESET_TYPES
    assert managers.ids == ["BMC"] and manager.id == "BMC"
    assert collection.ids == ["MSD"]
    assert media.oem.pikvm.msd_online is True and media.inserted is False
    assert media.image is None and media.connected_via == "NotConnected"


async def test_switch_ports_are_systems_only_when_a_switch_has_them(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(BadRequestError) as caught:
            await kvm.redfish.get_system("SwitchPort0")
        # a reset of a port goes to the switch, which drops it: no unit, no error
        await kvm.redfish.reset_system("PushPowerButton", system_id="SwitchPort3")
        # kvmd's PATCH is a stub
        await kvm.redfish.patch_system("SwitchPort7", {"IndicatorLED": "Lit"})
    assert caught.value.error == "HttpError"
    assert caught.value.error_msg == "Non-existent Switch Port ID"


# ----- power --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("powered", "reset_type", "after"),
    [
        (False, "On", True),
        (False, "ForceOn", True),
        (True, "On", True),  # already on: nothing pressed
        (True, "GracefulShutdown", False),
        (True, "ForceOff", False),
        (False, "ForceOff", False),
        (True, "PushPowerButton", False),
        (False, "PushPowerButton", True),
        (True, "ForceRestart", True),
        (False, "ForceRestart", False),
        (False, "GracefulShutdown", False),
    ],
)
async def test_reset_types_drive_the_atx(powered: bool, reset_type: ResetType, after: bool) -> None:
    async with (
        Emulator(host_powered=powered, **FAST_ATX) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        await kvm.redfish.reset_system(reset_type)
        await eventually(lambda: emu.target.powered is after)  # kvmd does not wait the press
        assert (await kvm.redfish.get_system()).power_state == ("On" if after else "Off")


async def test_a_reset_during_a_press_is_busy() -> None:
    async with (
        Emulator(atx_click_delay=30) as emu,  # pressed until the emulator stops
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        await kvm.redfish.reset_system("PushPowerButton")
        with pytest.raises(BusyError) as caught:
            await kvm.redfish.reset_system("PushPowerButton")
    assert caught.value.error == "AtxIsBusyError"


@pytest.mark.parametrize(
    "call",
    [
        lambda kvm: kvm.redfish.reset_system("GracefulRestart"),
        lambda kvm: kvm.redfish.reset_system("forceoff"),
        lambda kvm: kvm.redfish.get_system("1"),
        lambda kvm: kvm.redfish.get_system("00"),
        lambda kvm: kvm.redfish.get_system("SwitchPort-1"),
        lambda kvm: kvm.redfish.patch_system("bogus"),
        lambda kvm: kvm.redfish.get_manager("iDRAC"),
        lambda kvm: kvm.redfish.insert_media("https://example.org/ubuntu.iso"),
        lambda kvm: kvm.redfish.insert_media(".hidden.iso"),
        lambda kvm: kvm.redfish.insert_media(""),
    ],
)
async def test_bad_input_is_refused_before_sending(call: Callable[[PiKVM], Any]) -> None:
    # No device listens here: anything sent would fail with a connection error instead.
    async with PiKVM("http://127.0.0.1:9", passwd="admin") as kvm:
        with pytest.raises(InvalidInputError):
            await call(kvm)


# ----- virtual media ------------------------------------------------------------------


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    (tmp_path / "boot.iso").write_bytes(b"\x00" * 4096)
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "disk.img").write_bytes(b"\x00" * 4096)
    return tmp_path


async def test_insert_and_eject_an_image(storage: Path) -> None:
    async with Emulator(msd_dir=storage) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.redfish.insert_media("boot.iso")
        media = await kvm.redfish.get_virtual_media()
        drive = (await kvm.msd.get_state()).drive
        assert media.image == media.image_name == "boot.iso"
        assert media.inserted is True and media.connected_via == "Oem"
        # WriteProtected defaults to true: the drive is read-only, and kvmd reports rw as is.
        assert drive is not None and drive.connected and not drive.rw
        assert media.write_protected is False and media.oem.pikvm.drive_optical is False

        # Another image replaces the one plugged in; this one writable and left unplugged.
        await kvm.redfish.insert_media("tools/disk.img", inserted=False, write_protected=False)
        media = await kvm.redfish.get_virtual_media()
        assert media.image == "tools/disk.img" and media.image_name == "disk.img"
        assert media.inserted is False and media.write_protected is True

        await kvm.redfish.insert_media("boot.iso")
        await kvm.redfish.eject_media()
        media = await kvm.redfish.get_virtual_media()
        assert media.image is None and media.inserted is False


async def test_what_the_msd_refuses(storage: Path) -> None:
    async with Emulator(msd_dir=storage) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(BadRequestError) as unknown:
            await kvm.redfish.insert_media("missing.iso")
        with pytest.raises(BadRequestError) as empty:
            await kvm.redfish.eject_media()  # nothing plugged in
    assert unknown.value.error == "MsdUnknownImageError"
    assert empty.value.error == "MsdDisconnectedError"


async def test_insert_without_a_drive_fails_like_kvmd() -> None:
    async with Emulator(msd_enabled=False) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        media = await kvm.redfish.get_virtual_media()
        with pytest.raises(ServerError) as caught:
            await kvm.redfish.insert_media("boot.iso")
    assert media.oem.pikvm.msd_enabled is False and media.inserted is None
    assert caught.value.status_code == 500


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("not json", 400, "Invalid body"),
        ({"Image": "   "}, 400, "None argument is not a valid stripped string"),
        ({"Image": "/"}, 400, "The argument '/' is not a valid MSD image name"),
        ({"Image": "a/.b"}, 400, "The argument '.b' is not a valid MSD image name"),
        ({"Image": "x", "Inserted": "perhaps"}, 400, "The argument 'perhaps' is not a valid"),
        (["Image"], 500, ""),
    ],
)
async def test_insert_body_refusals(emu: Emulator, body: Any, status: int, message: str) -> None:
    path = "/api/redfish/v1/Managers/BMC/VirtualMedia/MSD/Actions/VirtualMedia.InsertMedia"
    content = body if isinstance(body, str) else None
    async with httpx.AsyncClient(base_url=emu.url, auth=("admin", "admin")) as client:
        response = await client.post(
            path, content=content, json=None if content is not None else body
        )
    assert response.status_code == status
    assert response.json()["result"]["error_msg"].startswith(message)
