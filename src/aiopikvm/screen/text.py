"""Text with positions: words read by a local Tesseract with their boxes, and a pattern
found across the words of a line.

kvmd's own OCR (``streamer/snapshot?ocr=1``) answers with text only. Getting boxes out of
it means narrowing regions down, one device OCR (about a second of the Pi's CPU) per
guess; reading the snapshot here gives every word's box in one pass, at the cost of the
``tesseract-ocr`` program on the client's machine. Light text on a dark background (a
console, a dark theme) is inverted first: Tesseract read a full 1920x1080 console 2.7
times faster so (13 s instead of 34 s on a busy machine), with the same 352 words right.

Needs the ``vision`` extra (OpenCV, numpy) and the ``tesseract`` program (``apt install
tesseract-ocr``; run as in :mod:`._tesseract`), both looked for on first use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ..errors import InvalidInputError
from ._images import check_region, crop, load_image, modules
from ._tesseract import installed_langs, read_tsv

if TYPE_CHECKING:
    from .match import ImageSource, Region

_LANG: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
_MAX_LANGS: Final = 8
_MAX_PATTERN: Final = 4096


@dataclass(frozen=True, slots=True)
class TextMatch:
    """Text read on the screen: ``box`` is ``(left, top, right, bottom)`` in screen pixels,
    ``confidence`` Tesseract's for its words (0..1, the lowest of them), ``center`` the
    pixel to click."""

    text: str
    box: Region
    confidence: float

    @property
    def center(self) -> tuple[int, int]:
        left, top, right, bottom = self.box
        return (left + right) // 2, (top + bottom) // 2


def compile_pattern(pattern: str | re.Pattern[str], regex: bool = False) -> re.Pattern[str]:
    """A substring (``regex=False``), a regular expression's text (``regex=True``) or a
    compiled one, as a compiled pattern; checked before anything is read."""
    if not isinstance(regex, bool):
        raise InvalidInputError(f"regex must be True or False, got {regex!r:.80}")
    if isinstance(pattern, re.Pattern):
        if not isinstance(pattern.pattern, str):
            raise InvalidInputError("pattern must be a str regular expression, not bytes")
        return pattern
    if not isinstance(pattern, str) or not pattern or len(pattern) > _MAX_PATTERN:
        raise InvalidInputError(
            f"pattern must be a non-empty str (at most {_MAX_PATTERN} characters) or a"
            f" compiled regular expression, got {pattern!r:.80}"
        )
    if not regex:
        return re.compile(re.escape(pattern))
    try:
        return re.compile(pattern)
    except re.error as error:
        raise InvalidInputError(f"pattern is not a valid regular expression: {error}") from None


def check_langs(langs: str | Sequence[str] | None, *, installed: bool = False) -> str | None:
    """Tesseract's ``-l`` argument (``"eng+deu"``) for language names, or None (its
    default, English); with ``installed``, each must be installed (else
    :class:`~aiopikvm.InvalidInputError` listing those that are)."""
    if langs is None:
        if installed:
            installed_langs()  # the program must be there, whatever the language
        return None
    names = [langs] if isinstance(langs, str) else langs
    if (
        not isinstance(names, list | tuple)
        or not 1 <= len(names) <= _MAX_LANGS
        or not all(isinstance(name, str) and _LANG.fullmatch(name) for name in names)
    ):
        raise InvalidInputError(
            f"langs must be Tesseract language names like 'eng' or ['eng', 'deu'], got"
            f" {langs!r:.80}"
        )
    if installed:
        have = installed_langs()
        missing = [name for name in names if name not in have]
        if missing:
            raise InvalidInputError(
                f"langs {list(names)!r:.80}: {', '.join(missing)} not installed for Tesseract"
                f" (installed: {', '.join(sorted(have)) or 'none'}; Debian: apt install"
                " tesseract-ocr-<lang>)"
            )
    return "+".join(names)


def read_words(
    screen: ImageSource,
    *,
    region: Region | None = None,
    langs: str | Sequence[str] | None = None,
    timeout: float | None = None,
) -> list[TextMatch]:
    """Every word Tesseract reads on ``screen`` (a snapshot's JPEG bytes, a file, an
    array), in reading order, with its box in whole-screen pixels. ``timeout``: seconds
    Tesseract may take (then :class:`~aiopikvm.WaitTimeoutError`)."""
    return [
        word
        for line in read_lines(screen, region=region, langs=langs, timeout=timeout)
        for word in line
    ]


def find_text(
    screen: ImageSource,
    pattern: str | re.Pattern[str],
    *,
    region: Region | None = None,
    regex: bool = False,
    langs: str | Sequence[str] | None = None,
    timeout: float | None = None,
) -> list[TextMatch]:
    """Where ``pattern`` shows on ``screen``: one :class:`TextMatch` per match, in reading
    order (empty when nowhere). A match may span words of one line (words are joined by
    single spaces, as Tesseract reads them), not lines; its box covers the part of each
    word it takes, a part of a word being estimated from its share of the letters."""
    compiled = compile_pattern(pattern, regex)
    return match_lines(read_lines(screen, region=region, langs=langs, timeout=timeout), compiled)


def match_lines(lines: Sequence[Sequence[TextMatch]], pattern: re.Pattern[str]) -> list[TextMatch]:
    """The matches of ``pattern`` in lines of words (the search, without the OCR)."""
    found: list[TextMatch] = []
    for line in lines:
        text, spans = _join(line)
        for match in pattern.finditer(text):
            if match.end() == match.start():
                continue  # an empty match (a pattern like "x*") has no box
            found.append(_box_of(match, line, spans))
    return found


def lines_text(lines: Sequence[Sequence[TextMatch]]) -> str:
    """What was read, as text: a line per line, words joined by spaces."""
    return "\n".join(" ".join(word.text for word in line) for line in lines)


def _join(words: Sequence[TextMatch]) -> tuple[str, list[tuple[int, int]]]:
    spans, at = [], 0
    for word in words:
        spans.append((at, at + len(word.text)))
        at += len(word.text) + 1
    return " ".join(word.text for word in words), spans


def _box_of(
    match: re.Match[str], words: Sequence[TextMatch], spans: list[tuple[int, int]]
) -> TextMatch:
    start, end = match.span()
    lefts, rights, tops, bottoms, confidences = [], [], [], [], []
    for word, (first, last) in zip(words, spans, strict=True):
        if last <= start or first >= end:
            continue
        left, top, right, bottom = word.box
        share = (right - left) / max(1, last - first)
        lefts.append(left + round(max(0, start - first) * share))
        rights.append(right - round(max(0, last - end) * share))
        tops.append(top)
        bottoms.append(bottom)
        confidences.append(word.confidence)
    return TextMatch(match[0], (min(lefts), min(tops), max(rights), max(bottoms)), min(confidences))


def read_lines(
    screen: ImageSource,
    *,
    region: Region | None = None,
    langs: str | Sequence[str] | None = None,
    timeout: float | None = None,
) -> list[tuple[TextMatch, ...]]:
    """The words of :func:`read_words`, a tuple per line of text."""
    if region is not None:
        check_region(region)
    lang = check_langs(langs, installed=True)
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
    ):
        raise InvalidInputError(f"timeout must be a positive number of seconds, got {timeout!r}")
    cv2, np = modules()
    image = load_image(screen, "screen")
    if image.ndim == 3:
        image = cv2.cvtColor(
            image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        )
    left, top, part = crop(image, region)
    if part.size == 0:
        return []
    if float(np.median(part)) < 128:
        part = 255 - part  # light on dark: see the module notes
    return _lines(read_tsv(np.ascontiguousarray(part), lang, timeout), left, top)


def _lines(rows: list[dict[str, Any]], left: int, top: int) -> list[tuple[TextMatch, ...]]:
    """Tesseract's words grouped by line, in its reading order, boxes moved to the screen.

    Its page layout may cut one line of a screen in two (a console full of text looks like
    columns to it): a line that goes on where another ends, on the same row and a space or
    so further, is joined to it."""
    lines: dict[tuple[str, str, str], list[TextMatch]] = {}
    for row in rows:
        word = row["text"].strip()
        if row["level"] != "5" or not word:
            continue
        x, y = int(row["left"]) + left, int(row["top"]) + top
        box = (x, y, x + int(row["width"]), y + int(row["height"]))
        confidence = max(0.0, min(1.0, float(row["conf"]) / 100))
        key = (row["block_num"], row["par_num"], row["line_num"])
        lines.setdefault(key, []).append(TextMatch(word, box, round(confidence, 2)))
    joined: list[list[TextMatch]] = []
    for words in lines.values():
        before = next((line for line in joined if _goes_on(line[-1], words[0])), None)
        if before is None:
            joined.append(words)
        else:
            before.extend(words)
    return [tuple(words) for words in joined]


def _goes_on(last: TextMatch, first: TextMatch) -> bool:
    """Whether ``first`` is the next word after ``last`` on one line of text."""
    height = max(last.box[3] - last.box[1], first.box[3] - first.box[1], 1)
    overlap = min(last.box[3], first.box[3]) - max(last.box[1], first.box[1])
    gap = first.box[0] - last.box[2]
    return overlap >= height / 2 and 0 <= gap <= 2 * height
