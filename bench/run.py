"""``python bench/run.py [...]``: the same as ``python -m bench [...]`` from the repository."""

import runpy
import sys
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where its modules could shadow
# others; the repository root is what makes ``bench`` importable as a package.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
runpy.run_module("bench", run_name="__main__", alter_sys=True)
