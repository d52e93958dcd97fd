"""Property-based fuzzing of every decoder of device data, and of the checks of user input.

Each decoder has one contract: whatever it is fed, it returns a value of its type or raises
one of our errors (a :class:`ProtocolError` for device data, :class:`InvalidInputError` for
user input) — never a ``KeyError``, ``RecursionError`` or pydantic error. Pure functions,
no event loop. :mod:`tests.test_fuzz_emulator` fuzzes the same wire over loopback.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiopikvm import (
    APIError,
    AuthError,
    BadRequestError,
    BusyError,
    CertificateFingerprint,
    InvalidInputError,
    NotFoundError,
    ProtocolError,
    RequestInfo,
    ServerError,
    StreamError,
    UnavailableError,
)
from aiopikvm import models as models_module
from aiopikvm.emulator import _validators as validators
from aiopikvm.emulator._errors import ValidatorError
from aiopikvm.models import (
    AtxState,
    DeviceState,
    GpioState,
    HidInactivity,
    HidKeymaps,
    HidState,
    Info,
    MsdState,
    MsdWriteResult,
    OcrState,
    RedfishCollection,
    RedfishManager,
    RedfishRoot,
    RedfishSystem,
    RedfishVirtualMedia,
    StreamerState,
    SwitchState,
)
from aiopikvm.models._base import Model, parse
from aiopikvm.models.prometheus import parse_metrics
from aiopikvm.protocol import credentials, totp
from aiopikvm.protocol.frames import (
    LEGACY_EVENT_NAMES,
    MouseRelativeInput,
    MouseWheelInput,
    decode_binary,
    decode_json_input,
    parse_event,
    validate,
)
from aiopikvm.protocol.layout import LAYOUTS, Layout
from aiopikvm.protocol.merge import MERGE_DEPTH, merge_event
from aiopikvm.protocol.typing import resolve_layout
from aiopikvm.resources.msd import _progress_record
from aiopikvm.transport.http_errors import error_from_response, unwrap_envelope

from . import captures

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays deterministic
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
INFO = RequestInfo("GET", "http://pikvm/api/x")


def outcome(call: Callable[[], Any], *errors: type[Exception]) -> Any:
    """What ``call()`` returns, or the exception it raised if it is one of ``errors``: any
    other exception fails the test."""
    try:
        return call()
    except errors as exc:
        return exc


# ----- strategies ---------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


def nested(depth: int, leaf: str = "1") -> str:
    """JSON nested ``depth`` levels deep, alternating objects and arrays."""
    opening = "".join('{"a":' if level % 2 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    return opening + leaf + closing


DEPTHS = (400, 600, 900, 990, 5000, 100_000)
"""Around the interpreter's recursion limit, where the JSON decoder and copies give up."""
deep_json = st.sampled_from(DEPTHS).map(nested)

event_types = st.sampled_from(
    [*MERGE_DEPTH, *LEGACY_EVENT_NAMES, "loop", "pong", "x_unknown"]
) | st.text(max_size=10)
server_frames = st.one_of(
    st.text(max_size=60),
    json_values.map(json.dumps),
    st.builds(
        lambda event_type, event: json.dumps({"event_type": event_type, "event": event}),
        event_types | json_values,
        json_values,
    ),
    deep_json,
    deep_json.map(lambda text: f'{{"event_type": "hid", "event": {{"x": {text}}}}}'),
)


def _mutations(value: Any) -> st.SearchStrategy[Any]:
    """``value`` with one part replaced by anything, or one key dropped."""
    if isinstance(value, dict) and value:
        keys = sorted(value)
        return st.one_of(
            json_values,
            st.sampled_from(keys).map(lambda key: {k: v for k, v in value.items() if k != key}),
            st.sampled_from(keys).flatmap(
                lambda key: _mutations(value[key]).map(lambda new: {**value, key: new})
            ),
        )
    if isinstance(value, list) and value:
        return st.one_of(
            json_values,
            st.integers(0, len(value) - 1).flatmap(
                lambda i: _mutations(value[i]).map(lambda new: [*value[:i], new, *value[i + 1 :]])
            ),
        )
    return json_values


