"""``python -m aiopikvm.emulator`` (also ``pikvm-emulator``): run an emulator until Ctrl-C
or SIGTERM; either stops it cleanly (its temporary MSD storage and CA file removed)."""

from __future__ import annotations

import sys

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
