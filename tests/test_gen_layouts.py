"""The shipped layout data is exactly what ``scripts/gen_layouts.py`` makes of xkb-data.

Re-running the generator into a temporary directory must reproduce every shipped file byte
for byte, so a hand edit (or a generator change without regenerating) fails here. It needs
the same Debian packages, at the versions recorded in ``layouts/_sources.json``; elsewhere
it skips and says why (``.ci/run`` installs them and makes it required).
"""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

from .xkb_oracle import require_sources

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gen_layouts.py"


def test_regenerating_reproduces_the_shipped_files(tmp_path: Path) -> None:
    require_sources("xkb-data", "x11proto-dev", "libx11-data")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    shipped = resources.files("aiopikvm.protocol").joinpath("layouts")
    shipped_names = sorted(entry.name for entry in shipped.iterdir() if entry.is_file())
    assert sorted(path.name for path in tmp_path.iterdir()) == shipped_names
    differ = [
        name
        for name in shipped_names
        if shipped.joinpath(name).read_bytes() != (tmp_path / name).read_bytes()
    ]
    assert differ == [], "edited by hand, or not regenerated: python3 scripts/gen_layouts.py"
