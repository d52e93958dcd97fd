"""The manifest of the real-device recordings (``captures/_manifest.json``), walked through
the public client.

Every recorded GET is checked both ways: the emulator serves the recorded bytes verbatim
(``emu.faults.respond``) and the client method for that endpoint returns a value that dumps
back to the recording, also with fields a newer kvmd might add; and the emulator's own live
answer, asked the same, parses with the same model and has the same top-level keys (values
differ: its state is live). The ``scenarios`` are walked the same way where they record
HTTP answers: each recorded answer, refusals included, is served and read by the client
call that would have received it.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from aiopikvm import (
    APIError,
    AuthError,
    BadRequestError,
    NotFoundError,
    PiKVM,
    ServerError,
    StreamError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.models import MsdState, MsdWriteResult, RedfishSystem
from aiopikvm.models._base import parse

from .captures import CAPTURES, load

MANIFEST: dict[str, dict[str, Any]] = load("_manifest.json")["captures"]
SCENARIOS: dict[str, dict[str, Any]] = load("_manifest.json")["scenarios"]

JOURNAL_LINE = re.compile(
    r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d kvmd\.service\] --- \S+ +"
    r"(?:INFO|WARNING|ERROR|CRITICAL|DEBUG) --- .*"
)


def _model(name: str) -> Any:
    """``"module:attr"`` (a module of ``aiopikvm.models``) or a name ``aiopikvm.models``
    exports."""
    module, _, attr = name.rpartition(":")
    return getattr(
        importlib.import_module(f"aiopikvm.models{'.' + module if module else ''}"), attr
    )


@dataclass(frozen=True)
class Row:
    model: str
    """The model the client parses the answer with (see :func:`_model`); for a text answer,
    the function that parses it."""
    call: Callable[[PiKVM], Awaitable[Any]]
    """The public client call for the recorded request."""
    returns: str
    """What ``call`` gives back: a model name, or ``"int"``, ``"str"``, ``"list"``."""
    part: str | None = None
    """The key of the result that the model reads, when it is not the whole result."""


def _text_model(name: str) -> bool:
    return name in ("journal", "prometheus:parse_metrics")


ROWS: dict[str, Row] = {
    "info": Row("Info", lambda kvm: kvm.system.get_info(legacy=True), "Info"),
    "info_hw_system": Row(
        "Info", lambda kvm: kvm.system.get_info("hw", "system", legacy=True), "Info"
    ),
    "info_hw": Row("Info", lambda kvm: kvm.system.get_info("hw", legacy=True), "Info"),
    "info_legacy0": Row("Info", lambda kvm: kvm.system.get_info(legacy=False), "Info"),
    "log_seek60": Row("journal", lambda kvm: kvm.system.get_log(seek=60), "str"),
    "atx": Row("AtxState", lambda kvm: kvm.atx.get_state(), "AtxState"),
    "hid": Row("HidState", lambda kvm: kvm.hid.get_state(), "HidState"),
    "hid_keymaps": Row("HidKeymaps", lambda kvm: kvm.hid.get_keymaps(), "HidKeymaps"),
    "hid_inactivity": Row("HidInactivity", lambda kvm: kvm.hid.get_inactivity(), "int"),
    "msd": Row("MsdState", lambda kvm: kvm.msd.get_state(), "MsdState"),
    "gpio": Row("GpioState", lambda kvm: kvm.gpio.get_state(), "GpioState"),
    "streamer": Row("StreamerState", lambda kvm: kvm.streamer.get_state(), "StreamerState"),
    "streamer_ocr": Row(
        "OcrState", lambda kvm: kvm.streamer.get_ocr_info(), "OcrState", part="ocr"
    ),
    "switch": Row(
        "SwitchState",
        lambda kvm: kvm.switch.get_state(),
        "SwitchState",
    ),
    "prometheus_metrics": Row(
        "prometheus:parse_metrics",
        lambda kvm: kvm.prometheus.get_samples(),
        "list",
    ),
    "redfish_root": Row(
        "RedfishRoot",
        lambda kvm: kvm.redfish.get_root(),
        "RedfishRoot",
    ),
    "redfish_systems": Row(
        "RedfishCollection",
        lambda kvm: kvm.redfish.get_systems(),
        "RedfishCollection",
    ),
    "redfish_system_0": Row(
        "RedfishSystem",
        lambda kvm: kvm.redfish.get_system("0"),
        "RedfishSystem",
    ),
    "redfish_managers": Row(
        "RedfishCollection",
        lambda kvm: kvm.redfish.get_managers(),
        "RedfishCollection",
    ),
    "redfish_manager_bmc": Row(
        "RedfishManager",
        lambda kvm: kvm.redfish.get_manager("BMC"),
        "RedfishManager",
    ),
    "redfish_vm": Row(
        "RedfishCollection",
        lambda kvm: kvm.redfish.get_virtual_media_collection(),
        "RedfishCollection",
    ),
    "redfish_vm_msd": Row(
        "RedfishVirtualMedia",
        lambda kvm: kvm.redfish.get_virtual_media(),
        "RedfishVirtualMedia",
    ),
}


def _recorded(name: str) -> Any:
    """The recorded answer: kvmd's ``result``, Redfish's bare JSON, or the text."""
    capture = MANIFEST[name]
    if not capture["content_type"].startswith("application/json"):
        return (CAPTURES / capture["file"]).read_bytes().decode("utf-8")  # CRLF kept
    body = load(capture["file"])
    return body if _is_redfish(name) else body["result"]


def _is_redfish(name: str) -> bool:
    return MANIFEST[name]["path"].startswith("/api/redfish/")


def _check_text(model: str, text: str) -> Any:
    """Parse a text answer; returns what can be compared between device and emulator."""
    if model == "journal":
        lines = text.split("\r\n")
        assert lines[-1] == ""  # CRLF after every line
        assert lines[:-1], "no log lines"
        assert all(JOURNAL_LINE.fullmatch(line) for line in lines[:-1]), lines
        return None
    samples = _model(model)(text)
    assert samples
    return {sample.name for sample in samples}


def _as_recorded(returns: str, value: Any) -> Any:
    """What the client returned (``returns`` says what it is, as in :class:`Row`), in the
    recording's terms."""
    if returns in ("str", "list"):
        return value
    if returns == "int":
        return {"inactivity": value}
    return value.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _serve(emu: Emulator, name: str, body: bytes) -> None:
    capture = MANIFEST[name]
    emu.faults.respond(
        capture["path"].removeprefix("/api/"),
        body,
        status=capture["status"],
        content_type=capture["content_type"],
        method=capture["method"],
    )


