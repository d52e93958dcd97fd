"""Regenerate the docs' pictures: docs/images/emulator-screen.png (the emulated host's
screen, as a client sees it) and docs/images/scenario-report.png (the HTML report of the
Debian example scenario, run against the emulator's installer).

Run from the repository root with the ``dev`` extra installed (emulator, scenario) and
Chromium (``/usr/bin/chromium``, or ``CHROMIUM=...``) for the report:
``python scripts/docs_images.py [screen] [report]`` (both by default). The screen is the
emulator's own snapshot (the JPEG a client gets from ``kvm.screenshot()``), halved and saved
as PNG; the report is the page ``pikvm run --report`` writes, drawn by headless Chromium and
reduced to a 64-colour PNG to stay small.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
SCREEN = ROOT / "docs" / "images" / "emulator-screen.png"
REPORT = ROOT / "docs" / "images" / "scenario-report.png"
EXAMPLE = ROOT / "examples" / "scenarios" / "debian-preseed.yaml"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


async def screen() -> None:
    async with Emulator(clock=True, screen_seed=1) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        emu.target.write("Debian GNU/Linux 12 pikvm tty1\n\npikvm login: ")
        await kvm.type_text("root\n")
        emu.target.write("Password: \nroot@pikvm:~# ")
        await kvm.type_text("echo hello from aiopikvm\n")
        emu.target.show_button("Continue", 1500, 900)
        jpeg = await kvm.screenshot()
    picture = Image.open(io.BytesIO(jpeg)).convert("L")
    picture = picture.resize((picture.width // 2, picture.height // 2), Image.Resampling.BOX)
    _save(picture, SCREEN)


async def report_page() -> str:
    """The example run against the emulator's installer, as ``pikvm run --report`` writes it."""
    from aiopikvm.scenario import html_report, load_scenario, run_scenario

    scenario = load_scenario(EXAMPLE)
    # installer_speed: the install steps take a second, not ten; a smaller screen keeps
    # the filmstrip's text readable.
    emulator = Emulator(
        installer="debian", installer_speed=5, screen_seed=1, screen_size=(1024, 576)
    )
    with tempfile.TemporaryDirectory() as work:
        async with emulator as emu, PiKVM(emu.url, passwd="admin") as kvm:
            result = await run_scenario(kvm, scenario, output_dir=Path(work))
    if not result.ok:
        sys.exit(f"the example failed: {result.as_dict()}")
    return html_report(result)


def report() -> None:
    html = asyncio.run(report_page())
    with tempfile.TemporaryDirectory() as work:
        page, shot = Path(work) / "report.html", Path(work) / "report.png"
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--screenshot={shot}",
                "--window-size=1100,1950",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        picture = Image.open(shot).convert("RGB")
    _save(picture.quantize(colors=64, method=Image.Quantize.MEDIANCUT), REPORT)


def _save(picture: Image.Image, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {picture.width}x{picture.height})")


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["screen", "report"]
    for name in chosen:
        if name not in ("screen", "report"):
            sys.exit(f"usage: {sys.argv[0]} [screen] [report]")
        if name == "screen":
            asyncio.run(screen())
        else:
            report()
