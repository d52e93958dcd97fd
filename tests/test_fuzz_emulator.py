"""Property-based fuzzing over loopback: malformed requests and frames into the emulator,
malformed answers and frames into the public client.

The emulator must answer as kvmd does — its JSON envelope with a 4xx status and kvmd's
error names for what its validators refuse, plain-text 404/405, and a 500 only where kvmd
itself crashes — never a traceback, never a crashed server. On the WebSocket it ignores
invalid input without a word and applies none of it. The client, fed garbage by the
emulator, raises only our errors and keeps its session.

Each test runs all its examples against one emulator (hence the suppressed health check
about function-scoped fixtures); the examples are fixed (``derandomize``) so CI is
deterministic.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, Final

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from aiopikvm import APIError, PiKVM, PiKVMError, ProtocolError, ServerError
from aiopikvm.emulator import Emulator
from aiopikvm.emulator import _errors as kvmd_errors
from aiopikvm.emulator._faults import MALFORMED_FRAMES
from aiopikvm.emulator._server import INTERNAL_ERROR_TEXT
from aiopikvm.models import DeviceState
from aiopikvm.protocol.keys import KEYS, MOUSE_BUTTONS

from .emulator_helpers import ADMIN, recv_until, ws_connect

FUZZ: Final = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ascii_text
json_values = st.recursive(
    scalars | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ascii_text, inner, max_size=3),
    max_leaves=12,
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def emulator_errors() -> Iterator[list[logging.LogRecord]]:
    """Records at ERROR and above: the emulator logs its own crashes there (and aiohttp an
    exception that escaped it), so each example asserts this stays empty. (Not caplog: its
    list is replaced between a test's setup and call.)"""
    recorder = _Recorder()
    logging.getLogger().addHandler(recorder)
    try:
        yield recorder.records
    finally:
        logging.getLogger().removeHandler(recorder)


# ----- HTTP ---------------------------------------------------------------------------


@pytest.fixture
async def fast_emu() -> AsyncIterator[Emulator]:
    async with Emulator(
        atx_click_delay=0.01,
        atx_long_click_delay=0.01,
        streamer_start_delay=0.01,
        streamer_stop_delay=0.01,
        msd_storage_delay=0.01,
        metrics_cache_ttl=0,
    ) as emulator:
        yield emulator


@pytest.fixture
async def client(fast_emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fast_emu.url, timeout=10) as http:
        yield http


PARAM_NAMES: Final = (  # noqa: SIM905 - a list of words reads better as words
    "action allow_offline bootloader button cdrom channel compress connected data delay "
    "delta_x delta_y desired_fps downlink dummy edid_id expire fields finish h264_bitrate "
    "h264_gop id image insecure jiggler key keyboard_output keymap keys legacy limit load "
    "mouse_output name ocr ocr_bottom ocr_langs ocr_left ocr_right ocr_top passwd port "
    "prefix preview preview_max_height preview_max_width preview_quality quality "
    "remove_incomplete resolution rw save seek state stream timeout to_x to_y unit uplink "
    "url user wait power_delay reset_delay beacon_color"
).split()
VALUES: Final = (
    "",
    " ",
    "0",
    "1",
    "-1",
    "yes",
    "No",
    "maybe",
    "0x10",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "9" * 400,
    "\x00",
    "\u00e9",
    "..",
    "a/../b",
    "/etc/passwd",
    "lost+found",
    ".hidden",
    "KeyA",
    "ControlLeft,AltLeft,Delete",
    "left",
    "on",
    "off_hard",
    "power_long",
    "system,meta",
    "__v3_usb_breaker__",
    "SwitchPort0",
    "default",
    "lzma",
    "zstd",
    "eng,rus",
    "1920x1080",
    "ffffff:ff:ffff",
    "00000000-0000-0000-0000-000000000000",
    "http://127.0.0.1:1/x.iso",
    "ftp://x",
    "https://[",
    "admin",
    "a" * 70,
    "0" * 64,
    "ps2",
    "usb_rel",
    "disabled",
)
# Values that would make a valid request slow (typing with a pause per key, an endless log),
# drawn from these alone: everything else about them is still fuzzed.
SLOW: Final = {
    "delay": ("", "x", "-1", "6", "nan", "inf", "0", "0.001", "1e309"),
    "slow": ("", "0", "no", "maybe", "2"),
    "follow": ("", "0", "no", "maybe", "2"),
    "timeout": ("", "x", "-1", "0.1", "0.5"),
}
param_values = st.sampled_from(VALUES) | st.text(max_size=10)


@st.composite
def query_strings(draw: st.DrawFn) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(PARAM_NAMES) | ascii_text, max_size=5, unique=True))
    return {
        name: draw(st.sampled_from(SLOW[name]) if name in SLOW else param_values) for name in names
    }


