"""Running the local ``tesseract`` program: a greyscale picture in (PGM, on stdin), its
words with their boxes out (TSV, on stdout).

Called directly rather than through pytesseract, which has no way to pass the child's
environment: Tesseract's OpenMP threads (one per core by default) fight each other and
every other process on a busy machine. With ``OMP_THREAD_LIMIT=1``, as Tesseract's own
documentation advises when several run at once, a full 1920x1080 console read in 7.0 s
instead of 29.3 s on 2 shared cores (load ~5), and a sparse screen in 0.44 s instead of
0.70 s. The picture goes through a pipe, not a temporary file.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from typing import TYPE_CHECKING, Any, Final

from ..errors import OcrUnavailableError, WaitTimeoutError

if TYPE_CHECKING:
    from .match import Image

PAGE_LAYOUT: Final = "4"
"""Tesseract's ``--psm 4``, a column of lines of any size: a console, a dialog, a desktop
alike, a row of the screen being one line (columns side by side join). The automatic layout
(``--psm 3``) read no word at all of a console whose underline cursor showed."""
MAX_OUTPUT: Final = 16 * 1024 * 1024
"""The most TSV read back (a full 4K screen of text is well under 1 MiB)."""
_LIST_TIMEOUT: Final = 30.0
NO_TESSERACT: Final = (
    "reading text with positions needs the tesseract program, which is not installed or"
    " not on PATH: apt install tesseract-ocr (or your system's package)"
)
_COLUMNS: Final = (
    "level",
    "page_num",
    "block_num",
    "par_num",
    "line_num",
    "word_num",
    "left",
    "top",
    "width",
    "height",
    "conf",
    "text",
)


def _program() -> str:
    found = shutil.which("tesseract")
    if found is None:
        raise OcrUnavailableError(NO_TESSERACT)
    return found


def _environment() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}


@functools.cache
def installed_langs() -> frozenset[str]:
    """The languages the local Tesseract has (``tesseract --list-langs``, asked once)."""
    done = subprocess.run(
        [_program(), "--list-langs"],
        capture_output=True,
        timeout=_LIST_TIMEOUT,
        check=False,
        env=_environment(),
    )
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    # "List of available languages in "...tessdata/" (2):", then a name per line
    return frozenset(line.strip() for line in lines[1:] if line.strip())


def read_tsv(image: Image, lang: str | None, timeout: float | None) -> list[dict[str, Any]]:
    """Tesseract's rows for ``image`` (8-bit greyscale): one dict per row of its TSV, the
    columns of :data:`_COLUMNS`. ``timeout``: seconds before the child is killed
    (:class:`~aiopikvm.WaitTimeoutError`)."""
    import cv2

    ok, encoded = cv2.imencode(".pgm", image)
    if not ok:  # pragma: no cover - an 8-bit grey array always encodes
        raise OcrUnavailableError("the picture could not be handed to Tesseract")
    command = [_program(), "stdin", "stdout", "--psm", PAGE_LAYOUT]
    if lang is not None:
        command += ["-l", lang]
    try:
        done = subprocess.run(
            [*command, "tsv"],
            input=encoded.tobytes(),
            capture_output=True,
            timeout=timeout,
            check=False,
            env=_environment(),
        )
    except subprocess.TimeoutExpired:
        raise WaitTimeoutError(f"Tesseract took longer than {timeout} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[-300:]
        raise OcrUnavailableError(f"tesseract failed (exit status {done.returncode}): {message}")
    if len(done.stdout) > MAX_OUTPUT:
        raise OcrUnavailableError(f"tesseract wrote over {MAX_OUTPUT} bytes")
    rows = []
    for line in done.stdout.decode("utf-8", "replace").splitlines()[1:]:
        values = line.split("\t")
        if len(values) == len(_COLUMNS):
            rows.append(dict(zip(_COLUMNS, values, strict=True)))
    return rows
