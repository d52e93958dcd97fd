"""``python -m aiopikvm``: the ``pikvm`` command line (needs the ``cli`` extra)."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import main as cli_main
    except ModuleNotFoundError as error:  # pragma: no cover - depends on the extra
        print(f"pikvm: {error}: pip install 'aiopikvm[cli]'", file=sys.stderr)
        sys.exit(1)
    sys.exit(cli_main())


if __name__ == "__main__":
    main()