# ----- WebSocket events from the device -----------------------------------------------


@FUZZ
@given(server_frames)
def test_parse_event_gives_an_event_or_a_protocol_error(text: str) -> None:
    try:
        event_type, event = parse_event(text)
    except ProtocolError:
        return
    assert isinstance(event_type, str) and isinstance(event, dict)
    assert event_type not in LEGACY_EVENT_NAMES  # translated to today's names


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_frame_nested_too_deep_is_a_protocol_error_or_an_event(depth: int) -> None:
    # The JSON decoder's limit is the interpreter's recursion limit: either side of it.
    text = f'{{"event_type": "hid", "event": {{"x": {nested(depth)}}}}}'
    result = outcome(lambda: parse_event(text), ProtocolError)
    assert result == ("hid", result[1]) if isinstance(result, tuple) else "not JSON" in str(result)


@settings(FUZZ, max_examples=120)  # each example parses a whole device state
@given(st.lists(st.tuples(event_types, json_objects), max_size=8), st.booleans())
def test_any_events_merge_and_the_state_parses_or_is_a_protocol_error(
    events: list[tuple[str, dict[str, Any]]], recorded: bool
) -> None:
    state = copy.deepcopy(_recorded_state()) if recorded else {}
    for event_type, generated in events:
        event = copy.deepcopy(generated)
        is_state = merge_event(state, event_type, event)
        assert is_state == (event_type in MERGE_DEPTH)
        before = json.dumps(state, sort_keys=True)
        event["x_mutated_afterwards"] = 1  # the state keeps copies, never the event itself
        assert json.dumps(state, sort_keys=True) == before
    assert set(state) <= set(MERGE_DEPTH)
    for name, raw in state.items():
        with contextlib.suppress(ProtocolError):
            parse(DeviceState.model_fields[name].annotation, raw, name)


@pytest.mark.parametrize("depth", DEPTHS[:4])
def test_events_nested_as_deep_as_the_decoder_allows_merge(depth: int) -> None:
    # Not under hypothesis, which raises the recursion limit while a test runs.
    for event_type in MERGE_DEPTH:
        try:
            _, event = parse_event(
                f'{{"event_type": "{event_type}", "event": {{"x": {nested(depth)}}}}}'
            )
        except ProtocolError:
            return  # deeper than the decoder goes: never reaches the merge
        state: dict[str, Any] = {}
        merge_event(state, event_type, event)
        merge_event(state, event_type, event)  # a partial onto a dict: the merging path too
        _assert_copied(state[event_type]["x"], event["x"])


def _assert_copied(copied: Any, original: Any) -> None:
    """Equal trees sharing no container, compared without recursion (too deep for it)."""
    pending = [(copied, original)]
    while pending:
        a, b = pending.pop()
        assert type(a) is type(b)
        if isinstance(a, dict | list):
            assert a is not b and len(a) == len(b)
            pairs = (
                zip(a.values(), b.values(), strict=True)
                if isinstance(a, dict)
                else zip(a, b, strict=True)
            )
            if isinstance(a, dict):
                assert list(a) == list(b)
            pending.extend(pairs)
        else:
            assert a == b


@functools.cache
def _recorded_state() -> dict[str, Any]:
    state: dict[str, Any] = {}
    for message in captures.ws_messages():
        merge_event(state, message["event_type"], message["event"])
    return state


# ----- state models -------------------------------------------------------------------

MODELS = sorted(
    (
        cls
        for cls in (getattr(models_module, name) for name in models_module.__all__)
        if isinstance(cls, type) and issubclass(cls, Model)
    ),
    key=lambda cls: cls.__name__,
)