@pytest.fixture
async def kvm(emu: Emulator) -> AsyncIterator[PiKVM]:
    async with PiKVM(emu.url, passwd="admin") as client:
        yield client


def test_every_recorded_get_has_a_row() -> None:
    gets = {name for name, capture in MANIFEST.items() if capture["method"] == "GET"}
    assert gets == set(ROWS)


@pytest.mark.parametrize("name", list(ROWS))
async def test_the_client_reads_the_device_answer_served_verbatim(
    emu: Emulator, kvm: PiKVM, name: str
) -> None:
    row, capture, recorded = ROWS[name], MANIFEST[name], _recorded(name)
    _serve(emu, name, (CAPTURES / capture["file"]).read_bytes())
    value = await row.call(kvm)
    seen = emu.faults.requests[-1]
    assert seen.path == capture["path"]
    sent = dict(pair.split("=", 1) for pair in seen.query.split("&") if pair)
    assert {k: str(v) for k, v in (capture["params"] or {}).items()}.items() <= sent.items()
    if row.model == "prometheus:parse_metrics":
        assert value == _model(row.model)(recorded)
    elif _text_model(row.model):
        assert value == recorded
    else:
        assert _as_recorded(row.returns, value) == (recorded[row.part] if row.part else recorded)


FUTURE: dict[str, Any] = {"x_added_by_a_newer_kvmd": {"level": [1, "two", None]}}


