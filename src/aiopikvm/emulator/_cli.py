"""The ``pikvm-emulator`` command: its flags, the emulator and fault rules they make, and the
loop that serves until Ctrl-C or SIGTERM. Only the standard library is imported up front, so
a missing ``emulator`` extra is reported in one line before anything else loads."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from . import _cli_args as parse

if TYPE_CHECKING:
    from ._emulator import Emulator
    from ._faults import Faults

logger = logging.getLogger("aiopikvm.emulator.faults")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pikvm-emulator", description="A kvmd-compatible fake PiKVM for testing clients."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0 = any free port)")
    parser.add_argument(
        "--user",
        dest="users",
        type=parse.user,
        action="append",
        metavar="USER:PASSWORD",
        help="a user (repeatable; default admin:admin)",
    )
    parser.add_argument("--totp-secret", help="base32 secret: passwords end with its code")
    parser.add_argument(
        "--hid-poll",
        "--hid-delay",  # its old name
        dest="hid_poll",
        type=float,
        default=0.001,
        metavar="SECONDS",
        help="how often the USB host polls each HID endpoint, one report a poll "
        "(default 0.001: 1 kHz; firmware often polls at 0.01)",
    )
    parser.add_argument(
        "--no-led-echo", action="store_true", help="a host that never sends the LEDs back"
    )
    parser.add_argument(
        "--hid-log", metavar="PATH", help="append a JSON line for every USB report the host takes"
    )
    parser.add_argument("--host-off", action="store_true", help="start with the host off")
    parser.add_argument(
        "--screen",
        type=parse.screen_size,
        default=(1920, 1080),
        metavar="WIDTHxHEIGHT",
        help="the host's video mode (default 1920x1080)",
    )
    parser.add_argument(
        "--clock", action="store_true", help="the host shows a clock ticking in a corner"
    )
    parser.add_argument(
        "--gpio",
        type=parse.json_file,
        metavar="FILE",
        help="GPIO channels: a JSON file shaped like kvmd's gpio scheme, e.g. "
        '{"relay": {"mode": "output"}, "led": {"mode": "input"}} (default: the recorded v3\'s)',
    )
    parser.add_argument(
        "--msd-dir",
        type=parse.directory,
        metavar="DIR",
        help="keep MSD images in this directory (default: a temporary one)",
    )
    parser.add_argument(
        "--target-layout",
        default="en-us",
        metavar="KEYMAP",
        help="the keyboard layout the host's OS reads keys with (a kvmd keymap, e.g. de; "
        "default en-us)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    installer = parser.add_argument_group("an OS installer on the host")
    installer.add_argument(
        "--installer",
        choices=("debian", "kickstart", "ubuntu"),
        help="on power-on or reset the host boots an installer (Debian preseed, RHEL "
        "kickstart or Ubuntu autoinstall) that fetches the URL typed on its boot line",
    )
    installer.add_argument(
        "--installer-boot-timeout",
        type=parse.duration,
        default=30.0,
        metavar="SECONDS",
        help="its boot menu boots the default entry after this long (default 30; 0 = never)",
    )
    installer.add_argument(
        "--installer-speed",
        type=parse.speed,
        default=1.0,
        metavar="FACTOR",
        help="run its POST and install steps this many times faster (default 1)",
    )
    installer.add_argument(
        "--installer-fetch-timeout",
        type=parse.period,
        default=10.0,
        metavar="SECONDS",
        help="it gives up on the preseed/kickstart server after this long (default 10)",
    )
    group = parser.add_argument_group("subsystems a device can lack")
    group.add_argument("--no-atx", action="store_true", help="no ATX (AtxDisabledError)")
    group.add_argument("--no-msd", action="store_true", help="no MSD (MsdDisabledError)")
    group.add_argument(
        "--no-log", action="store_true", help="log reader off (LogReaderDisabledError)"
    )
    group.add_argument("--no-ocr", action="store_true", help="no Tesseract for OCR (OcrError)")
    add_arguments(parser)
    return parser


def _emulator(args: argparse.Namespace) -> Emulator:
    from ._emulator import Emulator

    return Emulator(
        host=args.host,
        port=args.port,
        users=dict(args.users or [("admin", "admin")]),
        totp_secret=args.totp_secret,
        hid_poll=args.hid_poll,
        hid_led_echo=not args.no_led_echo,
        hid_log=args.hid_log,
        host_powered=not args.host_off,
        screen_size=args.screen,
        gpio=args.gpio,
        msd_dir=args.msd_dir,
        atx_enabled=not args.no_atx,
        msd_enabled=not args.no_msd,
        log_enabled=not args.no_log,
        ocr_enabled=not args.no_ocr,
        tls=args.tls,
        fault_seed=args.seed,
        screen_seed=args.seed,
        clock=args.clock,
        target_layout=args.target_layout,
        installer=args.installer,
        installer_boot_timeout=args.installer_boot_timeout,
        installer_speed=args.installer_speed,
        installer_fetch_timeout=args.installer_fetch_timeout,
    )


async def _serve(emulator: Emulator, args: argparse.Namespace) -> None:
    stopping = asyncio.Event()
    # SIGTERM (a service manager's stop) ends it as Ctrl-C does; unhandled, it would kill
    # the process and leave the temporary directories behind. Set before anything is made.
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    async with emulator:
        print(f"PiKVM emulator listening on {emulator.url} (API under /api)", flush=True)
        if args.tls:
            print(f"TLS certificate SHA-256 {emulator.cert_fingerprint}", flush=True)
            print(f"  (also in {emulator.ca_file})", flush=True)
        tasks = apply_arguments(emulator, args)
        try:
            await stopping.wait()
        finally:
            for task in tasks:
                task.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    from . import _load

    try:
        _load("_emulator")  # and with it everything of the extra the command uses
    except ModuleNotFoundError as error:
        print(f"pikvm-emulator: {error}", file=sys.stderr)
        return 1
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        emulator = _emulator(args)
    except ValueError as exc:  # a GPIO scheme, a screen size or a secret it cannot use
        parser.error(str(exc))
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(emulator, args))
    except OSError as error:  # the address: taken, not this machine's, or a privileged port
        print(
            f"pikvm-emulator: cannot listen on {args.host}:{args.port}: "
            f"{error.strerror or error} (--port 0 takes any free port)",
            file=sys.stderr,
        )
        return 1
    return 0


# ----- TLS and fault-injection flags ---------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("TLS and fault injection")
    group.add_argument(
        "--tls", action="store_true", help="serve HTTPS/WSS with a self-signed certificate"
    )
    group.add_argument(
        "--fail",
        action="append",
        default=[],
        type=parse.fail_spec,
        metavar="PATH:STATUS[:TIMES]",
        help="answer requests matching PATH (a glob under /api, e.g. 'atx/*', 'ws') with "
        "STATUS, TIMES times (default: every time); repeatable",
    )
    group.add_argument(
        "--delay",
        action="append",
        default=[],
        type=parse.delay_spec,
        metavar="PATH:SECONDS",
        help="hold requests matching PATH before answering; repeatable",
    )
    group.add_argument(
        "--drop-ws-after",
        type=parse.frames_spec,
        metavar="N|LOW-HIGH",
        help="cut every WebSocket session after N frames from the client (or a random "
        "number in LOW..HIGH), like a dead link",
    )
    group.add_argument(
        "--drop-ws-every",
        type=parse.period,
        metavar="SECONDS",
        help="cut every open WebSocket session this often (the first time after SECONDS)",
    )
    group.add_argument(
        "--drop-ws-clean",
        action="store_true",
        help="for both --drop-ws-*: close with a close frame instead",
    )
    group.add_argument(
        "--malformed-every",
        type=parse.period,
        metavar="SECONDS",
        help="send every kind of malformed frame to the open sessions this often",
    )
    group.add_argument(
        "--reboot-every", type=parse.period, metavar="SECONDS", help="reboot the device this often"
    )
    group.add_argument(
        "--reboot-downtime",
        type=parse.duration,
        default=5.0,
        metavar="SECONDS",
        help="how long a reboot refuses connections (default 5)",
    )
    group.add_argument(
        "--usb-stall-every",
        type=parse.period,
        metavar="SECONDS",
        help="make the host stop polling its USB HID this often (kvmd then skips reports)",
    )
    group.add_argument(
        "--usb-stall",
        type=parse.duration,
        default=0.5,
        metavar="SECONDS",
        help="how long each of those stalls lasts (default 0.5)",
    )
    group.add_argument(
        "--seed", type=int, help="seed for the random choices of faults and the video's noise"
    )


def apply_arguments(emulator: Emulator, args: argparse.Namespace) -> list[asyncio.Task[None]]:
    """Install the rules the flags ask for; the periodic ones run as the returned tasks."""
    faults = emulator.faults
    for path, status, times in args.fail:
        faults.fail(path, status, times=times)
    for path, seconds in args.delay:
        faults.delay(path, seconds)
    if args.drop_ws_after is not None:
        faults.drop_ws(args.drop_ws_after, clean=args.drop_ws_clean, times=None)
    tasks = []
    if args.drop_ws_every:
        drop = functools.partial(faults.drop_ws_now, clean=args.drop_ws_clean)
        tasks.append(asyncio.create_task(_every(args.drop_ws_every, "WebSocket drop", drop)))
    if args.malformed_every:
        send = _malformed(faults)
        tasks.append(asyncio.create_task(_every(args.malformed_every, "malformed frames", send)))
    if args.reboot_every:
        reboot = functools.partial(emulator.reboot, args.reboot_downtime)
        tasks.append(asyncio.create_task(_every(args.reboot_every, "reboot", reboot)))
    if args.usb_stall_every:
        stall = _usb_stall(emulator, args.usb_stall)
        tasks.append(asyncio.create_task(_every(args.usb_stall_every, "USB stall", stall)))
    return tasks


def _usb_stall(emulator: Emulator, seconds: float) -> Callable[[], Awaitable[None]]:
    async def stall() -> None:
        emulator.target.stall_usb(seconds)

    return stall


def _malformed(faults: Faults) -> Callable[[], Awaitable[None]]:
    async def send() -> None:
        faults.send_malformed()

    return send


async def _every(seconds: float, what: str, action: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        logger.info("Fault: %s", what)
        await action()