RECORDED: list[tuple[type[Model], Any]] = [
    (AtxState, captures.result("atx.json")),
    (GpioState, captures.result("gpio.json")),
    (HidState, captures.result("hid.json")),
    (HidInactivity, captures.result("hid_inactivity.json")),
    (HidKeymaps, captures.result("hid_keymaps.json")),
    (Info, captures.result("info.json")),
    (Info, captures.result("info_hw.json")),
    (MsdState, captures.result("msd.json")),
    (MsdState, captures.result("msd_online.json")),
    (MsdState, captures.result("msd_uploading.json")),
    (MsdState, captures.result("msd_downloading.json")),
    (StreamerState, captures.result("streamer.json")),
    (OcrState, captures.result("streamer_ocr.json")["ocr"]),
    (SwitchState, captures.result("switch.json")),
    (RedfishRoot, captures.load("redfish_root.json")),
    (RedfishCollection, captures.load("redfish_systems.json")),
    (RedfishSystem, captures.load("redfish_system_0.json")),
    (RedfishManager, captures.load("redfish_manager_bmc.json")),
    (RedfishVirtualMedia, captures.load("redfish_vm_msd.json")),
    (DeviceState, _recorded_state()),
]


def _parses_or_protocol_error(model: type[Model], data: Any) -> None:
    result = outcome(lambda: parse(model, data, model.__name__), ProtocolError)
    assert isinstance(result, model) or model.__name__ in str(result)


def test_every_model_is_fuzzed_against_a_recording() -> None:
    recorded = {model for model, _ in RECORDED}
    assert len(MODELS) > 40
    for model, data in RECORDED:
        assert isinstance(parse(model, data, "recording"), model)  # the seeds are valid
    assert {AtxState, HidState, MsdState, GpioState, SwitchState, Info} <= recorded


@FUZZ
@given(
    st.sampled_from(MODELS),
    json_values | st.sampled_from(DEPTHS[:2]).map(lambda depth: json.loads(nested(depth))),
)
def test_any_json_into_any_model_parses_or_is_a_protocol_error(
    model: type[Model], data: Any
) -> None:
    _parses_or_protocol_error(model, data)


@FUZZ
@given(
    st.sampled_from(range(len(RECORDED))).flatmap(
        lambda i: st.tuples(st.just(RECORDED[i][0]), _mutations(RECORDED[i][1]))
    )
)
def test_a_recording_with_one_part_wrong_parses_or_is_a_protocol_error(
    case: tuple[type[Model], Any],
) -> None:
    _parses_or_protocol_error(*case)


# ----- HTTP answers -------------------------------------------------------------------

STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: BusyError,
    503: UnavailableError,
}

kvmd_error_bodies = st.builds(
    lambda ok, error, error_msg: json.dumps(
        {"ok": ok, "result": {"error": error, "error_msg": error_msg}}
    ).encode(),
    st.booleans(),
    st.text(max_size=20) | json_values,
    st.text(max_size=40) | json_values,
)
error_bodies = st.one_of(
    st.binary(max_size=60),
    json_values.map(lambda value: json.dumps(value).encode()),
    kvmd_error_bodies,
    st.text(max_size=60).map(lambda title: f"<html><title>{title}</title></html>".encode()),
)


@FUZZ
@given(st.integers(300, 599), error_bodies)
def test_any_error_answer_becomes_the_api_error_for_its_status(code: int, body: bytes) -> None:
    error = error_from_response(code, body, INFO)
    assert isinstance(error, APIError) and error.status_code == code
    expected = STATUS_CLASSES.get(code, ServerError if code >= 500 else APIError)
    assert type(error) is expected
    assert error.error is None or isinstance(error.error, str)
    assert error.error_msg is None or isinstance(error.error_msg, str)
    assert error.request == INFO and str(INFO) in str(error)


@FUZZ
@given(
    st.sampled_from([400, 409, 503]),
    st.text(max_size=20),
    st.text(max_size=40).filter(lambda text: "@" not in text),  # userinfo is redacted
)
def test_kvmds_error_and_message_are_kept(code: int, name: str, message: str) -> None:
    body = json.dumps({"ok": False, "result": {"error": name, "error_msg": message}}).encode()
    error = error_from_response(code, body, INFO)
    assert (error.error, error.error_msg) == (name, message)


