"""The size limit of the merged state: the size it keeps count of is the size of what it
holds, however events add, replace and refuse; and a refused event changes nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiopikvm import ProtocolError
from aiopikvm.protocol.merge import MERGE_DEPTH, MergedState, _size, merge_event

from .captures import ws_messages

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)
events = st.tuples(
    st.sampled_from(sorted(MERGE_DEPTH)),
    st.dictionaries(st.sampled_from(["a", "b", "state", "model", "x"]), json_values, max_size=3),
)


def _counted_sizes_match(merged: MergedState) -> None:
    for name, raw in merged.raw.items():
        assert merged._sizes[name] == _size(raw), name


@settings(max_examples=200, deadline=None)
@given(st.lists(events, max_size=12), st.integers(20, 400))
def test_the_counted_size_is_the_size_held(
    stream: list[tuple[str, dict[str, Any]]], limit: int
) -> None:
    merged, unbounded = MergedState(limit), {}
    for event_type, event in stream:
        before = copy.deepcopy(merged.raw)
        try:
            merged.merge(event_type, event)
        except ProtocolError:
            assert merged.raw == before  # refused whole
        else:
            merge_event(unbounded, event_type, event)
        _counted_sizes_match(merged)
        assert all(_size(raw) <= limit for raw in merged.raw.values())


def test_the_real_session_fits_and_merges_as_without_a_limit() -> None:
    merged, unbounded = MergedState(), {}
    for message in ws_messages():
        merged.merge(message["event_type"], message["event"])
        merge_event(unbounded, message["event_type"], message["event"])
    assert merged.raw == unbounded
    _counted_sizes_match(merged)
    # the counted size is about the JSON's: never far from it
    for name, raw in merged.raw.items():
        assert len(json.dumps(raw)) / 2 < merged._sizes[name] < 2 * len(json.dumps(raw)) + 10


def test_a_partial_past_the_limit_is_refused_and_reported() -> None:
    merged = MergedState(200)
    merged.merge("info", {"system": {"kvmd": {"version": "4.206"}}})
    with pytest.raises(ProtocolError, match=r"'info'.*limit of 200"):
        merged.merge("info", {"extras": "x" * 300})
    assert "extras" not in merged.raw["info"]
    merged.merge("info", {"system": None})  # a partial that shrinks it still goes in
    assert merged.raw["info"] == {"system": None}
