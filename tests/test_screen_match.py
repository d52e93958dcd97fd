"""Finding a picture on a picture (aiopikvm.screen.match): pure functions on synthetic
screens, PNG and JPEG, no device."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from aiopikvm import ImageMatch, InvalidInputError
from aiopikvm.screen.match import DEFAULT_THRESHOLD, best_match, find_image, screen_size

WIDTH, HEIGHT = 1920, 1080


def desktop(seed: int = 7) -> np.ndarray:
    """A busy 1920x1080 BGR screen: noise-textured background, text, coloured boxes."""
    rng = np.random.default_rng(seed)
    screen = rng.integers(20, 60, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
    for row in range(0, HEIGHT - 40, 36):
        cv2.putText(
            screen, f"line {row} of a console, words", (10, row + 28),
            cv2.FONT_HERSHEY_SIMPLEX, 0.8, (220, 220, 220), 2,
        )  # fmt: skip
    return screen


def button(colour: tuple[int, int, int], label: str = "OK") -> np.ndarray:
    image = np.full((48, 140, 3), colour, dtype=np.uint8)
    cv2.rectangle(image, (0, 0), (139, 47), (255, 255, 255), 3)
    cv2.putText(image, label, (40, 34), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    return image


def place(screen: np.ndarray, part: np.ndarray, left: int, top: int) -> None:
    screen[top : top + part.shape[0], left : left + part.shape[1]] = part


def encode(image: np.ndarray, ext: str = ".png", quality: int = 80) -> bytes:
    ok, data = cv2.imencode(ext, image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


def test_finds_the_exact_box_on_a_png_and_on_a_jpeg() -> None:
    screen, needle = desktop(), button((40, 160, 40))
    place(screen, needle, 1501, 903)
    exact = find_image(encode(screen), needle)
    assert exact == ImageMatch((1501, 903, 1641, 951), 1.0, (1571, 927))
    lossy = find_image(encode(screen, ".jpg", quality=60), encode(needle))
    assert lossy is not None and lossy.box == (1501, 903, 1641, 951)
    assert DEFAULT_THRESHOLD < lossy.score < 1.0


def test_the_template_from_a_file_bytes_or_an_array_is_the_same(tmp_path: Path) -> None:
    screen, needle = desktop(), button((200, 60, 60))
    place(screen, needle, 77, 500)
    path = tmp_path / "needle.png"
    path.write_bytes(encode(needle))
    found = {find_image(screen, source) for source in (path, str(path), encode(needle), needle)}
    assert len(found) == 1 and next(iter(found)).box[:2] == (77, 500)  # type: ignore[union-attr]


def test_colour_counts_a_same_brightness_button_of_another_colour_does_not_match() -> None:
    red, green = button((0, 0, 200)), button((0, 102, 0))  # BGR: about the same grey
    grey = [cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)[20, 10] for b in (red, green)]
    assert abs(int(grey[0]) - int(grey[1])) <= 2
    screen = desktop()
    place(screen, green, 300, 300)
    assert find_image(screen, red) is None
    best = best_match(screen, red)
    assert best is not None and best.score < DEFAULT_THRESHOLD
    place(screen, red, 1200, 700)
    found = find_image(screen, red)
    assert found is not None and found.box[:2] == (1200, 700)


def test_absent_is_none_and_its_best_score_is_low() -> None:
    screen = desktop()
    assert find_image(screen, button((0, 140, 255))) is None
    best = best_match(screen, button((0, 140, 255)))
    assert best is not None and best.score < 0.6


def test_a_region_picks_one_of_two_and_boxes_stay_in_screen_pixels() -> None:
    screen, needle = desktop(), button((160, 40, 160))
    place(screen, needle, 100, 100)
    place(screen, needle, 1600, 900)
    right = find_image(screen, needle, region=(1000, 500, 1920, 1080))
    assert right is not None and right.box == (1600, 900, 1740, 948)
    # clamped to the screen; a region smaller than the template finds nothing
    assert find_image(screen, needle, region=(1590, 890, 5000, 5000)) == right
    assert find_image(screen, needle, region=(100, 100, 200, 140)) is None
    assert best_match(screen, needle, region=(100, 100, 200, 140)) is None


def test_a_small_template_skips_the_coarse_pass_and_is_still_found() -> None:
    screen = desktop()
    mark = np.zeros((14, 14, 3), dtype=np.uint8)
    cv2.circle(mark, (7, 7), 5, (0, 255, 255), -1)
    place(screen, mark, 999, 333)
    found = find_image(screen, mark)
    assert found is not None and found.box == (999, 333, 1013, 347)


def test_grey_and_bgra_arrays_are_taken() -> None:
    screen, needle = desktop(), button((90, 90, 90))
    place(screen, needle, 640, 480)
    grey = cv2.cvtColor(needle, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(needle, cv2.COLOR_BGR2BGRA)
    for template in (grey, bgra):
        found = find_image(screen, template, threshold=0.8)
        assert found is not None and found.box[:2] == (640, 480)


def test_the_size_of_a_jpeg_is_read_from_its_header() -> None:
    assert screen_size(encode(desktop(), ".jpg")) == (WIDTH, HEIGHT)
    assert screen_size(desktop()) == (WIDTH, HEIGHT)


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (np.full((20, 20, 3), 128, np.uint8), "single flat colour"),
        (b"GIF89a...", "neither a PNG nor a JPEG"),
        (_png_header(100_000, 100_000), "declares 100000x100000 pixels"),
        (_png_header(40, 40) + b"\x00" * 10, "could not be decoded"),
        (np.zeros((20, 20), np.float32), "8-bit"),
        (np.zeros((20, 20, 2), np.uint8), "H x W"),
        ("/nonexistent/needle.png", "cannot be read"),
        ("needle\x00.png", "cannot be read"),
        (None, "must be a PNG or JPEG file's path"),
    ],
)
def test_bad_templates_are_refused_with_a_reason(template: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match="template") as raised:
        find_image(desktop(), template)  # type: ignore[arg-type]
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.5}, "threshold must be a number from 0 to 1"),
        ({"threshold": float("nan")}, "threshold"),
        ({"region": (10, 10, 5, 50)}, "has no area"),
        ({"region": (-1, 0, 5, 5)}, "non-negative"),
        ({"region": (0, 0, 5)}, "region must be"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        find_image(desktop(), button((1, 2, 3)), **kwargs)  # type: ignore[arg-type]