@pytest.mark.parametrize("depth", DEPTHS)
def test_an_error_answer_nested_deep_is_still_an_api_error(depth: int) -> None:
    # Not under hypothesis, which raises the recursion limit while a test runs.
    envelope = f'{{"ok": false, "result": {{"error": "E", "error_msg": {nested(depth)}}}}}'
    for body in (nested(depth), envelope):
        error = error_from_response(502, body.encode(), INFO)
        assert isinstance(error, ServerError) and error.error_msg is None


@FUZZ
@given(json_values | json_objects | st.builds(dict, ok=json_values, result=json_values))
def test_the_envelope_gives_its_result_or_a_protocol_error(body: Any) -> None:
    ok = isinstance(body, dict) and body.get("ok") is True
    result = outcome(lambda: unwrap_envelope(body, INFO), ProtocolError)
    if isinstance(result, ProtocolError):
        assert not ok and result.request == INFO
    else:
        assert ok and result == body.get("result")


progress_lines = st.one_of(
    st.text(max_size=60),
    json_values.map(json.dumps),
    st.builds(
        lambda ok, result: json.dumps({"ok": ok, "result": result}),
        st.booleans() | json_values,
        json_values
        | st.builds(dict, image=json_values)
        | st.builds(
            lambda name, size, written: {"image": {"name": name, "size": size, "written": written}},
            json_values,
            json_values,
            json_values,
        ),
    ),
)


@FUZZ
@given(progress_lines)
def test_a_progress_record_is_a_result_or_our_error(line: str) -> None:
    result = outcome(lambda: _progress_record(line, INFO), StreamError, ProtocolError)
    if isinstance(result, StreamError):
        assert result.status_code == 200 and result.request == INFO
    else:
        assert isinstance(result, MsdWriteResult | ProtocolError)


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_progress_record_nested_deep_is_a_protocol_error(depth: int) -> None:
    with pytest.raises(ProtocolError):
        _progress_record(f'{{"ok": true, "result": {{"image": {nested(depth)}}}}}', INFO)


# ----- Prometheus ---------------------------------------------------------------------

metric_names = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,12}", fullmatch=True)
label_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True)
metric_values = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**6), 10**6)


def _exposition_line(name: str, labels: dict[str, str], value: float, timestamp: int | None) -> str:
    escaped = {
        label: text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        for label, text in labels.items()
    }
    shown = ",".join(f'{label}="{text}"' for label, text in escaped.items())
    line = f"{name}{{{shown}}} {value!r}" if labels else f"{name} {value!r}"
    return line if timestamp is None else f"{line} {timestamp}"


@FUZZ
@given(
    st.lists(
        st.tuples(
            metric_names,
            st.dictionaries(label_names, st.text(max_size=10), max_size=3),
            metric_values,
            st.none() | st.integers(-(10**15), 10**15),
        ),
        max_size=5,
    )
)
def test_any_exposition_reads_back_as_written(
    samples: list[tuple[str, dict[str, str], float, int | None]],
) -> None:
    text = "# HELP x y\n" + "\n".join(_exposition_line(*sample) for sample in samples)
    parsed = parse_metrics(text)
    assert len(parsed) == len(samples)
    for sample, (name, labels, value, timestamp) in zip(parsed, samples, strict=True):
        assert (sample.name, sample.labels, sample.timestamp) == (name, labels, timestamp)
        assert sample.value == value or (math.isnan(sample.value) and math.isnan(value))


@FUZZ
@given(st.text(max_size=80) | st.text(alphabet='abc_{}="\\, \n\t#0123456789.e+-', max_size=60))
def test_any_text_is_metrics_or_a_protocol_error(text: str) -> None:
    result = outcome(lambda: parse_metrics(text), ProtocolError)
    if isinstance(result, ProtocolError):
        assert "is not a Prometheus sample" in str(result)
    else:
        assert all(isinstance(sample.value, float) for sample in result)


