"""Two small WebSocket servers (websockets, 127.0.0.1), each run in its own process so that
its CPU is not the client's:

- ``replay``: sends each client a recorded ``/api/ws`` stream — the captured full-state
  burst, then the captured updates over and over — as fast as the socket takes it. The
  path says how many updates: ``ws://host:port/<updates>/api/ws``.
- ``sink``: reads every frame and throws it away; when a connection ends it prints what it
  got, as one JSON line.

Both answer kvmd's binary ping, as recorded, so that a client can tell when everything it
sent has been read, and closes without waiting. ``python -m bench._servers replay|sink
--captures DIR`` (the directory of ``ws_events.jsonl`` and ``ws_binary.json``); prints its
URL, then serves until it is terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import sys
from pathlib import Path
from typing import Any, Final

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

BURST: Final = 19
"""The capture's first 19 messages are what kvmd sent on connecting: ``loop``, then the full
state of every subsystem, ending with ``info``'s ``extras``. The rest are updates (and one
``pong``, the answer to the recording client's ping)."""

REPEATED_FROM_BURST: Final = ("gpio", "atx", "msd", "hid")
"""The capture's updates are all ``info`` and ``streamer`` partials; these subsystems' own
recorded events (full states, which merge like any update) stand for their changes."""


def captures_dir() -> Path:
    """Where the recorded kvmd sessions are (shipped with the emulator)."""
    from importlib.resources import files  # here: the servers themselves need no aiopikvm

    return Path(str(files("aiopikvm.emulator") / "captures"))


def _messages(capture: str) -> list[dict[str, Any]]:
    return [json.loads(line)["msg"] for line in capture.splitlines() if line.strip()]


def update_cycle(capture: str) -> list[str]:
    """One round of the updates that are replayed, as text frames."""
    messages = _messages(capture)
    repeated = [m for m in messages[:BURST] if m["event_type"] in REPEATED_FROM_BURST]
    updates = [m for m in messages[BURST:] if m["event_type"] != "pong"]
    return [json.dumps(message) for message in repeated + updates]


def replay_frames(capture: str, updates: int) -> list[str]:
    """What the replay server sends for ``updates``: the burst, then whole update cycles
    (at least ``updates`` frames of them, so the final state is the same as after one)."""
    burst = [json.dumps(message) for message in _messages(capture)[:BURST]]
    cycle = update_cycle(capture)
    return burst + cycle * -(-updates // len(cycle))


def ping_pong(captures: Path) -> tuple[bytes, bytes]:
    """kvmd's binary ping and its answer, as recorded (ws_binary.json, step pong_binary)."""
    steps = json.loads((captures / "ws_binary.json").read_text())["steps"]
    step = next(step for step in steps if step["name"] == "pong_binary")
    return bytes.fromhex(step["sent"]), bytes.fromhex(step["received"])


async def replay(captures: Path) -> None:
    capture = (captures / "ws_events.jsonl").read_text()
    ping, pong = ping_pong(captures)

    @functools.cache
    def wire(updates: int) -> bytes:
        # Framed once, written at once: a send() per frame would make this side slower
        # than a bare client can receive, and the client would measure waiting.
        frames = replay_frames(capture, updates)
        return b"".join(Frame(Opcode.TEXT, f.encode()).serialize(mask=False) for f in frames)

    async def handler(conn: ServerConnection) -> None:
        assert conn.request is not None
        updates = int(conn.request.path.strip("/").split("/")[0])
        conn.transport.write(wire(updates))
        with contextlib.suppress(ConnectionClosed):
            async for message in conn:
                if message == ping:
                    await conn.send(pong)

    await _serve(handler)


async def sink(captures: Path) -> None:
    ping, pong = ping_pong(captures)

    async def handler(conn: ServerConnection) -> None:
        frames = size = 0
        binary = True
        distinct: list[str | bytes] = []
        try:
            async for message in conn:
                if message == ping:
                    await conn.send(pong)
                    continue
                frames += 1
                size += len(message)
                binary = binary and isinstance(message, bytes)
                if len(distinct) < 8 and message not in distinct:
                    distinct.append(message)
        except ConnectionClosed:
            pass
        finally:
            shown = [m.hex() if isinstance(m, bytes) else m for m in distinct]
            report = {"frames": frames, "bytes": size, "binary": binary, "distinct": shown}
            print(json.dumps(report), flush=True)

    await _serve(handler)


async def _serve(handler: Any) -> None:
    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._servers")
    parser.add_argument("kind", choices=["replay", "sink"])
    parser.add_argument("--captures", type=Path, required=True, help="the captures' directory")
    args = parser.parse_args()
    asyncio.run(replay(args.captures) if args.kind == "replay" else sink(args.captures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
