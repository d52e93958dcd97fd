"""Merging the event stream into one state, checked with the real session's events."""

from __future__ import annotations

import copy
from typing import Any

from aiopikvm.models import DeviceState
from aiopikvm.models._base import parse
from aiopikvm.protocol.merge import merge_event

from .captures import result, ws_messages


def merged(messages: list[dict[str, Any]]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for message in messages:
        merge_event(state, message["event_type"], message["event"])
    return state


def test_the_real_session_merges_into_what_the_http_endpoints_answer() -> None:
    state = merged(ws_messages())
    assert state["atx"] == result("atx.json")
    assert state["hid"] == result("hid.json")
    assert state["gpio"] == result("gpio.json")
    assert state["msd"] == result("msd.json")
    assert state["switch"] == result("switch.json")
    assert state["hid_keymaps"] == result("hid_keymaps.json")
    assert state["ocr"] == result("streamer_ocr.json")["ocr"]
    assert state["clients"] == {"count": 1}
    info = result("info_legacy0.json")
    assert state["info"].keys() == info.keys()
    assert state["info"]["system"]["kvmd"] == info["system"]["kvmd"]
    # the streamer's last partial replaced the process report, the rest stayed
    streamer = result("streamer.json")
    assert state["streamer"]["params"] == streamer["params"]
    assert state["streamer"]["streamer"]["source"]["resolution"] == {"width": 1920, "height": 1080}


def test_the_merged_session_parses_as_the_typed_state() -> None:
    state = parse(DeviceState, merged(ws_messages()), "state")
    assert state.hid is not None and state.hid.keyboard.leds.num is True
    assert state.atx is not None and state.atx.leds.power is False
    assert state.info.system is not None and state.info.system.kvmd.version == "4.206"
    assert state.streamer is not None and state.streamer.streamer is not None
    assert state.streamer.streamer.source.resolution.width == 1920
    assert state.msd is not None and state.msd.storage is None


def test_gpio_diff_changes_one_channel() -> None:
    state = merged(ws_messages())
    merge_event(
        state,
        "gpio",
        {
            "state": {
                "outputs": {"__v3_usb_breaker__": {"online": True, "state": False, "busy": True}}
            }
        },
    )
    assert state["gpio"]["state"]["outputs"]["__v3_usb_breaker__"]["state"] is False
    assert state["gpio"]["model"] == result("gpio.json")["model"]


def test_msd_images_are_replaced_not_merged() -> None:
    state: dict[str, Any] = {}
    full = copy.deepcopy(result("msd_uploading.json"))
    merge_event(state, "msd", full)
    assert set(state["msd"]["storage"]["images"]) == {"test-1m.iso", "test-slow.iso"}
    merge_event(
        state,
        "msd",
        {
            "storage": {
                "images": {"test-1m.iso": full["storage"]["images"]["test-1m.iso"]},
                "uploading": None,
            }
        },
    )
    assert set(state["msd"]["storage"]["images"]) == {"test-1m.iso"}
    assert state["msd"]["storage"]["uploading"] is None
    assert state["msd"]["storage"]["parts"] == full["storage"]["parts"]
    assert state["msd"]["busy"] is True


def test_full_state_events_replace_and_unknown_events_are_not_state() -> None:
    state: dict[str, Any] = {}
    merge_event(state, "atx", {"enabled": True, "busy": True, "extra": 1})
    merge_event(state, "atx", {"enabled": True, "busy": False})
    assert state["atx"] == {"enabled": True, "busy": False}
    assert merge_event(state, "pong", {}) is False
    assert merge_event(state, "loop", {"version": {"major": 4}}) is False
    assert "loop" not in state


def test_merge_does_not_alias_the_event() -> None:
    state: dict[str, Any] = {}
    event = {"leds": {"power": True}}
    merge_event(state, "atx", event)
    event["leds"]["power"] = False
    assert state["atx"]["leds"]["power"] is True