# ----- what the user gives: secrets, pins, credentials, layouts -----------------------


@FUZZ
@given(
    st.text(max_size=40) | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567= ab18", max_size=40)
)
def test_any_totp_secret_decodes_or_is_invalid_input(secret: str) -> None:
    try:
        key = totp.decode_secret(secret)
    except InvalidInputError:
        return
    assert isinstance(key, bytes)
    code = totp.totp(secret, at=0)
    assert len(code) == totp.DIGITS and code.isdigit()


@FUZZ
@given(st.binary(min_size=1, max_size=40), st.booleans(), st.integers(0, 7))
def test_a_secret_as_apps_show_it_decodes_to_its_key(key: bytes, lower: bool, gap: int) -> None:
    secret = base64.b32encode(key).decode().rstrip("=")
    if lower:
        secret = secret.lower()
    if gap:  # apps group the secret in blocks
        secret = " ".join(secret[i : i + gap] for i in range(0, len(secret), gap))
    assert totp.decode_secret(secret) == key


fingerprint_bytes = st.binary(min_size=32, max_size=32)


@FUZZ
@given(
    st.text(max_size=110)
    | st.text(alphabet="0123456789abcdefABCDEF: =sha256Fingerprint", max_size=110)
    | json_values
)
def test_any_fingerprint_is_one_or_invalid_input(text: Any) -> None:
    try:
        pin = CertificateFingerprint(text)
    except InvalidInputError:
        return
    assert len(pin.hex) == 64 and CertificateFingerprint(str(pin)) == pin


@FUZZ
@given(
    fingerprint_bytes,
    st.sampled_from(["{}", "sha256 Fingerprint={}", "SHA256={}", " {} "]),
    st.booleans(),
    st.booleans(),
)
def test_a_fingerprint_in_any_of_its_spellings_reads_the_same(
    digest: bytes, form: str, colons: bool, lower: bool
) -> None:
    hex_digits = digest.hex() if lower else digest.hex().upper()
    shown = ":".join(hex_digits[i : i + 2] for i in range(0, 64, 2)) if colons else hex_digits
    pin = CertificateFingerprint(form.format(shown))
    assert pin.hex == digest.hex()
    assert CertificateFingerprint(str(pin)) == pin


@FUZZ
@given(st.text(max_size=20) | st.from_regex(r"[a-z_][a-z0-9@._-]{0,10}", fullmatch=True))
def test_a_user_name_the_client_allows_is_one_kvmd_accepts(user: str) -> None:
    problem = credentials.user_problem(user)
    if problem is None:
        assert validators.valid_user(user) == user


@FUZZ
@given(
    st.text(max_size=30)
    | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=600)
)
def test_a_password_the_client_allows_is_one_kvmd_accepts(passwd: str) -> None:
    problem = credentials.passwd_problem(passwd)
    if problem is None:
        assert validators.valid_passwd(passwd) == passwd


@FUZZ
@given(st.text(max_size=12) | st.sampled_from(sorted(LAYOUTS)))
def test_any_layout_name_is_a_layout_or_invalid_input(name: str) -> None:
    try:
        layout = resolve_layout(name)
    except InvalidInputError:
        assert name not in LAYOUTS
        return
    assert isinstance(layout, Layout) and name in LAYOUTS


# ----- client input as kvmd reads it (the emulator's decoders) ------------------------


def _kvmd_would_apply(decoded: Any) -> None:
    """A decoded input is always one the client could have sent: kvmd clamps, never fails."""
    if decoded is None:
        return
    if isinstance(decoded, MouseRelativeInput | MouseWheelInput) and not decoded.deltas:
        return  # no steps: kvmd hands the HID nothing
    assert validate(decoded) == decoded