CONTENT_TYPES: Final = (
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "text/plain; charset=latin-1",
    "text/plain; charset=no-such-charset",
    "application/octet-stream",
)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=40),
    st.text(max_size=40).map(str.encode),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.builds(
        lambda user, passwd: f"user={user}&passwd={passwd}".encode(),
        st.sampled_from(["admin", "", "x y", "%ff"]) | ascii_text,
        st.sampled_from(["admin", "", "%00"]) | ascii_text,
    ),
    st.just(b'{"ResetType": "ForceOff", "Image": "x.iso"}'),
    st.sampled_from([nested(5000).encode(), b'{"Image": ' + nested(5000).encode() + b"}"]),
)
auth_headers = st.sampled_from(
    [
        ADMIN,
        {},
        {"X-KVMD-User": "admin", "X-KVMD-Passwd": "wrong"},
        {"X-KVMD-User": "Not A User", "X-KVMD-Passwd": "admin"},
        {"Cookie": "auth_token=" + "0" * 64},
        {"Cookie": "auth_token=nonsense"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},  # admin:admin
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic YWRtaW4="},  # no colon
        {"Authorization": "Bearer x"},
    ]
)


@st.composite
def requests(draw: st.DrawFn, route: tuple[str, str]) -> dict[str, Any]:
    method, path = route
    if draw(st.integers(0, 4)) == 0:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]))
    path = re.sub(
        r"\{\w+\}",
        lambda _: draw(st.sampled_from(["0", "00", "1", "SwitchPort0", "SwitchPort-1", "x"])),
        path,
    )
    path += draw(st.sampled_from(["", "", "", "/", "/nothing-here"]))
    headers = dict(draw(auth_headers))
    if draw(st.booleans()):
        headers["Content-Type"] = draw(
            st.sampled_from(CONTENT_TYPES) | ascii_text.map(str.strip).filter(bool)
        )
    # nginx forwards Redfish from outside /api too
    prefix = draw(st.sampled_from(["/api", ""])) if path.startswith("/redfish/") else "/api"
    return {
        "method": method,
        "url": prefix + path,
        "params": draw(query_strings()),
        "content": draw(bodies),
        "headers": headers,
    }


def _http_routes() -> list[tuple[str, str]]:
    emulator = Emulator()
    return sorted((route.method, route.path) for route in emulator._routes())


ROUTES: Final = _http_routes()

ERRORS_BY_STATUS: Final[dict[int, set[str]]] = {}
for _error in [kvmd_errors.KvmdError, *kvmd_errors.KvmdError.__subclasses__()]:
    for _cls in [_error, *_error.__subclasses__()]:
        ERRORS_BY_STATUS.setdefault(_cls.status, set()).add(_cls.__name__)
# The emulator's errors are kvmd's class names; these are what the wire may show.
assert {"ValidatorError", "UnauthorizedError", "ForbiddenError"} <= set().union(
    *ERRORS_BY_STATUS.values()
)

BODY_READERS: Final = ("/api/hid/print", "/api/auth/login")
"""Where kvmd reads a body it may fail to decode without catching it: aiohttp's bare 500."""
CRASH_ENVELOPE: Final = {"ok": False, "result": {"error": "", "error_msg": ""}}
"""What kvmd 4.206 answered where its Redfish and Switch handlers crashed (captures)."""


