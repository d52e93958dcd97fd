"""Draw docs/images/bench-targets.svg from ``python -m bench ... --json FILE``.

Usage: ``python scripts/bench_chart.py FILE [OUT.svg]``. One bar per promised figure (a
``target:`` line of the bench), its length the figure as a multiple of the target (above
1 is better, at least 1 is met), with the dashed line at 1. Targets that are a plain
yes/no are listed under the bars. Standard library only: the SVG is written by hand.
"""

from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "bench-targets.svg"
WIDTH, LABEL, BAR, ROW = 760, 330, 360, 30
SCALE_MAX = 1.5  # the bars' axis runs 0..1.5 times the target


def chart(results: dict) -> str:
    bars, checks = [], []
    for name, bench in results["benchmarks"].items():
        for target in bench.get("targets", []):
            if target["ratio"] is None:
                checks.append((name, target["what"], target["met"]))
            else:
                bars.append((name, target["what"], target["ratio"], target["met"]))
    height = 50 + ROW * len(bars) + 30 + 20 * len(checks) + 30
    one = LABEL + BAR / SCALE_MAX
    machine = results["machine"]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        '<text x="10" y="20" font-size="14" font-weight="bold">Fleet targets: figure / target '
        "(at least 1 is met)</text>",
        f'<text x="10" y="38" fill="#555">aiopikvm {escape(machine["aiopikvm"])}, Python '
        f"{escape(machine['python'])}, {machine['cpus']} CPUs, {escape(machine['started'])}"
        "</text>",
    ]
    y = 50
    for name, what, ratio, met in bars:
        length = BAR * min(ratio, SCALE_MAX) / SCALE_MAX
        colour = "#2e7d32" if met else "#c62828"
        label = escape(f"{name}: {what}")
        out.append(
            f'<text x="10" y="{y + 19}"><title>{label}</title>{escape(name)}: '
            f"{escape(what[:40])}{'…' if len(what) > 40 else ''}</text>"
        )
        out.append(
            f'<rect x="{LABEL}" y="{y + 6}" width="{length:.1f}" height="18" fill="{colour}"/>'
        )
        out.append(
            f'<text x="{LABEL + length + 6:.1f}" y="{y + 19}">{ratio:.2f}x '
            f"{'met' if met else 'NOT met'}</text>"
        )
        y += ROW
    out.append(
        f'<line x1="{one:.1f}" y1="46" x2="{one:.1f}" y2="{y + 4}" stroke="#000" '
        'stroke-dasharray="4 3"/>'
    )
    out.append(f'<text x="{one - 4:.1f}" y="{y + 18}">1</text>')
    y += 34
    for name, what, met in checks:
        out.append(
            f'<text x="10" y="{y}">{escape(name)}: {escape(what)}: '
            f"{'met' if met else 'NOT met'}</text>"
        )
        y += 20
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> None:
    if not 1 <= len(argv) <= 2:
        sys.exit(__doc__)
    results = json.loads(Path(argv[0]).read_text("utf-8"))
    out = Path(argv[1]) if len(argv) == 2 else DEFAULT_OUT
    out.write_text(chart(results), "utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
