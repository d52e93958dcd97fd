"""Input frame encoding: the binary encoder vs the JSON encoder vs a naive ``json.dumps``.

Pure functions, no event loop and no socket: the cost of turning one input into the bytes
handed to the WebSocket, and how many bytes that is.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, Final

from aiopikvm.protocol.frames import (
    Input,
    KeyInput,
    MouseMoveInput,
    MouseWheelInput,
    decode_binary,
    decode_json_input,
    encode_binary,
    encode_json,
)

from ._harness import Table, median, per_call_ns, relative, spread

NAME: Final = "frames"
CALLS: Final = 20_000
"""Calls per repeat and message kind: ~20-60 ms each on this kind of machine."""

WS_CLIENT_HEADER: Final = 6
"""A client frame's WebSocket header under 126 bytes: 2 bytes plus the 4-byte mask."""

MESSAGES: Final[dict[str, Input]] = {
    "key tap": KeyInput("KeyA", True, finish=True),
    "mouse move": MouseMoveInput(12000, -8000),
    "wheel": MouseWheelInput(((0, -5),)),
}


def naive_json(message: Input) -> str:
    """What a client without an encoder writes: a dict per event through ``json.dumps``,
    default separators, no validation."""
    event: dict[str, Any]
    match message:
        case KeyInput(key, state, finish):
            event_type, event = "key", {"key": key, "state": state, "finish": finish}
        case MouseMoveInput(x, y):
            event_type, event = "mouse_move", {"to": {"x": x, "y": y}}
        case MouseWheelInput(deltas, squash):
            event_type = "mouse_wheel"
            event = {"delta": [{"x": dx, "y": dy} for dx, dy in deltas], "squash": squash}
        case _:
            raise NotImplementedError(message)
    return json.dumps({"event_type": event_type, "event": event})


ENCODERS: Final[dict[str, Callable[[Input], bytes | str]]] = {
    "encode_binary (ours, default)": encode_binary,
    "encode_json (ours, binary=False)": encode_json,
    "naive json.dumps": naive_json,
}
REFERENCE: Final = "encode_binary (ours, default)"


def decoded(frame: bytes | str) -> Input | None:
    """The frame as the emulator (reading like kvmd) understands it."""
    if isinstance(frame, bytes):
        return decode_binary(frame)
    message = json.loads(frame)
    return decode_json_input(message["event_type"], message["event"])


def run(repeat: int) -> Table:
    samples: dict[tuple[str, str], list[float]] = {
        (encoder, kind): [] for encoder in ENCODERS for kind in MESSAGES
    }
    # Interleaved, so that a neighbour's burst of CPU hits every variant alike.
    for _ in range(repeat):
        for encoder, encode in ENCODERS.items():
            for kind, message in MESSAGES.items():
                call = functools.partial(encode, message)
                samples[encoder, kind].append(per_call_ns(call, CALLS))

    rows = []
    for encoder, encode in ENCODERS.items():
        ns = {kind: median(samples[encoder, kind]) for kind in MESSAGES}
        frames = {kind: encode(message) for kind, message in MESSAGES.items()}
        sizes = {kind: len(frame) for kind, frame in frames.items()}
        row: dict[str, Any] = {
            "variant": encoder,
            "ns_per_frame": sum(ns.values()) / len(ns),
            "spread": max(spread(samples[encoder, kind]) for kind in MESSAGES),
            "bytes_per_frame": sum(sizes.values()) / len(sizes),
            "wire_bytes_per_frame": sum(sizes.values()) / len(sizes) + WS_CLIENT_HEADER,
            "same_input": all(decoded(frames[k]) == MESSAGES[k] for k in MESSAGES),
        }
        for kind in MESSAGES:
            row[f"ns {kind}"] = ns[kind]
            row[f"bytes {kind}"] = sizes[kind]
        rows.append(row)
    relative(rows, "ns_per_frame", REFERENCE, higher_is_better=False)

    kinds = "/".join(MESSAGES)
    for row in rows:
        row["ns_each"] = "/".join(f"{row[f'ns {kind}']:.0f}" for kind in MESSAGES)
        row["bytes_each"] = "/".join(str(row[f"bytes {kind}"]) for kind in MESSAGES)
    columns = {
        "variant": ("encoder", ""),
        "ns_per_frame": ("ns/frame", ".0f"),
        "spread": ("spread", ".0%"),
        "rel": ("speed vs binary", ".2f"),
        "ns_each": (f"ns {kinds}", ""),
        "bytes_each": (f"bytes {kinds}", ""),
        "same_input": ("decodes same", ""),
    }
    return Table(
        name=NAME,
        title=f"Input frame encoding (median of {repeat} x {CALLS} calls per kind)",
        columns=columns,
        rows=rows,
        notes=[
            "speed vs binary > 1 is faster than encode_binary; bytes are the payload (a "
            "client frame this small adds a 6-byte WebSocket header).",
            "Both of ours validate the input first (kvmd drops bad input silently); the naive "
            "one does not.",
        ],
    )
