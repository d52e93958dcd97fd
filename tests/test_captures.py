"""Every GET the real device was recorded answering (``captures/_manifest.json``), checked
both ways: the capture parses with the client's model for that endpoint and dumps back to
itself, and the emulator, asked the same through the public client, answers something the
same model parses with the same top-level keys (values differ: the emulator's state is
live)."""

from __future__ import annotations

import importlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator
from aiopikvm.models._base import parse

from .captures import CAPTURES, load

MANIFEST: dict[str, dict[str, Any]] = load("_manifest.json")["captures"]

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


def test_every_recorded_get_has_a_row() -> None:
    gets = {name for name, capture in MANIFEST.items() if capture["method"] == "GET"}
    assert gets == set(ROWS)


@pytest.mark.parametrize("name", list(ROWS))
def test_the_capture_parses_and_dumps_back(name: str) -> None:
    row, recorded = ROWS[name], _recorded(name)
    if _text_model(row.model):
        _check_text(row.model, recorded)
        return
    data = recorded[row.part] if row.part else recorded
    parsed = parse(_model(row.model), data, name)
    assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == data


@pytest.fixture
async def kvm(emu: Emulator) -> AsyncIterator[PiKVM]:
    async with PiKVM(emu.url, passwd="admin") as client:
        yield client


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