def _with_future_fields(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with a field a newer firmware might add, at the top and in each object
    right under it."""
    newer = copy.deepcopy(data)
    for value in newer.values():
        if isinstance(value, dict):
            value.update(FUTURE)
    newer.update(FUTURE)
    return newer


@pytest.mark.parametrize("name", [name for name in ROWS if not _text_model(ROWS[name].model)])
async def test_fields_of_a_newer_firmware_are_kept_not_rejected(
    emu: Emulator, kvm: PiKVM, name: str
) -> None:
    row, recorded = ROWS[name], _recorded(name)
    newer = _with_future_fields(recorded[row.part] if row.part else recorded)
    if row.part:
        body: Any = {"ok": True, "result": {**FUTURE, row.part: newer}}
    else:
        body = newer if _is_redfish(name) else {"ok": True, "result": newer}
    _serve(emu, name, json.dumps(body).encode())
    value = await row.call(kvm)
    if row.returns == "int":
        assert value == recorded["inactivity"]
    else:
        assert _as_recorded(row.returns, value) == newer


@pytest.mark.parametrize("name", list(ROWS))
async def test_the_emulator_answers_like_the_capture(kvm: PiKVM, name: str) -> None:
    row, capture, recorded = ROWS[name], MANIFEST[name], _recorded(name)
    value = await row.call(kvm)
    expected = {"int": int, "str": str, "list": list}.get(row.returns) or _model(row.returns)
    assert isinstance(value, expected)
    raw = await kvm.request(
        "GET",
        capture["path"].removeprefix("/api/"),
        params=capture["params"],
        envelope=not _is_redfish(name),
        expect="json" if isinstance(recorded, dict) else "text",
    )
    if _text_model(row.model):
        assert _check_text(row.model, raw) == _check_text(row.model, recorded)
        return
    data = raw[row.part] if row.part else raw
    parse(_model(row.model), data, name)
    assert set(data) == set(recorded[row.part] if row.part else recorded)


# ----- scenarios --------------------------------------------------------------------------

MSD_STATES = ("msd_downloading", "msd_image", "msd_online", "msd_uploading")
STEPS = ("auth_roundtrip", "msd_write", "redfish_actions", "ws_handshake")
ELSEWHERE = {
    "hid_keys": "kvmd's key table, not an answer: tests/test_frames.py and test_layouts.py",
    "ws_events": "a WebSocket session: tests/test_emulator_ws.py and test_merge.py",
    "ws_binary": "binary WebSocket frames: tests/test_frames.py and test_emulator_ws.py",
    # No client method and no emulator handler: not kvmd endpoints of the protocol notes.
    "janus_session": "the Janus WebRTC gateway at /janus/ws",
}
USTREAMER_STATES = ("state_idle", "state_with_client")
"""The steps of ``media_stream`` that reach our API: ustreamer's ``/state``, which kvmd
relays as it is in the ``streamer`` block of ``GET /api/streamer``. The rest of it is
ustreamer's own ``/streamer/*`` and kvmd-media's ``/api/media``, which are not kvmd's API."""


def test_every_scenario_is_walked_or_accounted_for() -> None:
    assert set(SCENARIOS) == {*MSD_STATES, *STEPS, *ELSEWHERE, "media_stream"}
    for name in SCENARIOS:
        assert (CAPTURES / SCENARIOS[name]["file"]).is_file()


@pytest.mark.parametrize("name", MSD_STATES)
async def test_recorded_msd_states_through_the_client(emu: Emulator, kvm: PiKVM, name: str) -> None:
    raw = (CAPTURES / SCENARIOS[name]["file"]).read_bytes()
    emu.faults.respond("msd", raw, method="GET")
    state = await kvm.msd.get_state()
    assert isinstance(state, MsdState)
    assert _as_recorded("MsdState", state) == json.loads(raw)["result"]


@pytest.mark.parametrize("name", USTREAMER_STATES)
async def test_recorded_ustreamer_states_inside_the_streamer_state(
    emu: Emulator, kvm: PiKVM, name: str
) -> None:
    steps = {step["name"]: step for step in load(SCENARIOS["media_stream"]["file"])["steps"]}
    relayed = {**_recorded("streamer"), "streamer": steps[name]["response"]["result"]}
    emu.faults.respond("streamer", json.dumps({"ok": True, "result": relayed}), method="GET")
    state = await kvm.streamer.get_state()
    assert _as_recorded("StreamerState", state) == relayed


STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    500: ServerError,
}
DOWNLOAD = "http://localhost:8099/slow-4m.iso"


async def _logged_in_logout(kvm: PiKVM) -> None:
    await kvm.auth.login()  # the live emulator's session: logout() needs one
    await kvm.auth.logout()


