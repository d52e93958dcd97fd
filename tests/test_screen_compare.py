"""aiopikvm.screen.compare: pure functions over pictures, tried on synthetic arrays."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

from aiopikvm import InvalidInputError, ProtocolError, ScreenDiff
from aiopikvm.screen import compare as screen
from aiopikvm.screen.compare import DEFAULT_TOLERANCE, PIXEL_TOLERANCE, compare, decode

W, H = 640, 480


def dark() -> np.ndarray:
    return np.full((H, W), 16, np.uint8)


def noisy(image: np.ndarray, seed: int, amplitude: int = 3) -> np.ndarray:
    noise = np.random.default_rng(seed).integers(-amplitude, amplitude + 1, image.shape)
    return np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def with_square(image: np.ndarray, left: int, top: int, side: int) -> np.ndarray:
    changed = image.copy()
    changed[top : top + side, left : left + side] = 224
    return changed


def test_the_same_picture_does_not_differ() -> None:
    diff = compare(dark(), dark())
    assert diff == ScreenDiff(changed_area=0, changed_share=0.0, max_delta=0, tolerance=64.0)
    assert not diff.changed


def test_noise_is_not_a_change_but_it_is_seen() -> None:
    before, after = noisy(dark(), 1), noisy(dark(), 2)
    assert not np.array_equal(before, after)
    assert compare(before, after, scale=1).max_delta > 0  # unshrunk, the noise shows
    diff = compare(before, after)
    assert not diff.changed and diff.changed_area == 0
    assert diff.max_delta <= PIXEL_TOLERANCE


def test_a_square_is_a_change_of_its_area() -> None:
    before = noisy(dark(), 1)
    after = noisy(with_square(dark(), 100, 100, 32), 2)
    diff = compare(before, after)
    assert diff.changed and diff.changed_area == 32 * 32
    assert diff.changed_share == pytest.approx(32 * 32 / (W * H))
    assert diff.max_delta >= 200


def test_the_tolerance_is_an_area() -> None:
    before, after = dark(), with_square(dark(), 100, 100, 8)  # 64 pixels: one cursor's worth
    assert compare(before, after).changed_area == 64 == DEFAULT_TOLERANCE
    assert not compare(before, after).changed
    assert compare(before, after, tolerance=63).changed
    assert compare(before, with_square(dark(), 100, 100, 12)).changed
    assert compare(before, after, tolerance=0).changed
    assert not compare(before, with_square(dark(), 100, 100, 1), tolerance=0).changed  # < noise


def test_region_and_ignore() -> None:
    before, after = dark(), with_square(dark(), 100, 100, 32)
    assert not compare(before, after, region=(200, 0, W, H)).changed
    inside = compare(before, after, region=(96, 96, 160, 160))
    assert inside.changed and inside.changed_area == 32 * 32
    assert inside.changed_share == pytest.approx(0.25)  # a share of the region
    assert not compare(before, after, ignore=[(90, 90, 140, 140)]).changed
    # a box that only touches the square leaves the rest of it to count
    partly = compare(before, after, ignore=[(90, 90, 140, 116)])
    assert partly.changed and 0 < partly.changed_area < 32 * 32
    # a region reaching past the picture is cut to it
    assert compare(before, after, region=(0, 0, 10_000, 10_000)).changed_area == 32 * 32


def test_what_cannot_be_compared_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="outside the 640x480"):
        compare(dark(), dark(), region=(700, 0, 800, 10))
    with pytest.raises(InvalidInputError, match="nothing is left"):
        compare(dark(), dark(), ignore=[(0, 0, W, H)])
    with pytest.raises(InvalidInputError, match="uint8"):
        compare(dark().astype(np.float32), dark())
    with pytest.raises(InvalidInputError, match="shape"):
        compare(np.zeros((4, 4, 2), np.uint8), dark())


def test_pictures_of_other_sizes_differ_entirely() -> None:
    diff = compare(dark(), np.full((240, 320), 16, np.uint8))
    assert diff.changed and diff.changed_share == 1.0 and diff.max_delta == 255


def test_colour_pictures_compare_by_brightness() -> None:
    before = cv2.cvtColor(dark(), cv2.COLOR_GRAY2BGR)
    after = before.copy()
    after[8:40, 8:40] = (0, 0, 255)  # red: brightness 76 on 16
    assert compare(before, after).changed_area == 32 * 32
    assert compare(cv2.cvtColor(before, cv2.COLOR_BGR2BGRA), before).changed_area == 0


def test_decode_reads_jpeg_and_refuses_the_rest() -> None:
    ok, data = cv2.imencode(".jpg", with_square(dark(), 0, 0, 64))
    assert ok
    picture = decode(data.tobytes())
    assert picture.shape == (H, W) and picture.dtype == np.uint8
    assert picture[32, 32] > 200 and picture[300, 300] < 40
    with pytest.raises(ProtocolError, match="not a JPEG"):
        decode(b"<html>502 Bad Gateway</html>")
    # a frame header claiming 60000x60000 pixels is refused before decoding
    huge = b"\xff\xd8\xff\xc0\x00\x11\x08" + (60000).to_bytes(2, "big") * 2 + b"\x00" * 10
    with pytest.raises(ProtocolError, match="16384"):
        decode(huge)
    header_only = b"\xff\xd8\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00\xff\xd9"
    with pytest.raises(ProtocolError, match="cannot decode"):
        decode(header_only)  # a 16x16 frame header, then the end: no picture


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: screen.check_tolerance(-1), "tolerance"),
        (lambda: screen.check_tolerance(float("nan")), "tolerance"),
        (lambda: screen.check_tolerance(True), "tolerance"),
        (lambda: screen.check_box((0, 0, 0, 10)), "left < right"),
        (lambda: screen.check_box((0, 0, 10)), "region"),
        (lambda: screen.check_box((0, 0, 10.5, 10)), "ints"),
        (lambda: screen.check_ignore((0, 0, 10, 10)), r"ignore\[0\]"),
        (lambda: screen.check_ignore("abc"), "sequence"),
        (lambda: screen.check_ignore([(0, 0, 1, 1)] * 65), "at most 64"),
    ],
)
def test_bad_arguments(call: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        call()  # type: ignore[operator]


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)  # what an environment without it gives
    with pytest.raises(ModuleNotFoundError, match=r"'vision' extra.*aiopikvm\[vision\]"):
        compare(dark(), dark())
