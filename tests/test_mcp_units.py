"""The MCP server's pure parts: the screenshot geometry, the takeover and rate-limit rules
(on a clock the test moves), the audit's redaction, and the HTTP listen checks."""

from __future__ import annotations

import pytest

pytest.importorskip("mcp")

from aiopikvm.errors import InvalidInputError
from aiopikvm.mcp._audit import redacted
from aiopikvm.mcp._http import check_listen, is_loopback
from aiopikvm.mcp._picture import Geometry
from aiopikvm.mcp._safety import RateLimit, Refused, Takeover


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("screen", "size"),
    [
        ((1920, 1080), (1280, 720)),
        ((1024, 768), (1024, 768)),
        ((1280, 1024), (1280, 1024)),
        ((2560, 1600), (1280, 800)),
        ((1366, 768), (1280, 720)),
        ((800, 1280), (800, 1280)),
    ],
)
def test_the_screenshot_fits_and_maps_back_onto_the_screen(
    screen: tuple[int, int], size: tuple[int, int]
) -> None:
    geometry = Geometry.for_screen(screen, 1280)
    assert (geometry.width, geometry.height) == size
    assert geometry.to_screen(0, 0) == (0, 0)
    right, bottom = geometry.to_screen(geometry.width - 1, geometry.height - 1)
    assert screen[0] - geometry.scale - 1 <= right < screen[0]
    assert screen[1] - geometry.scale - 1 <= bottom < screen[1]
    # every screenshot pixel lands on a distinct screen pixel, in order
    xs = [geometry.to_screen(x, 0)[0] for x in range(geometry.width)]
    assert xs == sorted(set(xs))
    with pytest.raises(ValueError, match="off the screenshot"):
        geometry.to_screen(geometry.width, 0)


def test_a_region_maps_to_the_box_that_covers_it() -> None:
    geometry = Geometry.for_screen((1920, 1080), 1280)
    assert geometry.region_to_screen([0, 0, 1280, 720]) == (0, 0, 1920, 1080)
    assert geometry.region_to_screen([1, 1, 3, 3]) == (1, 1, 5, 5)
    with pytest.raises(ValueError, match="not a box"):
        geometry.region_to_screen([10, 10, 10, 20])


def test_a_second_session_stops_input_until_the_human_is_idle() -> None:
    clock = Clock()
    takeover = Takeover(60.0, clock)
    assert takeover.observe(1, 1900) is None  # alone, no input for half an hour
    takeover.sent()
    clock.now += 1
    assert takeover.observe(1, 1) is None  # that input was ours
    reason = takeover.observe(2, 1)
    assert reason is not None and "1 other session open" in reason
    clock.now += 59
    assert takeover.observe(2, 60) is not None
    clock.now += 1
    assert takeover.observe(2, 61) is None  # idle for 60 s: the agent may go on


def test_input_that_was_not_ours_stops_input() -> None:
    clock = Clock()
    takeover = Takeover(30.0, clock)
    takeover.sent()
    clock.now += 10
    reason = takeover.observe(1, 3)  # someone typed 3 s ago, 7 s after our last input
    assert reason is not None and "input this server did not send" in reason
    clock.now += 27
    assert takeover.observe(1, 30) is None


def test_the_rate_limit_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    limit = RateLimit(2.0, 3, clock)
    for _ in range(3):
        limit.take()
    with pytest.raises(Refused, match=r"try again in 0\.5 s"):
        limit.take()
    clock.now += 0.5
    limit.take()


def test_typed_text_is_never_logged() -> None:
    assert redacted("type_text", {"text": "hunter2", "enter": True}) == {
        "text": {"redacted": True, "chars": 7},
        "enter": True,
    }
    assert redacted("wait_for_text", {"text": "login:"}) == {"text": "login:"}
    assert redacted("media_mount", {"image": "x" * 300})["image"] == "x" * 200 + "..."


def test_http_listens_only_safely() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    token = "t" * 32
    assert check_listen("127.0.0.1", token, False) == token
    with pytest.raises(InvalidInputError, match="PIKVM_MCP_TOKEN"):
        check_listen("127.0.0.1", None, False)
    with pytest.raises(InvalidInputError, match="too short"):
        check_listen("127.0.0.1", "short", False)
    with pytest.raises(InvalidInputError, match="--allow-remote"):
        check_listen("0.0.0.0", token, False)
    assert check_listen("0.0.0.0", token, True) == token
