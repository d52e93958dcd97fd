"""Event merge: folding a real ``/api/ws`` session (the captured ``ws_events.jsonl``) into the
device state, with kvmd's merge rules and typed models vs plain dict updates.

Each pass starts from an empty state and applies the 27 captured messages in order: the
full-state burst, then partial updates. Pure functions, no event loop.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any, Final

import pydantic

from aiopikvm import DeviceState
from aiopikvm.protocol.frames import parse_event
from aiopikvm.protocol.merge import merge_event

from ._harness import Table, calls_for, median, per_call_ns, relative, spread

NAME: Final = "merge"
MIN_TIME: Final = 0.05
"""Each sample runs enough passes to take at least this long."""

State = dict[str, Any]
Message = tuple[str, str, dict[str, Any]]
"""A captured message: its text frame, event type and event."""


def captured() -> list[Message]:
    lines = (files("aiopikvm.emulator") / "captures" / "ws_events.jsonl").read_text()
    messages = []
    for line in lines.splitlines():
        if line.strip():
            msg = json.loads(line)["msg"]
            text = json.dumps(msg)
            messages.append((text, *parse_event(text)))
    return messages


# The typed state is rebuilt per subsystem, as ``ws.state`` does when it is read after an
# event changed that subsystem (the other subsystems' models are kept).
ADAPTERS: Final[dict[str, pydantic.TypeAdapter[Any]]] = {
    name: pydantic.TypeAdapter[Any](field.annotation)
    for name, field in DeviceState.model_fields.items()
    if field.annotation is not None
}


def ours(messages: list[Message]) -> State:
    state: State = {}
    for _, event_type, event in messages:
        merge_event(state, event_type, event)
    return state


def ours_typed(messages: list[Message]) -> State:
    state: State = {}
    models: dict[str, Any] = {}
    for _, event_type, event in messages:
        if merge_event(state, event_type, event):
            models[event_type] = ADAPTERS[event_type].validate_python(state[event_type])
    return state


def ours_from_text(messages: list[Message]) -> State:
    state: State = {}
    models: dict[str, Any] = {}
    for text, _, _ in messages:
        event_type, event = parse_event(text)
        if merge_event(state, event_type, event):
            models[event_type] = ADAPTERS[event_type].validate_python(state[event_type])
    return state


def plain_update(messages: list[Message]) -> State:
    state: State = {}
    for _, event_type, event in messages:
        if event_type in ADAPTERS:
            state.setdefault(event_type, {}).update(event)
    return state


def plain_replace(messages: list[Message]) -> State:
    state: State = {}
    for _, event_type, event in messages:
        if event_type in ADAPTERS:
            state[event_type] = event
    return state


VARIANTS: Final[dict[str, Callable[[list[Message]], State]]] = {
    "merge_event (ours, kvmd's rules)": ours,
    "merge_event + typed model per event": ours_typed,
    "parse_event + merge_event + model": ours_from_text,
    "plain dict: state[t].update(event)": plain_update,
    "plain dict: state[t] = event": plain_replace,
}
REFERENCE: Final = "merge_event (ours, kvmd's rules)"


def run(repeat: int) -> Table:
    messages = captured()
    truth = ours(messages)
    calls = {
        name: calls_for(functools.partial(variant, messages), MIN_TIME)
        for name, variant in VARIANTS.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(repeat):
        for name, variant in VARIANTS.items():
            ns_per_pass = per_call_ns(functools.partial(variant, messages), calls[name])
            samples[name].append(len(messages) * 1e9 / ns_per_pass)

    rows: list[dict[str, Any]] = []
    for name, variant in VARIANTS.items():
        final = variant(messages)
        rows.append(
            {
                "variant": name,
                "events_per_s": median(samples[name]),
                "us_per_event": 1e6 / median(samples[name]),
                "spread": spread(samples[name]),
                "same_state": final == truth,
                "differs": sorted(k for k in truth if final.get(k) != truth[k]),
            }
        )
    relative(rows, "events_per_s", REFERENCE, higher_is_better=True)
    for row in rows:
        row["differs_text"] = ", ".join(row["differs"]) or "-"
    return Table(
        name=NAME,
        title=f"Event merge of the captured session, {len(messages)} messages a pass "
        f"(median of {repeat} samples of >= {MIN_TIME:.2f} s)",
        columns={
            "variant": ("variant", ""),
            "events_per_s": ("events/s", ",.0f"),
            "us_per_event": ("us/event", ".2f"),
            "spread": ("spread", ".0%"),
            "rel": ("speed vs merge", ".2f"),
            "same_state": ("same state", ""),
            "differs_text": ("subsystems that differ", ""),
        },
        rows=rows,
        notes=[
            "'same state': the final state equals merge_event's, which follows kvmd's per-"
            "subsystem merge depth (see protocol/merge.py).",
            "This capture's partials are one level deep (info, streamer); MSD and GPIO diffs "
            "go deeper, where a shallow update loses more.",
        ],
    )
