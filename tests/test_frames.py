"""The frame codecs, byte for byte against the protocol notes and a real device's frames."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiopikvm import KEYS, InvalidInputError
from aiopikvm.protocol.frames import (
    KeyInput,
    MouseButtonInput,
    MouseMoveInput,
    MouseRelativeInput,
    MouseWheelInput,
    PingInput,
    decode_binary,
    decode_json_input,
    encode_binary,
    encode_json,
    parse_event,
)
from aiopikvm.protocol.keys import FINISH_EXEMPT, MODIFIERS

from .captures import load

BINARY_STEPS = {step["name"]: step for step in load("ws_binary.json")["steps"]}


def test_key_table_is_kvmds() -> None:
    assert sorted(KEYS) == load("hid_keys.json")["keys"]
    assert len(KEYS) == 126
    assert MODIFIERS | {"PrintScreen"} == FINISH_EXEMPT


@pytest.mark.parametrize(
    ("message", "step"),
    [
        (KeyInput("ControlLeft", True), "key_press"),
        (KeyInput("ControlLeft", False), "key_release"),
        (KeyInput("ControlLeft", True, finish=True), "key_press_finish"),
        (KeyInput("KeyA", True, finish=True), "key_press_finish_ordinary"),
        (MouseMoveInput(0, 0), "mouse_move"),
        (MouseWheelInput(((0, 0),)), "mouse_wheel"),
        (MouseRelativeInput(((3, -4),)), "mouse_relative"),
        (MouseRelativeInput(((1, 2), (-3, -4))), "mouse_relative_batch"),
        (MouseWheelInput(((0, -1), (0, -1)), squash=True), "mouse_wheel_batch_squashed"),
        (MouseButtonInput("middle", False), "mouse_button"),
    ],
)
def test_binary_frames_match_the_device_capture(message: object, step: str) -> None:
    frame = bytes.fromhex(BINARY_STEPS[step]["frame"])
    assert encode_binary(message) == frame  # type: ignore[arg-type]
    assert decode_binary(frame) == message


@pytest.mark.parametrize(
    ("message", "frame"),
    [
        (KeyInput("KeyA", True), "01014b657941"),
        (MouseMoveInput(-32768, 32767), "0380007fff"),
        (MouseWheelInput(((0, -1),)), "050000ff"),
        (PingInput(), "00"),
    ],
)
def test_binary_frames_match_the_protocol_notes(message: object, frame: str) -> None:
    assert encode_binary(message).hex() == frame  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "step", ["key_unknown_name", "mouse_move_truncated", "delta_batch_odd_length"]
)
def test_frames_kvmd_refused_decode_to_nothing(step: str) -> None:
    assert BINARY_STEPS[step]["accepted"] is False
    assert decode_binary(bytes.fromhex(BINARY_STEPS[step]["frame"])) is None


def test_unknown_operation_and_code_mode_decode_to_nothing() -> None:
    assert decode_binary(bytes.fromhex(BINARY_STEPS["unknown_op"]["sent"])) is None
    assert decode_binary(b"") is None
    assert decode_binary(bytes([0x01, 0x81, 0x00, 0x1E])) is None  # KEY_A by evdev code


def test_ping_capture() -> None:
    assert encode_binary(PingInput()).hex() == BINARY_STEPS["ping_binary"]["sent"]
    assert encode_json(PingInput()) == json.dumps(
        BINARY_STEPS["ping_json"]["sent"], separators=(",", ":")
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            KeyInput("KeyA", True),
            {"event_type": "key", "event": {"key": "KeyA", "state": True, "finish": False}},
        ),
        (
            MouseButtonInput("left", True),
            {"event_type": "mouse_button", "event": {"button": "left", "state": True}},
        ),
        (
            MouseMoveInput(-32768, 32767),
            {"event_type": "mouse_move", "event": {"to": {"x": -32768, "y": 32767}}},
        ),
        (
            MouseRelativeInput(((5, -5),), squash=True),
            {
                "event_type": "mouse_relative",
                "event": {"delta": [{"x": 5, "y": -5}], "squash": True},
            },
        ),
        (
            MouseWheelInput(((0, -1),)),
            {"event_type": "mouse_wheel", "event": {"delta": [{"x": 0, "y": -1}], "squash": False}},
        ),
        (PingInput(), {"event_type": "ping", "event": {}}),
    ],
)
def test_json_frames_match_the_protocol_notes(message: object, expected: dict[str, object]) -> None:
    text = encode_json(message)  # type: ignore[arg-type]
    assert json.loads(text) == expected
    assert decode_json_input(expected["event_type"], expected["event"]) == message  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "named"),
    [
        (KeyInput("keya", True), "'keya'"),
        (KeyInput("a", True), "'KeyA'"),
        (KeyInput("KeyA", 1), "key state"),  # type: ignore[arg-type]
        (MouseButtonInput("back", True), "'back'"),
        (MouseMoveInput(32768, 0), "32768"),
        (MouseMoveInput(0, -32769), "-32769"),
        (MouseMoveInput(1.5, 0), "1.5"),  # type: ignore[arg-type]
        (MouseMoveInput(True, 0), "True"),  # type: ignore[arg-type]
        (MouseWheelInput(((0, 128),)), "128"),
        (MouseRelativeInput(((-128, 0),)), "-128"),
        (MouseRelativeInput(()), "at least one"),
    ],
)
def test_encoders_refuse_what_kvmd_would_drop(message: object, named: str) -> None:
    for encode in (encode_binary, encode_json):
        with pytest.raises(InvalidInputError, match=named.replace("(", r"\(").replace(".", r"\.")):
            encode(message)  # type: ignore[arg-type]


def test_json_decoder_reads_like_kvmd() -> None:
    assert decode_json_input("key", {"key": "KeyA", "state": "yes"}) == KeyInput("KeyA", True)
    assert decode_json_input("key", {"key": "Nope", "state": True}) is None
    assert decode_json_input("key", {"key": "KeyA"}) is None
    assert decode_json_input("key", "not a dict") is None
    assert decode_json_input("mouse_move", {"to": {"x": 99999, "y": "-5"}}) == MouseMoveInput(
        32767, -5
    )
    assert decode_json_input("mouse_wheel", {"delta": {"x": 0, "y": -300}}) == MouseWheelInput(
        ((0, -127),)
    )
    assert decode_json_input("mouse_button", {"button": "left", "state": "maybe"}) is None
    assert decode_json_input("gamepad", {}) is None
    assert decode_json_input("key", {"key": " KeyA ", "state": 1}) == KeyInput("KeyA", True)
    assert decode_json_input("mouse_button", {"button": "LEFT", "state": 0}) == MouseButtonInput(
        "left", False
    )
    assert decode_json_input("mouse_move", {"to": {"x": " 0x10 ", "y": 0}}) == MouseMoveInput(16, 0)
    for not_an_int in (1.5, True, "1e3", "", None):
        assert decode_json_input("mouse_move", {"to": {"x": not_an_int, "y": 0}}) is None


def test_parse_event_reads_current_and_legacy_names() -> None:
    assert parse_event('{"event_type":"hid","event":{"online":true}}') == ("hid", {"online": True})
    assert parse_event('{"event_type":"atx_state","event":{}}') == ("atx", {})
    assert parse_event('{"event_type":"pong"}') == ("pong", {})


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"event":{}}', '{"event_type":"x","event":[1]}']
)
def test_parse_event_refuses_what_is_not_kvmds(text: str) -> None:
    from aiopikvm import ProtocolError

    with pytest.raises(ProtocolError):
        parse_event(text)


@given(
    st.sampled_from(sorted(KEYS)),
    st.booleans(),
    st.booleans(),
)
def test_key_frames_round_trip(key: str, state: bool, finish: bool) -> None:
    message = KeyInput(key, state, finish)
    assert decode_binary(encode_binary(message)) == message
    event = json.loads(encode_json(message))
    assert decode_json_input(event["event_type"], event["event"]) == message


@given(
    st.lists(st.tuples(st.integers(-127, 127), st.integers(-127, 127)), min_size=1, max_size=8),
    st.booleans(),
)
def test_delta_frames_round_trip(steps: list[tuple[int, int]], squash: bool) -> None:
    for cls in (MouseRelativeInput, MouseWheelInput):
        message = cls(tuple(steps), squash)
        assert decode_binary(encode_binary(message)) == message


@given(st.binary(max_size=40))
def test_binary_decoder_never_raises(data: bytes) -> None:
    decode_binary(data)
