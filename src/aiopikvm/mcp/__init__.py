"""An MCP server that lets AI agents operate a machine through its PiKVM — safely.

``pikvm mcp`` runs it (the ``mcp`` extra: ``pip install 'aiopikvm[mcp]'``). Its tools see
the screen (screenshots scaled to a bounded size, OCR, waits for text or a still or changed
screen), use the keyboard and mouse (in screenshot pixels; typing for the host's layout,
refusing what it cannot type), and, when allowed at start and confirmed in the call, the
power and virtual media. Input stops while a human uses the device. Every call is written
to an audit log. See docs/mcp.md.
"""

from __future__ import annotations

from ._audit import Audit
from ._device import Device
from ._safety import Safety
from ._server import build

__all__ = ["Audit", "Device", "Safety", "build"]
