"""How kvmd's ``/api/ws`` events fold into one live copy of the device state.

After the first full-state burst kvmd sends partial updates, and each subsystem has its own
shape of partial (see the protocol notes). The merge depth says how far down a partial is
merged before a value replaces what was there: ``0`` replaces the whole subsystem, ``1``
replaces each top-level field that arrived, and so on. Dicts are merged only down to that
depth, so a removed entry (an MSD image, a GPIO channel) does not linger.
"""

from __future__ import annotations

from typing import Any, Final

MERGE_DEPTH: Final[dict[str, int]] = {
    "atx": 0,
    "clients": 0,
    "hid": 0,
    "hid_keymaps": 0,
    "ocr": 0,
    "info": 1,  # one top-level field per event
    "streamer": 1,  # any subset of params, applied, limits, streamer, snapshot
    "switch": 1,
    "msd": 2,  # busy, drive, or storage.{images,parts,downloading,uploading}
    "gpio": 3,  # state.outputs.<channel> diffs
}
"""Subsystems whose events make up the device state, and how deep their partials go."""


def merge_event(state: dict[str, Any], event_type: str, event: dict[str, Any]) -> bool:
    """Fold ``event`` into ``state`` in place; ``False`` if it is not a state event."""
    depth = MERGE_DEPTH.get(event_type)
    if depth is None:
        return False
    if event_type == "gpio" and "model" in event:
        depth = 0  # the full form; a diff never carries the model
    current = state.get(event_type)
    if depth == 0 or not isinstance(current, dict):
        state[event_type] = _copy(event)
    else:
        _merge(current, event, depth)
    return True


def _merge(dst: dict[str, Any], src: dict[str, Any], depth: int) -> None:
    for key, value in src.items():
        old = dst.get(key)
        if depth > 1 and isinstance(value, dict) and isinstance(old, dict):
            _merge(old, value, depth - 1)
        else:
            dst[key] = _copy(value)


def _copy(value: Any) -> Any:
    # Events are parsed from fresh JSON each time, so only the containers we keep need copying
    # for the caller to be free to reuse the event dict it was handed. Without recursion: the
    # JSON decoder accepts nesting about as deep as the recursion limit, and a recursive copy
    # spends more than one frame per level.
    if not isinstance(value, dict | list):
        return value
    top = _empty_like(value)
    pending = [(value, top)]
    while pending:
        source, target = pending.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            if isinstance(item, dict | list):
                copied = _empty_like(item)
                pending.append((item, copied))
                item = copied
            target[key] = item
    return top


def _empty_like(container: dict[str, Any] | list[Any]) -> Any:
    return {} if isinstance(container, dict) else [None] * len(container)