def check_like_kvmd(request: dict[str, Any], response: httpx.Response) -> None:
    status, text = response.status_code, response.text
    where = f"{request['method']} {request['url']} -> {status} {text[:200]!r}"
    assert "Traceback" not in text, where
    content_type = response.headers.get("content-type", "")
    if status in (404, 405):
        assert content_type.startswith("text/plain"), where
        expected = {404: "404: Not Found", 405: "405: Method Not Allowed"}[status]
        assert text == ("" if request["method"] == "HEAD" else expected), where
    elif status == 308:
        assert request["url"].endswith("/"), where  # kvmd's path normalisation
        assert not response.headers["location"].split("?")[0].endswith("/"), where
    elif status in (401, 403, 500) and request["url"].startswith(NGINX_AUTH):
        # auth_request: kvmd's 401 and 403 as nginx's pages, any other refusal a 500
        assert content_type.startswith("text/html") and "<center>nginx</center>" in text, where
    elif status == 500:
        unreadable = request["url"] in BODY_READERS and text == INTERNAL_ERROR_TEXT
        crashed = content_type.startswith("application/json") and response.json() == (
            CRASH_ENVELOPE
        )
        assert unreadable or (crashed and "/redfish/" in request["url"]), where
        if unreadable:
            assert response.headers["connection"] == "close", where
    elif status >= 400:
        assert content_type.startswith("application/json"), where
        body = response.json()
        assert body["ok"] is False and set(body["result"]) == {"error", "error_msg"}, where
        assert body["result"]["error"] in ERRORS_BY_STATUS[status], where
        assert isinstance(body["result"]["error_msg"], str), where
    else:
        assert status in (200, 204), where
        if content_type.startswith("application/json") and "/redfish/" not in request["url"]:
            body = response.json()
            assert body["ok"] is True and isinstance(body["result"], dict), where


# Not kvmd's: kvmd's own WebSocket, and kvmd-media's and ustreamer's stream (test_video.py).
NOT_KVMD_HTTP: Final = ("/ws", "/media/ws", "/streamer/stream")
NGINX_AUTH: Final = ("/api/media",)
"""Behind nginx's auth_request, not kvmd's: refused credentials get nginx's HTML page."""


@pytest.mark.parametrize(
    "route", [route for route in ROUTES if route[1] not in NOT_KVMD_HTTP], ids=" ".join
)
@settings(FUZZ, max_examples=15)  # per route, one emulator each: every route gets its share
@given(data=st.data())
async def test_the_emulator_answers_any_request_like_kvmd(
    client: httpx.AsyncClient,
    emulator_errors: list[logging.LogRecord],
    route: tuple[str, str],
    data: st.DataObject,
) -> None:
    request = data.draw(requests(route))
    response = await client.request(**request)
    check_like_kvmd(request, response)
    assert not emulator_errors, emulator_errors[0].getMessage()
    # The server is still there and still itself.
    assert (await client.get("/api/auth/check", headers=ADMIN)).status_code == 200


@FUZZ
@given(
    query=query_strings(),
    headers=auth_headers,
    upgrade=st.sampled_from([{}, {"Connection": "Upgrade", "Upgrade": "nonsense"}]),
)
async def test_a_websocket_handshake_gone_wrong_is_answered_like_kvmd(
    client: httpx.AsyncClient,
    emulator_errors: list[logging.LogRecord],
    query: dict[str, str],
    headers: dict[str, str],
    upgrade: dict[str, str],
) -> None:
    request = {"method": "GET", "url": "/api/ws", "params": query, "headers": headers | upgrade}
    response = await client.request(**request)
    if response.status_code == 400 and not response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        # aiohttp refuses a GET that is no WebSocket handshake before kvmd sees it.
        assert "Traceback" not in response.text
    else:
        check_like_kvmd(request, response)
    assert not emulator_errors, emulator_errors[0].getMessage()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"\xff\xfe caf\xe9", None), (b"hello", "text/plain; charset=no-such-charset")],
)
async def test_a_print_body_that_does_not_decode_is_kvmds_bare_500(
    fast_emu: Emulator,
    client: httpx.AsyncClient,
    emulator_errors: list[logging.LogRecord],
    body: bytes,
    content_type: str | None,
) -> None:
    headers = ADMIN | ({"Content-Type": content_type} if content_type else {})
    response = await client.post("/api/hid/print", content=body, headers=headers)
    assert (response.status_code, response.text) == (500, INTERNAL_ERROR_TEXT)
    assert response.headers["connection"] == "close"  # as aiohttp's own error page
    assert not emulator_errors  # kvmd's answer, not a crash of the emulator
    assert fast_emu.target.screen_text == ""


# ----- WebSocket: what the emulator must ignore ---------------------------------------

