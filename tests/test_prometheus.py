"""Prometheus: the text-format parser on the capture and on the format's corners, and
``kvm.prometheus`` against the emulator's live metrics."""

from __future__ import annotations

import math

import pytest

from aiopikvm import PiKVM, ProtocolError
from aiopikvm.emulator import Emulator
from aiopikvm.models import MetricSample
from aiopikvm.models.prometheus import parse_metrics

from .captures import CAPTURES

RECORDED = (CAPTURES / "prometheus_metrics.txt").read_text("utf-8")


def names(text: str) -> list[str]:
    return [sample.name for sample in parse_metrics(text)]


# ----- the parser ---------------------------------------------------------------------


def test_the_capture_parses() -> None:
    samples = parse_metrics(RECORDED)
    assert len(samples) == 16
    assert samples[0] == MetricSample(name="pikvm_atx_enabled", value=0)
    by_name = {sample.name: sample for sample in samples}
    assert by_name["pikvm_hw_temp_cpu"].value == 34.076
    assert by_name["pikvm_hw_mem_total"].value == 3788144640
    assert all(sample.labels == {} and sample.timestamp is None for sample in samples)


def test_labels_escapes_special_values_and_timestamps() -> None:
    text = "\n".join(
        [
            '# HELP pikvm_gpio The state of a channel, with "quotes" and a \\ in the help',
            "# TYPE pikvm_gpio gauge",
            "# any other comment",
            "",
            'pikvm_gpio{channel="relay \\"one\\"",path="C:\\\\kvm",note="two\\nlines"} 1',
            'up{job="kvmd",} NaN',
            "  up_total{} +Inf 1700000000000",
            'temp { zone = "cpu" , kind="soc" } -Inf -5',
            "ratio 1.5e-3",
            "count -12",
            "inf_spelled Infinity",
            'colon:name{a="{not},=a label"} .5',
        ]
    )
    samples = parse_metrics(text)
    assert [s.name for s in samples] == [
        "pikvm_gpio",
        "up",
        "up_total",
        "temp",
        "ratio",
        "count",
        "inf_spelled",
        "colon:name",
    ]
    assert samples[0].labels == {
        "channel": 'relay "one"',
        "path": "C:\\kvm",
        "note": "two\nlines",
    }
    assert samples[1].labels == {"job": "kvmd"} and math.isnan(samples[1].value)
    assert samples[2].value == math.inf and samples[2].timestamp == 1700000000000
    assert samples[3].labels == {"zone": "cpu", "kind": "soc"}
    assert samples[3].value == -math.inf and samples[3].timestamp == -5
    assert samples[4].value == 0.0015 and samples[5].value == -12
    assert samples[6].value == math.inf
    assert samples[7].labels == {"a": "{not},=a label"} and samples[7].value == 0.5


def test_an_empty_exposition_has_no_samples() -> None:
    assert parse_metrics("") == []
    assert parse_metrics("# TYPE x gauge\n\n") == []


@pytest.mark.parametrize(
    "line",
    [
        "9lives 1",
        "metric",
        "metric one",
        "metric 1 2 3",
        "metric 1 1.5",
        "metric 1_000",
        "metric{a=1} 1",
        'metric{a="1} 1',
        'metric{a="1",a="2"} 1',
        'metric{a="\\t"} 1',
        'metric{a="1" b="2"} 1',
        'metric{1a="1"} 1',
        'metric{a "1"} 1',
        'metric{a="1"',
        "metric=1",
    ],
)
def test_a_line_that_is_not_a_sample_is_a_protocol_error(line: str) -> None:
    with pytest.raises(ProtocolError, match="line 2"):
        parse_metrics(f"ok 1\n{line}\n")


# ----- the emulator and the client ----------------------------------------------------


async def test_metrics_have_the_recorded_names_and_layout(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        text = await kvm.prometheus.get_metrics()
        samples = await kvm.prometheus.get_samples()
    # The recorded device's only GPIO channel starts with "__": kvmd leaves it out.
    assert names(text) == names(RECORDED)
    assert text.endswith(" 0\n") and text.count("\n\n") == len(samples) - 1
    for block, sample in zip(text.split("\n\n"), samples, strict=True):
        assert block.strip().splitlines() == [
            f"# TYPE {sample.name} gauge",
            f"{sample.name} {block.split()[-1]}",
        ]
    values = {sample.name: sample.value for sample in samples}
    # This ATX is enabled and its host on; the recorded one's was disabled.
    assert values["pikvm_atx_enabled"] == 1 and values["pikvm_atx_power"] == 1
    assert values["pikvm_fan_monitored"] == 0


async def test_gpio_channels_are_metrics_named_after_them() -> None:
    scheme = {
        "relay.1": {"mode": "output", "busy_delay": 0.01},
        "door": {"mode": "input", "state": True},
        "__internal": {"mode": "output"},
    }
    async with (
        Emulator(gpio=scheme, metrics_cache_ttl=0) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        before = {s.name: s.value for s in await kvm.prometheus.get_samples()}
        await kvm.gpio.switch("relay.1", True, wait=True)
        after = {s.name: s.value for s in await kvm.prometheus.get_samples()}
    gpio = [name for name in before if name.startswith("pikvm_gpio")]
    assert gpio == [
        "pikvm_gpio_input_online_door",
        "pikvm_gpio_input_state_door",
        "pikvm_gpio_output_online_relay_1",
        "pikvm_gpio_output_state_relay_1",
    ]
    assert before["pikvm_gpio_input_state_door"] == 1
    assert before["pikvm_gpio_output_state_relay_1"] == 0
    assert after["pikvm_gpio_output_state_relay_1"] == 1
    # kvmd's exporter writes a channel's state into its "online" metric too
    assert before["pikvm_gpio_output_online_relay_1"] == 0
    assert after["pikvm_gpio_output_online_relay_1"] == 1


async def test_the_answer_is_cached_like_kvmds() -> None:
    fast = {"atx_click_delay": 0.01, "atx_long_click_delay": 0.02}
    async with Emulator(**fast) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        first = await kvm.prometheus.get_metrics()
        await kvm.atx.power_off_hard(wait=True)
        # kvmd keeps its answer for 5 seconds
        assert await kvm.prometheus.get_metrics() == first
    async with Emulator(metrics_cache_ttl=0, **fast) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.prometheus.get_metrics()
        await kvm.atx.power_off_hard(wait=True)
        power = {s.name: s.value for s in await kvm.prometheus.get_samples()}["pikvm_atx_power"]
    assert power == 0
