"""``python -m aiopikvm.emulator`` (also ``pikvm-emulator``): run an emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence


def _user(value: str) -> tuple[str, str]:
    user, sep, passwd = value.partition(":")
    if not sep or not user:
        raise argparse.ArgumentTypeError(f"expected USER:PASSWORD, got {value!r}")
    return user, passwd


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pikvm-emulator", description="A kvmd-compatible fake PiKVM for testing clients."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0 = any free port)")
    parser.add_argument(
        "--user",
        dest="users",
        type=_user,
        action="append",
        metavar="USER:PASSWORD",
        help="a user (repeatable; default admin:admin)",
    )
    parser.add_argument("--totp-secret", help="base32 secret: passwords end with its code")
    parser.add_argument("--hid-delay", type=float, default=0.0, help="seconds per HID event")
    parser.add_argument("--host-off", action="store_true", help="start with the host off")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    from ._faults import add_arguments

    add_arguments(parser)
    return parser


async def _serve(args: argparse.Namespace) -> None:
    from ._emulator import Emulator
    from ._faults import apply_arguments

    emulator = Emulator(
        host=args.host,
        port=args.port,
        users=dict(args.users or [("admin", "admin")]),
        totp_secret=args.totp_secret,
        hid_delay=args.hid_delay,
        host_powered=not args.host_off,
        tls=args.tls,
        fault_seed=args.seed,
    )
    async with emulator:
        print(f"PiKVM emulator listening on {emulator.url} (API under /api)", flush=True)
        if args.tls:
            print(f"TLS certificate SHA-256 {emulator.cert_fingerprint}", flush=True)
            print(f"  (also in {emulator.ca_file})", flush=True)
        tasks = apply_arguments(emulator, args)
        try:
            await asyncio.Event().wait()
        finally:
            for task in tasks:
                task.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