KNOWN_EVENTS: Final = ("ping", "key", "mouse_button", "mouse_move", "mouse_relative", "mouse_wheel")
not_a_key = st.text(max_size=12).filter(lambda name: name.strip() not in KEYS)
not_a_button = st.text(max_size=8).filter(lambda name: name.strip().lower() not in MOUSE_BUTTONS)
not_a_bool = json_values.filter(
    lambda value: str(value).strip().lower() not in ("1", "true", "yes", "0", "false", "no")
)
not_an_int = json_values.filter(lambda value: not _reads_as_int(value))


def _reads_as_int(value: object) -> bool:
    text = str(value).strip()
    for base in (10, 0):
        try:
            int(text, base)
        except ValueError:
            continue
        return True
    return False


def _event(event_type: str, event: Any) -> str:
    return json.dumps({"event_type": event_type, "event": event})


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


invalid_text_frames = st.one_of(
    st.text(max_size=30).filter(_not_json),
    json_values.filter(lambda value: not isinstance(value, dict)).map(json.dumps),
    st.dictionaries(ascii_text.filter(lambda key: key != "event_type"), json_values).map(
        json.dumps
    ),
    st.builds(_event, json_values.filter(lambda value: not isinstance(value, str)), json_values),
    st.builds(
        _event,
        st.sampled_from(KNOWN_EVENTS),
        json_values.filter(lambda value: not isinstance(value, dict)),
    ),
    st.builds(_event, ascii_text.filter(lambda name: name not in KNOWN_EVENTS), st.just({})),
    st.builds(
        lambda key, state: _event("key", {"key": key, "state": state}),
        not_a_key,
        json_values,
    ),
    st.builds(
        lambda key, state: _event("key", {"key": key, "state": state}),
        st.sampled_from(sorted(KEYS)),
        not_a_bool,
    ),
    st.builds(
        lambda button, state: _event("mouse_button", {"button": button, "state": state}),
        not_a_button,
        st.booleans(),
    ),
    st.builds(
        lambda x, y: _event("mouse_move", {"to": {"x": x, "y": y}}),
        not_an_int,
        st.integers(-100, 100),
    ),
    st.builds(
        lambda event: _event("mouse_move", event),
        json_values.filter(
            lambda value: not (isinstance(value, dict) and isinstance(value.get("to"), dict))
        ),
    ),
    st.builds(
        lambda kind, deltas: _event(kind, {"delta": deltas}),
        st.sampled_from(["mouse_relative", "mouse_wheel"]),
        st.lists(st.fixed_dictionaries({"x": not_an_int, "y": not_an_int}), min_size=1),
    ),
    st.sampled_from(
        [
            _event("key", {"key": "KeyA"}),  # no state
            _event("key", {"key": "KeyA", "state": True, "finish": "perhaps"}),
            _event("mouse_relative", {"delta": [{"x": 1, "y": 1}], "squash": "perhaps"}),
            _event("mouse_move", {"to": {"x": 1.5, "y": 2}}),
            _event("key", {"key": json.loads(nested(900)), "state": True}),
            f'{{"event_type": "key", "event": {{"key": {nested(5000)}}}}}',
            nested(100_000),
        ]
    ),
)
invalid_binary_frames = st.one_of(
    st.builds(lambda op, rest: bytes([op]) + rest, st.integers(6, 255), st.binary(max_size=8)),
    st.sampled_from([b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"]),  # truncated
    st.builds(  # a name that is no key, or not ASCII
        lambda op, state, name: bytes([op, state]) + name,
        st.sampled_from([1, 2]),
        st.integers(0, 3),
        st.text(max_size=10)
        .filter(lambda name: name.strip() not in KEYS and name.strip().lower() not in MOUSE_BUTTONS)
        .map(lambda name: name.encode("utf-8")),
    ),
    st.builds(  # code mode, but not the two bytes of a code: kvmd drops it
        lambda op, code: bytes([op, 0x80]) + code,
        st.sampled_from([1, 2]),
        st.binary(max_size=6).filter(lambda code: len(code) != 2),
    ),
    st.binary(max_size=8).filter(lambda body: len(body) != 4).map(lambda body: b"\x03" + body),
    st.builds(  # pairs of deltas with a byte missing
        lambda op, pairs: bytes([op]) + pairs,
        st.sampled_from([4, 5]),
        st.binary(min_size=2, max_size=9).filter(lambda body: len(body) % 2 == 0),
    ),
    st.sampled_from([b"\x04\x00", b"\x05\x01"]),  # no steps at all
)
invalid_frames = st.lists(invalid_text_frames | invalid_binary_frames, min_size=1, max_size=10)


@FUZZ
@given(frames=invalid_frames)
async def test_invalid_input_is_ignored_and_the_session_stays(
    emu: Emulator, emulator_errors: list[logging.LogRecord], frames: list[str | bytes]
) -> None:
    before = emu.target.events
    async with ws_connect(emu) as ws:
        for frame in frames:
            await ws.send(frame)
        await ws.send(b"\x00")
        await recv_until(ws, lambda frame: frame == b"\xff")
        await ws.send(_event("ping", {}))
        await recv_until(ws, lambda frame: isinstance(frame, str) and '"pong"' in frame)
    assert emu.target.events == before  # not one event reached the target
    assert not emulator_errors, emulator_errors[0].getMessage()


@FUZZ
@given(
    garbage=invalid_frames,
    closing=st.sampled_from([b""])
    | st.builds(
        lambda op, code: bytes([op, 0x80]) + code,
        st.sampled_from([1, 2]),
        st.binary(min_size=2, max_size=2),
    ),
)
async def test_an_empty_or_code_mode_frame_ends_only_its_own_session(
    emu: Emulator,
    emulator_errors: list[logging.LogRecord],
    garbage: list[str | bytes],
    closing: bytes,
) -> None:
    async with ws_connect(emu) as bystander, ws_connect(emu) as ws:
        for frame in garbage:
            await ws.send(frame)
        await ws.send(closing)
        with pytest.raises(ConnectionClosed):
            await recv_until(ws, lambda _: False)
        await bystander.send(b"\x00")
        await recv_until(bystander, lambda frame: frame == b"\xff")
    assert not emulator_errors, emulator_errors[0].getMessage()


# ----- the public client fed garbage by the emulator -----------------------------------

server_frames = st.one_of(
    st.text(max_size=40),
    json_values.map(json.dumps),
    st.builds(
        _event,
        st.sampled_from(["hid", "atx", "msd", "gpio", "streamer", "info", "switch", "clients"])
        | st.sampled_from(["hid_state", "msd_state", "loop", "pong"])
        | ascii_text,
        json_values,
    ),
    st.sampled_from(
        [nested(100_000), _event("hid", {"x": json.loads(nested(600))}), *MALFORMED_FRAMES.values()]
    ),
    st.binary(max_size=10),
)


@settings(FUZZ, max_examples=60)  # a client and a session each
@given(frames=st.lists(server_frames, min_size=1, max_size=8))
async def test_the_client_survives_anything_the_device_sends(
    emu: Emulator, frames: list[str | bytes]
) -> None:
    async with PiKVM(emu.url, user="admin", passwd="admin") as kvm, kvm.ws(binary=False) as ws:
        assert emu.faults.send_frames(*frames) == 1
        await ws.ping()  # answered after every frame above was read
        assert ws.is_open
        events = []
        async for event in ws.events():
            assert isinstance(event["event_type"], str) and isinstance(event["event"], dict)
            events.append(event)
            if event["event_type"] == "pong":
                break
        # A subsystem whose last event was not kvmd's shape is a ProtocolError until the
        # next good event; anything else would escape the suppression and fail the test.
        with contextlib.suppress(ProtocolError):
            assert isinstance(ws.state, DeviceState)
        emu.faults.send_malformed()
        await ws.ping()
        assert ws.is_open


@settings(FUZZ, max_examples=60)  # a client each
@given(
    status=st.integers(400, 599),
    error=st.none() | st.text(min_size=1, max_size=20),
    error_msg=st.none() | st.text(min_size=1, max_size=40),
)
async def test_any_error_status_reaches_the_user_as_our_error(
    fast_emu: Emulator, status: int, error: str | None, error_msg: str | None
) -> None:
    fast_emu.faults.fail("hid", status, error=error, error_msg=error_msg)
    async with PiKVM(fast_emu.url, user="admin", passwd="admin") as kvm:
        with pytest.raises(PiKVMError) as caught:
            await kvm.hid.get_state()
    raised = caught.value
    assert isinstance(raised, APIError) and raised.status_code == status
    if status in (500, 502, 504) and error is None:  # aiohttp's or nginx's page, no envelope
        assert isinstance(raised, ServerError) and raised.error is None
    else:  # kvmd's envelope: what the device said reaches the user as it was
        assert raised.error and raised.error == (error or raised.error)
        assert raised.error_msg and raised.error_msg == (error_msg or raised.error_msg)
