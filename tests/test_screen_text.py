"""Text with positions (aiopikvm.screen.text): the search over words without OCR, then a
local Tesseract on synthetic screens (skipped without the program, required in CI)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from aiopikvm import InvalidInputError, TextMatch
from aiopikvm.screen.text import (
    check_langs,
    compile_pattern,
    find_text,
    lines_text,
    match_lines,
    read_words,
)

REQUIRE_ENV = "AIOPIKVM_REQUIRE_TESSERACT"
"""Set by ``.ci/run`` once it has installed tesseract-ocr: fail instead of skipping."""


def needs_tesseract() -> None:
    if shutil.which("tesseract") is None:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail("tesseract is not installed, and AIOPIKVM_REQUIRE_TESSERACT is set")
        pytest.skip("no tesseract program (Debian: apt-get install tesseract-ocr)")


# ----- the search, on words given by hand ---------------------------------------------


def word(text: str, left: int, top: int = 10, confidence: float = 0.9) -> TextMatch:
    return TextMatch(text, (left, top, left + 10 * len(text), top + 20), confidence)


LINES = [
    (word("Press", 0), word("Enter", 60, confidence=0.8), word("to", 120)),
    (word("continue", 0, top=40),),
]


def test_a_word_a_phrase_and_part_of_a_word() -> None:
    pattern = compile_pattern("Enter")
    assert match_lines(LINES, pattern) == [TextMatch("Enter", (60, 10, 110, 30), 0.8)]
    phrase = match_lines(LINES, compile_pattern("Press Enter"))
    assert phrase == [TextMatch("Press Enter", (0, 10, 110, 30), 0.8)]  # the lowest confidence
    # "tin" is letters 3-5 of "continue": its share of the word's box
    assert match_lines(LINES, compile_pattern("tin")) == [TextMatch("tin", (30, 40, 60, 60), 0.9)]


def test_matches_stay_within_a_line_and_come_in_reading_order() -> None:
    assert match_lines(LINES, compile_pattern("to continue")) == []
    found = match_lines(LINES, compile_pattern(r"[a-z]*n[a-z]*", regex=True))
    assert [m.text for m in found] == ["nter", "continue"]
    assert match_lines(LINES, compile_pattern(re.compile("x*"))) == []  # empty matches: no box
    assert lines_text(LINES) == "Press Enter to\ncontinue"


def test_a_substring_is_literal_unless_regex() -> None:
    lines = [(word("a.b", 0), word("axb", 40))]
    assert [m.box[0] for m in match_lines(lines, compile_pattern("a.b"))] == [0]
    assert [m.box[0] for m in match_lines(lines, compile_pattern("a.b", regex=True))] == [0, 40]


@pytest.mark.parametrize(
    ("pattern", "regex", "message"),
    [
        ("", False, "non-empty"),
        (None, False, "pattern must be"),
        ("x" * 5000, False, "at most 4096"),
        ("(", True, "not a valid regular expression"),
        (re.compile(b"x"), False, "not bytes"),
        ("x", 1, "regex must be True or False"),
    ],
)
def test_bad_patterns(pattern: object, regex: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        compile_pattern(pattern, regex)  # type: ignore[arg-type]


@pytest.mark.parametrize("langs", ["", "10", ["eng", ""], [], ["x"] * 9, "eng+deu", 5])
def test_bad_langs(langs: object) -> None:
    with pytest.raises(InvalidInputError, match="langs"):
        check_langs(langs)  # type: ignore[arg-type]


def test_langs_join_as_tesseract_takes_them() -> None:
    assert check_langs(None) is None
    assert check_langs("eng") == "eng"
    assert check_langs(["eng", "chi_sim"]) == "eng+chi_sim"


# ----- with Tesseract -----------------------------------------------------------------


FONT = (0, 1.1, 2)
"""OpenCV's Hershey simplex at 1.1, 2 px strokes (~26 px capitals): in every OpenCV, where
Pillow's sized default font needs Pillow 10.1."""


def screen(*lines: tuple[int, int, str], dark: bool = False) -> np.ndarray:
    """A 1280x720 BGR screen with ``(x, baseline y, text)`` drawn on it."""
    background, ink = (16, 230) if dark else (245, 0)
    image = np.full((720, 1280, 3), background, dtype=np.uint8)
    face, scale, thickness = FONT
    for x, y, text in lines:
        cv2.putText(image, text, (x, y), face, scale, (ink, ink, ink), thickness)
    return image


