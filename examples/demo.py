"""The WebSocket walkthrough, on the emulator: no PiKVM needed, no network.

Starts a kvmd-compatible emulator in this process, connects to it as you would to a real
device, reads the first events, types "hello" key by key, moves and clicks the mouse, and
prints what the emulated target machine received.
"""

from __future__ import annotations

import asyncio
import json

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator


def short(event: dict[str, object], width: int = 70) -> str:
    text = json.dumps(event, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 3] + "..."


async def main() -> None:
    async with Emulator() as emu:
        print(f"emulator listening on {emu.url} (user admin, password admin)\n")
        async with PiKVM(emu.url, user="admin", passwd="admin") as kvm:
            info = await kvm.system.get_info("system")
            assert info.system is not None
            print(f"kvmd {info.system.kvmd.version}")

            async with kvm.ws(stream=0, open_timeout=10.0, close_timeout=10.0) as ws:
                print("first events after connecting:")
                async for event in ws.events():
                    print(f"  {event['event_type']:<12} {short(event['event'])}")
                    if event["event_type"] == "hid":
                        break

                print(f"\nping: {await ws.ping() * 1000:.2f} ms")

                print('typing "hello" key by key')
                for char in "hello":
                    await ws.send_key(f"Key{char.upper()}", state=True)
                    await ws.send_key(f"Key{char.upper()}", state=False)

                print("moving the mouse to (500, 300) and clicking")
                await ws.send_mouse_move(500, 300)
                await ws.send_mouse_button("left", True)
                await ws.send_mouse_button("left", False)
                await ws.send_mouse_wheel(0, -1)

                state = ws.state
                assert state.hid is not None
                assert state.atx is not None
                print(
                    f"live state: keyboard online={state.hid.keyboard.online}, "
                    f"host power LED={state.atx.leds.power}, clients={state.clients}"
                )

        target = emu.target
        print("\nthe emulated target received:")
        print(f"  screen text:    {target.screen_text!r}")
        print(f"  mouse position: {target.mouse_position}")
        print(f"  keys held now:  {sorted(target.held_keys) or 'none'}")
        if target.screen_text != "hello":
            raise SystemExit("demo failed: the target did not receive 'hello'")


if __name__ == "__main__":
    asyncio.run(main())
