"""Commands on the device itself: ``info``, ``power``, ``gpio``, ``switch``, ``redfish``,
``metrics``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ._run import execute, output

if TYPE_CHECKING:
    from .. import PiKVM

POLL = 0.5
"""Seconds between reads of the power LED while --wait waits for it."""


def register(cli: click.Group) -> None:
    for command in (info, power, gpio, switch, redfish, metrics):
        cli.add_command(command)


@click.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """What the device says of itself (kvmd's /api/info)."""

    async def action(kvm: PiKVM) -> Any:
        return await kvm.system.get_info()

    def show(found: Any) -> str:
        system = found.system
        kvmd = system.kvmd.version if system is not None and system.kvmd else "?"
        platform = system.platform.type if system is not None and system.platform else "?"
        return f"kvmd {kvmd} on {platform}"

    execute(ctx, output(ctx), action, show)


# ----- power ------------------------------------------------------------------------------


async def _until_led(kvm: PiKVM, on: bool, timeout: float) -> Any:
    """Read the power LED until it is ``on`` (or off), within ``timeout``."""
    from ..errors import PiKVMTimeoutError

    try:
        async with asyncio.timeout(timeout):
            while True:
                state = await kvm.atx.get_state()
                if state.leds.power == on:
                    return state
                await asyncio.sleep(POLL)
    except TimeoutError:
        word = "on" if on else "off"
        raise PiKVMTimeoutError(f"the power LED was not {word} within {timeout} s") from None


def _summary(state: Any) -> dict[str, Any]:
    return {"power": state.leds.power, "hdd": state.leds.hdd, "busy": state.busy}


def _show_power(state: Any) -> str:
    return "on" if state["power"] else "off"


@click.group()
def power() -> None:
    """The host's power, through the ATX board."""


_wait_timeout = click.option(
    "--wait-timeout",
    type=click.FloatRange(0.1, 3600),
    default=120.0,
    show_default=True,
    help="Seconds --wait waits at most.",
)


def _power_command(name: str, led: bool | None, doc: str) -> click.Command:
    def verb(kvm: PiKVM) -> Callable[..., Any]:
        return {
            "on": kvm.atx.power_on,
            "off": kvm.atx.power_off,
            "off-hard": kvm.atx.power_off_hard,
            "reset": kvm.atx.reset_hard,
        }[name]

    @click.pass_context
    def command(ctx: click.Context, wait: bool = False, wait_timeout: float = 0.0) -> None:
        async def action(kvm: PiKVM) -> Any:
            await verb(kvm)(wait=True)
            if wait and led is not None:
                return _summary(await _until_led(kvm, led, wait_timeout))
            return _summary(await kvm.atx.get_state())

        execute(ctx, output(ctx), action, _show_power)

    command.__doc__ = doc
    made = click.command(name)(command)
    if led is not None:
        made = click.option("--wait", is_flag=True, help="Wait until the power LED says so.")(
            _wait_timeout(made)
        )
    return made


power.add_command(_power_command("on", True, "Press power if the host is off."))
power.add_command(
    _power_command("off", False, "Press power if the host is on (its OS shuts down).")
)
power.add_command(_power_command("off-hard", False, "Hold power until the host is off."))
power.add_command(_power_command("reset", None, "Press reset."))


@power.command("status")
@click.option("--wait", type=click.Choice(["on", "off"]), help="Wait until the power LED says so.")
@_wait_timeout
@click.pass_context
def power_status(ctx: click.Context, wait: str | None, wait_timeout: float) -> None:
    """Whether the host is on (its power LED)."""

    async def action(kvm: PiKVM) -> Any:
        if wait is None:
            return _summary(await kvm.atx.get_state())
        return _summary(await _until_led(kvm, wait == "on", wait_timeout))

    execute(ctx, output(ctx), action, _show_power)


# ----- gpio, switch, redfish, metrics -------------------------------------------------------


@click.group()
def gpio() -> None:
    """GPIO channels."""


@gpio.command("list")
@click.pass_context
def gpio_list(ctx: click.Context) -> None:
    """Every channel and its state."""

    async def action(kvm: PiKVM) -> Any:
        return await kvm.gpio.get_state()

    def show(state: Any) -> str:
        channels = state.state
        lines = [f"in  {name}: {'on' if c.state else 'off'}" for name, c in channels.inputs.items()]
        lines += [
            f"out {name}: {'on' if c.state else 'off'}" for name, c in channels.outputs.items()
        ]
        return "\n".join(lines) or "no channels"

    execute(ctx, output(ctx), action, show)


@gpio.command("switch")
@click.argument("channel")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.pass_context
def gpio_switch(ctx: click.Context, channel: str, state: str) -> None:
    """Switch an output channel on or off."""

    async def action(kvm: PiKVM) -> Any:
        await kvm.gpio.switch(channel, state == "on", wait=True)
        return {"channel": channel, "state": state == "on"}

    execute(ctx, output(ctx), action, lambda _: f"{channel}: {state}")


@gpio.command("pulse")
@click.argument("channel")
@click.option("--delay", type=float, help="Seconds the pulse lasts (the channel's own).")
@click.pass_context
def gpio_pulse(ctx: click.Context, channel: str, delay: float | None) -> None:
    """Pulse an output channel."""

    async def action(kvm: PiKVM) -> Any:
        await kvm.gpio.pulse(channel, delay=delay, wait=True)
        return {"channel": channel, "pulsed": True}

    execute(ctx, output(ctx), action, lambda _: f"{channel}: pulsed")


@click.command()
@click.argument("port", required=False)
@click.pass_context
def switch(ctx: click.Context, port: str | None) -> None:
    """The PiKVM Switch: its state, or make PORT (1, or 1.2 on a chain) active."""

    async def action(kvm: PiKVM) -> Any:
        if port is not None:
            await kvm.switch.set_active(port)  # checked there, as kvmd reads it
        return await kvm.switch.get_state()

    def show(state: Any) -> str:
        active = state.summary.active_id if state.summary is not None else ""
        return f"active port: {active or 'none'}"

    execute(ctx, output(ctx), action, show)


@click.command()
@click.pass_context
def redfish(ctx: click.Context) -> None:
    """The device's Redfish system: its power state."""

    async def action(kvm: PiKVM) -> Any:
        return await kvm.redfish.get_system()

    execute(ctx, output(ctx), action, lambda system: f"power: {system.power_state}")


@click.command()
@click.pass_context
def metrics(ctx: click.Context) -> None:
    """kvmd's Prometheus metrics, as text (with --json: the samples)."""
    out = output(ctx)

    async def action(kvm: PiKVM) -> Any:
        if out.json:
            return await kvm.prometheus.get_samples()
        return await kvm.prometheus.get_metrics()

    execute(ctx, out, action, lambda text: text.rstrip("\n"))