def ink_box(text: str, x: int, y: int) -> tuple[int, int, int, int]:
    """Where ``text`` drawn at ``(x, baseline y)`` has its ink (OpenCV's own measure)."""
    face, scale, thickness = FONT
    (width, height), below = cv2.getTextSize(text, face, scale, thickness)
    return x, y - height, x + width, y + below


def inside(box: tuple[int, int, int, int], outer: tuple[int, int, int, int], slack: int) -> bool:
    return (
        box[0] >= outer[0] - slack
        and box[1] >= outer[1] - slack
        and box[2] <= outer[2] + slack
        and box[3] <= outer[3] + slack
    )


def covers(box: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    """``box`` spans at least 80 % of ``outer``'s width and half its height."""
    return (box[2] - box[0]) >= 0.8 * (outer[2] - outer[0]) and (box[3] - box[1]) >= 0.5 * (
        outer[3] - outer[1]
    )


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_box_of_a_word_is_where_it_was_drawn(dark: bool) -> None:
    needs_tesseract()
    image = screen((100, 100, "Welcome to the installer"), (700, 500, "Install now"), dark=dark)
    found = find_text(image, "Install")
    assert [m.text for m in found] == ["Install"]
    expected = ink_box("Install", 700, 500)
    assert inside(found[0].box, expected, slack=4) and covers(found[0].box, expected)
    assert 0.5 < found[0].confidence <= 1.0
    phrase = find_text(image, "the installer")
    assert len(phrase) == 1 and phrase[0].text == "the installer"


def test_a_region_reads_only_there_and_boxes_stay_in_screen_pixels() -> None:
    needs_tesseract()
    image = screen((100, 100, "Cancel"), (900, 600, "Cancel"))
    found = find_text(image, "Cancel", region=(640, 360, 1280, 720))
    assert len(found) == 1
    assert inside(found[0].box, ink_box("Cancel", 900, 600), slack=4)
    words = read_words(image)
    assert [w.text for w in words] == ["Cancel", "Cancel"]


def test_nothing_there_is_an_empty_list() -> None:
    needs_tesseract()
    assert find_text(screen((10, 40, "Hello")), "Goodbye") == []
    assert read_words(screen()) == []


def test_a_language_that_is_not_installed_is_refused() -> None:
    needs_tesseract()
    with pytest.raises(InvalidInputError, match="xyz not installed for Tesseract"):
        find_text(screen(), "x", langs=["eng", "xyz"])


def test_a_line_tesseract_cut_in_two_is_joined_again() -> None:
    from aiopikvm.screen.text import _lines

    def row(text: str, left: int, block: str, top: int = 100) -> dict[str, str]:
        return {
            "level": "5", "block_num": block, "par_num": "1", "line_num": str(top),
            "left": str(left), "top": str(top), "width": str(10 * len(text)), "height": "20",
            "conf": "90", "text": text,
        }  # fmt: skip

    rows = [
        row("graphical", 0, "1"),
        row("on", 0, "1", top=140),  # the next row down: a line of its own
        row("login", 110, "2"),  # 20 px after "graphical" ends, on its row: the same line
        row("far", 400, "3"),  # 250 px further: another column
    ]
    lines = _lines(rows, 5, 7)
    assert [[w.text for w in line] for line in lines] == [["graphical", "login"], ["on"], ["far"]]
    assert lines[0][1].box == (115, 107, 165, 127)  # moved by the region's corner
    assert match_lines(lines, compile_pattern("graphical login"))[0].box == (5, 107, 165, 127)


def test_a_console_with_its_cursor_showing_is_read() -> None:
    # tests/data/console-cursor.png: the top left of an emulator snapshot (1920x1080, the
    # Linux console's 16x24 cells) after "echo Install now" was typed, its underline cursor
    # on the next line, thresholded to two levels. Tesseract's automatic page layout
    # (--psm 3) read no word at all of it, so find_text missed text half of every second.
    needs_tesseract()
    image = str(Path(__file__).parent / "data" / "console-cursor.png")
    assert [w.text for w in read_words(image)] == ["echo", "Install", "now"]
    (found,) = find_text(image, "Install")
    assert found.box[1] < 24 and found.box[0] > 60  # the first row, after "echo "
