"""How ``pikvm-emulator`` reads the values of its flags: each function takes the text
given and returns the value, or raises argparse's ``ArgumentTypeError`` saying what was
expected."""

from __future__ import annotations

import argparse
import json
import math
import os
from typing import Any


def user(value: str) -> tuple[str, str]:
    name, sep, passwd = value.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected USER:PASSWORD, got {value!r}")
    return name, passwd


def screen_size(value: str) -> tuple[int, int]:
    width, _, height = value.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {value!r}") from None


def json_file(value: str) -> Any:
    try:
        with open(value, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"cannot read {value!r}: {exc}") from None


def directory(value: str) -> str:
    if not os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"not a directory: {value!r}")
    return value


def duration(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}")
    return seconds


def speed(value: str) -> float:
    factor = duration(value)
    if factor == 0:
        raise argparse.ArgumentTypeError("expected a factor of more than 0")
    return factor


def period(value: str) -> float:
    seconds = duration(value)
    if seconds == 0:
        raise argparse.ArgumentTypeError("expected a period of more than 0 seconds")
    return seconds


def fail_spec(value: str) -> tuple[str, int, int | None]:
    parts = value.split(":")
    try:
        if len(parts) == 3:
            return parts[0], int(parts[1]), int(parts[2])
        path, status = parts
        return path, int(status), None
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected PATH:STATUS[:TIMES], got {value!r}") from None


def delay_spec(value: str) -> tuple[str, float]:
    path, _, seconds = value.rpartition(":")
    try:
        return path, float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected PATH:SECONDS, got {value!r}") from None


def frames_spec(value: str) -> int | tuple[int, int]:
    low, _, high = value.partition("-")
    try:
        return (int(low), int(high)) if high else int(low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or LOW-HIGH, got {value!r}") from None
