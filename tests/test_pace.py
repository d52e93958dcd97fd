"""What the host's keyboard-LED echoes acknowledge (aiopikvm.session.pace): pure logic."""

from __future__ import annotations

from aiopikvm.protocol.layout import LAYOUTS, load_layout
from aiopikvm.protocol.typing import plan_typing
from aiopikvm.session.pace import (
    ACK_KEY,
    EVERY_MAX,
    EVERY_MIN,
    QUIET,
    SLOWER,
    SLOWEST_EVENT,
    Ack,
    HostPace,
    ranges_add,
    ranges_minus,
)


def test_a_change_acknowledges_the_oldest_open_ask() -> None:
    pace = HostPace(True, 0, 0, 0.0)
    pace.ask(10, 22, 1.0)
    assert pace.observe(True, True, 1.01) is None  # no change: nothing proven
    assert pace.observe(False, True, 1.02) == Ack(0, 10, vouched=True)
    assert pace.acked == 10 and not pace.asks


def test_a_change_with_nothing_asked_proves_nothing() -> None:
    pace = HostPace(True, 0, 0, 0.0)
    assert pace.observe(False, True, 1.0) is None  # someone else's toggle, or an old one
    assert pace.acked == 0


def test_coalesced_echoes_delay_acknowledgements_but_never_fake_one() -> None:
    pace = HostPace(False, 0, 0, 0.0)
    pace.ask(8, 18, 1.0)
    pace.ask(16, 36, 1.1)
    # Both landed, but kvmd's published state shows no change at all.
    assert pace.observe(False, True, 1.2) is None
    pace.ask(24, 54, 1.3)
    # One change: at least the oldest landed (in fact all three did) — only 8 is claimed.
    assert pace.observe(True, True, 1.4) == Ack(0, 8, vouched=True)
    assert pace.acked == 8 and len(pace.asks) == 2
    assert pace.host_led is True  # three toggles from False


def test_an_even_number_of_asks_unseen_may_be_resynced_once_drained() -> None:
    pace = HostPace(False, 0, 0, 0.0)
    pace.ask(8, 18, 1.0)
    assert not pace.coalesced(online=True)  # one toggle unseen is no coalescing
    pace.ask(16, 36, 1.1)
    assert pace.coalesced(online=True)
    assert not pace.coalesced(online=False)  # kvmd may have skipped reports
    assert pace.drain_time(36) == QUIET + 36 * SLOWEST_EVENT * SLOWER  # no pace measured
    assert pace.resync(1.5) == (0, 16)  # settled, but not vouched for by the host
    assert pace.acked == 16 and not pace.asks and pace.single
    assert pace.host_led is False  # two toggles from False
    pace.ask(24, 54, 1.6)
    assert pace.observe(True, True, 1.7) == Ack(16, 24, vouched=True)


def test_an_offline_flag_forbids_a_resync() -> None:
    pace = HostPace(False, 0, 0, 0.0)
    pace.ask(8, 18, 1.0)
    pace.observe(False, False, 1.05)  # no change, and kvmd flagged the keyboard offline
    pace.ask(16, 36, 1.1)
    assert not pace.coalesced(online=True)


def test_an_offline_keyboard_taints_the_acknowledgement_that_follows() -> None:
    pace = HostPace(False, 0, 0, 0.0)
    pace.ask(8, 18, 1.0)
    assert pace.observe(False, False, 1.1) is None  # kvmd may have skipped reports here
    assert pace.observe(True, True, 1.5) == Ack(0, 8, vouched=False)
    pace.ask(16, 36, 1.6)
    assert pace.observe(False, True, 1.7) == Ack(8, 16, vouched=True)


def test_still_offline_at_an_echo_taints_the_next_interval_too() -> None:
    pace = HostPace(False, 0, 0, 0.0)
    pace.ask(8, 18, 1.0)
    pace.ask(16, 36, 1.0)
    assert pace.observe(True, False, 1.1) == Ack(0, 8, vouched=False)
    assert pace.observe(False, True, 1.2) == Ack(8, 16, vouched=False)


def test_the_host_pace_is_measured_only_over_a_busy_queue() -> None:
    pace = HostPace(False, 0, 0, 0.0)
    pace.ask(8, 18, 0.0)
    pace.observe(True, True, 0.05)  # the first interval includes the way there: no sample
    assert pace.event_time is None
    pace.ask(16, 36, 0.04)  # queued before the echo came: the host worked through it
    pace.observe(False, True, 0.05 + 18 * 0.004)
    assert pace.event_time is not None and abs(pace.event_time - 0.004) < 1e-9
    pace.ask(24, 54, 1.0)  # queued long after: the gap is ours, not the host's
    pace.observe(True, True, 1.1)
    assert pace.event_time is not None and abs(pace.event_time - 0.004) < 1e-9
    assert pace.too_fast(0.001) and not pace.too_fast(0.004)


def test_asks_come_every_so_many_characters_adapted_to_the_host() -> None:
    pace = HostPace(False, 0, 0, 0.0)
    assert pace.every == EVERY_MIN and pace.due(EVERY_MIN) and not pace.due(EVERY_MIN - 1)
    assert pace.window == 2 * EVERY_MIN + 2 and pace.full(pace.window)
    pace.ask(8, 16, 0.0)
    pace.observe(True, True, 0.01)
    pace.ask(16, 32, 0.005)
    pace.observe(False, True, 0.01 + 16 * 0.0001)  # a very fast host
    assert pace.every == EVERY_MAX
    pace.ask(24, 48, 0.02)
    for _ in range(20):  # a slow one
        pace.ask(pace.last_ask + 8, pace.acked_events + 16, pace.acked_at - 0.001)
        pace.observe(not pace.led, True, pace.acked_at + 16 * 0.05)
    assert pace.every == EVERY_MIN


def test_a_rebase_forgets_what_was_open() -> None:
    pace = HostPace(False, 0, 0, 0.0)
    pace.ask(8, 18, 1.0)
    pace.rebase(True, 12, 0, 2.0)  # kvmd threw its queue away; the LED as shown now
    assert not pace.asks and pace.acked == 12 and pace.host_led is True
    assert pace.observe(False, True, 2.1) is None


def test_ranges_merge_as_they_come() -> None:
    ranges: list[tuple[int, int]] = []
    ranges_add(ranges, 0, 8)
    ranges_add(ranges, 8, 16)
    ranges_add(ranges, 16, 16)
    ranges_add(ranges, 20, 30)
    assert ranges == [(0, 16), (20, 30)]
    assert ranges_minus(ranges, {0, 5, 29, 40}) == [(1, 5), (6, 16), (20, 29)]


def test_no_layout_types_anything_with_the_keypad_while_num_lock_may_be_flipped() -> None:
    for name in LAYOUTS:
        layout = load_layout(name)
        text = "".join(char for char in map(chr, range(32, 0x2000)) if layout.strokes_for(char))
        keys = {step.input.key for step in plan_typing(text + "\n\t", layout)}
        assert not {key for key in keys if key.startswith("Numpad")}, name
        assert ACK_KEY not in keys, name