async def _open_a_session(kvm: PiKVM) -> None:
    async with kvm.ws():
        pass


def _call(step: dict[str, Any]) -> tuple[str, Callable[[PiKVM], Awaitable[Any]]]:
    """The public client call that sends the step's request, and that request's path: the
    step's own, or where the client refuses the recorded request before sending it (a
    system id it knows kvmd rejects), the closest request it lets out. The recorded
    answer is what is under test."""
    path = step.get("path", "/api/ws").removeprefix("/api/")
    if path == "ws":
        return path, _open_a_session
    if path == "auth/login":
        return path, lambda kvm: kvm.auth.login()
    if path == "auth/check":
        return path, lambda kvm: kvm.auth.check()
    if path == "auth/logout":
        return path, _logged_in_logout
    if path == "msd/write":
        return path, lambda kvm: kvm.msd.upload("test-write.iso", b"\0" * 4096)
    if path == "msd/write_remote":
        return path, lambda kvm: kvm.msd.upload_remote(DOWNLOAD)
    if path.endswith("VirtualMedia.InsertMedia"):
        return path, lambda kvm: kvm.redfish.insert_media("image.iso")
    if path.endswith("VirtualMedia.EjectMedia"):
        return path, lambda kvm: kvm.redfish.eject_media()
    if path.endswith("ComputerSystem.Reset"):
        return path, lambda kvm: kvm.redfish.reset_system("On")
    if path.endswith("ComputerSystem.SetDefaultBootOrder"):
        return path, lambda kvm: kvm.request("POST", path, json={}, envelope=False)
    system = path.removeprefix("redfish/v1/Systems/")
    if system != "0" and not system.startswith("SwitchPort"):
        system, path = "0", "redfish/v1/Systems/0"
    if step["method"] == "PATCH":
        return path, lambda kvm: kvm.redfish.patch_system(system, step["request_body"])
    return path, lambda kvm: kvm.redfish.get_system(system)


def _recorded_body(step: dict[str, Any]) -> bytes:
    if "body_file" in step:
        return (CAPTURES / step["body_file"]).read_bytes()
    if "body_text" in step:
        return str(step["body_text"]).encode()
    if "text" in step:
        return str(step["text"]).encode()
    return b"" if step.get("body") is None else json.dumps(step["body"]).encode()


def _steps() -> list[Any]:
    return [
        pytest.param(name, step, id=f"{name}-{step['name']}")
        for name in STEPS
        for step in load(SCENARIOS[name]["file"])["steps"]
    ]


@pytest.mark.parametrize(("scenario", "step"), _steps())
async def test_recorded_answers_through_the_client(
    emu: Emulator, kvm: PiKVM, scenario: str, step: dict[str, Any]
) -> None:
    path, call = _call(step)
    rule = emu.faults.respond(
        path,
        _recorded_body(step),
        status=step["status"],
        content_type=step.get("content_type"),
        method=step.get("method", "GET"),
    )
    status = step["status"]
    if status >= 300:
        with pytest.raises(STATUS_ERRORS[status]) as caught:
            await call(kvm)
        error = caught.value
        assert error.status_code == status
        envelope = step.get("body")
        if isinstance(envelope, dict) and isinstance(envelope.get("result"), dict):
            assert (error.error, error.error_msg) == (
                envelope["result"]["error"],
                envelope["result"]["error_msg"],
            )
        else:
            assert error.error is None
    elif "stream_broken" in step:
        with pytest.raises(StreamError) as broken:
            await call(kvm)
        last = json.loads(step["body_text"].split("\r\n")[-2])["result"]
        assert (broken.value.error, broken.value.error_msg) == (last["error"], last["error_msg"])
    else:
        value = await call(kvm)
        if "body_file" in step:
            assert isinstance(value, RedfishSystem)
            assert _as_recorded("RedfishSystem", value) == load(step["body_file"])
        elif "body_text" in step:  # NDJSON: the last progress record
            last = json.loads(step["body_text"].split("\r\n")[-2])["result"]["image"]
            assert value == MsdWriteResult(**last)
        elif path == "msd/write":
            assert value == MsdWriteResult(**step["body"]["result"]["image"])
        else:
            assert value is None
    assert rule.hits == 1
