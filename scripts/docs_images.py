"""Regenerate docs/images/emulator-screen.png: the emulated host's screen, as a client sees it.

Run from the repository root with the ``emulator`` extra installed:
``python scripts/docs_images.py``. The picture is the emulator's own snapshot (the JPEG a
client gets from ``kvm.screenshot()``), halved and saved as PNG for the docs.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from PIL import Image

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator

OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "emulator-screen.png"


async def main() -> None:
    async with Emulator(clock=True, screen_seed=1) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        emu.target.write("Debian GNU/Linux 12 pikvm tty1\n\npikvm login: ")
        await kvm.type_text("root\n")
        emu.target.write("Password: \nroot@pikvm:~# ")
        await kvm.type_text("echo hello from aiopikvm\n")
        emu.target.show_button("Continue", 1500, 900)
        jpeg = await kvm.screenshot()
    picture = Image.open(io.BytesIO(jpeg)).convert("L")
    picture = picture.resize((picture.width // 2, picture.height // 2), Image.Resampling.BOX)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    picture.save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {picture.width}x{picture.height})")


if __name__ == "__main__":
    asyncio.run(main())