@FUZZ
@given(
    st.sampled_from(["key", "mouse_button", "mouse_move", "mouse_relative", "mouse_wheel", "ping"])
    | st.text(max_size=8),
    json_values
    | json_objects
    | st.fixed_dictionaries(
        {},
        optional={
            "key": st.sampled_from(["KeyA", " Enter ", "keya", "ShiftLeft"]) | json_values,
            "button": st.sampled_from(["left", " RIGHT ", "x"]) | json_values,
            "state": st.sampled_from([True, "yes", "No", 0, 1, "maybe"]) | json_values,
            "finish": json_values,
            "squash": json_values,
            "to": st.fixed_dictionaries({"x": json_values, "y": json_values}) | json_values,
            "delta": st.lists(
                st.fixed_dictionaries({"x": json_values, "y": json_values}), max_size=3
            )
            | json_values,
        },
    ),
)
def test_any_json_input_is_decoded_as_kvmd_reads_it_or_ignored(event_type: str, event: Any) -> None:
    _kvmd_would_apply(decode_json_input(event_type, event))


@pytest.mark.parametrize("depth", DEPTHS[:3])
def test_json_input_nested_deep_is_ignored(depth: int) -> None:
    # Not under hypothesis, which raises the recursion limit while a test runs.
    deep = json.loads(nested(depth))
    event = {"to": {"x": deep, "y": 1}, "delta": [{"x": deep, "y": 1}], "key": deep, "state": 1}
    for event_type in ("mouse_move", "mouse_relative", "mouse_wheel", "key", "mouse_button"):
        assert decode_json_input(event_type, event) is None


@FUZZ
@given(
    st.binary(max_size=40)
    | st.tuples(st.integers(0, 6), st.binary(max_size=12)).map(
        lambda parts: bytes([parts[0]]) + parts[1]
    )
)
def test_any_binary_input_is_decoded_as_kvmd_reads_it_or_ignored(frame: bytes) -> None:
    _kvmd_would_apply(decode_binary(frame))


# ----- the emulator's validators: kvmd's error for anything ---------------------------

VALIDATORS: list[Callable[[Any], object]] = [
    validators.valid_bool,
    functools.partial(validators.valid_int, name="int", low=0, high=10),
    functools.partial(validators.valid_string_list, name="list"),
    validators.valid_user,
    validators.valid_passwd,
    validators.valid_expire,
    validators.valid_auth_token,
    validators.valid_hid_key,
    validators.valid_mouse_button,
    validators.valid_mouse_move,
    validators.valid_mouse_delta,
    validators.valid_keyboard_output,
    validators.valid_mouse_output,
    validators.valid_atx_power_action,
    validators.valid_atx_button,
    functools.partial(validators.valid_info_fields, variants={"system", "meta"}),
    validators.valid_msd_image_name,
    functools.partial(validators.valid_msd_image_name, allow_eject=True),
    validators.valid_url,
    functools.partial(validators.valid_msd_compress, variants={"lzma", "zstd"}),
    functools.partial(validators.valid_float, low=0, high=10),
    validators.valid_not_empty_string,
    validators.valid_gpio_channel,
    validators.valid_switch_port_name,
    functools.partial(validators.valid_switch_edid_id, allow_default=True),
    validators.valid_switch_edid_data,
    validators.valid_switch_color,
    validators.valid_switch_atx_click_delay,
]

query_values = st.text(max_size=20) | st.sampled_from(
    ["", " ", "0", "0x1F", "-1", "1e309", "nan", "inf", "9" * 5000, "a,b c", "\x00", "yes"]
)


@FUZZ
@given(st.sampled_from(VALIDATORS), query_values | json_values)
def test_every_validator_accepts_or_raises_kvmds_validator_error(
    validator: Callable[[Any], object], value: Any
) -> None:
    result = outcome(lambda: validator(value), ValidatorError)
    if isinstance(result, ValidatorError):
        assert str(result)  # kvmd's message, shown to the client as error_msg


def test_every_validator_module_function_is_fuzzed() -> None:
    fuzzed = {getattr(v, "func", v).__name__ for v in VALIDATORS}
    public = {name for name in dir(validators) if name.startswith("valid_")}
    assert public <= fuzzed, public - fuzzed
